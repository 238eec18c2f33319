//! `virtengine tx ...`: build, sign (SIGN_MODE_DIRECT), broadcast, and wait until the
//! transaction is in a block, so a script knows the outcome when the command returns.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ve_client::{msg_send, QueryClient, RpcError, TxBuilder};
use ve_types::{Address, Coin, Coins};

use crate::cli::keys::{open_keyring, unlock_passphrase, KeyringArgs};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::{account, connect, query_error, rpc_error, TxOutput};
use crate::cli::{prompt, ChainArgs, NodeArgs};
use crate::home;

/// Gas limit when neither --gas N nor --gas auto is given.
const DEFAULT_GAS: u64 = 200_000;
/// The chain's default minimum gas price, used when neither --fees nor --gas-prices is given.
const DEFAULT_GAS_PRICE: &str = "0.025uve";
/// How often to say that we are still waiting for the block.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct TxArgs {
    #[command(subcommand)]
    pub cmd: TxCmd,
}

#[derive(Debug, Subcommand)]
pub enum TxCmd {
    /// Bank module transactions.
    Bank {
        #[command(subcommand)]
        cmd: BankTx,
    },
    /// Deployment module: create from an SDL file, update, close.
    Deployment {
        #[command(subcommand)]
        cmd: crate::cli::deployment::DeploymentTx,
    },
    /// Market module: bids and leases.
    Market {
        #[command(subcommand)]
        cmd: crate::cli::market::MarketTx,
    },
    /// Provider module: register, update, delete, verify the host's domain.
    Provider {
        #[command(subcommand)]
        cmd: crate::cli::provider::ProviderTx,
    },
    /// Audit module: sign or withdraw provider attributes as an auditor.
    Audit {
        #[command(subcommand)]
        cmd: crate::cli::audit::AuditTx,
    },
    /// Enclave registry: register, re-attest or rotate your validator's enclave.
    Enclave {
        #[command(subcommand)]
        cmd: crate::cli::enclave::EnclaveTx,
    },
    /// Cert module: generate, publish and revoke your mTLS certificate.
    Cert {
        #[command(subcommand)]
        cmd: crate::cli::cert::CertTx,
    },
    /// Offering module: publish offerings, order one (creates your deployment).
    Offering {
        #[command(subcommand)]
        cmd: crate::cli::offering::OfferingTx,
    },
    /// HPC module: clusters, offerings, jobs, status reports, disputes.
    Hpc {
        #[command(subcommand)]
        cmd: crate::cli::hpc::HpcTx,
    },
    /// Encryption module: recipient keys for envelopes.
    Encryption {
        #[command(subcommand)]
        cmd: crate::cli::encryption::EncryptionTx,
    },
    /// Escrow module: fund accounts, withdraw payments.
    Escrow {
        #[command(subcommand)]
        cmd: crate::cli::escrow::EscrowTx,
    },
    /// MFA: enrol factors, answer challenges, get sessions for sensitive transactions.
    Mfa {
        #[command(subcommand)]
        cmd: crate::cli::mfa::MfaTx,
    },
    /// Identity (VEID): upload an ID document and a selfie, request verification.
    Identity {
        #[command(subcommand)]
        cmd: crate::cli::identity::IdentityTx,
    },
}

