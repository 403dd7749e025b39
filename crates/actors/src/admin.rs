//! The admin API's operations (`/admin/api/...`): clients, users, tokens, signing keys,
//! registration tokens and the event log.
//!
//! Every operation is an [`AdminOp`], and the only way to run one is an
//! [`AdminCall`](crate::messages::AdminCall) to the [`AdminActor`](crate::messages::AdminActor),
//! which checks the bearer token first: no operation can forget to. Every change is recorded in
//! the event log ([`oauth2_core::ports::EventStore`]).

pub mod clients;
pub mod dashboard;
pub mod system;
pub mod tokens;
pub mod users;

use crate::services::Services;
use oauth2_core::events::EventKind;
use oauth2_core::form::Form;
use oauth2_core::scope::{ADMIN_SCOPE, Scope};
use oauth2_core::{ErrorCode, OAuthError, UnixTime};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;

/// Who is calling, as the access token says: an admin user, or an admin client
/// (client_credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// The user's id, or the client's id; what events record as their actor.
    pub id: String,
}

/// One operation of the admin API, run for an authenticated admin.
pub trait AdminOp: Send + 'static {
    type Output: Send + 'static;
    fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> impl Future<Output = Result<Self::Output, OAuthError>>;
}

/// Page sizes of the listings.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// `?limit=&after=&q=` of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The key of the last item of the previous page (a client id, a username, an event id).
    pub after: Option<String>,
    pub limit: u32,
    /// A case-insensitive substring to search for; `None` lists everything.
    pub query: Option<String>,
}

impl PageRequest {
    /// Reads the query string of a listing; a bad `limit` is `invalid_request`.
    pub fn from_query(query: &Form) -> Result<PageRequest, OAuthError> {
        let limit = match query.get("limit") {
            None => DEFAULT_PAGE_SIZE,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    OAuthError::invalid_request(format!(
                        "limit must be a number from 1 to {MAX_PAGE_SIZE}"
                    ))
                })?,
        };
        let bounded = |name: &str| -> Result<Option<String>, OAuthError> {
            match query.get(name).filter(|v| !v.is_empty()) {
                Some(v) if v.len() > 256 => Err(OAuthError::invalid_request(format!(
                    "{name} is longer than 256 bytes"
                ))),
                v => Ok(v.map(str::to_owned)),
            }
        };
        Ok(PageRequest {
            after: bounded("after")?,
            limit,
            query: bounded("q")?,
        })
    }
}

/// One page of a listing; `next` is the `after` of the next page, `None` on the last one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page of at most `limit` items: a full page may have a next one.
    fn of(items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
        let next = if items.len() >= limit as usize {
            items.last().map(key)
        } else {
            None
        };
        Page { items, next }
    }
}

/// Reads a JSON request body into `T`; a body that does not fit is `code`.
pub(crate) fn parse_body<T: DeserializeOwned>(
    body: &[u8],
    code: ErrorCode,
) -> Result<T, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|e| OAuthError::new(code, format!("the request body does not fit: {e}")))
}

