//! A Cosmos-style keyring: one JSON file per key under `<home>/keyring-<backend>/`.
//!
//! The mnemonic (not the raw private key) is what gets stored, so that `export` gives
//! back something a person can write down and re-import into any Cosmos wallet.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use ve_crypto::{CryptoError, Mnemonic, PrivateKey, PublicKey, COSMOS_HD_PATH};
use ve_types::Address;
use zeroize::Zeroizing;

const FILE_VERSION: u32 = 1;
const INFO_EXT: &str = "info";
const MAX_NAME_LEN: usize = 64;
/// scrypt cost used for new keys: N = 2^15, r = 8, p = 1 (about 32 MiB, the
/// interactive-login setting from the scrypt paper). Stored per file, so it can rise later.
const DEFAULT_SCRYPT_LOG_N: u8 = 15;
const MIN_SCRYPT_LOG_N: u8 = 10;

/// Where secrets are kept and how they are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Mnemonic encrypted with a passphrase the caller supplies.
    File,
    /// Mnemonic in plain text, for scripts and localnets only: anyone who can read the
    /// home directory can spend the funds.
    Test,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::File => "file",
            Backend::Test => "test",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = KeyringError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "file" => Ok(Backend::File),
            "test" => Ok(Backend::Test),
            other => Err(KeyringError::UnknownBackend(other.to_string())),
        }
    }
}

/// Why a keyring operation failed; messages say what to do next.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("unknown keyring backend {0:?}: use `file` or `test`")]
    UnknownBackend(String),
    #[error("invalid key name {0:?}: use 1-64 characters from letters, digits, '_', '-' and '.', not starting with '.'")]
    InvalidName(String),
    #[error("key {0} not found; list keys with `virtengine keys list`")]
    NotFound(String),
    #[error("key {0} already exists; pick another name or delete it first with `virtengine keys delete {0}`")]
    AlreadyExists(String),
    #[error("wrong passphrase for key {0}")]
    WrongPassphrase(String),
    #[error("the file backend needs a non-empty passphrase")]
    EmptyPassphrase,
    #[error("key file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("keyring I/O error at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyringError + '_ {
    move |source| KeyringError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The public part of a stored key: safe to print and to share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub address: Address,
    pub pubkey: PublicKey,
    pub hd_path: String,
}

/// On-disk form of a key. Field names are part of the file format.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    name: String,
    address: String,
    /// Compressed secp256k1 public key, lower-case hex.
    pubkey: String,
    hd_path: String,
    secret: Secret,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Secret {
    /// `test` backend only.
    PlaintextMnemonic { mnemonic: String },
    /// scrypt(passphrase, salt) -> 32-byte key -> ChaCha20-Poly1305(nonce, mnemonic),
    /// with the address as associated data so a ciphertext cannot be moved to
    /// another key's file unnoticed.
    Encrypted {
        kdf: String,
        scrypt_log_n: u8,
        scrypt_r: u32,
        scrypt_p: u32,
        salt: String,
        cipher: String,
        nonce: String,
        ciphertext: String,
    },
}

/// A directory of keys for one backend.
#[derive(Debug, Clone)]
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
    scrypt_log_n: u8,
}

