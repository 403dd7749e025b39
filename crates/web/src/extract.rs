//! Reading protocol requests: form bodies and the client's `Authorization` header.

use crate::error::HttpError;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use oauth2_core::OAuthError;
use oauth2_core::form::Form;

/// Protocol requests are small; a larger body is refused before it is read in full.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2 requires that media type).
pub async fn form_body(req: &HttpRequest, payload: web::Payload) -> Result<Form, HttpError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if !content_type.is_some_and(|ct| ct.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let body = match payload.to_bytes_limited(MAX_FORM_BYTES).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return Err(OAuthError::invalid_request("the body could not be read").into()),
        Err(_) => return Err(OAuthError::invalid_request("the body is too large").into()),
    };
    Ok(Form::parse(&body)?)
}

/// The raw `Authorization` header, if any; more than one is `invalid_request`.
pub fn authorization(req: &HttpRequest) -> Result<Option<Vec<u8>>, HttpError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let first = values.next().map(|v| v.as_bytes().to_vec());
    if values.next().is_some() {
        return Err(OAuthError::invalid_request("more than one Authorization header").into());
    }
    Ok(first)
}

/// The client's address: the TCP peer, or, when the peer is a trusted reverse proxy, the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy. Headers from
/// anyone else are ignored, so a client cannot choose its own address (and dodge sign-in limits).
pub fn client_address(
    req: &HttpRequest,
    trusted: &[oauth2_actors::settings::IpRange],
) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return Some(peer.to_string());
    }
    // All hops, in order, across repeated headers; walked from the nearest proxy outwards.
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<std::net::IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client.to_string())
}
