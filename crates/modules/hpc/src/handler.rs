//! One `MsgHandler` per message: the signer field, `check` (stateless) and `run` live
//! in the message's file; this macro writes the shared boilerplate.

macro_rules! handler {
    ($(#[$doc:meta])* $name:ident, $msg:ty, $signer:ident, $url:literal) => {
        $(#[$doc])*
        pub struct $name {
            pub keeper: $crate::keeper::Keeper,
        }
        impl ve_module::MsgHandler for $name {
            type Msg = $msg;
            fn type_url(&self) -> &'static str {
                concat!("/virtengine.hpc.v1.", $url)
            }
            fn response_type_url(&self) -> &'static str {
                concat!("/virtengine.hpc.v1.", $url, "Response")
            }
            fn signers(&self, m: &Self::Msg) -> Result<Vec<ve_types::Address>, ve_types::AppError> {
                Ok(vec![$crate::keeper::parse_addr(&m.$signer)?])
            }
            fn check_stateless(&self, m: &Self::Msg) -> Result<(), ve_types::AppError> {
                Self::check(m)
            }
            fn execute(
                &self,
                ctx: &mut ve_module::Context<'_>,
                m: &Self::Msg,
            ) -> Result<Vec<u8>, ve_types::AppError> {
                self.run(ctx, m)
            }
        }
    };
}

pub(crate) use handler;

use crate::HpcError;

pub(crate) fn bad(m: impl Into<String>) -> ve_types::AppError {
    HpcError::InvalidRequest(m.into()).into()
}

/// A non-empty printable name of at most `max` bytes.
pub(crate) fn check_name(s: &str, what: &str, max: usize) -> Result<(), ve_types::AppError> {
    if s.is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(bad(format!("{what} must be 1-{max} printable characters")));
    }
    Ok(())
}

/// At most `max` bytes, no control characters (may be empty).
pub(crate) fn check_text(s: &str, what: &str, max: usize) -> Result<(), ve_types::AppError> {
    if s.len() > max || s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad(format!(
            "{what} must be at most {max} printable characters"
        )));
    }
    Ok(())
}
