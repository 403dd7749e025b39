//! The admin dashboard, `/admin/...`: server-rendered pages for an operator, with no script.
//!
//! The operator signs in through the server's own login (`/auth/login?return_to=/admin`), and
//! every page runs the admin API's operations ([`oauth2_actors::admin`]) through the same admin
//! actor, with the signed-in admin user as the principal ([`AdminSessionCall`]): the dashboard
//! can do nothing the API cannot, checks nothing the API does not, and records the same events.
//! A visitor who is not signed in is sent to the login page; a signed-in user who is not an
//! admin gets a 403 page.
//!
//! Every change is a POST form carrying the CSRF token; success redirects (303) back to a page
//! with a short confirmation named by a fixed `done` flag in the query. A new or rotated client
//! secret is never put in a URL: the answer to the POST shows it, once.

use super::auth::{page_form, see_other, server_error, with_cookies};
use crate::error::mailbox;
use crate::pages::{MessagePage, csrf_nonce, csrf_ok, csrf_token, message, page, session_id};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use oauth2_actors::admin::clients::{
    CreateClient, DeleteClient, RevokeClientTokens, RotateClientSecret, ShowClient,
};
use oauth2_actors::admin::dashboard::{Authenticate, Both, Overview};
use oauth2_actors::admin::system::{KeyInfo, ListEvents, ListKeys, RecentEvents, RotateKey};
use oauth2_actors::admin::tokens::{ListTokens, RevokeToken, TokenInfo, TokenKind};
use oauth2_actors::admin::users::{
    CreateUser, DisableUser, ResetPassword, RevokeUserTokens, ShowUser, UpdateUser,
};
use oauth2_actors::admin::{AdminOp, DEFAULT_PAGE_SIZE, PageRequest};
use oauth2_actors::clients::CreatedClient;
use oauth2_actors::messages::{AdminSessionCall, SendTraced};
use oauth2_actors::{Actors, Services};
use oauth2_core::authorize::encode;
use oauth2_core::client::{Client, GrantType};
use oauth2_core::form::Form;
use oauth2_core::ports::{Event, TokenOwner, User};
use oauth2_core::time::format_utc;
use oauth2_core::{ErrorCode, OAuthError};
use serde_json::json;

const OVERVIEW: &str = "/admin";
const CLIENTS: &str = "/admin/clients";
const USERS: &str = "/admin/users";
const KEYS: &str = "/admin/keys";
const EVENTS: &str = "/admin/events";

/// Minutes of activity the overview's table shows (the ring keeps an hour).
const RECENT_MINUTES: usize = 10;
/// Tokens of each kind a client's or user's page lists.
const TOKENS_LISTED: u32 = 100;

/// Registers the dashboard's routes (full paths; mounted next to the `/admin/api` scope, which is
/// registered first and so keeps its own paths).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(OVERVIEW, web::get().to(overview_get))
        .route(CLIENTS, web::get().to(clients_get))
        .service(
            web::resource("/admin/clients/new")
                .route(web::get().to(client_new_get))
                .route(web::post().to(client_new_post)),
        )
        .route("/admin/clients/{id}", web::get().to(client_get))
        .route(
            "/admin/clients/{id}/secret",
            web::post().to(client_secret_post),
        )
        .route(
            "/admin/clients/{id}/revoke-tokens",
            web::post().to(client_revoke_tokens_post),
        )
        .route(
            "/admin/clients/{id}/delete",
            web::post().to(client_delete_post),
        )
        .route(
            "/admin/clients/{id}/tokens/revoke",
            web::post().to(client_token_revoke_post),
        )
        .route(USERS, web::get().to(users_get))
        .service(
            web::resource("/admin/users/new")
                .route(web::get().to(user_new_get))
                .route(web::post().to(user_new_post)),
        )
        .route("/admin/users/{id}", web::get().to(user_get))
        .route(
            "/admin/users/{id}/disable",
            web::post().to(user_disable_post),
        )
        .route("/admin/users/{id}/enable", web::post().to(user_enable_post))
        .route(
            "/admin/users/{id}/password",
            web::post().to(user_password_post),
        )
        .route(
            "/admin/users/{id}/revoke-tokens",
            web::post().to(user_revoke_tokens_post),
        )
        .route(
            "/admin/users/{id}/tokens/revoke",
            web::post().to(user_token_revoke_post),
        )
        .route(KEYS, web::get().to(keys_get))
        .route("/admin/keys/rotate", web::post().to(keys_rotate_post))
        .route(EVENTS, web::get().to(events_get));
}

// Views.

/// What every dashboard page has: who is signed in, the CSRF token of its forms, where in the
/// dashboard it is, and the confirmation of what was just done.
pub struct Chrome {
    pub username: String,
    pub csrf_token: String,
    pub section: &'static str,
    pub notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin_message.html")]
pub struct AdminMessagePage<'a> {
    pub chrome: Chrome,
    pub title: &'a str,
    pub text: &'a str,
    pub code: Option<&'a str>,
    pub back: &'a str,
}

