//! Events: what the server did, for audit logs and for other systems to react to (webhooks, a
//! Redis stream). The kinds, the filters that select them, the wire form and the webhook
//! signature; no I/O (the pipeline that carries them is in the actors crate).

use crate::UnixTime;
use aws_lc_rs::hmac;
use base64::Engine;
use serde::Serialize;

/// Declares the kinds once: the enum, its names, and the list of all of them.
macro_rules! kinds {
    ($( $(#[$m:meta])* $v:ident = $s:literal, $outcome:ident; )+) => {
        /// What happened, named `area.verb` on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind { $( $(#[$m])* $v ),+ }

        impl EventKind {
            /// Every kind, in the order of the documentation.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$v => $s),+ }
            }

            /// Whether this kind reports something that went through or something refused.
            pub fn outcome(self) -> Outcome {
                match self { $(EventKind::$v => Outcome::$outcome),+ }
            }
        }
    };
}

kinds! {
    /// A user signed in with the right password.
    LoginSucceeded = "login.succeeded", Success;
    /// A sign-in was refused: wrong credentials, disabled user, or too many failures
    /// (`detail.reason`).
    LoginFailed = "login.failed", Failure;
    /// A session ended: sign-out, RP-initiated logout.
    SessionEnded = "session.ended", Success;
    /// An authorization code was issued to a client.
    AuthorizationGranted = "authorization.granted", Success;
    /// The user declined the consent page.
    AuthorizationDenied = "authorization.denied", Failure;
    /// An authorization request was refused with an error (`detail.error`).
    AuthorizationRefused = "authorization.refused", Failure;
    /// A user withdrew an application's access (consent and its tokens).
    ConsentRevoked = "consent.revoked", Success;
    /// The token endpoint issued tokens (`detail.grant_type`, `detail.scope`).
    TokenIssued = "token.issued", Success;
    /// The token endpoint refused a request (`detail.error`, `detail.grant_type`).
    TokenRefused = "token.refused", Failure;
    /// A token was revoked (RFC 7009, the admin API or the account page).
    TokenRevoked = "token.revoked", Success;
    /// A token was introspected (`detail.active`).
    TokenIntrospected = "token.introspected", Success;
    /// A rotated-out refresh token was presented again: its family is revoked.
    RefreshTokenReuseDetected = "token.refresh_reuse_detected", Failure;
    /// A used authorization code was presented again: its tokens are revoked.
    CodeReplayDetected = "token.code_replay_detected", Failure;
    ClientCreated = "client.created", Success;
    /// A client registered itself (RFC 7591).
    ClientRegistered = "client.registered", Success;
    ClientUpdated = "client.updated", Success;
    ClientDeleted = "client.deleted", Success;
    ClientSecretRotated = "client.secret_rotated", Success;
    ClientTokensRevoked = "client.tokens_revoked", Success;
    UserCreated = "user.created", Success;
    UserUpdated = "user.updated", Success;
    UserDisabled = "user.disabled", Success;
    UserEnabled = "user.enabled", Success;
    UserPasswordReset = "user.password_reset", Success;
    UserTokensRevoked = "user.tokens_revoked", Success;
    KeyRotated = "key.rotated", Success;
    RegistrationTokenCreated = "registration_token.created", Success;
    RegistrationTokenDeleted = "registration_token.deleted", Success;
}

impl EventKind {
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

// A filter is a bit set of kinds: it must hold them all.
const _: () = assert!(EventKind::ALL.len() <= 64);

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// A set of kinds, written as comma-separated patterns: a kind (`token.issued`), an area
/// (`token.*`) or `*`; a leading `-` takes the pattern out again. A kind is in the set when it
/// matches an including pattern and no excluding one; with only excluding patterns, everything
/// else is in. `none` (or nothing at all) is the empty set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter(u64);

impl EventFilter {
    pub const NONE: EventFilter = EventFilter(0);

    pub fn all() -> EventFilter {
        EventFilter(EventKind::ALL.iter().fold(0, |acc, k| acc | k.bit()))
    }

    /// Parses a filter; the error names the first pattern that matches no kind (a typo would
    /// otherwise silently select nothing).
    pub fn parse(spec: &str) -> Result<EventFilter, String> {
        let (mut include, mut exclude, mut any_include) = (0u64, 0u64, false);
        for raw in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if raw.eq_ignore_ascii_case("none") {
                any_include = true;
                continue;
            }
            let (negated, pattern) = match raw.strip_prefix('-') {
                Some(p) => (true, p.trim()),
                None => (false, raw),
            };
            let matched = EventKind::ALL
                .iter()
                .filter(|k| matches(pattern, k.as_str()))
                .fold(0u64, |acc, k| acc | k.bit());
            if matched == 0 {
                return Err(format!("`{raw}` matches no event type"));
            }
            if negated {
                exclude |= matched;
            } else {
                any_include = true;
                include |= matched;
            }
        }
        if !any_include && exclude != 0 {
            include = EventFilter::all().0;
        }
        Ok(EventFilter(include & !exclude))
    }

    pub fn allows(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn union(self, other: EventFilter) -> EventFilter {
        EventFilter(self.0 | other.0)
    }

    pub fn intersect(self, other: EventFilter) -> EventFilter {
        EventFilter(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, in documentation order.
    pub fn kinds(self) -> impl Iterator<Item = EventKind> {
        EventKind::ALL
            .iter()
            .copied()
            .filter(move |k| self.allows(*k))
    }
}

fn matches(pattern: &str, kind: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(area) => kind.split_once('.').is_some_and(|(a, _)| a == area),
        None => pattern == kind,
    }
}

/// One event, as every sink sees it and as it is sent (JSON) to webhooks and the Redis stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Unique (random, 128 bits): receivers of an at-least-once delivery drop repeats by it.
    pub id: String,
    #[serde(rename = "type", serialize_with = "kind_str")]
    pub kind: EventKind,
    /// Seconds since the Unix epoch.
    pub time: UnixTime,
    /// Who did it: a user id, a client id, `cli`, or nothing for an anonymous caller.
    pub actor: Option<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    /// What it was done to when that is neither the client nor the user: a token id, a key id.
    pub subject: Option<String>,
    /// The caller's address (behind trusted proxies: the client's).
    pub address: Option<String>,
    pub outcome: Outcome,
    /// The request that caused it (the `X-Request-Id` of the response), to join with the logs.
    pub request_id: Option<String>,
    /// What else is worth knowing. Never a secret, token, code or password.
    pub detail: serde_json::Value,
}

fn kind_str<S: serde::Serializer>(k: &EventKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl Event {
    pub fn to_json(&self) -> String {
        // Serializing plain strings and a JSON value cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A webhook secret: `whsec_` followed by base64 (the Standard Webhooks form, as Svix and others
/// issue them), or else the bytes of the string itself.
pub fn webhook_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The `webhook-signature` header of a delivery (Standard Webhooks 1.0): `v1,` and the base64
/// HMAC-SHA256 of `{id}.{timestamp}.{body}` under the key. The timestamp is signed too, so a
/// receiver that refuses old timestamps is safe from replays.
pub fn webhook_signature(key: &[u8], id: &str, timestamp: UnixTime, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

/// Seconds to wait before delivery attempt `attempt + 1` after `attempt` failed ones (1-based):
/// `base`, doubling each time, at most an hour; `jitter` in [0, 1) spreads retries of many
/// events apart by up to a fifth.
pub fn webhook_backoff(base: u64, attempt: u32, jitter: f64) -> u64 {
    let exp = base
        .max(1)
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(3600);
    capped + ((capped as f64) * 0.2 * jitter.clamp(0.0, 1.0)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_area_dot_verb() {
        let mut seen = std::collections::HashSet::new();
        for k in EventKind::ALL {
            assert!(seen.insert(k.as_str()), "{k} twice");
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            assert_eq!(k.as_str().matches('.').count(), 1, "{k}");
        }
        assert_eq!(EventKind::parse("token.nope"), None);
    }

    #[test]
    fn filters_include_exclude_and_areas() {
        let f = EventFilter::parse("*,-token.issued,-token.introspected").unwrap();
        assert!(f.allows(EventKind::LoginFailed));
        assert!(f.allows(EventKind::TokenRevoked));
        assert!(!f.allows(EventKind::TokenIssued));
        assert!(!f.allows(EventKind::TokenIntrospected));

        let f = EventFilter::parse("token.*").unwrap();
        assert!(f.allows(EventKind::TokenIssued));
        assert!(f.allows(EventKind::CodeReplayDetected));
        assert!(!f.allows(EventKind::LoginFailed));

        // Only exclusions: everything else.
        let f = EventFilter::parse("-login.*").unwrap();
        assert!(!f.allows(EventKind::LoginSucceeded));
        assert!(f.allows(EventKind::KeyRotated));

        let f = EventFilter::parse(" client.created , user.created ").unwrap();
        assert_eq!(
            f.kinds().collect::<Vec<_>>(),
            vec![EventKind::ClientCreated, EventKind::UserCreated]
        );

        assert!(EventFilter::parse("").unwrap().is_empty());
        assert!(EventFilter::parse("none").unwrap().is_empty());
        assert_eq!(EventFilter::parse("*").unwrap(), EventFilter::all());
    }

    #[test]
    fn a_pattern_that_matches_nothing_is_an_error() {
        assert_eq!(
            EventFilter::parse("*,-token.isued").unwrap_err(),
            "`-token.isued` matches no event type"
        );
        assert!(EventFilter::parse("tokens.*").is_err());
    }

    #[test]
    fn union_and_intersection() {
        let a = EventFilter::parse("login.*").unwrap();
        let b = EventFilter::parse("token.issued").unwrap();
        let u = a.union(b);
        assert!(u.allows(EventKind::LoginFailed) && u.allows(EventKind::TokenIssued));
        assert!(a.intersect(b).is_empty());
    }

    #[test]
    fn signature_follows_standard_webhooks() {
        // The example of the Standard Webhooks specification (and its reference libraries).
        let key = webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let sig = webhook_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Any change of id, time or body changes it.
        assert_ne!(
            sig,
            webhook_signature(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265331,
                br#"{"test": 2432232314}"#
            )
        );
        assert_eq!(webhook_key("plain"), b"plain".to_vec());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(webhook_backoff(5, 1, 0.0), 5);
        assert_eq!(webhook_backoff(5, 2, 0.0), 10);
        assert_eq!(webhook_backoff(5, 4, 0.0), 40);
        assert_eq!(webhook_backoff(5, 30, 0.0), 3600);
        assert_eq!(webhook_backoff(10, 1, 0.99), 11);
        assert_eq!(webhook_backoff(0, 1, 0.0), 1);
    }

    #[test]
    fn wire_form() {
        let e = Event {
            id: "e1".into(),
            kind: EventKind::TokenIssued,
            time: 1,
            actor: Some("c".into()),
            client_id: Some("c".into()),
            user_id: None,
            subject: None,
            address: Some("127.0.0.1".into()),
            outcome: Outcome::Success,
            request_id: None,
            detail: serde_json::json!({"grant_type": "client_credentials"}),
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["type"], "token.issued");
        assert_eq!(v["outcome"], "success");
        assert_eq!(v["detail"]["grant_type"], "client_credentials");
        assert_eq!(v["user_id"], serde_json::Value::Null);
    }
}
