//! The ingestion state machine. A notice (a websocket `NewBlock` or a poll tick) names a
//! target height; the ingestor processes checkpoint+1 ..= target in order, each height
//! from its committed `/block_results` and in its own database transaction together with
//! the checkpoint. So:
//! - a gap (missed websocket messages, a reconnect, a restart) is caught up by queries;
//! - a duplicate or stale notice (target ≤ checkpoint) does nothing;
//! - a failure mid-way leaves the checkpoint at the last good height, and the next
//!   notice resumes there;
//! - nothing is acted on before its block is committed (block_results exist only then).

use std::future::Future;

use crate::error::DaemonError;
use crate::events::ChainEvent;
use crate::store::{Applied, Store};

/// Where heights come from: the node's RPC in the daemon, a map in tests.
pub trait BlockSource {
    /// The highest height whose results are surely stored (CometBFT's `/status` shows a
    /// block before it is executed, so this is one below the latest).
    fn settled_height(&self) -> impl Future<Output = Result<u64, DaemonError>>;
    fn events_at(&self, height: u64) -> impl Future<Output = Result<Vec<ChainEvent>, DaemonError>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The websocket announced this committed height.
    NewBlock(u64),
    /// Poll: ask the node for its settled height.
    Tick,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Heights processed by this call (0: the notice was a duplicate or stale).
    pub heights: u64,
    pub applied: Applied,
}

#[derive(Debug)]
pub struct Ingestor<S> {
    pub source: S,
    /// First height to process when the store has no checkpoint yet.
    start_height: u64,
}

impl<S: BlockSource> Ingestor<S> {
    pub fn new(source: S, start_height: u64) -> Self {
        Self {
            source,
            start_height: start_height.max(1),
        }
    }

    /// The next height to process.
    pub fn next_height(&self, store: &Store) -> Result<u64, DaemonError> {
        Ok(match store.checkpoint()? {
            Some(cp) => cp.saturating_add(1),
            None => self.start_height,
        })
    }

    /// Processes every unprocessed height up to the notice's target.
    pub async fn on_notice(&self, store: &Store, notice: Notice) -> Result<Outcome, DaemonError> {
        let target = match notice {
            Notice::NewBlock(h) => h,
            Notice::Tick => self.source.settled_height().await?,
        };
        let mut out = Outcome::default();
        let mut h = self.next_height(store)?;
        while h <= target {
            let events = self.source.events_at(h).await?;
            let a = store.apply_height(h, &events)?;
            out.heights += 1;
            out.applied.orders_seen += a.orders_seen;
            out.applied.released += a.released;
            h = h.saturating_add(1);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::OrderKey;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// A chain in memory that records which heights were fetched and can fail one.
    #[derive(Default)]
    struct FakeChain {
        blocks: BTreeMap<u64, Vec<ChainEvent>>,
        fetched: RefCell<Vec<u64>>,
        fail_at: RefCell<Option<u64>>,
    }

    impl BlockSource for &FakeChain {
        async fn settled_height(&self) -> Result<u64, DaemonError> {
            Ok(self.blocks.keys().next_back().copied().unwrap_or(0))
        }
        async fn events_at(&self, h: u64) -> Result<Vec<ChainEvent>, DaemonError> {
            if *self.fail_at.borrow() == Some(h) {
                return Err(DaemonError::Missing("block_results (node down)"));
            }
            self.fetched.borrow_mut().push(h);
            Ok(self.blocks.get(&h).cloned().unwrap_or_default())
        }
    }

    fn order(d: u64) -> ChainEvent {
        ChainEvent::OrderCreated(OrderKey {
            owner: "ve1t".into(),
            dseq: d,
            gseq: 1,
            oseq: 1,
        })
    }

    fn chain(up_to: u64) -> FakeChain {
        let mut c = FakeChain::default();
        for h in 1..=up_to {
            c.blocks.insert(h, vec![order(h)]);
        }
        c
    }

    #[tokio::test]
    async fn gap_is_caught_up_height_by_height_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = chain(7);
        let ing = Ingestor::new(&c, 3);
        ing.on_notice(&store, Notice::NewBlock(3)).await.unwrap();
        // The websocket missed 4..6 and announces 7: all four are processed.
        let out = ing.on_notice(&store, Notice::NewBlock(7)).await.unwrap();
        assert_eq!(out.heights, 4);
        assert_eq!(out.applied.orders_seen, 4);
        assert_eq!(*c.fetched.borrow(), vec![3, 4, 5, 6, 7]);
        assert_eq!(store.checkpoint().unwrap(), Some(7));
    }

    #[tokio::test]
    async fn duplicate_or_stale_notice_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = chain(5);
        let ing = Ingestor::new(&c, 1);
        ing.on_notice(&store, Notice::NewBlock(5)).await.unwrap();
        let before = store.open_records().unwrap();
        for n in [Notice::NewBlock(5), Notice::NewBlock(2), Notice::Tick] {
            let out = ing.on_notice(&store, n).await.unwrap();
            assert_eq!(out, Outcome::default(), "{n:?}");
        }
        assert_eq!(c.fetched.borrow().len(), 5);
        assert_eq!(store.open_records().unwrap(), before);
    }

    #[tokio::test]
    async fn restart_resumes_at_checkpoint_plus_one() {
        let dir = tempfile::tempdir().unwrap();
        let c = chain(9);
        {
            let store = Store::open(dir.path()).unwrap();
            Ingestor::new(&c, 1)
                .on_notice(&store, Notice::NewBlock(6))
                .await
                .unwrap();
        }
        c.fetched.borrow_mut().clear();
        // A new process, a new ingestor whose start height would be wrong: the
        // checkpoint wins.
        let store = Store::open(dir.path()).unwrap();
        let ing = Ingestor::new(&c, 1);
        assert_eq!(ing.next_height(&store).unwrap(), 7);
        ing.on_notice(&store, Notice::Tick).await.unwrap();
        assert_eq!(*c.fetched.borrow(), vec![7, 8, 9]);
        assert_eq!(store.open_records().unwrap().len(), 9);
    }

    #[tokio::test]
    async fn rpc_failure_mid_catch_up_keeps_the_last_good_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = chain(8);
        let ing = Ingestor::new(&c, 1);
        *c.fail_at.borrow_mut() = Some(6);
        assert!(ing.on_notice(&store, Notice::NewBlock(8)).await.is_err());
        assert_eq!(store.checkpoint().unwrap(), Some(5));
        *c.fail_at.borrow_mut() = None;
        let out = ing.on_notice(&store, Notice::NewBlock(8)).await.unwrap();
        assert_eq!(out.heights, 3);
        assert_eq!(*c.fetched.borrow(), (1..=8).collect::<Vec<_>>());
    }
}
