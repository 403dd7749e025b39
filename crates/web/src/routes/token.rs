//! `POST /oauth/token`, `POST /oauth/introspect`, `POST /oauth/revoke`.

use crate::error::{HttpError, mailbox};
use crate::extract::{authorization, form_body};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2_actors::Actors;
use oauth2_actors::messages::{Introspect, IssueToken, Revoke};

pub async fn token_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    let form = form_body(&req, payload).await?;
    let response = actors
        .token
        .send(IssueToken {
            form,
            authorization,
            address: req.peer_addr().map(|a| a.ip().to_string()),
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Ok().json(response))
}

pub async fn introspect_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    let form = form_body(&req, payload).await?;
    let response = actors
        .token
        .send(Introspect {
            form,
            authorization,
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Ok().json(response))
}

pub async fn revoke_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let authorization = authorization(&req)?;
    let form = form_body(&req, payload).await?;
    actors
        .token
        .send(Revoke {
            form,
            authorization,
        })
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Ok().finish())
}
