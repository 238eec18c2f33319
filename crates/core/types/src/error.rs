use std::fmt;

/// Implemented by every module's typed error so the app can report a stable
/// (codespace, code) pair to clients. Codes are part of the public API: never renumber.
pub trait ErrorCode: std::error::Error {
    /// The module's codespace, e.g. `"bank"`.
    fn codespace(&self) -> &'static str;
    /// A code that is stable across releases and unique within the codespace. Never 0.
    fn code(&self) -> u32;
}

/// The error a transaction or query reports: codespace, code and a human message
/// that says what went wrong and, where possible, what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppError {
    pub codespace: &'static str,
    pub code: u32,
    pub message: String,
}

impl AppError {
    pub fn new(codespace: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            codespace,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (codespace {}, code {})",
            self.message, self.codespace, self.code
        )
    }
}

impl std::error::Error for AppError {}

impl<E: ErrorCode> From<E> for AppError {
    fn from(e: E) -> Self {
        Self::new(e.codespace(), e.code(), e.to_string())
    }
}
