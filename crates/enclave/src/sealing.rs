//! Key custody under a platform key.
//!
//! SIMULATED PLATFORM: a real TEE derives its sealing key from the CPU and the enclave
//! measurement, so sealed data opens only inside the same enclave build on the same
//! machine. Here the sealing key is a random 32-byte file, `platform-sealing.key`; anyone
//! who can read it can read the enclave keys. It keeps the enclave keys off disk in
//! plaintext and keeps the code path of a real platform, nothing more.

use crate::EnclaveError;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use rand_core::{OsRng, RngCore};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const PLATFORM_KEY_FILE: &str = "platform-sealing.key";
pub const SEALED_KEYS_FILE: &str = "sealed-keys.bin";
const NONCE_LEN: usize = 24;
const SECRETS_LEN: usize = 64;

/// The two secrets the enclave holds: X25519 (scopes) and Ed25519 (results).
pub struct Secrets {
    pub x25519: Zeroizing<[u8; 32]>,
    pub ed25519: Zeroizing<[u8; 32]>,
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), EnclaveError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| EnclaveError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| EnclaveError::io(&tmp, e))?;
    f.sync_all().map_err(|e| EnclaveError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| EnclaveError::io(path, e))
}

fn read(path: &Path) -> Result<Vec<u8>, EnclaveError> {
    std::fs::read(path).map_err(|e| EnclaveError::io(path, e))
}

fn cipher(platform_key: &[u8]) -> Result<XSalsa20Poly1305, EnclaveError> {
    let key: Zeroizing<[u8; 32]> = Zeroizing::new(platform_key.try_into().map_err(|_| {
        EnclaveError::Unseal(format!(
            "{PLATFORM_KEY_FILE} must hold 32 bytes, found {}",
            platform_key.len()
        ))
    })?);
    Ok(XSalsa20Poly1305::new(&(*key).into()))
}

fn nonce(bytes: &[u8]) -> Result<Nonce, EnclaveError> {
    let n: [u8; NONCE_LEN] = bytes
        .try_into()
        .map_err(|_| EnclaveError::Unseal("bad nonce length".into()))?;
    Ok(n.into())
}

/// Paths of an enclave home.
pub struct Home(pub PathBuf);

impl Home {
    pub fn platform_key(&self) -> PathBuf {
        self.0.join(PLATFORM_KEY_FILE)
    }
    pub fn sealed_keys(&self) -> PathBuf {
        self.0.join(SEALED_KEYS_FILE)
    }

    pub fn is_initialised(&self) -> bool {
        self.sealed_keys().exists()
    }

    /// Creates the platform key (simulated) and fresh enclave keys sealed under it.
    /// Refuses to overwrite existing keys.
    pub fn init(&self) -> Result<(), EnclaveError> {
        if self.is_initialised() {
            return Err(EnclaveError::Io {
                path: self.sealed_keys().display().to_string(),
                reason: "already exists: an enclave home is initialised once".into(),
            });
        }
        std::fs::create_dir_all(&self.0).map_err(|e| EnclaveError::io(&self.0, e))?;
        let mut platform = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(platform.as_mut());
        write_private(&self.platform_key(), platform.as_ref())?;
        let mut secrets = Zeroizing::new([0u8; SECRETS_LEN]);
        OsRng.fill_bytes(secrets.as_mut());
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = cipher(platform.as_ref())?
            .encrypt(&nonce.into(), secrets.as_ref())
            .map_err(|_| EnclaveError::Unseal("sealing failed".into()))?;
        let mut file = nonce.to_vec();
        file.extend_from_slice(&sealed);
        write_private(&self.sealed_keys(), &file)
    }

    /// Opens the sealed keys with the platform key.
    pub fn unseal(&self) -> Result<Secrets, EnclaveError> {
        let platform = Zeroizing::new(read(&self.platform_key())?);
        let file = read(&self.sealed_keys())?;
        if file.len() <= NONCE_LEN {
            return Err(EnclaveError::Unseal("sealed key file is truncated".into()));
        }
        let (nonce, body) = file.split_at(NONCE_LEN);
        let plain = Zeroizing::new(
            cipher(&platform)?
                .decrypt(&self::nonce(nonce)?, body)
                .map_err(|_| EnclaveError::Unseal("authentication failed".into()))?,
        );
        if plain.len() != SECRETS_LEN {
            return Err(EnclaveError::Unseal(
                "sealed secrets have the wrong length".into(),
            ));
        }
        let mut x = Zeroizing::new([0u8; 32]);
        let mut e = Zeroizing::new([0u8; 32]);
        x.copy_from_slice(&plain[..32]);
        e.copy_from_slice(&plain[32..]);
        Ok(Secrets {
            x25519: x,
            ed25519: e,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_a_restart_and_a_tampered_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home(dir.path().join("enclave"));
        home.init().unwrap();
        let a = home.unseal().unwrap();
        let b = home.unseal().unwrap();
        assert_eq!(*a.x25519, *b.x25519);
        assert!(home.init().is_err(), "re-init must not replace keys");
        let mut file = std::fs::read(home.sealed_keys()).unwrap();
        file[30] ^= 1;
        std::fs::write(home.sealed_keys(), file).unwrap();
        assert!(matches!(home.unseal(), Err(EnclaveError::Unseal(_))));
    }
}