impl Keyring {
    /// Opens (creating if needed, mode 0700 on unix) `<home>/keyring-<backend>/`.
    pub fn open(home: impl AsRef<Path>, backend: Backend) -> Result<Self, KeyringError> {
        let dir = home.as_ref().join(format!("keyring-{backend}"));
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err(&dir))?;
        }
        Ok(Self {
            dir,
            backend,
            scrypt_log_n: DEFAULT_SCRYPT_LOG_N,
        })
    }

    /// Lowers the scrypt cost for keys written from now on (clamped to at least 2^10).
    /// Meant for tests and throwaway keyrings where 32 MiB per unlock is too slow;
    /// existing files keep the cost they were written with.
    pub fn with_scrypt_log_n(mut self, log_n: u8) -> Self {
        self.scrypt_log_n = log_n.max(MIN_SCRYPT_LOG_N);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores a key from `mnemonic`, or from a freshly generated 24-word mnemonic.
    /// Returns the mnemonic so the caller can show it once for backup.
    pub fn add(
        &self,
        name: &str,
        mnemonic: Option<&str>,
        passphrase: &str,
    ) -> Result<(KeyInfo, Zeroizing<String>), KeyringError> {
        validate_name(name)?;
        let mnemonic = match mnemonic {
            Some(phrase) => Mnemonic::parse(phrase)?,
            None => Mnemonic::generate()?,
        };
        let phrase = mnemonic.phrase();
        let key = mnemonic.derive("", COSMOS_HD_PATH)?;
        let info = KeyInfo {
            name: name.to_string(),
            address: key.public_key().address(),
            pubkey: key.public_key(),
            hd_path: COSMOS_HD_PATH.to_string(),
        };
        let secret = match self.backend {
            Backend::Test => Secret::PlaintextMnemonic {
                mnemonic: phrase.to_string(),
            },
            Backend::File => self.encrypt(&info, &phrase, passphrase)?,
        };
        let file = KeyFile {
            version: FILE_VERSION,
            name: info.name.clone(),
            address: info.address.to_string(),
            pubkey: info.pubkey.to_string(),
            hd_path: info.hd_path.clone(),
            secret,
        };
        let json = Zeroizing::new(serde_json::to_vec_pretty(&file).map_err(|e| {
            KeyringError::Corrupt {
                path: self.path_of(name),
                reason: e.to_string(),
            }
        })?);
        self.write_new(name, &json)?;
        Ok((info, phrase))
    }

    /// Stores a key from an existing mnemonic (same as `add` with `Some`).
    pub fn import(
        &self,
        name: &str,
        mnemonic: &str,
        passphrase: &str,
    ) -> Result<KeyInfo, KeyringError> {
        self.add(name, Some(mnemonic), passphrase)
            .map(|(info, _)| info)
    }

    /// All keys, sorted by name.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyringError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(INFO_EXT) {
                continue;
            }
            out.push(self.read_file(&path)?.0);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn show(&self, name: &str) -> Result<KeyInfo, KeyringError> {
        self.load(name).map(|(info, _)| info)
    }

    pub fn delete(&self, name: &str) -> Result<(), KeyringError> {
        validate_name(name)?;
        let path = self.path_of(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(KeyringError::NotFound(name.to_string()))
            }
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// The mnemonic, after checking the passphrase (ignored by the `test` backend).
    pub fn export(&self, name: &str, passphrase: &str) -> Result<Zeroizing<String>, KeyringError> {
        self.unlock(name, passphrase).map(|(phrase, _)| phrase)
    }

    /// The signing key for `name`.
    pub fn signer(&self, name: &str, passphrase: &str) -> Result<PrivateKey, KeyringError> {
        self.unlock(name, passphrase).map(|(_, key)| key)
    }

    /// Decrypts the mnemonic and re-derives the key, so a file whose mnemonic and
    /// public key disagree is reported rather than silently signing as someone else.
    fn unlock(
        &self,
        name: &str,
        passphrase: &str,
    ) -> Result<(Zeroizing<String>, PrivateKey), KeyringError> {
        let (info, file) = self.load(name)?;
        let path = self.path_of(name);
        let phrase = match file.secret {
            Secret::PlaintextMnemonic { mnemonic } => Zeroizing::new(mnemonic),
            Secret::Encrypted { .. } => decrypt(&path, &info, &file.secret, passphrase)?,
        };
        let key = ve_crypto::derive_key(&phrase, "", &info.hd_path)?;
        if key.public_key() != info.pubkey {
            return Err(KeyringError::Corrupt {
                path,
                reason: "stored mnemonic does not match the stored public key".into(),
            });
        }
        Ok((phrase, key))
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.{INFO_EXT}"))
    }

    fn load(&self, name: &str) -> Result<(KeyInfo, KeyFile), KeyringError> {
        validate_name(name)?;
        let path = self.path_of(name);
        if !path.exists() {
            return Err(KeyringError::NotFound(name.to_string()));
        }
        self.read_file(&path)
    }

    fn read_file(&self, path: &Path) -> Result<(KeyInfo, KeyFile), KeyringError> {
        let corrupt = |reason: String| KeyringError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = Zeroizing::new(fs::read(path).map_err(io_err(path))?);
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if file.version != FILE_VERSION {
            return Err(corrupt(format!("unsupported version {}", file.version)));
        }
        let pubkey_bytes = hex::decode(&file.pubkey).map_err(|e| corrupt(e.to_string()))?;
        let pubkey = PublicKey::from_bytes(&pubkey_bytes).map_err(|e| corrupt(e.to_string()))?;
        let address: Address = file.address.parse().map_err(|e| corrupt(format!("{e}")))?;
        if pubkey.address() != address {
            return Err(corrupt("address does not match public key".into()));
        }
        let info = KeyInfo {
            name: file.name.clone(),
            address,
            pubkey,
            hd_path: file.hd_path.clone(),
        };
        Ok((info, file))
    }

    fn encrypt(
        &self,
        info: &KeyInfo,
        phrase: &str,
        passphrase: &str,
    ) -> Result<Secret, KeyringError> {
        if passphrase.is_empty() {
            return Err(KeyringError::EmptyPassphrase);
        }
        let (log_n, r, p) = (self.scrypt_log_n, 8, 1);
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let cipher =
            cipher_for(passphrase, &salt, log_n, r, p).map_err(|reason| KeyringError::Corrupt {
                path: self.path_of(&info.name),
                reason,
            })?;
        let aad = info.address.to_string();
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: phrase.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| KeyringError::Corrupt {
                path: self.path_of(&info.name),
                reason: "encryption failed".into(),
            })?;
        Ok(Secret::Encrypted {
            kdf: "scrypt".into(),
            scrypt_log_n: log_n,
            scrypt_r: r,
            scrypt_p: p,
            salt: hex::encode(salt),
            cipher: "chacha20poly1305".into(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        })
    }

    /// Writes `<name>.info` atomically and without clobbering: the content goes to a
    /// temp file that is fsynced and then hard-linked into place, which fails if the
    /// name exists even when two processes race.
    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), KeyringError> {
        let path = self.path_of(name);
        if path.exists() {
            return Err(KeyringError::AlreadyExists(name.to_string()));
        }
        let mut nonce = [0u8; 8];
        OsRng.fill_bytes(&mut nonce);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", hex::encode(nonce)));
        let result = write_private(&tmp, bytes).and_then(|()| {
            fs::hard_link(&tmp, &path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    KeyringError::AlreadyExists(name.to_string())
                } else {
                    io_err(&path)(e)
                }
            })
        });
        let _ = fs::remove_file(&tmp);
        result?;
        if let Ok(dir) = fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyringError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn cipher_for(
    passphrase: &str,
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<ChaCha20Poly1305, String> {
    if !(MIN_SCRYPT_LOG_N..=20).contains(&log_n) || !(1..=32).contains(&r) || !(1..=16).contains(&p)
    {
        return Err(format!(
            "scrypt parameters out of range (log_n={log_n}, r={r}, p={p})"
        ));
    }
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| e.to_string())?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, key.as_mut())
        .map_err(|e| e.to_string())?;
    ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| e.to_string())
}

