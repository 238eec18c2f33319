//! Deterministic WebAuthn verification: registration ("none" or "packed" self
//! attestation) and assertions, ES256 (P-256) and EdDSA (Ed25519) credentials.
//!
//! Every function returns `Err(reason)` for a response that does not verify; callers turn
//! that into a failed attempt (assertions) or an error (registration).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ciborium::value::Value;

/// Hard input limits, bytes.
pub const MAX_CLIENT_DATA: usize = 2_048;
pub const MAX_AUTHENTICATOR_DATA: usize = 1_024;
pub const MAX_ATTESTATION_OBJECT: usize = 4_096;
pub const MAX_SIGNATURE: usize = 128;
pub const MAX_CREDENTIAL_ID: usize = 1_023;
pub const MAX_COSE_KEY: usize = 512;

pub const FLAG_UP: u8 = 0x01;
pub const FLAG_UV: u8 = 0x04;
pub const FLAG_AT: u8 = 0x40;
pub const FLAG_ED: u8 = 0x80;

pub const ALG_ES256: i64 = -7;
pub const ALG_EDDSA: i64 = -8;

/// The relying-party rules a response is checked against.
#[derive(Clone, Debug)]
pub struct RelyingParty<'a> {
    pub rp_id: &'a str,
    pub origins: &'a [String],
    pub require_user_verification: bool,
}

/// A credential public key parsed from its COSE_Key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialKey {
    /// SEC1 uncompressed point (65 bytes).
    Es256(Vec<u8>),
    Ed25519([u8; 32]),
}

impl CredentialKey {
    pub fn algorithm(&self) -> i64 {
        match self {
            CredentialKey::Es256(_) => ALG_ES256,
            CredentialKey::Ed25519(_) => ALG_EDDSA,
        }
    }

    /// Verifies `sig` over `msg` (ES256: ASN.1 DER; EdDSA: 64 bytes, strict).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), String> {
        match self {
            CredentialKey::Es256(point) => {
                use p256::ecdsa::signature::Verifier;
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map_err(|_| "invalid P-256 public key".to_string())?;
                let sig = p256::ecdsa::Signature::from_der(sig)
                    .map_err(|_| "ES256 signature is not ASN.1 DER".to_string())?;
                key.verify(msg, &sig)
                    .map_err(|_| "signature does not verify".to_string())
            }
            CredentialKey::Ed25519(pk) => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(pk)
                    .map_err(|_| "invalid Ed25519 public key".to_string())?;
                let sig = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|_| "EdDSA signature must be 64 bytes".to_string())?;
                key.verify_strict(msg, &sig)
                    .map_err(|_| "signature does not verify".to_string())
            }
        }
    }
}

fn int_of(v: &Value) -> Option<i128> {
    match v {
        Value::Integer(i) => Some(i128::from(*i)),
        _ => None,
    }
}

fn map_get_int(m: &[(Value, Value)], key: i128) -> Option<&Value> {
    m.iter()
        .find(|(k, _)| int_of(k) == Some(key))
        .map(|(_, v)| v)
}

fn map_get_text<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

fn bytes_of(v: Option<&Value>) -> Option<&[u8]> {
    match v {
        Some(Value::Bytes(b)) => Some(b.as_slice()),
        _ => None,
    }
}

/// Decodes one CBOR item from the front of `data`; returns it and the bytes it used.
fn cbor_item(data: &[u8]) -> Result<(Value, usize), String> {
    let mut rest = data;
    let v: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, 16)
        .map_err(|e| format!("invalid CBOR: {e}"))?;
    Ok((v, data.len().saturating_sub(rest.len())))
}

/// Parses a COSE_Key: EC2/P-256/ES256 or OKP/Ed25519/EdDSA.
pub fn parse_cose_key(bytes: &[u8]) -> Result<CredentialKey, String> {
    if bytes.len() > MAX_COSE_KEY {
        return Err("COSE key too large".into());
    }
    let (v, used) = cbor_item(bytes)?;
    if used != bytes.len() {
        return Err("trailing bytes after COSE key".into());
    }
    let Value::Map(m) = v else {
        return Err("COSE key is not a map".into());
    };
    let kty = map_get_int(&m, 1).and_then(int_of);
    let alg = map_get_int(&m, 3).and_then(int_of);
    let crv = map_get_int(&m, -1).and_then(int_of);
    let x = bytes_of(map_get_int(&m, -2));
    match (kty, alg, crv) {
        (Some(2), Some(-7), Some(1)) => {
            let y = bytes_of(map_get_int(&m, -3));
            match (x, y) {
                (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                    let point = [&[0x04u8][..], x, y].concat();
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                        .map_err(|_| "EC2 key is not a P-256 point".to_string())?;
                    Ok(CredentialKey::Es256(point))
                }
                _ => Err("EC2 key needs 32-byte x and y".into()),
            }
        }
        (Some(1), Some(-8), Some(6)) => {
            let x: [u8; 32] = x
                .and_then(|x| x.try_into().ok())
                .ok_or("OKP key needs a 32-byte x")?;
            ed25519_dalek::VerifyingKey::from_bytes(&x)
                .map_err(|_| "invalid Ed25519 key".to_string())?;
            Ok(CredentialKey::Ed25519(x))
        }
        _ => Err("unsupported credential key: use ES256 (EC2 P-256) or EdDSA (OKP Ed25519)".into()),
    }
}

