//! What the verifier reads from the chain: the challenge being answered and the factor
//! enrolment holding the sealed secret. Reading both from chain state (never from the
//! request) is what makes an attestation mean something: a caller holding the account key
//! cannot substitute a secret of their own for the enrolled one.

use std::future::Future;

use ve_client::{QueryClient, RpcClient};
use ve_proto::virtengine::mfa::v1::{
    Challenge, FactorEnrollment, QueryChallengeRequest, QueryChallengeResponse,
    QueryFactorEnrollmentRequest, QueryFactorEnrollmentResponse,
};

use crate::error::VerifierError;

pub const PATH_CHALLENGE: &str = "/virtengine.mfa.v1.Query/Challenge";
pub const PATH_FACTOR_ENROLLMENT: &str = "/virtengine.mfa.v1.Query/FactorEnrollment";

/// Read access to the mfa module's state.
pub trait ChainSource: Send + Sync + 'static {
    fn challenge(
        &self,
        challenge_id: &str,
    ) -> impl Future<Output = Result<Challenge, VerifierError>> + Send;
    fn enrollment(
        &self,
        account: &str,
        factor_id: &str,
    ) -> impl Future<Output = Result<FactorEnrollment, VerifierError>> + Send;
}

/// The chain through a node's CometBFT RPC (ABCI queries).
#[derive(Debug, Clone)]
pub struct RpcChain {
    rpc: RpcClient,
}

impl RpcChain {
    pub fn new(node_url: &str) -> Result<Self, VerifierError> {
        let rpc = RpcClient::with_timeout(node_url, std::time::Duration::from_secs(15))
            .map_err(|e| VerifierError::Config(format!("node URL {node_url:?}: {e}")))?;
        Ok(Self { rpc })
    }
}

fn query_err(what: String, e: ve_client::QueryError) -> VerifierError {
    if e.is_not_found() {
        VerifierError::NotFound(format!("{what} not found on chain"))
    } else {
        VerifierError::Chain(format!("{what}: {e}"))
    }
}

impl ChainSource for RpcChain {
    async fn challenge(&self, challenge_id: &str) -> Result<Challenge, VerifierError> {
        let r: QueryChallengeResponse = QueryClient::new(&self.rpc)
            .query(
                PATH_CHALLENGE,
                &QueryChallengeRequest {
                    challenge_id: challenge_id.to_string(),
                },
            )
            .await
            .map_err(|e| query_err(format!("challenge {challenge_id}"), e))?;
        r.challenge.ok_or_else(|| {
            VerifierError::NotFound(format!("challenge {challenge_id} not found on chain"))
        })
    }

    async fn enrollment(
        &self,
        account: &str,
        factor_id: &str,
    ) -> Result<FactorEnrollment, VerifierError> {
        let r: QueryFactorEnrollmentResponse = QueryClient::new(&self.rpc)
            .query(
                PATH_FACTOR_ENROLLMENT,
                &QueryFactorEnrollmentRequest {
                    address: account.to_string(),
                    factor_id: factor_id.to_string(),
                },
            )
            .await
            .map_err(|e| query_err(format!("factor {factor_id} of {account}"), e))?;
        r.enrollment.ok_or_else(|| {
            VerifierError::NotFound(format!(
                "factor {factor_id} of {account} not found on chain"
            ))
        })
    }
}