pub struct MinuteRow {
    pub time: String,
    pub by_grant: Vec<u64>,
    pub total: u64,
    pub errors: u64,
}

#[derive(Template)]
#[template(path = "admin_overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub clients: u64,
    pub users: u64,
    pub sessions: u64,
    pub updated: String,
    pub window: usize,
    pub grants: Vec<&'static str>,
    pub rows: Vec<MinuteRow>,
    /// The busiest minute shown (at least 1): the scale of the bars.
    pub peak: u64,
    pub issued_recent: u64,
    pub issued_hour: u64,
    pub errors_recent: u64,
    pub errors_hour: u64,
    pub error_codes: Vec<(&'static str, u64)>,
}

pub struct ClientRow {
    pub id: String,
    pub href: String,
    pub name: String,
    pub kind: &'static str,
    pub grants: String,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "admin_clients.html")]
pub struct ClientsPage {
    pub chrome: Chrome,
    pub q: String,
    pub clients: Vec<ClientRow>,
    pub first_page: Option<String>,
    pub next_page: Option<String>,
}

pub struct GrantChoice {
    pub value: &'static str,
    pub field: String,
    pub label: &'static str,
    pub checked: bool,
}

/// The new-client form's values, kept when it is shown again with an error.
pub struct ClientForm {
    pub name: String,
    pub redirect_uris: String,
    pub scope: String,
    pub grants: Vec<GrantChoice>,
    pub public: bool,
    pub skip_consent: bool,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "admin_client_new.html")]
pub struct ClientNewPage {
    pub chrome: Chrome,
    pub form: ClientForm,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_secret.html")]
pub struct SecretPage<'a> {
    pub chrome: Chrome,
    pub heading: &'a str,
    pub client_id: &'a str,
    pub client_name: &'a str,
    pub client_href: String,
    pub secret: Option<&'a str>,
}

pub struct ClientView {
    pub id: String,
    pub href: String,
    pub name: String,
    pub kind: &'static str,
    pub confidential: bool,
    pub auth_method: &'static str,
    pub grants: String,
    pub scope: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub skip_consent: bool,
    pub admin: bool,
    pub dynamic: bool,
    pub created: String,
    pub updated: String,
}

pub struct TokenRow {
    pub id: String,
    pub kind: &'static str,
    /// The user of a client's token, or the client of a user's token.
    pub other: String,
    pub other_href: Option<String>,
    pub scope: String,
    pub issued: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "admin_client.html")]
pub struct ClientPage {
    pub chrome: Chrome,
    pub client: ClientView,
    pub error: Option<String>,
    pub tokens: Vec<TokenRow>,
    pub tokens_other: &'static str,
    pub tokens_action: String,
}

pub struct UserRow {
    pub href: String,
    pub username: String,
    pub email: String,
    pub status: &'static str,
    pub admin: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub q: String,
    pub users: Vec<UserRow>,
    pub first_page: Option<String>,
    pub next_page: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_user_new.html")]
pub struct UserNewPage {
    pub chrome: Chrome,
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub error: Option<String>,
}

pub struct UserView {
    pub id: String,
    pub href: String,
    pub username: String,
    pub email: String,
    pub enabled: bool,
    pub status: &'static str,
    pub admin: bool,
    pub created: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: UserView,
    pub error: Option<String>,
    pub tokens: Vec<TokenRow>,
    pub tokens_other: &'static str,
    pub tokens_action: String,
}

pub struct KeyRow {
    pub kid: String,
    pub algorithm: &'static str,
    pub status: &'static str,
    pub created: String,
    pub activates: String,
    pub retires: String,
}

#[derive(Template)]
#[template(path = "admin_keys.html")]
pub struct KeysPage {
    pub chrome: Chrome,
    pub keys: Vec<KeyRow>,
    pub error: Option<String>,
}

pub struct EventRow {
    pub id: String,
    pub at: String,
    pub kind: String,
    pub failed: bool,
    pub actor: String,
    pub subject: String,
    pub client: String,
    pub user: String,
    pub address: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin_events.html")]
pub struct EventsPage {
    pub chrome: Chrome,
    /// This instance's memory ring rather than the audit table.
    pub recent: bool,
    pub events: Vec<EventRow>,
    pub first_page: Option<String>,
    pub next_page: Option<String>,
}

fn client_href(client_id: &str) -> String {
    format!("{CLIENTS}/{}", encode(client_id))
}

fn user_href(user_id: &str) -> String {
    format!("{USERS}/{}", encode(user_id))
}

fn grant_label(g: GrantType) -> &'static str {
    match g {
        GrantType::AuthorizationCode => "Authorization code",
        GrantType::ClientCredentials => "Client credentials",
        GrantType::RefreshToken => "Refresh token",
        GrantType::Password => "Password (legacy)",
    }
}

fn grants_text(c: &Client) -> String {
    c.grant_types
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_text(c: &Client) -> &'static str {
    if c.is_public() {
        "Public"
    } else {
        "Confidential"
    }
}

fn client_row(c: &Client) -> ClientRow {
    ClientRow {
        id: c.client_id.clone(),
        href: client_href(&c.client_id),
        name: c.name.clone(),
        kind: kind_text(c),
        grants: grants_text(c),
        admin: c.admin,
    }
}

fn client_view(c: &Client) -> ClientView {
    ClientView {
        id: c.client_id.clone(),
        href: client_href(&c.client_id),
        name: c.name.clone(),
        kind: kind_text(c),
        confidential: !c.is_public(),
        auth_method: c.auth_method.as_str(),
        grants: grants_text(c),
        scope: c.scope.to_string(),
        redirect_uris: c
            .redirect_uris
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        post_logout_uris: c
            .post_logout_redirect_uris
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        skip_consent: c.skip_consent,
        admin: c.admin,
        dynamic: c.registration_token_hash.is_some(),
        created: format_utc(c.created_at),
        updated: format_utc(c.updated_at),
    }
}

fn status_text(u: &User) -> &'static str {
    if u.enabled { "Enabled" } else { "Disabled" }
}

fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        href: user_href(&u.id),
        username: u.username.clone(),
        email: u.email.clone().unwrap_or_default(),
        enabled: u.enabled,
        status: status_text(u),
        admin: u.admin,
        created: format_utc(u.created_at),
        updated: format_utc(u.updated_at),
    }
}

fn token_kind_text(k: TokenKind) -> &'static str {
    match k {
        TokenKind::Refresh => "Refresh token",
        TokenKind::Access => "Access token",
    }
}

/// A token row of a client's page (naming the user) or a user's page (naming the client).
fn token_row(t: &TokenInfo, of_client: bool) -> TokenRow {
    let (other, other_href) = if of_client {
        match &t.user_id {
            Some(u) => (u.clone(), Some(user_href(u))),
            None => ("the client itself".to_owned(), None),
        }
    } else {
        (t.client_id.clone(), Some(client_href(&t.client_id)))
    };
    TokenRow {
        id: t.id.clone(),
        kind: token_kind_text(t.kind),
        other,
        other_href,
        scope: t.scope.to_string(),
        issued: format_utc(t.created_at),
        expires: format_utc(t.expires_at),
    }
}

fn key_row(k: &KeyInfo) -> KeyRow {
    KeyRow {
        kid: k.kid.clone(),
        algorithm: k.algorithm.as_str(),
        status: k.status.as_str(),
        created: format_utc(k.created_at),
        activates: format_utc(k.activate_at),
        retires: k
            .retire_at
            .map(format_utc)
            .unwrap_or_else(|| "-".to_owned()),
    }
}

fn event_row(e: &Event) -> EventRow {
    EventRow {
        id: e.id.to_string(),
        at: format_utc(e.at),
        kind: e.kind.clone(),
        failed: e.outcome == "failure",
        actor: e.actor.clone(),
        subject: e.subject.clone(),
        client: e.client_id.clone().unwrap_or_default(),
        user: e.user_id.clone().unwrap_or_default(),
        address: e.address.clone().unwrap_or_default(),
        detail: e.detail.to_string(),
    }
}

fn live_event_row(e: &oauth2_core::events::Event) -> EventRow {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    EventRow {
        // The first 8 hex digits name it well enough on one instance's page.
        id: e.id.chars().take(8).collect(),
        at: format_utc(e.time),
        kind: e.kind.as_str().to_owned(),
        failed: e.outcome == oauth2_core::events::Outcome::Failure,
        actor: text(&e.actor),
        subject: text(&e.subject),
        client: text(&e.client_id),
        user: text(&e.user_id),
        address: text(&e.address),
        detail: e.detail.to_string(),
    }
}

/// The confirmation a `done` flag stands for; unknown flags show nothing.
fn notice(query: &Form) -> Option<&'static str> {
    Some(match query.get("done")? {
        "client-deleted" => "The client was deleted, and every token issued to it revoked.",
        "tokens-revoked" => "Every token was revoked.",
        "token-revoked" => "The token was revoked.",
        "user-created" => "The user was created.",
        "user-disabled" => "The user was disabled and signed out everywhere.",
        "user-enabled" => "The user was enabled.",
        "password-reset" => "The password was changed, and the user signed out everywhere.",
        "key-rotated" => "A new signing key was created. It signs after the activation delay.",
        _ => return None,
    })
}

/// `path?done=flag`.
fn done(path: &str, flag: &str) -> HttpResponse {
    see_other(&format!("{path}?done={flag}"))
}

/// The link to a listing's page after `after`, keeping the search and the page size.
fn page_link(path: &str, q: &str, limit: u32, after: Option<&str>) -> String {
    let mut params = Vec::new();
    if !q.is_empty() {
        params.push(format!("q={}", encode(q)));
    }
    if limit != DEFAULT_PAGE_SIZE {
        params.push(format!("limit={limit}"));
    }
    if let Some(a) = after {
        params.push(format!("after={}", encode(a)));
    }
    if params.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", params.join("&"))
    }
}

