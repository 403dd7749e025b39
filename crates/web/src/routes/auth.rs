//! The browser side: `GET/POST /auth/login`, `POST /auth/logout`, `GET/POST /oauth/authorize`.

use crate::error::mailbox;
use crate::pages::{
    self, ConsentPage, LoginPage, MessagePage, SESSION_COOKIE, csrf_nonce, csrf_ok, csrf_token,
    describe_scope, message, page, safe_return_to, session_cookie, session_id,
};
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use oauth2_actors::auth::{AuthorizeOutcome, ConsentRequest};
use oauth2_actors::messages::SendTraced;
use oauth2_actors::messages::{Authorize, CurrentUser, Decide, Login, LoginResult, Logout};
use oauth2_actors::{Actors, Services};
use oauth2_core::authorize::encode;
use oauth2_core::form::Form;

const MAX_FORM_BYTES: usize = 64 * 1024;

pub(crate) fn see_other(location: &str) -> HttpResponse {
    pages::page_builder(StatusCode::SEE_OTHER)
        .insert_header((header::LOCATION, location))
        .finish()
}

pub(crate) fn with_cookies(
    mut res: HttpResponse,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> HttpResponse {
    for c in cookies {
        if let Err(e) = res.add_cookie(&c) {
            tracing::error!(error = %e, "could not set a cookie");
        }
    }
    res
}

fn bad_request(text: &str) -> HttpResponse {
    message(
        StatusCode::BAD_REQUEST,
        "Bad request",
        text,
        Some("invalid_request"),
    )
}

/// Reads an urlencoded form from a page; `None` answers the request already.
pub(crate) async fn page_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Form, HttpResponse> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(bad_request("The form could not be read."));
    }
    match payload.to_bytes_limited(MAX_FORM_BYTES).await {
        Ok(Ok(body)) => Form::parse(&body).map_err(|e| bad_request(&e.description)),
        _ => Err(bad_request("The form could not be read.")),
    }
}

fn render_login(
    req: &HttpRequest,
    svc: &Services,
    status: StatusCode,
    return_to: &str,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let (nonce, new_cookie) = csrf_nonce(req, svc);
    let token = csrf_token(svc, &nonce);
    let res = page(
        status,
        LoginPage {
            csrf_token: &token,
            return_to,
            username,
            error,
        }
        .render(),
    );
    with_cookies(res, new_cookie)
}

fn address(req: &HttpRequest, svc: &Services) -> Option<String> {
    crate::extract::client_address(req, &svc.settings.trusted_proxies)
}

/// `GET /auth/login`.
pub async fn login_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let query = Form::parse(req.query_string().as_bytes()).unwrap_or_default();
    let return_to = query
        .get("return_to")
        .and_then(safe_return_to)
        .unwrap_or("");
    let login_hint = query.get("login_hint").unwrap_or("");
    // prompt=login or an exceeded max_age: the form, even for a signed-in user.
    let force = query.get("prompt") == Some("login");
    if !force
        && let Some(id) = session_id(&req, &svc)
        && let Ok(Ok(Some(signed_in))) = actors.auth.traced(CurrentUser(id)).await
    {
        if !return_to.is_empty() {
            return see_other(return_to);
        }
        let (nonce, new_cookie) = csrf_nonce(&req, &svc);
        let token = csrf_token(&svc, &nonce);
        let text = format!("You are signed in as {}.", signed_in.user.username);
        let res = page(
            StatusCode::OK,
            MessagePage {
                title: "Signed in",
                message: &text,
                code: None,
                is_error: false,
                logout_csrf: Some(&token),
            }
            .render(),
        );
        return with_cookies(res, new_cookie);
    }
    render_login(&req, &svc, StatusCode::OK, return_to, login_hint, None)
}

