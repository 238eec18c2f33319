//! Running a node: our ABCI application plus a supervised CometBFT process.

pub mod cometbft;
pub mod enclave_source;
pub mod start;
pub mod supervise;