fn checked(form: &Form, name: &str) -> bool {
    form.get(name).is_some()
}

// The request, the admin behind it, and rendering.

/// One dashboard request: runs operations as its signed-in admin, and renders pages for them.
struct Dash<'a> {
    req: &'a HttpRequest,
    actors: &'a Actors,
    svc: &'a Services,
    /// Where the login page returns to: the page (for a POST, the page the form was on).
    back: String,
}

impl<'a> Dash<'a> {
    fn new(req: &'a HttpRequest, actors: &'a Actors, svc: &'a Services, back: &str) -> Dash<'a> {
        Dash {
            req,
            actors,
            svc,
            back: back.to_owned(),
        }
    }

    /// For a GET: the login page comes back to this very page (its path and query).
    fn for_page(req: &'a HttpRequest, actors: &'a Actors, svc: &'a Services) -> Dash<'a> {
        let back = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        Dash::new(req, actors, svc, &back)
    }

    fn query(&self) -> Form {
        Form::parse(self.req.query_string().as_bytes()).unwrap_or_default()
    }

    /// Runs `op` for the signed-in admin: their user and the operation's own result. `Err` is
    /// the answer already (to the login page, the 403 page, an error page).
    async fn try_run<T: AdminOp>(
        &self,
        op: T,
    ) -> Result<(User, Result<T::Output, OAuthError>), HttpResponse> {
        let Some(session_id) = session_id(self.req, self.svc) else {
            return Err(self.sign_in_first());
        };
        match self
            .actors
            .admin
            .traced(AdminSessionCall { session_id, op })
            .await
        {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(self.refused(&e)),
            Err(e) => Err(server_error(&mailbox(e).0)),
        }
    }

    /// Runs `op`; any failure is the answer.
    async fn run<T: AdminOp>(&self, op: T) -> Result<(User, T::Output), HttpResponse> {
        let (user, out) = self.try_run(op).await?;
        match out {
            Ok(out) => Ok((user, out)),
            Err(e) => Err(self.failed(&user, &e)),
        }
    }

    fn sign_in_first(&self) -> HttpResponse {
        see_other(&format!("/auth/login?return_to={}", encode(&self.back)))
    }

    /// The caller could not be authenticated as an admin.
    fn refused(&self, e: &OAuthError) -> HttpResponse {
        match e.code {
            ErrorCode::LoginRequired => self.sign_in_first(),
            ErrorCode::AccessDenied => {
                let (nonce, new_cookie) = csrf_nonce(self.req, self.svc);
                let token = csrf_token(self.svc, &nonce);
                let res = page(
                    StatusCode::FORBIDDEN,
                    MessagePage {
                        title: "Admins only",
                        message: "You are signed in, but not as an admin user. The dashboard is \
                                  only for admin users: sign out, then sign in as one.",
                        code: Some("access_denied"),
                        is_error: true,
                        logout_csrf: Some(&token),
                    }
                    .render(),
                );
                with_cookies(res, new_cookie)
            }
            _ => server_error(e),
        }
    }

    /// The page frame for `user`, and the CSRF cookie to set if the browser has none yet.
    fn chrome(
        &self,
        user: &User,
        section: &'static str,
        notice: Option<&'static str>,
    ) -> (Chrome, Option<actix_web::cookie::Cookie<'static>>) {
        let (nonce, new_cookie) = csrf_nonce(self.req, self.svc);
        (
            Chrome {
                username: user.username.clone(),
                csrf_token: csrf_token(self.svc, &nonce),
                section,
                notice,
            },
            new_cookie,
        )
    }

    /// An operation failed: its error, on a dashboard page.
    fn failed(&self, user: &User, e: &OAuthError) -> HttpResponse {
        let (status, title) = match e.code {
            ErrorCode::ServerError => return server_error(e),
            ErrorCode::LoginRequired | ErrorCode::AccessDenied => return self.refused(e),
            ErrorCode::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            ErrorCode::Conflict => (StatusCode::CONFLICT, "Already exists"),
            ErrorCode::TemporarilyUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "Try again shortly")
            }
            _ => (StatusCode::BAD_REQUEST, "That did not work"),
        };
        let (chrome, cookie) = self.chrome(user, "", None);
        let back = self.back.clone();
        let res = page(
            status,
            AdminMessagePage {
                chrome,
                title,
                text: &e.description,
                code: Some(e.code.as_str()),
                back: &back,
            }
            .render(),
        );
        with_cookies(res, cookie)
    }

    /// Renders a page built on `chrome`, setting the CSRF cookie if it is new.
    fn render(
        &self,
        status: StatusCode,
        html: Result<String, askama::Error>,
        cookie: Option<actix_web::cookie::Cookie<'static>>,
    ) -> HttpResponse {
        with_cookies(page(status, html), cookie)
    }