#[derive(serde::Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    typ: String,
    challenge: String,
    origin: String,
}

/// Checks clientDataJSON: type, challenge (base64url of `challenge`), origin allow-list.
pub fn check_client_data(
    json: &[u8],
    expected_type: &str,
    challenge: &[u8],
    rp: &RelyingParty<'_>,
) -> Result<(), String> {
    if json.is_empty() || json.len() > MAX_CLIENT_DATA {
        return Err(format!(
            "clientDataJSON must be 1..={MAX_CLIENT_DATA} bytes"
        ));
    }
    let cd: ClientData =
        serde_json::from_slice(json).map_err(|e| format!("clientDataJSON: {e}"))?;
    if cd.typ != expected_type {
        return Err(format!(
            "clientDataJSON type is {:?}, expected {expected_type:?}",
            cd.typ
        ));
    }
    if cd.challenge != URL_SAFE_NO_PAD.encode(challenge) {
        return Err("clientDataJSON challenge is not this challenge".into());
    }
    if !rp.origins.contains(&cd.origin) {
        return Err(format!(
            "origin {:?} is not allowed (params.fido2_allowed_origins)",
            cd.origin
        ));
    }
    Ok(())
}

/// The parsed fixed part of authenticatorData and, if present, the attested credential.
#[derive(Clone, Debug)]
pub struct AuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential>,
}

#[derive(Clone, Debug)]
pub struct AttestedCredential {
    pub aaguid: Vec<u8>,
    pub credential_id: Vec<u8>,
    pub cose_key: Vec<u8>,
    pub key: CredentialKey,
}

pub fn parse_auth_data(data: &[u8]) -> Result<AuthData, String> {
    if data.len() < 37 || data.len() > MAX_AUTHENTICATOR_DATA {
        return Err(format!(
            "authenticatorData must be 37..={MAX_AUTHENTICATOR_DATA} bytes"
        ));
    }
    let rp_id_hash: [u8; 32] = data
        .get(..32)
        .and_then(|b| b.try_into().ok())
        .ok_or("authenticatorData too short")?;
    let flags = *data.get(32).ok_or("authenticatorData too short")?;
    let sign_count = data
        .get(33..37)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or("authenticatorData too short")?;
    let mut rest = data.get(37..).unwrap_or_default();
    let attested = if flags & FLAG_AT != 0 {
        let aaguid = rest
            .get(..16)
            .ok_or("attested credential data truncated")?
            .to_vec();
        let len = rest
            .get(16..18)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_be_bytes)
            .ok_or("attested credential data truncated")?;
        let len = usize::from(len);
        if len == 0 || len > MAX_CREDENTIAL_ID {
            return Err("credential id length out of range".into());
        }
        let end = 18usize.saturating_add(len);
        let credential_id = rest.get(18..end).ok_or("credential id truncated")?.to_vec();
        let key_bytes = rest.get(end..).unwrap_or_default();
        let (_, used) = cbor_item(key_bytes)?;
        let cose_key = key_bytes.get(..used).unwrap_or_default().to_vec();
        let key = parse_cose_key(&cose_key)?;
        rest = key_bytes.get(used..).unwrap_or_default();
        Some(AttestedCredential {
            aaguid,
            credential_id,
            cose_key,
            key,
        })
    } else {
        None
    };
    if flags & FLAG_ED != 0 {
        let (_, used) = cbor_item(rest)?;
        rest = rest.get(used..).unwrap_or_default();
    }
    if !rest.is_empty() {
        return Err("trailing bytes in authenticatorData".into());
    }
    Ok(AuthData {
        rp_id_hash,
        flags,
        sign_count,
        attested,
    })
}

