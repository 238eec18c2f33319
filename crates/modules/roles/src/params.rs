use crate::proto::Params;
use crate::RolesError;

/// roles parameters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolesParams {
    pub max_roles_per_account: u32,
    pub allow_self_revoke: bool,
}

impl Default for RolesParams {
    fn default() -> Self {
        Self {
            max_roles_per_account: 5,
            allow_self_revoke: false,
        }
    }
}

impl RolesParams {
    pub fn validate(&self) -> Result<(), RolesError> {
        if self.max_roles_per_account == 0 || self.max_roles_per_account > 7 {
            return Err(RolesError::InvalidParams(
                "max_roles_per_account must be 1..=7".into(),
            ));
        }
        Ok(())
    }

    pub fn to_proto(&self) -> Params {
        Params {
            max_roles_per_account: self.max_roles_per_account,
            allow_self_revoke: self.allow_self_revoke,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            max_roles_per_account: p.max_roles_per_account,
            allow_self_revoke: p.allow_self_revoke,
        }
    }
}
