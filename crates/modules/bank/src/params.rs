use ve_proto::cosmos::bank::v1beta1::Params;

/// bank parameters: whether sends are enabled by default (per-denom overrides are not
/// used on this chain yet, and are rejected at genesis so nobody relies on them silently).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BankParams {
    pub default_send_enabled: bool,
}

impl Default for BankParams {
    fn default() -> Self {
        Self {
            default_send_enabled: true,
        }
    }
}

impl BankParams {
    pub fn to_proto(&self) -> Params {
        #[allow(deprecated)]
        Params {
            send_enabled: vec![],
            default_send_enabled: self.default_send_enabled,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            default_send_enabled: p.default_send_enabled,
        }
    }
}