fn check_flags_and_rp(ad: &AuthData, rp: &RelyingParty<'_>) -> Result<(), String> {
    if ad.rp_id_hash != ve_crypto::sha256(rp.rp_id.as_bytes()) {
        return Err(format!("rpIdHash is not SHA-256({:?})", rp.rp_id));
    }
    if ad.flags & FLAG_UP == 0 {
        return Err("user presence (UP) flag not set".into());
    }
    if rp.require_user_verification && ad.flags & FLAG_UV == 0 {
        return Err("user verification (UV) flag required".into());
    }
    Ok(())
}

/// A verified registration.
#[derive(Clone, Debug)]
pub struct Registered {
    pub credential_id: Vec<u8>,
    pub cose_key: Vec<u8>,
    pub algorithm: i64,
    pub aaguid: Vec<u8>,
    pub sign_count: u32,
    pub attestation_type: String,
}

/// Verifies a registration response against `challenge`.
pub fn verify_registration(
    client_data_json: &[u8],
    attestation_object: &[u8],
    challenge: &[u8],
    rp: &RelyingParty<'_>,
) -> Result<Registered, String> {
    check_client_data(client_data_json, "webauthn.create", challenge, rp)?;
    if attestation_object.is_empty() || attestation_object.len() > MAX_ATTESTATION_OBJECT {
        return Err(format!(
            "attestationObject must be 1..={MAX_ATTESTATION_OBJECT} bytes"
        ));
    }
    let (v, used) = cbor_item(attestation_object)?;
    if used != attestation_object.len() {
        return Err("trailing bytes after attestationObject".into());
    }
    let Value::Map(m) = v else {
        return Err("attestationObject is not a map".into());
    };
    let fmt = match map_get_text(&m, "fmt") {
        Some(Value::Text(t)) => t.clone(),
        _ => return Err("attestationObject has no fmt".into()),
    };
    let auth_data =
        bytes_of(map_get_text(&m, "authData")).ok_or("attestationObject has no authData")?;
    let att_stmt = match map_get_text(&m, "attStmt") {
        Some(Value::Map(s)) => s.clone(),
        _ => return Err("attestationObject has no attStmt map".into()),
    };
    let ad = parse_auth_data(auth_data)?;
    check_flags_and_rp(&ad, rp)?;
    let cred = ad
        .attested
        .clone()
        .ok_or("authData carries no attested credential (AT flag)")?;
    match fmt.as_str() {
        "none" => {
            if !att_stmt.is_empty() {
                return Err("fmt none needs an empty attStmt".into());
            }
        }
        "packed" => {
            if map_get_text(&att_stmt, "x5c").is_some() {
                return Err("packed attestation with a certificate chain (x5c) is not supported: use self attestation or none".into());
            }
            let alg = map_get_text(&att_stmt, "alg").and_then(int_of);
            if alg != Some(i128::from(cred.key.algorithm())) {
                return Err("packed attStmt alg does not match the credential key".into());
            }
            let sig =
                bytes_of(map_get_text(&att_stmt, "sig")).ok_or("packed attStmt has no sig")?;
            if sig.len() > MAX_SIGNATURE {
                return Err("attestation signature too large".into());
            }
            let msg = [auth_data, &ve_crypto::sha256(client_data_json)].concat();
            cred.key
                .verify(&msg, sig)
                .map_err(|e| format!("packed self attestation: {e}"))?;
        }
        other => {
            return Err(format!(
            "attestation format {other:?} is not supported: use none or packed (self attestation)"
        ))
        }
    }
    Ok(Registered {
        algorithm: cred.key.algorithm(),
        credential_id: cred.credential_id,
        cose_key: cred.cose_key,
        aaguid: cred.aaguid,
        sign_count: ad.sign_count,
        attestation_type: fmt,
    })
}

/// Verifies an assertion by a stored credential; returns the new sign count.
pub fn verify_assertion(
    cose_key: &[u8],
    stored_sign_count: u32,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
    challenge: &[u8],
    rp: &RelyingParty<'_>,
) -> Result<u32, String> {
    check_client_data(client_data_json, "webauthn.get", challenge, rp)?;
    if signature.is_empty() || signature.len() > MAX_SIGNATURE {
        return Err(format!("signature must be 1..={MAX_SIGNATURE} bytes"));
    }
    let ad = parse_auth_data(authenticator_data)?;
    check_flags_and_rp(&ad, rp)?;
    if (ad.sign_count != 0 || stored_sign_count != 0) && ad.sign_count <= stored_sign_count {
        return Err(format!(
            "sign count {} is not above the stored {stored_sign_count}: the authenticator may be cloned",
            ad.sign_count
        ));
    }
    let key = parse_cose_key(cose_key)?;
    let msg = [authenticator_data, &ve_crypto::sha256(client_data_json)].concat();
    key.verify(&msg, signature)?;
    Ok(ad.sign_count)
}
