//! VEID capture client: turns an ID-document photo and a selfie into signed, sealed
//! `MsgUploadScope` messages the identity module accepts, and asks for verification.
//!
//! For each scope ([`upload::prepare_upload`]):
//! 1. the image file is checked to be a real JPEG or PNG within the module's size limit,
//!    and its metadata (EXIF/GPS, XMP, comments, text chunks) is removed ([`image`]);
//! 2. a fresh salt is drawn from the OS random generator;
//! 3. the image is sealed (`ve_crypto::envelope`) to the chain's identity recipient set,
//!    whose fingerprints and public keys are read by query ([`upload::fetch_context`]);
//! 4. `payload_hash = SHA-256(envelope)`; the approved capture client signs the client
//!    digest and the user's account key signs the user digest ([`signing`], byte layout in
//!    docs/veid.md §3).
//!
//! Biometric scopes (a selfie) are used by verification only with the account's consent,
//! which lives in its identity wallet ([`consent`]).
//!
//! The plaintext of an `id_document` or `selfie` scope is the image file itself (JPEG or
//! PNG, metadata removed): what the scoring service decodes after opening the envelope.
//!
//! Runs in clients only: it reads the clock (capture time) and OS randomness.

pub mod consent;
pub mod image;
pub mod signing;
pub mod upload;

#[cfg(test)]
mod chain_tests;

pub use image::{check_image, CheckedImage, ImageInfo, ImageKind};
pub use signing::{ClientKey, ClientSecret};
pub use upload::{
    fetch_context, prepare_upload, prepare_upload_with_salt, request_verification_any,
    request_verification_msg, upload_any, CaptureContext, CaptureMeta, PreparedUpload,
    RecipientSet, ScopeCapture, UploadLimits,
};

use crate::{ClientError, QueryError};

/// Type URLs of the identity messages this library builds.
pub const MSG_UPLOAD_SCOPE: &str = "/virtengine.identity.v1.MsgUploadScope";
pub const MSG_REQUEST_VERIFICATION: &str = "/virtengine.identity.v1.MsgRequestVerification";
/// Default `client_version` (the registry's default minimum is 1.0.0).
pub const DEFAULT_CLIENT_VERSION: &str = "1.0.0";
/// Salt length drawn when the chain allows it (clamped to `salt_min..=salt_max`).
pub const SALT_BYTES: u32 = 32;

/// Why a capture step failed; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{what} is not a usable image: {reason}; use a JPEG or PNG photo")]
    NotAnImage { what: String, reason: String },
    #[error("{what} is {len} bytes; the identity module accepts at most {max} bytes per scope: use a smaller or more compressed image")]
    ImageTooLarge {
        what: String,
        len: usize,
        max: usize,
    },
    #[error("sealed {what} is {len} bytes but the chain accepts at most {max} (identity max_payload_bytes): use a smaller or more compressed image")]
    EnvelopeTooLarge { what: String, len: usize, max: u64 },
    #[error("the chain has no identity recipient set (identity params recipient_fingerprints is empty), so nobody could verify the upload: an admin must set it with identity MsgUpdateParams (a `virtengine localnet` chain has one)")]
    NoRecipientSet,
    #[error("identity recipient {fingerprint} cannot be sealed to: {reason}; ask the chain's admins to fix the identity recipient set")]
    Recipient { fingerprint: String, reason: String },
    #[error("capture client key: {0}")]
    ClientKey(String),
    #[error("{field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("sealing the scope: {0}")]
    Seal(#[from] ve_crypto::envelope::EnvelopeError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Client(#[from] ClientError),
}
