use ve_types::AppError;

/// Codespace of errors that belong to the transaction pipeline rather than a module
/// (the same codes as the Cosmos SDK's `sdk` codespace, so clients recognise them).
pub const SDK_CODESPACE: &str = "sdk";

/// Gas prices of store access, the Cosmos SDK's `KVGasConfig` defaults, so gas estimates
/// for the same message are comparable with other Cosmos chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasConfig {
    pub read_flat: u64,
    pub read_per_byte: u64,
    pub write_flat: u64,
    pub write_per_byte: u64,
    pub delete_flat: u64,
    pub iter_next_flat: u64,
    pub tx_size_per_byte: u64,
    pub sig_verify_secp256k1: u64,
}

impl Default for GasConfig {
    fn default() -> Self {
        Self {
            read_flat: 1_000,
            read_per_byte: 3,
            write_flat: 2_000,
            write_per_byte: 30,
            delete_flat: 1_000,
            iter_next_flat: 30,
            tx_size_per_byte: 10,
            sig_verify_secp256k1: 1_000,
        }
    }
}

/// Counts gas against a limit. Block hooks run with an unlimited meter.
#[derive(Clone, Debug)]
pub struct GasMeter {
    limit: u64,
    used: u64,
}

impl GasMeter {
    pub fn new(limit: u64) -> Self {
        Self { limit, used: 0 }
    }

    pub fn infinite() -> Self {
        Self::new(u64::MAX)
    }

    pub fn used(&self) -> u64 {
        self.used
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Charges `amount`; past the limit the meter stays at the limit and the caller
    /// gets code 11 (out of gas), as in the Cosmos SDK.
    pub fn consume(&mut self, amount: u64, what: &str) -> Result<(), AppError> {
        let next = self.used.saturating_add(amount);
        if next > self.limit {
            self.used = self.limit;
            return Err(AppError::new(
                SDK_CODESPACE,
                11,
                format!(
                    "out of gas in location: {what}; gas wanted: {}; raise --gas or use --gas auto",
                    self.limit
                ),
            ));
        }
        self.used = next;
        Ok(())
    }
}
