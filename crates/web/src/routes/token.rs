//! `POST /oauth/token`, `POST /oauth/introspect`, `POST /oauth/revoke`.

use crate::error::{HttpError, mailbox};
use crate::extract::{authorization, form_body};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth2_actors::Actors;
use oauth2_actors::messages::SendTraced;
use oauth2_actors::messages::{Introspect, IssueToken, Revoke};

/// Counts the outcome of an endpoint call under `metric` and passes the result on.
fn counted<T>(
    metric: &'static str,
    r: Result<T, HttpError>,
    ok: impl Fn(&T) -> &'static str,
) -> Result<T, HttpError> {
    let result = match &r {
        Ok(v) => ok(v),
        Err(e) => e.0.code.as_str(),
    };
    metrics::counter!(metric, "result" => result).increment(1);
    r
}

pub async fn token_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<oauth2_actors::Services>,
) -> Result<HttpResponse, HttpError> {
    let result: Result<_, HttpError> = async {
        let authorization = authorization(&req)?;
        let form = form_body(&req, payload).await?;
        Ok(actors
            .token
            .traced(IssueToken {
                form,
                authorization,
                address: crate::extract::client_address(&req, &svc.settings.trusted_proxies),
            })
            .await
            .map_err(mailbox)??)
    }
    .await;
    if let Err(e) = &result {
        metrics::counter!("oauth2_token_errors_total", "error" => e.0.code.as_str()).increment(1);
    }
    result.map(|response| HttpResponse::Ok().json(response))
}

pub async fn introspect_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let result: Result<_, HttpError> = async {
        let authorization = authorization(&req)?;
        let form = form_body(&req, payload).await?;
        Ok(actors
            .token
            .traced(Introspect {
                form,
                authorization,
            })
            .await
            .map_err(mailbox)??)
    }
    .await;
    let response = counted("oauth2_introspections_total", result, |r| {
        if r.active { "active" } else { "inactive" }
    })?;
    Ok(HttpResponse::Ok().json(response))
}

pub async fn revoke_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, HttpError> {
    let result: Result<_, HttpError> = async {
        let authorization = authorization(&req)?;
        let form = form_body(&req, payload).await?;
        Ok(actors
            .token
            .traced(Revoke {
                form,
                authorization,
            })
            .await
            .map_err(mailbox)??)
    }
    .await;
    counted("oauth2_revocations_total", result, |_| "ok")?;
    Ok(HttpResponse::Ok().finish())
}
