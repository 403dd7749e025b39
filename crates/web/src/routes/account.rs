//! The signed-in user's own pages: `GET /account/applications` lists the applications they have
//! authorized, and `POST /account/applications/revoke` takes one authorization back.

use super::auth::{page_form, see_other, server_error, with_cookies};
use crate::error::mailbox;
use crate::pages::{
    ScopeView, csrf_nonce, csrf_ok, csrf_token, describe_scope, message, page, session_id,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use oauth2_actors::messages::{Applications, RevokeApplication, SendTraced};
use oauth2_actors::{Actors, Services};
use oauth2_core::authorize::encode;
use oauth2_core::time::format_utc;

const APPLICATIONS: &str = "/account/applications";

pub struct ApplicationView {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<ScopeView>,
    /// When the user last consented, in words.
    pub when: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
pub struct ApplicationsPage<'a> {
    pub username: &'a str,
    pub apps: Vec<ApplicationView>,
    pub csrf_token: &'a str,
}

/// To the login page, which comes back here.
fn sign_in_first() -> HttpResponse {
    see_other(&format!("/auth/login?return_to={}", encode(APPLICATIONS)))
}

/// `GET /account/applications`.
pub async fn applications_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let Some(session_id) = session_id(&req, &svc) else {
        return sign_in_first();
    };
    let (signed_in, apps) = match actors.auth.traced(Applications { session_id }).await {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => return sign_in_first(),
        Ok(Err(e)) => return server_error(&e),
        Err(e) => return server_error(&mailbox(e).0),
    };
    let (nonce, new_cookie) = csrf_nonce(&req, &svc);
    let token = csrf_token(&svc, &nonce);
    let apps = apps
        .into_iter()
        .map(|a| ApplicationView {
            scopes: a.consent.scope.iter().map(describe_scope).collect(),
            when: format_utc(a.consent.updated_at),
            client_id: a.consent.client_id,
            client_name: a.client_name,
        })
        .collect();
    let res = page(
        StatusCode::OK,
        ApplicationsPage {
            username: &signed_in.user.username,
            apps,
            csrf_token: &token,
        }
        .render(),
    );
    with_cookies(res, new_cookie)
}

/// `POST /account/applications/revoke` (`client_id`, `csrf_token`): the consent goes, and so do
/// the user's tokens at that client.
pub async fn applications_revoke_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let form = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &svc, form.get("csrf_token")) {
        return message(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Go back to your applications and try again.",
            Some("invalid_request"),
        );
    }
    let Some(session_id) = session_id(&req, &svc) else {
        return sign_in_first();
    };
    let client_id = form.get("client_id").unwrap_or_default().to_owned();
    match actors
        .auth
        .traced(RevokeApplication {
            session_id,
            client_id,
        })
        .await
    {
        // Revoked, or already gone (a second click): either way the list shows the truth.
        Ok(Ok(Some(_))) => see_other(APPLICATIONS),
        Ok(Ok(None)) => sign_in_first(),
        Ok(Err(e)) => server_error(&e),
        Err(e) => server_error(&mailbox(e).0),
    }
}