/// `POST /auth/login`.
pub async fn login_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let form = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let return_to = form.get("return_to").and_then(safe_return_to).unwrap_or("");
    let username = form.get("username").unwrap_or("");
    if !csrf_ok(&req, &svc, form.get("csrf_token")) {
        return render_login(
            &req,
            &svc,
            StatusCode::FORBIDDEN,
            return_to,
            username,
            Some("The form expired. Please sign in again."),
        );
    }
    let (Some(username), Some(password)) = (form.get("username"), form.get("password")) else {
        return render_login(
            &req,
            &svc,
            StatusCode::BAD_REQUEST,
            return_to,
            username,
            Some("Enter your username and password."),
        );
    };
    let result = actors
        .auth
        .traced(Login {
            username: username.to_owned(),
            password: password.to_owned(),
            address: address(&req, &svc),
        })
        .await;
    let outcome = match &result {
        Ok(Ok(LoginResult::SignedIn { .. })) => "succeeded",
        Ok(Ok(LoginResult::Failed)) => "failed",
        Ok(Ok(LoginResult::Throttled)) => "throttled",
        _ => "error",
    };
    metrics::counter!("oauth2_logins_total", "outcome" => outcome).increment(1);
    match result {
        Ok(Ok(LoginResult::SignedIn { session_id })) => {
            let Some(cookie) = session_cookie(&svc, session_id) else {
                return message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "Sign-in failed.",
                    None,
                );
            };
            let target = if return_to.is_empty() {
                "/auth/login"
            } else {
                return_to
            };
            with_cookies(see_other(target), [cookie])
        }
        // One message for unknown users, wrong passwords and disabled accounts.
        Ok(Ok(LoginResult::Failed)) => render_login(
            &req,
            &svc,
            StatusCode::UNAUTHORIZED,
            return_to,
            username,
            Some("The username or password is incorrect."),
        ),
        Ok(Ok(LoginResult::Throttled)) => render_login(
            &req,
            &svc,
            StatusCode::TOO_MANY_REQUESTS,
            return_to,
            username,
            Some("Too many failed attempts. Please wait a few minutes and try again."),
        ),
        Ok(Err(e)) => server_error(&e),
        Err(e) => server_error(&mailbox(e).0),
    }
}

pub(crate) fn server_error(e: &oauth2_core::OAuthError) -> HttpResponse {
    tracing::error!(cause = e.cause.as_deref().unwrap_or("-"), code = %e.code, "page error");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server could not complete the request. Please try again.",
        Some("server_error"),
    )
}

/// `POST /auth/logout`.
pub async fn logout_post(
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
            "Sign out",
            "The form expired. Please try again.",
            None,
        );
    }
    if let Some(id) = session_id(&req, &svc) {
        match actors.auth.traced(Logout(id)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return server_error(&e),
            Err(e) => return server_error(&mailbox(e).0),
        }
    }
    with_cookies(
        see_other("/auth/login"),
        [pages::removal_cookie(&svc, SESSION_COOKIE)],
    )
}

fn render_outcome(
    req: &HttpRequest,
    svc: &Services,
    outcome: AuthorizeOutcome,
    status_for_redirect: StatusCode,
) -> HttpResponse {
    let label = match &outcome {
        AuthorizeOutcome::Redirect(url) if url.contains("code=") && !url.contains("error=") => {
            "code"
        }
        AuthorizeOutcome::Redirect(_) => "error_redirect",
        AuthorizeOutcome::LoginRequired { .. } => "login_required",
        AuthorizeOutcome::ConsentRequired(_) => "consent_required",
        AuthorizeOutcome::Fatal(_) => "error_page",
    };
    metrics::counter!("oauth2_authorization_requests_total", "outcome" => label).increment(1);
    match outcome {
        AuthorizeOutcome::Redirect(url) => pages::page_builder(status_for_redirect)
            .insert_header((header::LOCATION, url))
            .finish(),
        AuthorizeOutcome::LoginRequired {
            return_to,
            force,
            login_hint,
        } => {
            let mut target = format!("/auth/login?return_to={}", encode(&return_to));
            if force {
                target.push_str("&prompt=login");
            }
            if let Some(hint) = login_hint {
                target.push_str(&format!("&login_hint={}", encode(&hint)));
            }
            see_other(&target)
        }
        AuthorizeOutcome::ConsentRequired(consent) => {
            let ConsentRequest {
                request,
                client,
                user,
            } = *consent;
            let (nonce, new_cookie) = csrf_nonce(req, svc);
            let token = csrf_token(svc, &nonce);
            let res = page(
                StatusCode::OK,
                ConsentPage {
                    client_name: &client.name,
                    username: &user.username,
                    scopes: request.scope.iter().map(describe_scope).collect(),
                    params: request.to_params(),
                    csrf_token: &token,
                }
                .render(),
            );
            with_cookies(res, new_cookie)
        }
        AuthorizeOutcome::Fatal(e) if e.code == oauth2_core::ErrorCode::ServerError => {
            server_error(&e)
        }
        AuthorizeOutcome::Fatal(e) => message(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            &e.description,
            Some(e.code.as_str()),
        ),
    }
}

