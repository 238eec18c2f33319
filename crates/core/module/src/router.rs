use crate::{Context, SDK_CODESPACE};
use std::collections::BTreeMap;
use std::sync::Arc;
use ve_types::{Address, AppError};

/// One message type's handler: who must sign it, what can be checked without state,
/// and what it does. Gating (identity tier, MFA) belongs in `execute`, where the action
/// happens, so no dispatch path can skip it.
pub trait MsgHandler: Send + Sync + 'static {
    type Msg: prost::Message + Default + Send + Sync + 'static;

    /// The `Any` type URL this handler serves, e.g. `/cosmos.bank.v1beta1.MsgSend`.
    fn type_url(&self) -> &'static str;

    /// The accounts that must sign. Derived from the message in exactly one place.
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError>;

    /// Checks that need no state. Runs in parallel across a block's transactions.
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError>;

    /// Stateful checks, then effects. Returns the encoded `Msg...Response`.
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError>;

    /// Type URL of the response, for `TxMsgData`.
    fn response_type_url(&self) -> &'static str;
}

/// A message decoded by its route, ready to check and execute.
pub trait Decoded: Send + Sync {
    fn type_url(&self) -> &'static str;
    fn response_type_url(&self) -> &'static str;
    fn signers(&self) -> Result<Vec<Address>, AppError>;
    fn check_stateless(&self) -> Result<(), AppError>;
    fn execute(&self, ctx: &mut Context<'_>) -> Result<Vec<u8>, AppError>;
}

struct DecodedOf<H: MsgHandler> {
    handler: Arc<H>,
    msg: H::Msg,
}

impl<H: MsgHandler> Decoded for DecodedOf<H> {
    fn type_url(&self) -> &'static str {
        self.handler.type_url()
    }
    fn response_type_url(&self) -> &'static str {
        self.handler.response_type_url()
    }
    fn signers(&self) -> Result<Vec<Address>, AppError> {
        self.handler.signers(&self.msg)
    }
    fn check_stateless(&self) -> Result<(), AppError> {
        self.handler.check_stateless(&self.msg)
    }
    fn execute(&self, ctx: &mut Context<'_>) -> Result<Vec<u8>, AppError> {
        self.handler.execute(ctx, &self.msg)
    }
}

type DecodeFn = Arc<dyn Fn(&[u8]) -> Result<Box<dyn Decoded>, AppError> + Send + Sync>;

/// Maps type URLs to handlers. Built once at startup; read concurrently afterwards.
#[derive(Clone, Default)]
pub struct Router {
    routes: BTreeMap<&'static str, DecodeFn>,
    extensions: Vec<&'static str>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `TxBody.extension_options` entries of this type URL (a module that reads
    /// one, e.g. the MFA proof, registers it). Every other extension option is refused.
    pub fn allow_extension(&mut self, type_url: &'static str) {
        if !self.extensions.contains(&type_url) {
            self.extensions.push(type_url);
        }
    }

    pub fn extension_allowed(&self, type_url: &str) -> bool {
        self.extensions.contains(&type_url)
    }

    /// Registers a handler. Registering the same type URL twice is a programming error
    /// caught at startup, so it returns an error rather than silently replacing.
    pub fn add<H: MsgHandler>(&mut self, handler: H) -> Result<(), String> {
        let url = handler.type_url();
        if self.routes.contains_key(url) {
            return Err(format!("duplicate route for {url}"));
        }
        let handler = Arc::new(handler);
        let decode: DecodeFn = Arc::new(move |bytes: &[u8]| {
            let msg = <H::Msg as prost::Message>::decode(bytes).map_err(|e| {
                AppError::new(SDK_CODESPACE, 2, format!("cannot decode {url}: {e}"))
            })?;
            Ok(Box::new(DecodedOf {
                handler: handler.clone(),
                msg,
            }) as Box<dyn Decoded>)
        });
        self.routes.insert(url, decode);
        Ok(())
    }

    /// Decodes an `Any` by its type URL; unknown URLs are code 6 (unknown request).
    pub fn decode(&self, type_url: &str, value: &[u8]) -> Result<Box<dyn Decoded>, AppError> {
        let route = self.routes.get(type_url).ok_or_else(|| {
            AppError::new(
                SDK_CODESPACE,
                6,
                format!("unrecognized message type {type_url:?}: this chain has no handler for it"),
            )
        })?;
        route(value)
    }

    pub fn type_urls(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.routes.keys().copied()
    }
}
