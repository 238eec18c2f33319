//! `identity` (VEID): an account proves who it is with encrypted identity scopes.
//!
//! A scope (ID document, selfie, ...) is uploaded as an envelope sealed to the identity
//! recipient set, signed by an approved capture client (config registry) and by the
//! account's own key, with a salt that can be used once ever. Scopes move through the
//! verification status machine ([`types::transition_allowed`]); a verification request
//! covering an account's pending scopes is queued by height for the scoring consensus
//! (issue 5), whose results reach state only through the keeper ([`keeper`]) — no message
//! sets a score. Other modules gate on the tier through [`gate::IdentityGate`].
//!
//! docs/veid.md defines the signed payloads byte by byte and lists every rule.

pub mod component;
mod error;
pub mod events;
pub mod gate;
pub mod genesis;
pub mod keeper;
pub mod keepers;
pub mod msg_server;
pub mod params;
pub mod payload;
pub mod query;
pub mod state;
pub mod state_key;
pub mod types;

pub use component::{begin_block, end_block};
pub use error::IdentityError;
pub use gate::{IdentityGate, IdentityKeeper, ScoreView};
pub use genesis::IdentityGenesis;
pub use keepers::{
    AccountKeys, AdminAuthority, ClientCheck, ClientRegistry, EnclaveRecipients, EnvelopeValidator,
    Keepers,
};
pub use msg_server::{
    CompleteBorderlineFallbackHandler, CreateWalletHandler, GrantScopeConsentHandler,
    RebindWalletHandler, RequestVerificationHandler, ReviewAppealHandler,
    RevokeScopeConsentHandler, RevokeScopeHandler, SubmitAppealHandler,
    UpdateConsentSettingsHandler, UpdateParamsHandler, UploadScopeHandler,
};
pub use params::IdentityParams;

pub use ve_proto::virtengine::identity::v1 as proto;
