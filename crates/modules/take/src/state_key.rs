//! Every key the take module writes. The layout of state is a public API.

/// `take/params` → `virtengine.take.v1.Params`.
pub const PARAMS: &[u8] = b"take/params";
