//! The one mapping from protocol errors to HTTP responses (RFC 6749 §5.2, RFC 6750 §3).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use oauth2_core::{ErrorCode, OAuthError};
use serde::Serialize;
use std::fmt;

#[derive(Debug)]
pub struct HttpError(pub OAuthError);

impl From<OAuthError> for HttpError {
    fn from(e: OAuthError) -> Self {
        HttpError(e)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// Every code gets a decision here; there is deliberately no catch-all arm.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidGrant
        | ErrorCode::UnauthorizedClient
        | ErrorCode::UnsupportedGrantType
        | ErrorCode::InvalidScope
        | ErrorCode::UnsupportedResponseType
        | ErrorCode::UnsupportedTokenType
        | ErrorCode::InvalidRedirectUri
        | ErrorCode::InvalidClientMetadata
        | ErrorCode::LoginRequired
        | ErrorCode::ConsentRequired
        | ErrorCode::RequestNotSupported
        | ErrorCode::RequestUriNotSupported => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::AccessDenied | ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        status_for(self.0.code)
    }

    fn error_response(&self) -> HttpResponse {
        let e = &self.0;
        if e.code == ErrorCode::ServerError {
            // The cause may name tables or hosts: it goes to the log, the client sees only the code.
            tracing::error!(cause = e.cause.as_deref().unwrap_or("-"), "server error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        match e.code {
            // RFC 6749 §5.2: a 401 names the scheme the client should use.
            ErrorCode::InvalidClient => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"oauth2-server\""),
                ));
            }
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
                let value = format!("Bearer error=\"{}\"", e.code.as_str());
                if let Ok(v) = HeaderValue::from_str(&value) {
                    res.insert_header((header::WWW_AUTHENTICATE, v));
                }
            }
            ErrorCode::InvalidRequest
            | ErrorCode::InvalidGrant
            | ErrorCode::UnauthorizedClient
            | ErrorCode::UnsupportedGrantType
            | ErrorCode::InvalidScope
            | ErrorCode::AccessDenied
            | ErrorCode::UnsupportedResponseType
            | ErrorCode::ServerError
            | ErrorCode::TemporarilyUnavailable
            | ErrorCode::UnsupportedTokenType
            | ErrorCode::InvalidRedirectUri
            | ErrorCode::InvalidClientMetadata
            | ErrorCode::LoginRequired
            | ErrorCode::ConsentRequired
            | ErrorCode::RequestNotSupported
            | ErrorCode::RequestUriNotSupported
            | ErrorCode::NotFound
            | ErrorCode::Conflict => {}
        }
        res.json(ErrorBody {
            error: e.code.as_str(),
            error_description: &e.description,
        })
    }
}

/// The actor is gone (the worker is shutting down): the request can be retried elsewhere.
pub fn mailbox(e: actix::MailboxError) -> HttpError {
    HttpError(OAuthError {
        code: ErrorCode::TemporarilyUnavailable,
        description: "the server is shutting down; retry".into(),
        cause: Some(e.to_string()),
    })
}
