//! cert genesis: certificates (PEM) re-checked at import against the genesis time given.

use crate::proto::{Certificate, CertificateState};
use crate::{check, state, CertError};
use std::collections::BTreeSet;
use ve_module::Store;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertGenesis {
    pub certificates: Vec<GenesisCertificate>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisCertificate {
    pub owner: Address,
    /// PEM text.
    pub cert: String,
    pub pubkey: String,
    #[serde(default)]
    pub revoked: bool,
}

impl CertGenesis {
    /// Checks every certificate; validity windows are not checked here (genesis has no
    /// block time yet) except that they are well formed.
    fn build(&self) -> Result<Vec<(Address, Certificate)>, CertError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for g in &self.certificates {
            let owner = g.owner.to_string();
            // Check at the certificate's own not_before + 1 so only the window's shape matters.
            let probe =
                check::parse_and_check(&owner, g.cert.as_bytes(), g.pubkey.as_bytes(), i64::MIN)
                    .or_else(|e| match e {
                        CertError::OutsideValidity { not_before, .. } => check::parse_and_check(
                            &owner,
                            g.cert.as_bytes(),
                            g.pubkey.as_bytes(),
                            not_before,
                        ),
                        other => Err(other),
                    })
                    .map_err(|e| {
                        CertError::InvalidGenesis(format!("certificate of {owner}: {e}"))
                    })?;
            if !seen.insert((g.owner, probe.serial.clone())) {
                return Err(CertError::InvalidGenesis(format!(
                    "certificate {} of {owner} listed twice",
                    probe.serial
                )));
            }
            out.push((
                g.owner,
                Certificate {
                    owner,
                    serial: probe.serial,
                    state: if g.revoked {
                        CertificateState::Revoked
                    } else {
                        CertificateState::Valid
                    } as i32,
                    cert: g.cert.as_bytes().to_vec(),
                    pubkey: g.pubkey.as_bytes().to_vec(),
                    not_before: probe.not_before,
                    not_after: probe.not_after,
                    created_height: 0,
                    revoked_height: 0,
                },
            ));
        }
        Ok(out)
    }

    pub fn validate(&self) -> Result<(), CertError> {
        self.build().map(|_| ())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &CertGenesis) -> Result<(), AppError> {
    for (owner, c) in genesis.build()? {
        state::set_cert(store, &owner, &c)?;
    }
    Ok(())
}