/// `GET /oauth/authorize`.
pub async fn authorize_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let raw_query = req.query_string().to_owned();
    let params = match Form::parse(raw_query.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            return message(
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid",
                &e.description,
                Some(e.code.as_str()),
            );
        }
    };
    let session_id = session_id(&req, &svc);
    match actors.auth.traced(Authorize { params, session_id }).await {
        Ok(outcome) => render_outcome(&req, &svc, outcome, StatusCode::FOUND),
        Err(e) => server_error(&mailbox(e).0),
    }
}

/// `POST /oauth/authorize`: the consent form.
pub async fn authorize_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let params = match page_form(&req, payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if !csrf_ok(&req, &svc, params.get("csrf_token")) {
        return message(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Go back to the application and start again.",
            Some("invalid_request"),
        );
    }
    let allow = match params.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => return bad_request("Choose Allow or Deny."),
    };
    let session_id = session_id(&req, &svc);
    match actors
        .auth
        .traced(Decide {
            params,
            session_id,
            allow,
        })
        .await
    {
        Ok(outcome) => render_outcome(&req, &svc, outcome, StatusCode::SEE_OTHER),
        Err(e) => server_error(&mailbox(e).0),
    }
}

/// `GET /static/style.css`: the one stylesheet, compiled in.
pub async fn style_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../static/style.css"))
}

/// `GET/POST /oauth/userinfo` (OIDC Core §5.3) with a bearer token (RFC 6750 §2.1, or §2.2 in a
/// form body).
pub async fn userinfo(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
) -> Result<HttpResponse, crate::error::HttpError> {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let token = match header_token {
        Some(t) => Some(t),
        None if req.method() == actix_web::http::Method::POST => {
            let form = crate::extract::form_body(&req, payload).await?;
            form.get("access_token").map(str::to_owned)
        }
        None => None,
    };
    let Some(token) = token else {
        // RFC 6750 §3.1: no credentials at all, so no error code in the challenge.
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"oauth2-server\""))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"error": "invalid_token", "error_description": "a bearer token is required"})));
    };
    let claims = actors
        .auth
        .traced(oauth2_actors::messages::UserInfo(token))
        .await
        .map_err(mailbox)??;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(claims))
}

/// `GET/POST /oauth/logout`: RP-initiated logout (OIDC RP-Initiated Logout 1.0).
pub async fn logout_endpoint(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let is_post = req.method() == actix_web::http::Method::POST;
    let params = if is_post {
        match page_form(&req, payload).await {
            Ok(f) => f,
            Err(res) => return res,
        }
    } else {
        match Form::parse(req.query_string().as_bytes()) {
            Ok(f) => f,
            Err(e) => return bad_request(&e.description),
        }
    };
    // A POST is either the confirmation form (CSRF-checked) or an RP's form post of the request.
    let confirmed = is_post && params.get("confirm") == Some("yes");
    if confirmed && !csrf_ok(&req, &svc, params.get("csrf_token")) {
        return message(
            StatusCode::FORBIDDEN,
            "Sign out",
            "The form expired. Please try again.",
            None,
        );
    }
    let session = session_id(&req, &svc);
    let outcome = match actors
        .auth
        .traced(oauth2_actors::messages::EndSession {
            params,
            session_id: session.clone(),
            confirmed,
        })
        .await
    {
        Ok(o) => o,
        Err(e) => return server_error(&mailbox(e).0),
    };
    use oauth2_actors::oidc::LogoutOutcome;
    match outcome {
        LogoutOutcome::Confirm {
            client_name,
            params,
        } => {
            let username = match session {
                Some(id) => match actors.auth.traced(CurrentUser(id)).await {
                    Ok(Ok(Some(s))) => s.user.username,
                    _ => String::new(),
                },
                None => String::new(),
            };
            let (nonce, new_cookie) = csrf_nonce(&req, &svc);
            let token = csrf_token(&svc, &nonce);
            let res = page(
                StatusCode::OK,
                pages::LogoutPage {
                    client_name: client_name.as_deref(),
                    username: &username,
                    params: &params,
                    csrf_token: &token,
                }
                .render(),
            );
            with_cookies(res, new_cookie)
        }
        LogoutOutcome::Done { redirect } => {
            let removal = pages::removal_cookie(&svc, SESSION_COOKIE);
            let res = match redirect {
                Some(url) => see_other(&url),
                None => message(StatusCode::OK, "Signed out", "You are signed out.", None),
            };
            with_cookies(res, [removal])
        }
        LogoutOutcome::Fatal(e) => message(
            StatusCode::BAD_REQUEST,
            "This sign-out link is not valid",
            &e.description,
            Some(e.code.as_str()),
        ),
    }
}
