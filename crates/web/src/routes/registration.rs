//! Dynamic client registration: `POST /clients/register` (RFC 7591) and the client
//! configuration endpoint `GET, PUT, DELETE /clients/register/{client_id}` (RFC 7592).

use crate::error::{HttpError, mailbox};
use crate::extract::authorization;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2_actors::messages::{
    DeleteRegistration, ReadRegistration, RegisterClient, SendTraced, UpdateRegistration,
};
use oauth2_actors::registration::ClientInformation;
use oauth2_actors::{Actors, Services};
use oauth2_core::OAuthError;
use oauth2_core::registration::client_information;

/// Client metadata is small; a larger body is refused before it is read in full.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Reads an `application/json` body (RFC 7591 §3.1), as bytes: the operation parses it, after
/// it has checked who is asking.
async fn json_body(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, HttpError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if !content_type.is_some_and(|ct| ct.eq_ignore_ascii_case("application/json")) {
        return Err(OAuthError::invalid_request("the body must be application/json").into());
    }
    match payload.to_bytes_limited(MAX_JSON_BYTES).await {
        Ok(Ok(body)) => Ok(body.to_vec()),
        Ok(Err(_)) => Err(OAuthError::invalid_request("the body could not be read").into()),
        Err(_) => Err(OAuthError::invalid_request("the body is too large").into()),
    }
}

fn information(info: &ClientInformation, svc: &Services) -> serde_json::Value {
    serde_json::Value::Object(client_information(
        &info.client,
        info.client_secret.as_deref(),
        &info.registration_access_token,
        &svc.settings.issuer,
    ))
}

pub async fn register_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    let body = json_body(&req, payload).await?;
    let info = actors
        .client
        .traced(RegisterClient {
            authorization,
            body,
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Created().json(information(&info, &svc)))
}

pub async fn registration_get(
    req: HttpRequest,
    path: web::Path<String>,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    let info = actors
        .client
        .traced(ReadRegistration {
            client_id: path.into_inner(),
            authorization,
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Ok().json(information(&info, &svc)))
}

pub async fn registration_put(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    let body = json_body(&req, payload).await?;
    let info = actors
        .client
        .traced(UpdateRegistration {
            client_id: path.into_inner(),
            authorization,
            body,
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Ok().json(information(&info, &svc)))
}

pub async fn registration_delete(
    req: HttpRequest,
    path: web::Path<String>,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    actors
        .client
        .traced(DeleteRegistration {
            client_id: path.into_inner(),
            authorization,
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::NoContent().finish())
}