/// For a `PATCH` field: present (`Some`, its value possibly `null`) or absent (`None`, through
/// `#[serde(default)]`).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl Services {
    /// Checks a bearer token for the admin API: one of our access tokens, live, not revoked,
    /// carrying the `admin` scope, held by a principal that is still an admin.
    #[tracing::instrument(skip_all, fields(admin))]
    pub async fn authenticate_admin(
        &self,
        access_token: &str,
        now: UnixTime,
    ) -> Result<Admin, OAuthError> {
        let invalid = || OAuthError::invalid_token("the access token is invalid or expired");
        let no_admin = |why: &'static str| OAuthError::new(ErrorCode::InsufficientScope, why);
        let claims = self
            .verify_access_token(access_token, now)
            .ok_or_else(invalid)?;
        if self.store.is_access_token_revoked(&claims.jti).await? {
            return Err(invalid());
        }
        let scope = Scope::parse(&claims.scope).map_err(|_| invalid())?;
        if !scope.contains(ADMIN_SCOPE) {
            return Err(no_admin("the access token does not carry the admin scope"));
        }
        // A deleted client's tokens die with it.
        let Some(client) = self
            .clients
            .get(self.store.as_ref(), &claims.client_id)
            .await?
        else {
            return Err(invalid());
        };
        // RFC 9068 §2.2: a client_credentials token's subject is the client itself.
        let admin = if claims.sub == claims.client_id {
            if !client.admin {
                return Err(no_admin("the client is no longer an admin"));
            }
            Admin {
                id: client.client_id.clone(),
            }
        } else {
            match self.store.get_user(&claims.sub).await? {
                Some(u) if u.enabled && u.admin => Admin { id: u.id },
                Some(u) if u.enabled => return Err(no_admin("the user is no longer an admin")),
                _ => return Err(invalid()),
            }
        };
        tracing::Span::current().record("admin", admin.id.as_str());
        Ok(admin)
    }

    /// Checks a dashboard session (the session cookie's id, from the server's own login) for
    /// the admin operations: a live session of an enabled user who is an admin. Not signed in
    /// (or the session ended) is `login_required`; signed in as someone who is not an admin,
    /// `access_denied`. The user comes back too, for the page to name.
    #[tracing::instrument(skip_all, fields(admin))]
    pub async fn authenticate_admin_session(
        &self,
        session_id: &str,
        now: UnixTime,
    ) -> Result<(Admin, oauth2_core::ports::User), OAuthError> {
        let Some(signed_in) = self.signed_in(session_id, now).await? else {
            return Err(OAuthError::new(
                ErrorCode::LoginRequired,
                "sign in as an admin user first",
            ));
        };
        let user = signed_in.user;
        if !user.admin {
            return Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "only admin users may use the dashboard",
            ));
        }
        tracing::Span::current().record("admin", user.id.as_str());
        Ok((
            Admin {
                id: user.id.clone(),
            },
            user,
        ))
    }

    /// Records a change made by `admin`: in the audit log (and every other sink that takes it)
    /// by the time this returns.
    pub(crate) async fn record(
        &self,
        admin: &Admin,
        kind: EventKind,
        subject: &str,
        detail: serde_json::Value,
        _now: UnixTime,
    ) -> Result<(), OAuthError> {
        self.events
            .record(change(kind, admin.id.as_str(), subject, detail))
            .await;
        Ok(())
    }

    /// Revokes every family of `owner` (refresh tokens, their access tokens, and the family
    /// markers that stop a concurrent grant); returns how many.
    pub(crate) async fn revoke_families_of(
        &self,
        owner: &oauth2_core::ports::TokenOwner,
        now: UnixTime,
    ) -> Result<u64, OAuthError> {
        let families = self.store.token_families(owner, now).await?;
        for family in &families {
            self.revoke_family(family, now).await?;
        }
        Ok(families.len() as u64)
    }
}

/// What a bulk revocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    pub families: u64,
    pub sessions_ended: u64,
}

/// A path segment naming something: refused before it reaches the database if it could not be
/// an id of ours.
pub(crate) fn path_id(id: &str, what: &'static str) -> Result<(), OAuthError> {
    if id.is_empty() || id.len() > 255 || id.chars().any(char::is_control) {
        return Err(OAuthError::not_found(format!("no such {what}")));
    }
    Ok(())
}

/// The event of a change made by `actor` to `subject`: a client's or a user's changes name it as
/// such too, so they can be found by client or by user.
pub fn change(
    kind: EventKind,
    actor: &str,
    subject: &str,
    detail: serde_json::Value,
) -> crate::events::EventDraft {
    // A change to something else of a client's or user's (a token) names them from the detail.
    let named = |key: &str| detail[key].as_str().map(str::to_owned);
    let (client, user) = (named("client_id"), named("user_id"));
    let mut draft = crate::events::EventDraft::new(kind)
        .actor(actor)
        .subject(subject)
        .detail(detail);
    match kind.as_str().split_once('.').map(|(area, _)| area) {
        Some("client") => draft = draft.client(subject),
        Some("user") => draft = draft.user(subject),
        _ => {}
    }
    if let Some(c) = client {
        draft = draft.client(c);
    }
    if let Some(u) = user {
        draft = draft.user(u);
    }
    draft
}
