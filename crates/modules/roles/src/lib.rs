//! `roles`: platform roles and administrative account state (spec §3.4).
//!
//! Roles (genesis account, administrator, moderator, validator, service provider,
//! customer, support agent) are granted and revoked by message under fixed rules
//! ([`rules`]): a genesis account may grant/revoke every role, an administrator every role
//! but genesis_account and administrator, nobody else anything. Genesis accounts are a
//! fixed set from genesis. Every account has a state — ACTIVE (also when there is no
//! record), SUSPENDED or TERMINATED — and the app refuses every transaction signed by a
//! suspended or terminated account ([`keeper::require_operational`], called in the ante).
//! Role changes and account-state changes are sensitive actions: their handlers call the
//! MFA gate. Other modules see roles through [`RolesKeeper`] (`ve_module::gate::RoleGate`).

mod error;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod rules;
pub mod state;
pub mod state_key;

pub use error::RolesError;
pub use genesis::{GenesisAccountState, GenesisAssignment, RolesGenesis};
pub use keeper::{require_operational, RolesKeeper};
pub use msg_server::{
    AssignRoleHandler, NominateAdminHandler, RevokeRoleHandler, SetAccountStateHandler,
    UpdateParamsHandler,
};
pub use params::RolesParams;

pub use ve_proto::virtengine::roles::v1 as proto;
