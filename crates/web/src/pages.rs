//! Server-rendered pages: templates, cookies, CSRF, and the headers every page carries.
//! Templates hold no logic; they render the views built here.

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use oauth2_actors::Services;
use oauth2_core::secret::random_token;

pub const SESSION_COOKIE: &str = "oauth2_session";
pub const CSRF_COOKIE: &str = "oauth2_csrf";

/// No script, no framing, nothing from elsewhere. `form-action` is left out on purpose: browsers
/// apply it to the redirect that follows a form post, which would block the redirect to the client.
pub const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub csrf_token: &'a str,
    pub return_to: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

pub struct ScopeView {
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    pub scopes: Vec<ScopeView>,
    pub params: Vec<(&'static str, String)>,
    pub csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub client_name: Option<&'a str>,
    pub username: &'a str,
    pub params: &'a [(String, String)],
    pub csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub code: Option<&'a str>,
    pub is_error: bool,
    pub logout_csrf: Option<&'a str>,
}

/// What a scope lets the client do, in words; unknown scopes are shown as they are.
pub fn describe_scope(scope: &str) -> ScopeView {
    let description = match scope {
        "openid" => "Sign you in with your account".to_owned(),
        "profile" => "See your name and basic profile".to_owned(),
        "email" => "See your email address".to_owned(),
        "offline_access" => "Keep access while you are not using it".to_owned(),
        "admin" => "Administer this server: its clients, users, tokens and keys".to_owned(),
        other => format!("Use the \u{201c}{other}\u{201d} permission"),
    };
    ScopeView {
        name: scope.to_owned(),
        description,
    }
}

/// Renders a page with the security headers every page gets.
pub fn page(status: StatusCode, html: Result<String, askama::Error>) -> HttpResponse {
    let mut res = page_builder(status);
    match html {
        Ok(body) => res.body(body),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            page_builder(StatusCode::INTERNAL_SERVER_ERROR).body("internal error")
        }
    }
}

pub fn page_builder(status: StatusCode) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "no-referrer"));
    res
}

pub fn message(status: StatusCode, title: &str, text: &str, code: Option<&str>) -> HttpResponse {
    page(
        status,
        MessagePage {
            title,
            message: text,
            code,
            is_error: status.is_client_error() || status.is_server_error(),
            logout_csrf: None,
        }
        .render(),
    )
}

/// The cookie jar key (encryption and signing), from the key shared through the database.
pub fn cookie_key(svc: &Services) -> Option<Key> {
    Key::try_from(svc.cookie_key.as_slice()).ok()
}

fn base_cookie(svc: &Services, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(svc.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .finish()
}

/// The session id in the request's (encrypted, authenticated) session cookie.
pub fn session_id(req: &HttpRequest, svc: &Services) -> Option<String> {
    let key = cookie_key(svc)?;
    let raw = req.cookie(SESSION_COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(raw);
    jar.private(&key)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// A session cookie, encrypted and authenticated with the shared key; it ends with the browser
/// and the server ends the session itself after the idle or absolute lifetime.
pub fn session_cookie(svc: &Services, session_id: String) -> Option<Cookie<'static>> {
    let key = cookie_key(svc)?;
    let mut jar = CookieJar::new();
    jar.private_mut(&key)
        .add(base_cookie(svc, SESSION_COOKIE, session_id));
    jar.get(SESSION_COOKIE).cloned()
}

pub fn removal_cookie(svc: &Services, name: &'static str) -> Cookie<'static> {
    let mut c = base_cookie(svc, name, String::new());
    c.make_removal();
    c
}

/// The CSRF cookie value of this browser, and a fresh cookie to set if it had none.
pub fn csrf_nonce(req: &HttpRequest, svc: &Services) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(CSRF_COOKIE)
        && c.value().len() >= 16
        && c.value().len() <= 64
    {
        return (c.value().to_owned(), None);
    }
    let nonce = random_token(&svc.rng, 24).unwrap_or_default();
    let cookie = base_cookie(svc, CSRF_COOKIE, nonce.clone());
    (nonce, Some(cookie))
}

pub fn csrf_token(svc: &Services, nonce: &str) -> String {
    oauth2_core::csrf::token(&svc.cookie_key, nonce)
}

/// Whether a submitted form carries the token that matches this browser's CSRF cookie.
pub fn csrf_ok(req: &HttpRequest, svc: &Services, submitted: Option<&str>) -> bool {
    match (req.cookie(CSRF_COOKIE), submitted) {
        (Some(c), Some(t)) => oauth2_core::csrf::verify(&svc.cookie_key, c.value(), t),
        _ => false,
    }
}

pub use oauth2_core::authorize::safe_return_to;