    /// Reads a POSTed form and checks its CSRF token; `Err` is the answer.
    async fn form(&self, payload: web::Payload) -> Result<Form, HttpResponse> {
        let form = page_form(self.req, payload).await?;
        if !csrf_ok(self.req, self.svc, form.get("csrf_token")) {
            return Err(message(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "Go back to the dashboard, reload the page and try again.",
                Some("invalid_request"),
            ));
        }
        Ok(form)
    }
}

/// The status of a form shown again after a failed operation.
fn form_status(e: &OAuthError) -> StatusCode {
    match e.code {
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Errors a form shows next to itself; anything else is an error page.
fn shown_on_form(e: &OAuthError) -> bool {
    !matches!(
        e.code,
        ErrorCode::ServerError
            | ErrorCode::TemporarilyUnavailable
            | ErrorCode::LoginRequired
            | ErrorCode::AccessDenied
            | ErrorCode::NotFound
    )
}

// Overview.

/// `GET /admin`.
pub async fn overview_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    let (user, data) = match dash
        .run(Overview {
            minutes: oauth2_actors::activity::MINUTES_KEPT,
        })
        .await
    {
        Ok(done) => done,
        Err(res) => return res,
    };
    let recent = data.recent.iter().take(RECENT_MINUTES);
    let rows: Vec<MinuteRow> = recent
        .clone()
        .map(|m| MinuteRow {
            time: format_utc(m.minute)
                .get(11..)
                .unwrap_or_default()
                .to_owned(),
            by_grant: GrantType::ALL.iter().map(|g| m.issued_by(*g)).collect(),
            total: m.issued_total(),
            errors: m.errors_total(),
        })
        .collect();
    let mut error_codes: Vec<(&'static str, u64)> = Vec::new();
    for m in recent.clone() {
        for (code, n) in &m.errors {
            match error_codes.iter_mut().find(|(c, _)| c == code) {
                Some((_, total)) => *total += n,
                None => error_codes.push((code, *n)),
            }
        }
    }
    error_codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let (chrome, cookie) = dash.chrome(&user, "overview", None);
    let html = OverviewPage {
        chrome,
        clients: data.counts.clients,
        users: data.counts.users,
        sessions: data.counts.active_sessions,
        updated: format_utc(data.now),
        window: RECENT_MINUTES,
        grants: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
        peak: rows.iter().map(|r| r.total).max().unwrap_or(0).max(1),
        issued_recent: recent.clone().map(|m| m.issued_total()).sum(),
        issued_hour: data.recent.iter().map(|m| m.issued_total()).sum(),
        errors_recent: recent.map(|m| m.errors_total()).sum(),
        errors_hour: data.recent.iter().map(|m| m.errors_total()).sum(),
        error_codes,
        rows,
    }
    .render();
    dash.render(StatusCode::OK, html, cookie)
}

// Clients.

/// `GET /admin/clients?q=&after=`.
pub async fn clients_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    let query = dash.query();
    let request = match PageRequest::from_query(&query) {
        Ok(r) => r,
        Err(e) => return message(StatusCode::BAD_REQUEST, "Bad request", &e.description, None),
    };
    let q = request.query.clone().unwrap_or_default();
    let limit = request.limit;
    let first_page = request
        .after
        .is_some()
        .then(|| page_link(CLIENTS, &q, limit, None));
    let (user, page_of) = match dash
        .run(oauth2_actors::admin::clients::ListClients(request))
        .await
    {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "clients", notice(&query));
    let html = ClientsPage {
        chrome,
        clients: page_of.items.iter().map(client_row).collect(),
        next_page: page_of
            .next
            .as_deref()
            .map(|after| page_link(CLIENTS, &q, limit, Some(after))),
        first_page,
        q,
    }
    .render();
    dash.render(StatusCode::OK, html, cookie)
}

fn client_form(form: Option<&Form>) -> ClientForm {
    let grants = GrantType::ALL
        .iter()
        .map(|g| {
            let field = format!("grant_{}", g.as_str());
            let checked = match form {
                Some(f) => checked(f, &field),
                // A web application by default.
                None => matches!(g, GrantType::AuthorizationCode | GrantType::RefreshToken),
            };
            GrantChoice {
                value: g.as_str(),
                label: grant_label(*g),
                field,
                checked,
            }
        })
        .collect();
    let text = |name: &str| {
        form.and_then(|f| f.get(name))
            .unwrap_or_default()
            .to_owned()
    };
    ClientForm {
        name: text("client_name"),
        redirect_uris: text("redirect_uris"),
        scope: match form {
            Some(_) => text("scope"),
            None => "openid profile email".to_owned(),
        },
        grants,
        public: form.is_some_and(|f| checked(f, "public")),
        skip_consent: form.is_some_and(|f| checked(f, "skip_consent")),
        admin: form.is_some_and(|f| checked(f, "admin")),
    }
}

/// `GET /admin/clients/new`.
pub async fn client_new_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    let (user, ()) = match dash.run(Authenticate).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "clients", None);
    let html = ClientNewPage {
        chrome,
        form: client_form(None),
        error: None,
    }
    .render();
    dash.render(StatusCode::OK, html, cookie)
}

