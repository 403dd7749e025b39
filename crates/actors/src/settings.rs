//! The validated settings the operations run with (built by the server from its configuration).

use oauth2_core::client::GrantType;
use oauth2_core::jose::Algorithm;
use oauth2_core::password::PasswordParams;
use std::fmt;

/// Who may use `POST /clients/register` (RFC 7591).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPolicy {
    /// An initial access token issued by an admin is required.
    Token,
    /// Anyone may register.
    Open,
    Disabled,
}

impl RegistrationPolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(Self::Token),
            "open" => Some(Self::Open),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Open => "open",
            Self::Disabled => "disabled",
        }
    }
}

/// A secret that never shows itself in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL: `iss` of every token and the discovery `issuer`.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    pub algorithm: Algorithm,
    /// HS256 only.
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub authorization_code_ttl: i64,
    /// A rotated-in key is published at once but signs only after this many seconds.
    pub key_activation_delay: i64,
    /// How long a client read from the database may be served from memory.
    pub client_cache_ttl_secs: u64,
    pub registration_policy: RegistrationPolicy,
    pub password_params: PasswordParams,
    /// Grant types the token endpoint serves.
    pub grant_types: Vec<GrantType>,
    /// Accept PKCE `plain` (off by default, RFC 9700 §2.1.1).
    pub allow_plain_pkce: bool,
    /// A browser session ends after this many seconds without use...
    pub session_idle_timeout: i64,
    /// ...and after this many seconds in any case.
    pub session_max_lifetime: i64,
    /// Brute-force protection: failed sign-ins allowed per user, and per address, in the window.
    pub login_max_failures_per_user: u64,
    pub login_max_failures_per_address: u64,
    pub login_failure_window: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpRange>,
    /// Which events are produced and where they go.
    pub events: crate::events::EventSettings,
    /// Housekeeping deletes at most this many rows per statement.
    pub cleanup_batch_size: u32,
}

/// An IP address range (`10.0.0.0/8`, `::1`), parsed without a crate for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse().ok()?, None),
        };
        let max = match addr {
            std::net::IpAddr::V4(_) => 32,
            std::net::IpAddr::V6(_) => 128,
        };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { addr, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        fn bits(ip: std::net::IpAddr) -> (u128, u32) {
            match ip {
                std::net::IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                std::net::IpAddr::V6(v) => match v.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v), 128),
                },
            }
        }
        let (a, la) = bits(self.addr);
        let (b, lb) = bits(ip);
        if la != lb {
            return false;
        }
        let shift = la - u32::from(self.prefix);
        shift >= la || (a >> shift) == (b >> shift)
    }
}

impl Settings {
    /// Cookies are `Secure` when the server is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

impl Settings {
    /// Settings for the given issuer with every other value at its default.
    pub fn with_issuer(issuer: impl Into<String>) -> Settings {
        let issuer = issuer.into();
        Settings {
            audience: issuer.clone(),
            issuer,
            algorithm: Algorithm::RS256,
            jwt_secret: None,
            access_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            authorization_code_ttl: 60,
            key_activation_delay: 3600,
            client_cache_ttl_secs: 5,
            registration_policy: RegistrationPolicy::Token,
            password_params: PasswordParams::default(),
            grant_types: GrantType::ALL.to_vec(),
            allow_plain_pkce: false,
            session_idle_timeout: 3600,
            session_max_lifetime: 12 * 3600,
            login_max_failures_per_user: 10,
            login_max_failures_per_address: 50,
            login_failure_window: 15 * 60,
            trusted_proxies: Vec::new(),
            events: crate::events::EventSettings::default(),
            cleanup_batch_size: 1000,
        }
    }
}