fn decrypt(
    path: &Path,
    info: &KeyInfo,
    secret: &Secret,
    passphrase: &str,
) -> Result<Zeroizing<String>, KeyringError> {
    let corrupt = |reason: String| KeyringError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let Secret::Encrypted {
        kdf,
        scrypt_log_n,
        scrypt_r,
        scrypt_p,
        salt,
        cipher,
        nonce,
        ciphertext,
    } = secret
    else {
        return Err(corrupt("expected an encrypted secret".into()));
    };
    if kdf != "scrypt" || cipher != "chacha20poly1305" {
        return Err(corrupt(format!("unsupported kdf/cipher {kdf}/{cipher}")));
    }
    let salt = hex::decode(salt).map_err(|e| corrupt(e.to_string()))?;
    let nonce = hex::decode(nonce).map_err(|e| corrupt(e.to_string()))?;
    let ciphertext = hex::decode(ciphertext).map_err(|e| corrupt(e.to_string()))?;
    let nonce: [u8; 12] = nonce
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("nonce must be 12 bytes".into()))?;
    let aead =
        cipher_for(passphrase, &salt, *scrypt_log_n, *scrypt_r, *scrypt_p).map_err(corrupt)?;
    let aad = info.address.to_string();
    let plain = Zeroizing::new(
        aead.decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| KeyringError::WrongPassphrase(info.name.clone()))?,
    );
    String::from_utf8(plain.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| corrupt("decrypted mnemonic is not UTF-8".into()))
}