/// The admin API's create body (RFC 7591 names) from the form.
fn client_body(form: &Form) -> Vec<u8> {
    let redirect_uris: Vec<&str> = form
        .get("redirect_uris")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let grant_types: Vec<&str> = GrantType::ALL
        .iter()
        .filter(|g| checked(form, &format!("grant_{}", g.as_str())))
        .map(|g| g.as_str())
        .collect();
    let mut body = json!({
        "client_name": form.get("client_name").unwrap_or_default().trim(),
        "redirect_uris": redirect_uris,
        "scope": form.get("scope").unwrap_or_default().trim(),
        "token_endpoint_auth_method": if checked(form, "public") { "none" } else { "client_secret_basic" },
        "skip_consent": checked(form, "skip_consent"),
        "admin": checked(form, "admin"),
    });
    // None checked: the API's default.
    if !grant_types.is_empty()
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert("grant_types".into(), json!(grant_types));
    }
    body.to_string().into_bytes()
}

/// `POST /admin/clients/new`: shows the new client's id and secret, this once.
pub async fn client_new_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::new(&req, &actors, &svc, "/admin/clients/new");
    let form = match dash.form(payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let body = client_body(&form);
    let (user, created) = match dash.try_run(CreateClient { body }).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    match created {
        Ok(CreatedClient { client, secret }) => {
            let (chrome, cookie) = dash.chrome(&user, "clients", None);
            let html = SecretPage {
                chrome,
                heading: "Client created",
                client_id: &client.client_id,
                client_name: &client.name,
                client_href: client_href(&client.client_id),
                secret: secret.as_deref(),
            }
            .render();
            dash.render(StatusCode::OK, html, cookie)
        }
        Err(e) if shown_on_form(&e) => {
            let (chrome, cookie) = dash.chrome(&user, "clients", None);
            let html = ClientNewPage {
                chrome,
                form: client_form(Some(&form)),
                error: Some(e.description.to_string()),
            }
            .render();
            dash.render(form_status(&e), html, cookie)
        }
        Err(e) => dash.failed(&user, &e),
    }
}

/// Renders a client's page: details, actions, live tokens.
async fn client_page(
    dash: &Dash<'_>,
    client_id: String,
    error: Option<&OAuthError>,
) -> HttpResponse {
    let op = Both(
        ShowClient(client_id.clone()),
        ListTokens {
            owner: TokenOwner::Client(client_id),
            limit: TOKENS_LISTED,
        },
    );
    let (user, (client, tokens)) = match dash.run(op).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "clients", notice(&dash.query()));
    let view = client_view(&client);
    let html = ClientPage {
        chrome,
        tokens: tokens.iter().map(|t| token_row(t, true)).collect(),
        tokens_other: "User",
        tokens_action: format!("{}/tokens/revoke", view.href),
        client: view,
        error: error.map(|e| e.description.to_string()),
    }
    .render();
    let status = error.map(form_status).unwrap_or(StatusCode::OK);
    dash.render(status, html, cookie)
}

/// `GET /admin/clients/{id}`.
pub async fn client_get(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    client_page(&dash, id.into_inner(), None).await
}

/// `POST /admin/clients/{id}/secret`: the new secret, shown this once.
pub async fn client_secret_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let dash = Dash::new(&req, &actors, &svc, &client_href(&id));
    if let Err(res) = dash.form(payload).await {
        return res;
    }
    let (user, rotated) = match dash.try_run(RotateClientSecret(id.clone())).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    match rotated {
        Ok((client, secret)) => {
            let (chrome, cookie) = dash.chrome(&user, "clients", None);
            let html = SecretPage {
                chrome,
                heading: "Secret rotated",
                client_id: &client.client_id,
                client_name: &client.name,
                client_href: client_href(&client.client_id),
                secret: Some(&secret),
            }
            .render();
            dash.render(StatusCode::OK, html, cookie)
        }
        Err(e) if shown_on_form(&e) => client_page(&dash, id, Some(&e)).await,
        Err(e) => dash.failed(&user, &e),
    }
}

/// `POST /admin/clients/{id}/revoke-tokens`.
pub async fn client_revoke_tokens_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let back = client_href(&id);
    let dash = Dash::new(&req, &actors, &svc, &back);
    if let Err(res) = dash.form(payload).await {
        return res;
    }
    match dash.run(RevokeClientTokens(id)).await {
        Ok(_) => done(&back, "tokens-revoked"),
        Err(res) => res,
    }
}

