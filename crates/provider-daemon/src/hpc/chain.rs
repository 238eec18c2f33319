//! hpc queries and the provider's signed reports (one tx each, SIGN_MODE_DIRECT with the
//! daemon's key, waiting for inclusion).

use ve_client::{Gas, TxBuilder, TxResponse};
use ve_proto::virtengine::hpc::v1 as hpc;

use crate::chain::Chain;
use crate::error::DaemonError;

impl Chain {
    /// The job now, `None` if the chain does not know it.
    pub async fn hpc_job(&self, job_id: u64) -> Result<Option<hpc::Job>, DaemonError> {
        let r: Result<hpc::QueryJobResponse, _> = self
            .client
            .query()
            .query(
                "/virtengine.hpc.v1.Query/Job",
                &hpc::QueryJobRequest { job_id },
            )
            .await;
        match r {
            Ok(r) => Ok(r.job),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn hpc_cluster(&self, cluster_id: u64) -> Result<hpc::Cluster, DaemonError> {
        let r: hpc::QueryClusterResponse = self
            .client
            .query()
            .query(
                "/virtengine.hpc.v1.Query/Cluster",
                &hpc::QueryClusterRequest { cluster_id },
            )
            .await?;
        r.cluster.ok_or(DaemonError::Missing("the hpc cluster"))
    }

    /// Signs and broadcasts `msgs` in one tx and waits for its block.
    pub(crate) async fn send_hpc(
        &self,
        msgs: Vec<ve_proto::Any>,
    ) -> Result<TxResponse, DaemonError> {
        let mut tx = TxBuilder::new().fee(vec![self.fees.clone()]);
        for m in msgs {
            tx = tx.msg(m);
        }
        Ok(self
            .client
            .sign_and_broadcast(&self.key, tx, Gas::Fixed(self.gas))
            .await?)
    }
}
