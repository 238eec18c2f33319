//! One error type for both front ends, mapped the way the Cosmos SDK maps its errors: a gRPC
//! status code, and for REST the HTTP status grpc-gateway derives from it plus a
//! `{"code", "message", "details"}` body, so clients written for a Cosmos node read ours.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;

/// A failed gateway request.
#[derive(Debug, Clone)]
pub struct GatewayError {
    pub code: Code,
    pub message: String,
}

impl GatewayError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(Code::Unimplemented, message)
    }

    /// Maps a failed ABCI query (codespace, code, log) to a gRPC code. The (codespace, code)
    /// pairs are the stable module error codes; messages that say "not found" cover modules
    /// added later without a table entry here.
    pub fn from_abci(codespace: &str, code: u32, log: &str) -> Self {
        let grpc = match (codespace, code) {
            ("auth", 2) | ("bank", 6) | ("sdk", 38) => Code::NotFound,
            ("auth", 3 | 7) | ("bank", 7 | 10 | 23) => Code::InvalidArgument,
            ("sdk", 6) => Code::Unimplemented,
            ("sdk", 2 | 7 | 10 | 18 | 21) => Code::InvalidArgument,
            _ if log.contains("not found") => Code::NotFound,
            _ if log.contains("unknown query") || log.contains("unknown path") => {
                Code::Unimplemented
            }
            _ if log.contains("invalid") => Code::InvalidArgument,
            _ => Code::Unknown,
        };
        Self::new(grpc, log.to_string())
    }

    /// The HTTP status grpc-gateway uses for this gRPC code.
    pub fn http_status(&self) -> StatusCode {
        match self.code {
            Code::Ok => StatusCode::OK,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for GatewayError {}

impl From<GatewayError> for tonic::Status {
    fn from(e: GatewayError) -> Self {
        tonic::Status::new(e.code, e.message)
    }
}

/// The Cosmos REST error body.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct RestErrorBody {
    pub code: i32,
    pub message: String,
    pub details: Vec<serde_json::Value>,
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.http_status();
        let body = RestErrorBody {
            code: self.code as i32,
            message: self.message,
            details: Vec::new(),
        };
        (status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abci_errors_map_to_cosmos_grpc_and_http_codes() {
        let e = GatewayError::from_abci("auth", 2, "account ve1x not found");
        assert_eq!(
            (e.code, e.http_status()),
            (Code::NotFound, StatusCode::NOT_FOUND)
        );
        let e = GatewayError::from_abci("bank", 7, "invalid address");
        assert_eq!(e.http_status(), StatusCode::BAD_REQUEST);
        let e = GatewayError::from_abci("x", 99, "boom");
        assert_eq!(e.http_status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
