//! Every key the config module writes. The layout of state is a public API.

/// `config/params` → `virtengine.config.v1.Params`.
pub const PARAMS: &[u8] = b"config/params";
pub const CLIENT_PREFIX: &[u8] = b"config/client/";
pub const STATUS_PREFIX: &[u8] = b"config/status/";
pub const AUDIT_PREFIX: &[u8] = b"config/audit/";
/// `config/count` → u32 BE: clients in the registry (all statuses).
pub const COUNT: &[u8] = b"config/count";

/// `config/client/<client_id>` → `ApprovedClient`.
pub fn client(client_id: &str) -> Vec<u8> {
    [CLIENT_PREFIX, client_id.as_bytes()].concat()
}

/// `config/status/<status u8>/` — prefix of one status's index.
pub fn status_prefix(status: i32) -> Vec<u8> {
    let s = u8::try_from(status).unwrap_or(0);
    [STATUS_PREFIX, &[s, b'/']].concat()
}

/// `config/status/<status u8>/<client_id>` → empty.
pub fn status_entry(status: i32, client_id: &str) -> Vec<u8> {
    [status_prefix(status).as_slice(), client_id.as_bytes()].concat()
}

/// `config/audit/<client_id>/` — prefix of one client's audit trail.
pub fn audit_prefix(client_id: &str) -> Vec<u8> {
    [AUDIT_PREFIX, client_id.as_bytes(), b"/"].concat()
}

/// `config/audit/<client_id>/<u64 BE sequence>` → `AuditEntry`.
pub fn audit_entry(client_id: &str, seq: u64) -> Vec<u8> {
    [audit_prefix(client_id).as_slice(), &seq.to_be_bytes()].concat()
}

/// `config/auditseq/<client_id>` → u64 BE: the last audit sequence used.
pub fn audit_seq(client_id: &str) -> Vec<u8> {
    [b"config/auditseq/".as_slice(), client_id.as_bytes()].concat()
}