/// `POST /admin/clients/{id}/delete` (with `confirm=yes`).
pub async fn client_delete_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let dash = Dash::new(&req, &actors, &svc, &client_href(&id));
    let form = match dash.form(payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    if form.get("confirm") != Some("yes") {
        let e = OAuthError::invalid_request("Tick the confirmation box to delete the client.");
        return client_page(&dash, id, Some(&e)).await;
    }
    match dash.run(DeleteClient(id)).await {
        Ok(_) => done(CLIENTS, "client-deleted"),
        Err(res) => res,
    }
}

/// Revokes the token named by the form's `token_id`, then back to `back`.
async fn revoke_token(dash: &Dash<'_>, payload: web::Payload) -> HttpResponse {
    let form = match dash.form(payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let token_id = form.get("token_id").unwrap_or_default().to_owned();
    match dash.run(RevokeToken(token_id)).await {
        Ok(_) => done(&dash.back, "token-revoked"),
        Err(res) => res,
    }
}

/// `POST /admin/clients/{id}/tokens/revoke` (`token_id`).
pub async fn client_token_revoke_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::new(&req, &actors, &svc, &client_href(&id));
    revoke_token(&dash, payload).await
}

// Users.

/// `GET /admin/users?q=&after=`.
pub async fn users_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    let query = dash.query();
    let request = match PageRequest::from_query(&query) {
        Ok(r) => r,
        Err(e) => return message(StatusCode::BAD_REQUEST, "Bad request", &e.description, None),
    };
    let q = request.query.clone().unwrap_or_default();
    let limit = request.limit;
    let first_page = request
        .after
        .is_some()
        .then(|| page_link(USERS, &q, limit, None));
    let (user, page_of) = match dash
        .run(oauth2_actors::admin::users::ListUsers(request))
        .await
    {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "users", notice(&query));
    let html = UsersPage {
        chrome,
        users: page_of
            .items
            .iter()
            .map(|u| UserRow {
                href: user_href(&u.id),
                username: u.username.clone(),
                email: u.email.clone().unwrap_or_default(),
                status: status_text(u),
                admin: u.admin,
                created: format_utc(u.created_at),
            })
            .collect(),
        next_page: page_of
            .next
            .as_deref()
            .map(|after| page_link(USERS, &q, limit, Some(after))),
        first_page,
        q,
    }
    .render();
    dash.render(StatusCode::OK, html, cookie)
}

/// `GET /admin/users/new`.
pub async fn user_new_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    let (user, ()) = match dash.run(Authenticate).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "users", None);
    let html = UserNewPage {
        chrome,
        username: String::new(),
        email: String::new(),
        admin: false,
        error: None,
    }
    .render();
    dash.render(StatusCode::OK, html, cookie)
}

/// `POST /admin/users/new`.
pub async fn user_new_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::new(&req, &actors, &svc, "/admin/users/new");
    let form = match dash.form(payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let username = form.get("username").unwrap_or_default().trim();
    let email = form.get("email").map(str::trim).filter(|e| !e.is_empty());
    let body = json!({
        "username": username,
        "email": email,
        "password": form.get("password").unwrap_or_default(),
        "admin": checked(&form, "admin"),
    })
    .to_string()
    .into_bytes();
    let (user, created) = match dash.try_run(CreateUser { body }).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    match created {
        Ok(new) => done(&user_href(&new.id), "user-created"),
        Err(e) if shown_on_form(&e) => {
            let (chrome, cookie) = dash.chrome(&user, "users", None);
            let html = UserNewPage {
                chrome,
                username: username.to_owned(),
                email: email.unwrap_or_default().to_owned(),
                admin: checked(&form, "admin"),
                error: Some(e.description.to_string()),
            }
            .render();
            dash.render(form_status(&e), html, cookie)
        }
        Err(e) => dash.failed(&user, &e),
    }
}

/// Renders a user's page: details, actions, live tokens.
async fn user_page(dash: &Dash<'_>, user_id: String, error: Option<&OAuthError>) -> HttpResponse {
    let op = Both(
        ShowUser(user_id.clone()),
        ListTokens {
            owner: TokenOwner::User(user_id),
            limit: TOKENS_LISTED,
        },
    );
    let (admin, (shown, tokens)) = match dash.run(op).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&admin, "users", notice(&dash.query()));
    let view = user_view(&shown);
    let html = UserPage {
        chrome,
        tokens: tokens.iter().map(|t| token_row(t, false)).collect(),
        tokens_other: "Client",
        tokens_action: format!("{}/tokens/revoke", view.href),
        user: view,
        error: error.map(|e| e.description.to_string()),
    }
    .render();
    let status = error.map(form_status).unwrap_or(StatusCode::OK);
    dash.render(status, html, cookie)
}

/// `GET /admin/users/{id}`.
pub async fn user_get(
    req: HttpRequest,
    id: web::Path<String>,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    user_page(&dash, id.into_inner(), None).await
}

/// A user action without fields of its own: runs `op`, then back to the user's page with `flag`.
async fn user_action<T: AdminOp>(
    dash: &Dash<'_>,
    payload: web::Payload,
    op: T,
    flag: &str,
) -> HttpResponse {
    if let Err(res) = dash.form(payload).await {
        return res;
    }
    match dash.run(op).await {
        Ok(_) => done(&dash.back, flag),
        Err(res) => res,
    }
}