/// Names become file names, so anything that could escape the directory is refused.
fn validate_name(name: &str) -> Result<(), KeyringError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(KeyringError::InvalidName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn file_ring(dir: &Path) -> Keyring {
        Keyring::open(dir, Backend::File)
            .unwrap()
            .with_scrypt_log_n(10)
    }

    #[test]
    fn file_backend_roundtrip() {
        let home = tempfile::tempdir().unwrap();
        let ring = file_ring(home.path());
        let (info, phrase) = ring.add("alice", None, "pw-alice").unwrap();
        assert_eq!(phrase.split(' ').count(), 24);
        assert!(info.address.to_string().starts_with("ve1"));
        assert_eq!(ring.show("alice").unwrap(), info);
        assert_eq!(
            ring.export("alice", "pw-alice").unwrap().as_str(),
            phrase.as_str()
        );
        let key = ring.signer("alice", "pw-alice").unwrap();
        assert_eq!(key.public_key(), info.pubkey);

        // The mnemonic must not be readable from the file.
        let raw = fs::read_to_string(home.path().join("keyring-file/alice.info")).unwrap();
        assert!(!raw.contains(phrase.as_str()));
        assert!(raw.contains("\"ciphertext\""));
    }

    #[test]
    fn wrong_passphrase_is_a_clear_error() {
        let home = tempfile::tempdir().unwrap();
        let ring = file_ring(home.path());
        ring.add("alice", Some(ABANDON), "right").unwrap();
        let err = ring.signer("alice", "wrong").unwrap_err();
        assert!(matches!(err, KeyringError::WrongPassphrase(ref n) if n == "alice"));
        assert_eq!(err.to_string(), "wrong passphrase for key alice");
        assert!(matches!(
            ring.export("alice", "wrong"),
            Err(KeyringError::WrongPassphrase(_))
        ));
    }

    #[test]
    fn file_backend_needs_a_passphrase() {
        let home = tempfile::tempdir().unwrap();
        let ring = file_ring(home.path());
        assert!(matches!(
            ring.add("alice", None, ""),
            Err(KeyringError::EmptyPassphrase)
        ));
        assert!(ring.list().unwrap().is_empty());
    }

    #[test]
    fn import_known_mnemonic_gives_known_address() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path(), Backend::Test).unwrap();
        let info = ring.import("val", ABANDON, "").unwrap();
        assert_eq!(
            info.address.to_bech32_with_hrp("cosmos"),
            "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4"
        );
        // test backend: plaintext by design, passphrase ignored.
        assert_eq!(ring.export("val", "anything").unwrap().as_str(), ABANDON);
        assert!(home.path().join("keyring-test/val.info").exists());
    }

    #[test]
    fn list_delete_and_duplicates() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path(), Backend::Test).unwrap();
        ring.add("bob", None, "").unwrap();
        ring.add("alice", Some(ABANDON), "").unwrap();
        let names: Vec<_> = ring.list().unwrap().into_iter().map(|k| k.name).collect();
        assert_eq!(names, ["alice", "bob"]);

        let err = ring.add("bob", None, "").unwrap_err();
        assert!(matches!(err, KeyringError::AlreadyExists(_)), "{err}");

        ring.delete("bob").unwrap();
        let err = ring.show("bob").unwrap_err();
        assert_eq!(
            err.to_string(),
            "key bob not found; list keys with `virtengine keys list`"
        );
        assert!(matches!(ring.delete("bob"), Err(KeyringError::NotFound(_))));
        assert_eq!(ring.list().unwrap().len(), 1);
    }

    #[test]
    fn names_that_could_escape_the_directory_are_refused() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path(), Backend::Test).unwrap();
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(
                matches!(ring.add(bad, None, ""), Err(KeyringError::InvalidName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn invalid_mnemonic_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path(), Backend::Test).unwrap();
        let err = ring.add("x", Some("abandon abandon"), "").unwrap_err();
        assert!(matches!(
            err,
            KeyringError::Crypto(CryptoError::InvalidMnemonic(_))
        ));
    }

    #[test]
    fn ciphertext_moved_to_another_key_is_rejected() {
        let home = tempfile::tempdir().unwrap();
        let ring = file_ring(home.path());
        ring.add("a", None, "pw").unwrap();
        ring.add("b", None, "pw").unwrap();
        let dir = home.path().join("keyring-file");
        let a: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("a.info")).unwrap()).unwrap();
        let mut b: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("b.info")).unwrap()).unwrap();
        b["secret"] = a["secret"].clone();
        fs::write(dir.join("b.info"), serde_json::to_vec(&b).unwrap()).unwrap();
        assert!(matches!(
            ring.signer("b", "pw"),
            Err(KeyringError::WrongPassphrase(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let ring = Keyring::open(home.path(), Backend::Test).unwrap();
        ring.add("alice", None, "").unwrap();
        let mode = fs::metadata(ring.dir().join("alice.info"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(ring.dir()).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        // No temp files left behind.
        assert_eq!(fs::read_dir(ring.dir()).unwrap().count(), 1);
    }

    #[test]
    fn backend_parses() {
        assert_eq!("file".parse::<Backend>().unwrap(), Backend::File);
        assert_eq!("test".parse::<Backend>().unwrap(), Backend::Test);
        assert!("os".parse::<Backend>().is_err());
    }
}
