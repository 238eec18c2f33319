//! The high-level client the CLI and daemons use: query the account, sign,
//! broadcast, wait for the block.

use std::time::Duration;

use ve_crypto::PrivateKey;
use ve_types::{Address, Coin};

use crate::keyring::KeyringError;
use crate::query::{BaseAccount, QueryClient, QueryError};
use crate::rpc::{RpcClient, RpcError};
use crate::rpc_types::{Event, TxResult};
use crate::tx::{msg_send, SignedTx, TxBuilder};

/// How long [`Client`] waits for a broadcast tx to appear in a block by default:
/// several block times, so one slow round does not fail a send.
pub const DEFAULT_TX_TIMEOUT: Duration = Duration::from_secs(30);

/// Gas limit choice for a tx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gas {
    Fixed(u64),
    /// Simulate, then use [`adjusted_gas`] of the gas used.
    Auto,
}

/// Simulated gas × 1.3, in integer math: simulation runs against the state at query
/// time and the real execution may touch a little more (e.g. a balance entry that
/// another tx created meanwhile).
pub fn adjusted_gas(simulated: u64) -> Result<u64, ClientError> {
    let g = u128::from(simulated) * 13 / 10;
    u64::try_from(g).map_err(|_| ClientError::GasOverflow(simulated))
}

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Rpc(#[from] RpcError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("account {0} does not exist on chain yet: send it some tokens first")]
    AccountNotFound(Address),
    /// The node refused the tx before it reached a block (bad signature, sequence,
    /// fee, ...); nothing was executed and no fee was charged.
    #[error("tx {hash} rejected by the node: {log} (codespace {codespace}, code {code})")]
    CheckTx {
        hash: String,
        codespace: String,
        code: u32,
        log: String,
    },
    #[error("gas estimate overflows u64 (simulated {0})")]
    GasOverflow(u64),
}

/// The outcome of a tx that made it into a block. `code != 0` means it was included
/// (and paid its fee) but its messages failed and their effects were discarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxResponse {
    pub hash: String,
    pub height: u64,
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_wanted: i64,
    pub gas_used: i64,
    pub events: Vec<Event>,
}

impl TxResponse {
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

impl From<TxResult> for TxResponse {
    fn from(r: TxResult) -> Self {
        Self {
            hash: r.hash,
            height: r.height,
            code: r.code,
            codespace: r.codespace,
            log: r.log,
            gas_wanted: r.gas_wanted,
            gas_used: r.gas_used,
            events: r.events,
        }
    }
}

/// RPC connection plus the chain id every signature commits to.
#[derive(Debug, Clone)]
pub struct Client {
    pub rpc: RpcClient,
    pub chain_id: String,
    pub tx_timeout: Duration,
}

impl Client {
    pub fn new(rpc_url: &str, chain_id: impl Into<String>) -> Result<Self, ClientError> {
        Ok(Self {
            rpc: RpcClient::new(rpc_url)?,
            chain_id: chain_id.into(),
            tx_timeout: DEFAULT_TX_TIMEOUT,
        })
    }

    /// Connects and learns the chain id from `/status`, so scripts need not pass it.
    pub async fn connect(rpc_url: &str) -> Result<Self, ClientError> {
        let rpc = RpcClient::new(rpc_url)?;
        let chain_id = rpc.status().await?.node_info.network;
        Ok(Self {
            rpc,
            chain_id,
            tx_timeout: DEFAULT_TX_TIMEOUT,
        })
    }

    pub fn query(&self) -> QueryClient<'_> {
        QueryClient::new(&self.rpc)
    }

    /// The on-chain account of `addr`, or an error saying it must be funded first.
    pub async fn account(&self, addr: &Address) -> Result<BaseAccount, ClientError> {
        self.query()
            .account(addr)
            .await?
            .ok_or(ClientError::AccountNotFound(*addr))
    }

    /// Sends `coins` from the key's account to `to` and waits for the block.
    pub async fn send(
        &self,
        key: &PrivateKey,
        to: &Address,
        coins: &[Coin],
        fee: &[Coin],
        gas: Gas,
    ) -> Result<TxResponse, ClientError> {
        let from = key.public_key().address();
        let tx = TxBuilder::new()
            .msg(msg_send(&from, to, coins))
            .fee(fee.to_vec());
        self.sign_and_broadcast(key, tx, gas).await
    }

    /// Looks up account number and sequence, then signs `tx` (its `gas_limit` is
    /// replaced according to `gas`), broadcasts and waits.
    pub async fn sign_and_broadcast(
        &self,
        key: &PrivateKey,
        tx: TxBuilder,
        gas: Gas,
    ) -> Result<TxResponse, ClientError> {
        let account = self.account(&key.public_key().address()).await?;
        self.sign_and_broadcast_with(key, account.account_number, account.sequence, tx, gas)
            .await
    }

    /// As [`sign_and_broadcast`](Self::sign_and_broadcast), for callers that track
    /// their own sequence (daemons sending several txs per block).
    pub async fn sign_and_broadcast_with(
        &self,
        key: &PrivateKey,
        account_number: u64,
        sequence: u64,
        mut tx: TxBuilder,
        gas: Gas,
    ) -> Result<TxResponse, ClientError> {
        tx.gas_limit = match gas {
            Gas::Fixed(g) => g,
            Gas::Auto => {
                // Gas limit 0 in the simulated tx, as the Cosmos SDK CLI does: simulation
                // runs with an unlimited gas meter and reports what was used.
                let sim = TxBuilder {
                    gas_limit: 0,
                    ..tx.clone()
                }
                .sign_direct(key, &self.chain_id, account_number, sequence);
                adjusted_gas(self.query().simulate(&sim.bytes).await?.gas_used)?
            }
        };
        let signed = tx.sign_direct(key, &self.chain_id, account_number, sequence);
        self.broadcast_and_wait(&signed).await
    }

    /// Broadcasts a signed tx and waits up to `tx_timeout` for its block.
    pub async fn broadcast_and_wait(&self, tx: &SignedTx) -> Result<TxResponse, ClientError> {
        let check = self.rpc.broadcast_tx_sync(&tx.bytes).await?;
        if check.code != 0 {
            return Err(ClientError::CheckTx {
                hash: check.hash,
                codespace: check.codespace,
                code: check.code,
                log: check.log,
            });
        }
        let included = self.rpc.wait_for_tx(&check.hash, self.tx_timeout).await?;
        Ok(included.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_adjustment_is_integer_1_3x() {
        assert_eq!(adjusted_gas(100_000).unwrap(), 130_000);
        assert_eq!(adjusted_gas(7).unwrap(), 9);
        assert_eq!(adjusted_gas(0).unwrap(), 0);
        assert!(matches!(
            adjusted_gas(u64::MAX),
            Err(ClientError::GasOverflow(_))
        ));
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let addr = Address([1u8; 20]);
        let msg = ClientError::AccountNotFound(addr).to_string();
        assert!(msg.contains(&addr.to_string()) && msg.contains("send it some tokens"));
    }
}