/// `POST /admin/users/{id}/disable`.
pub async fn user_disable_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let dash = Dash::new(&req, &actors, &svc, &user_href(&id));
    user_action(&dash, payload, DisableUser(id), "user-disabled").await
}

/// `POST /admin/users/{id}/enable`.
pub async fn user_enable_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let dash = Dash::new(&req, &actors, &svc, &user_href(&id));
    let op = UpdateUser {
        user_id: id,
        body: json!({ "enabled": true }).to_string().into_bytes(),
    };
    user_action(&dash, payload, op, "user-enabled").await
}

/// `POST /admin/users/{id}/revoke-tokens`.
pub async fn user_revoke_tokens_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let dash = Dash::new(&req, &actors, &svc, &user_href(&id));
    user_action(&dash, payload, RevokeUserTokens(id), "tokens-revoked").await
}

/// `POST /admin/users/{id}/password` (`password`).
pub async fn user_password_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let id = id.into_inner();
    let back = user_href(&id);
    let dash = Dash::new(&req, &actors, &svc, &back);
    let form = match dash.form(payload).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let op = ResetPassword {
        user_id: id.clone(),
        body: json!({ "password": form.get("password").unwrap_or_default() })
            .to_string()
            .into_bytes(),
    };
    let (admin, reset) = match dash.try_run(op).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    match reset {
        Ok(_) => done(&back, "password-reset"),
        Err(e) if shown_on_form(&e) => user_page(&dash, id, Some(&e)).await,
        Err(e) => dash.failed(&admin, &e),
    }
}

/// `POST /admin/users/{id}/tokens/revoke` (`token_id`).
pub async fn user_token_revoke_post(
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::new(&req, &actors, &svc, &user_href(&id));
    revoke_token(&dash, payload).await
}

// Signing keys.

async fn keys_page(dash: &Dash<'_>, error: Option<&OAuthError>) -> HttpResponse {
    let (user, keys) = match dash.run(ListKeys).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "keys", notice(&dash.query()));
    let html = KeysPage {
        chrome,
        keys: keys.iter().map(key_row).collect(),
        error: error.map(|e| e.description.to_string()),
    }
    .render();
    let status = error.map(form_status).unwrap_or(StatusCode::OK);
    dash.render(status, html, cookie)
}

/// `GET /admin/keys`.
pub async fn keys_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    keys_page(&dash, None).await
}

/// `POST /admin/keys/rotate`.
pub async fn keys_rotate_post(
    req: HttpRequest,
    payload: web::Payload,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::new(&req, &actors, &svc, KEYS);
    if let Err(res) = dash.form(payload).await {
        return res;
    }
    let (user, rotated) = match dash.try_run(RotateKey).await {
        Ok(done) => done,
        Err(res) => return res,
    };
    match rotated {
        Ok(_) => done(KEYS, "key-rotated"),
        Err(e) if shown_on_form(&e) => keys_page(&dash, Some(&e)).await,
        Err(e) => dash.failed(&user, &e),
    }
}

// Events.

/// `GET /admin/events?after=`: newest first.
pub async fn events_get(
    req: HttpRequest,
    actors: web::Data<Actors>,
    svc: web::Data<Services>,
) -> HttpResponse {
    let dash = Dash::for_page(&req, &actors, &svc);
    let query = dash.query();
    if query.get("view") == Some("recent") {
        let (user, events) = match dash.run(RecentEvents { limit: 200 }).await {
            Ok(done) => done,
            Err(res) => return res,
        };
        let (chrome, cookie) = dash.chrome(&user, "events", None);
        let html = EventsPage {
            chrome,
            recent: true,
            events: events.iter().map(live_event_row).collect(),
            first_page: None,
            next_page: None,
        }
        .render();
        return dash.render(StatusCode::OK, html, cookie);
    }
    let request = match PageRequest::from_query(&query) {
        Ok(r) => r,
        Err(e) => return message(StatusCode::BAD_REQUEST, "Bad request", &e.description, None),
    };
    let after = match request.after.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => {
            return message(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "after must be the number of an event",
                None,
            );
        }
    };
    let (user, events) = match dash
        .run(ListEvents {
            after,
            limit: request.limit,
        })
        .await
    {
        Ok(done) => done,
        Err(res) => return res,
    };
    let (chrome, cookie) = dash.chrome(&user, "events", None);
    let html = EventsPage {
        chrome,
        recent: false,
        events: events.items.iter().map(event_row).collect(),
        first_page: after
            .is_some()
            .then(|| page_link(EVENTS, "", request.limit, None)),
        next_page: events
            .next
            .as_deref()
            .map(|a| page_link(EVENTS, "", request.limit, Some(a))),
    }
    .render();
    dash.render(StatusCode::OK, html, cookie)
}
