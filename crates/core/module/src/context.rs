use crate::{Event, GasConfig, GasMeter};
use ve_storage::{KvPairs, StateRead, StateWrite};
use ve_types::AppError;

/// Facts about the block being executed: the only clock and the only chain identity a
/// handler may use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub height: u64,
    /// Block time from the header, in unix seconds. Never the wall clock.
    pub time_unix: i64,
    pub chain_id: String,
}

/// What a handler or block hook receives: metered state access, events, block facts.
pub struct Context<'a> {
    store: &'a mut dyn StateWrite,
    gas: &'a mut GasMeter,
    gas_config: &'a GasConfig,
    events: &'a mut Vec<Event>,
    block: &'a BlockInfo,
    tx: Option<&'a TxInfo>,
}

/// What a handler may know about the transaction carrying its message, beyond the
/// message itself: the extension options (e.g. an MFA proof), already checked against
/// the router's allow-list. `None` in block hooks and system steps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxInfo {
    /// `(type_url, value)` of each `TxBody.extension_options` entry, in order.
    pub extensions: Vec<(String, Vec<u8>)>,
}

impl TxInfo {
    /// The value of the first extension option with this type URL.
    pub fn extension(&self, type_url: &str) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(u, _)| u == type_url)
            .map(|(_, v)| v.as_slice())
    }
}

use crate::store::storage_err;

impl<'a> Context<'a> {
    pub fn new(
        store: &'a mut dyn StateWrite,
        gas: &'a mut GasMeter,
        gas_config: &'a GasConfig,
        events: &'a mut Vec<Event>,
        block: &'a BlockInfo,
    ) -> Self {
        Self {
            store,
            gas,
            gas_config,
            events,
            block,
            tx: None,
        }
    }

    /// Attaches the transaction this context executes for.
    pub fn with_tx(mut self, tx: &'a TxInfo) -> Self {
        self.tx = Some(tx);
        self
    }

    /// The transaction being executed; `None` in block hooks.
    pub fn tx(&self) -> Option<&TxInfo> {
        self.tx
    }

    pub fn block(&self) -> &BlockInfo {
        self.block
    }

    pub fn gas_used(&self) -> u64 {
        self.gas.used()
    }

    /// Charges gas for something other than store access (e.g. signature checks).
    pub fn consume_gas(&mut self, amount: u64, what: &str) -> Result<(), AppError> {
        self.gas.consume(amount, what)
    }

    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, AppError> {
        let value = self.store.get(key).map_err(storage_err)?;
        let bytes = value.as_ref().map_or(0, Vec::len) as u64;
        let cost = self
            .gas_config
            .read_flat
            .saturating_add(self.gas_config.read_per_byte.saturating_mul(bytes));
        self.gas.consume(cost, "read")?;
        Ok(value)
    }

    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), AppError> {
        let bytes = (key.len() as u64).saturating_add(value.len() as u64);
        let cost = self
            .gas_config
            .write_flat
            .saturating_add(self.gas_config.write_per_byte.saturating_mul(bytes));
        self.gas.consume(cost, "write")?;
        self.store.put(key, value);
        Ok(())
    }

    pub fn delete(&mut self, key: Vec<u8>) -> Result<(), AppError> {
        self.gas.consume(self.gas_config.delete_flat, "delete")?;
        self.store.delete(key);
        Ok(())
    }

    /// Up to `limit` entries under `prefix`, charging per entry returned.
    pub fn prefix(&mut self, prefix: &[u8], limit: usize) -> Result<KvPairs, AppError> {
        let entries = self.store.prefix(prefix, limit).map_err(storage_err)?;
        self.charge_iteration(&entries)?;
        Ok(entries)
    }

    /// Up to `limit` entries in `[start, end)`, charging per entry returned.
    pub fn range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, AppError> {
        let entries = self.store.range(start, end, limit).map_err(storage_err)?;
        self.charge_iteration(&entries)?;
        Ok(entries)
    }

    fn charge_iteration(&mut self, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<(), AppError> {
        let mut cost = self.gas_config.read_flat;
        for (k, v) in entries {
            let bytes = (k.len() as u64).saturating_add(v.len() as u64);
            cost = cost
                .saturating_add(self.gas_config.iter_next_flat)
                .saturating_add(self.gas_config.read_per_byte.saturating_mul(bytes));
        }
        self.gas.consume(cost, "iterate")
    }

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// Read-only, unmetered state for queries, at the height the query asked for.
pub struct QueryContext<'a> {
    pub store: &'a dyn StateRead,
    pub height: u64,
}

impl QueryContext<'_> {
    pub fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, AppError> {
        self.store.range(start, end, limit).map_err(storage_err)
    }
}
