//! Tokens through the admin API: the live tokens of a client or a user, and revoking one.
//!
//! A token is named without revealing anything usable: a refresh token by `rt_` and the first
//! characters of its hash (the hash itself is not the token, and a prefix of it even less), an
//! access token by its `jti`. client_credentials access tokens are not recorded, so they are not
//! listed; they expire on their own, or their client revokes them (RFC 7009).

use super::{Admin, AdminOp, path_id};
use crate::services::Services;
use oauth2_core::events::EventKind;
use oauth2_core::ports::{AccessTokenRecord, RefreshToken, TokenOwner};
use oauth2_core::scope::Scope;
use oauth2_core::{OAuthError, UnixTime};
use serde_json::json;
use std::sync::Arc;

/// The public id of a refresh token: `rt_` and this many characters of its hash.
const REFRESH_ID_CHARS: usize = 16;
const REFRESH_ID_PREFIX: &str = "rt_";

/// The most tokens of each kind one listing shows.
pub const MAX_TOKENS_LISTED: u32 = 500;

/// The public id of a refresh token.
pub fn refresh_token_id(token_hash: &str) -> String {
    let short = token_hash.get(..REFRESH_ID_CHARS).unwrap_or(token_hash);
    format!("{REFRESH_ID_PREFIX}{short}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Refresh,
    Access,
}

impl TokenKind {
    /// As RFC 7009 / RFC 7662 name token types.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Refresh => "refresh_token",
            TokenKind::Access => "access_token",
        }
    }
}

/// A live token as the admin API shows it: never its value, never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub kind: TokenKind,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: Scope,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

impl From<&RefreshToken> for TokenInfo {
    fn from(t: &RefreshToken) -> Self {
        TokenInfo {
            id: refresh_token_id(&t.token_hash),
            kind: TokenKind::Refresh,
            client_id: t.client_id.clone(),
            user_id: t.user_id.clone(),
            scope: t.scope.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
        }
    }
}

impl From<&AccessTokenRecord> for TokenInfo {
    fn from(r: &AccessTokenRecord) -> Self {
        TokenInfo {
            id: r.jti.clone(),
            kind: TokenKind::Access,
            client_id: r.client_id.clone(),
            user_id: r.user_id.clone(),
            scope: r.scope.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

/// `GET /admin/api/tokens?client_id=..|user_id=..`: live refresh tokens, then recorded live
/// access tokens, each newest first.
pub struct ListTokens {
    pub owner: TokenOwner,
    /// Of each kind.
    pub limit: u32,
}

impl AdminOp for ListTokens {
    type Output = Vec<TokenInfo>;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        now: UnixTime,
    ) -> Result<Vec<TokenInfo>, OAuthError> {
        let limit = self.limit.clamp(1, MAX_TOKENS_LISTED);
        let refresh = svc
            .store
            .list_refresh_tokens(&self.owner, now, limit)
            .await?;
        let access = svc
            .store
            .list_access_tokens(&self.owner, now, limit)
            .await?;
        Ok(refresh
            .iter()
            .map(TokenInfo::from)
            .chain(access.iter().map(TokenInfo::from))
            .collect())
    }
}

/// `DELETE /admin/api/tokens/{id}`: a refresh token id revokes its whole family (the refresh
/// tokens and the access tokens issued from it); an access token's `jti` goes on the deny list.
/// Returns what was revoked.
pub struct RevokeToken(pub String);

impl AdminOp for RevokeToken {
    type Output = TokenInfo;
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<TokenInfo, OAuthError> {
        let id = self.0;
        path_id(&id, "token")?;
        if let Some(prefix) = id.strip_prefix(REFRESH_ID_PREFIX)
            && prefix.len() >= REFRESH_ID_CHARS
        {
            let found = svc.store.find_refresh_tokens_by_hash_prefix(prefix).await?;
            match found.as_slice() {
                [] => {}
                [token] => {
                    svc.revoke_family(&token.family_id, now).await?;
                    let info = TokenInfo::from(token);
                    svc.record(
                        &admin,
                        EventKind::TokenRevoked,
                        &info.id,
                        json!({ "kind": info.kind.as_str(), "client_id": info.client_id, "user_id": info.user_id, "whole_family": true }),
                        now,
                    )
                    .await?;
                    return Ok(info);
                }
                _ => {
                    return Err(OAuthError::invalid_request(
                        "the id names more than one refresh token; give more of it",
                    ));
                }
            }
        }
        let Some(record) = svc.store.get_access_token(&id).await? else {
            return Err(OAuthError::not_found("no such token"));
        };
        svc.store
            .revoke_access_token(&record.jti, record.expires_at, now)
            .await?;
        let info = TokenInfo::from(&record);
        svc.record(
            &admin,
            EventKind::TokenRevoked,
            &info.id,
            json!({ "kind": info.kind.as_str(), "client_id": info.client_id, "user_id": info.user_id }),
            now,
        )
        .await?;
        Ok(info)
    }
}