#[derive(Debug, Subcommand)]
pub enum BankTx {
    /// Send coins from a key in the keyring to an address.
    #[command(after_help = "Examples:\n  \
        virtengine tx bank send alice ve1...xyz 1000uve --fees 5000uve --yes\n  \
        virtengine tx bank send alice bob 25uve --gas auto --gas-prices 0.025uve --output json -y\n\n\
        Fees: --fees gives them outright; --gas-prices P pays gas x P (rounded up); with neither,\n\
        the chain's default minimum price 0.025uve is used. The command waits until the\n\
        transaction is in a block and exits with status 1 if it failed (code != 0).")]
    Send {
        /// Sender: a key name in the keyring, or the address of one.
        from: String,
        /// Recipient: an address (ve1...) or a key name in the keyring.
        to: String,
        /// Coins to send, e.g. `1000uve` or `10uve,5foo`.
        amount: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

/// Flags every transaction takes.
#[derive(Debug, Args)]
pub struct TxCommon {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Keyring home directory [default: ~/.virtengine-localnet].
    #[arg(long, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Fee to pay, e.g. `5000uve`.
    #[arg(long, conflicts_with = "gas_prices")]
    pub fees: Option<String>,
    /// Price per unit of gas, e.g. `0.025uve`; the fee is gas x price, rounded up.
    #[arg(long)]
    pub gas_prices: Option<String>,
    /// Gas limit: a number, or `auto` to simulate first and multiply by --gas-adjustment.
    #[arg(long, default_value = "200000")]
    pub gas: String,
    /// Factor applied to the simulated gas with --gas auto.
    #[arg(long, default_value = "1.3")]
    pub gas_adjustment: String,
    /// Note stored with the transaction.
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Sign and broadcast without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Only `sync` (CheckTx, then wait for the block) is supported.
    #[arg(long, default_value = "sync", value_parser = ["sync"])]
    pub broadcast_mode: String,
    /// Seconds to wait for inclusion in a block.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// MFA session id(s) (from `tx mfa verify`) to attach as the tx's MFA proof, for
    /// sensitive actions such as large transfers; repeat or comma-separate for several.
    #[arg(long = "mfa-session", value_delimiter = ',')]
    pub mfa_session: Vec<String>,
}

impl TxCommon {
    /// The tx body's extension options: the MFA proof when --mfa-session is given.
    pub fn extension_options(&self) -> Vec<ve_proto::Any> {
        if self.mfa_session.is_empty() {
            Vec::new()
        } else {
            vec![ve_client::tx::mfa_proof(&self.mfa_session)]
        }
    }
}

pub async fn run(args: TxArgs) -> Result<()> {
    match args.cmd {
        TxCmd::Bank {
            cmd:
                BankTx::Send {
                    from,
                    to,
                    amount,
                    common,
                },
        } => send(from, to, amount, common).await,
        TxCmd::Encryption { cmd } => crate::cli::encryption::run_tx(cmd).await,
        TxCmd::Escrow { cmd } => crate::cli::escrow::run_tx(cmd).await,
        TxCmd::Mfa { cmd } => crate::cli::mfa::run_tx(cmd).await,
        TxCmd::Deployment { cmd } => crate::cli::deployment::run_tx(cmd).await,
        TxCmd::Market { cmd } => crate::cli::market::run_tx(cmd).await,
        TxCmd::Provider { cmd } => crate::cli::provider::run_tx(cmd).await,
        TxCmd::Audit { cmd } => crate::cli::audit::run_tx(cmd).await,
        TxCmd::Cert { cmd } => crate::cli::cert::run_tx(cmd).await,
        TxCmd::Enclave { cmd } => crate::cli::enclave::run_tx(cmd).await,
        TxCmd::Offering { cmd } => crate::cli::offering::run_tx(cmd).await,
        TxCmd::Hpc { cmd } => crate::cli::hpc::run_tx(cmd).await,
        TxCmd::Identity { cmd } => crate::cli::identity::run_tx(cmd).await,
    }
}

async fn send(from: String, to: String, amount: String, c: TxCommon) -> Result<()> {
    let home = home::resolve(c.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, &c.keyring)?;
    let from_info = match from.parse::<Address>() {
        Ok(addr) => kr
            .list()?
            .into_iter()
            .find(|k| k.address == addr)
            .with_context(|| {
                format!(
                    "no key for {addr} in {}: --from must be a key you hold",
                    kr.dir().display()
                )
            })?,
        Err(_) => kr.show(&from).with_context(|| format!("sender {from:?}"))?,
    };
    let to_addr = match to.parse::<Address>() {
        Ok(a) => a,
        Err(e) => kr.show(&to).map(|k| k.address).map_err(|_| {
            anyhow::anyhow!("recipient {to:?} is neither a valid address ({e}) nor a key name")
        })?,
    };
    let coins: Coins = amount
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid amount {amount:?}: {e} (example: 1000uve)"))?;
    if coins.is_empty() {
        bail!("amount must not be empty or zero");
    }
    let any = msg_send(
        &from_info.address,
        &to_addr,
        &coins.iter().collect::<Vec<_>>(),
    );
    let summary = format!(
        "send {coins} from {} ({}) to {to_addr}",
        from_info.name, from_info.address
    );
    broadcast(&c, &kr, &from_info.name, vec![any], &summary).await
}

/// Signs `msgs` as `key_name`, broadcasts, waits, prints; errors on a non-zero code.
pub(crate) async fn broadcast(
    c: &TxCommon,
    kr: &ve_client::Keyring,
    key_name: &str,
    msgs: Vec<ve_proto::Any>,
    summary: &str,
) -> Result<()> {
    broadcast_for_result(c, kr, key_name, msgs, summary, true)
        .await
        .map(|_| ())
}

/// [`broadcast`] that returns the included tx (its `data` holds the msg responses);
/// with `print = false` the caller prints the outcome itself.
pub(crate) async fn broadcast_for_result(
    c: &TxCommon,
    kr: &ve_client::Keyring,
    key_name: &str,
    msgs: Vec<ve_proto::Any>,
    summary: &str,
    print: bool,
) -> Result<ve_client::rpc_types::TxResult> {
    let node = connect(&c.node.node)?;
    let url = node.url();
    let info = kr.show(key_name)?;
    let account = account(&node, &info.address).await?.with_context(|| {
        format!(
            "account {} does not exist on chain {} yet: it must receive funds first",
            info.address, c.chain.chain_id
        )
    })?;
    if !c.yes
        && !prompt::confirm(&format!(
            "{summary} on {}; sign and broadcast?",
            c.chain.chain_id
        ))?
    {
        bail!("cancelled");
    }
    let pass = unlock_passphrase(kr)?;
    let key = kr.signer(key_name, &pass)?;
    let extensions = c.extension_options();
    let sign = |tx: &TxBuilder| {
        tx.sign_direct_with_extensions(
            &key,
            &c.chain.chain_id,
            account.account_number,
            account.sequence,
            &extensions,
        )
    };

    // Simulate with the fee we would pay at the default gas, so the fee-deduction
    // writes are part of the estimate.
    let mut tx = TxBuilder {
        msgs,
        memo: c.memo.clone(),
        fee: fee_for(c, DEFAULT_GAS)?,
        gas_limit: DEFAULT_GAS,
        timeout_height: 0,
    };
    tx.gas_limit = if c.gas == "auto" {
        let used = QueryClient::new(&node)
            .simulate(&sign(&tx).bytes)
            .await
            .map_err(|e| query_error(url, e))
            .context("simulating the transaction (for --gas auto)")?
            .gas_used;
        let (num, den) = parse_decimal(&c.gas_adjustment).context("--gas-adjustment")?;
        u64::try_from(u128::from(used).saturating_mul(num).div_ceil(den)).unwrap_or(u64::MAX)
    } else {
        c.gas
            .parse()
            .with_context(|| format!("--gas {:?}: use a number or `auto`", c.gas))?
    };
    tx.fee = fee_for(c, tx.gas_limit)?;
    let signed = sign(&tx);
    let check = node
        .broadcast_tx_sync(&signed.bytes)
        .await
        .map_err(|e| rpc_error(url, e))?;
    let hash = if check.hash.is_empty() {
        signed.hash
    } else {
        check.hash
    };
    if check.code != 0 {
        report_if(
            print,
            c.output,
            &TxOutput {
                txhash: hash,
                height: 0,
                code: check.code,
                codespace: check.codespace,
                raw_log: check.log,
                gas_wanted: tx.gas_limit,
                gas_used: 0,
                events: serde_json::Value::Array(Vec::new()),
            },
            "rejected by the mempool (CheckTx)",
        )?;
        bail!("transaction rejected by the mempool (CheckTx)");
    }
    let text = c.output == OutputFormat::Text;
    if text {
        eprintln!("waiting for tx {hash} to be included in a block...");
    }
    let timeout = Duration::from_secs(c.timeout);
    let wait = node.wait_for_tx(&hash, timeout);
    tokio::pin!(wait);
    let mut progress = tokio::time::interval(PROGRESS_INTERVAL);
    progress.tick().await; // the first tick is immediate
    let mut waited = 0;
    let res = loop {
        tokio::select! {
            r = &mut wait => break r,
            _ = progress.tick() => {
                waited += PROGRESS_INTERVAL.as_secs();
                if text {
                    eprintln!("  still waiting ({waited} s)");
                }
            }
        }
    };
    let res = res.map_err(|e| match e {
        RpcError::TxTimeout { .. } => anyhow::anyhow!(
            "tx {hash} was accepted into the mempool but not included within {} s; \
             check later with `virtengine query tx {hash}`",
            timeout.as_secs()
        ),
        e => rpc_error(url, e),
    })?;
    report_if(
        print,
        c.output,
        &TxOutput::included(res.clone()),
        "failed in the block",
    )?;
    Ok(res)
}

/// [`report`], or only its error on a non-zero code when `print` is false.
fn report_if(print: bool, output: OutputFormat, r: &TxOutput, failure: &str) -> Result<()> {
    if print {
        return report(output, r, failure);
    }
    if r.code != 0 {
        bail!(
            "transaction {} {failure}: codespace {} code {}: {}",
            r.txhash,
            r.codespace,
            r.code,
            r.raw_log
        );
    }
    Ok(())
}

/// The fee for `gas`: --fees as given, else gas x (--gas-prices or the default price).
pub(crate) fn fee_for(c: &TxCommon, gas: u64) -> Result<Vec<Coin>> {
    let fee: Coins = match (&c.fees, &c.gas_prices) {
        (Some(f), _) => f
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid --fees {f:?}: {e} (example: 5000uve)")),
        (None, Some(p)) => fee_from_price(p, gas),
        (None, None) => fee_from_price(DEFAULT_GAS_PRICE, gas),
    }?;
    Ok(fee.iter().collect())
}

fn report(output: OutputFormat, r: &TxOutput, failure: &str) -> Result<()> {
    match output {
        OutputFormat::Json => print_json(r)?,
        OutputFormat::Text => {
            println!("txhash:   {}", r.txhash);
            println!("code:     {}", r.code);
            if r.code != 0 {
                println!("codespace: {}", r.codespace);
            }
            println!("height:   {}", r.height);
            println!("gas used: {} / {}", r.gas_used, r.gas_wanted);
            println!("raw log:  {}", r.raw_log);
        }
    }
    if r.code != 0 {
        bail!(
            "transaction {} {failure}: codespace {} code {}: {}",
            r.txhash,
            r.codespace,
            r.code,
            r.raw_log
        );
    }
    Ok(())
}

/// `0.025uve` at `gas` → the fee in uve, rounded up, without floating point.
fn fee_from_price(price: &str, gas: u64) -> Result<Coins> {
    let split = price
        .find(|ch: char| ch.is_ascii_alphabetic())
        .with_context(|| {
            format!("--gas-prices {price:?}: expected an amount and a denom, e.g. 0.025uve")
        })?;
    let (num_s, denom) = price.split_at(split);
    let (num, den) = parse_decimal(num_s).with_context(|| format!("--gas-prices {price:?}"))?;
    let amount = u128::from(gas).saturating_mul(num).div_ceil(den);
    format!("{amount}{denom}")
        .parse()
        .map_err(|e| anyhow::anyhow!("--gas-prices {price:?}: {e}"))
}

/// `"1.3"` → `(13, 10)`: a non-negative decimal as a fraction, exactly.
pub(crate) fn parse_decimal(s: &str) -> Result<(u128, u128)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 18
    {
        bail!("{s:?} is not a decimal number like 1.3");
    }
    let den = 10u128.pow(u32::try_from(frac.len()).unwrap_or(0));
    let digits = format!("{int}{frac}");
    let num: u128 = digits
        .parse()
        .with_context(|| format!("{s:?} is too large"))?;
    Ok((num, den))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_from_prices_round_up_without_floats() {
        assert_eq!(
            fee_from_price("0.025uve", 200_000).unwrap().to_string(),
            "5000uve"
        );
        assert_eq!(fee_from_price("0.025uve", 1).unwrap().to_string(), "1uve");
        assert_eq!(parse_decimal("1.3").unwrap(), (13, 10));
        assert_eq!(parse_decimal("2").unwrap(), (2, 1));
        assert!(parse_decimal("1.x").is_err());
        assert!(parse_decimal("").is_err());
    }
}
