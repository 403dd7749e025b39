//! Scopes (RFC 6749 §3.3): free-form, space-delimited tokens.

use crate::error::OAuthError;
use std::fmt;

/// A set of scope tokens, without duplicates, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Vec<String>);

/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

impl Scope {
    /// Parses a space-delimited scope string; any character outside the RFC's grammar is `invalid_scope`.
    pub fn parse(s: &str) -> Result<Scope, OAuthError> {
        if s.len() > 4096 {
            return Err(OAuthError::invalid_scope("scope is too long"));
        }
        let mut tokens: Vec<String> = Vec::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token.chars().all(is_scope_char) {
                return Err(OAuthError::invalid_scope(
                    "scope contains a character outside RFC 6749 §3.3",
                ));
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_owned());
            }
        }
        Ok(Scope(tokens))
    }

    pub fn empty() -> Scope {
        Scope(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.iter().all(|t| other.contains(t))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Scope tokens of `self` that `allowed` does not contain.
    pub fn excess_over<'a>(&'a self, allowed: &'a Scope) -> impl Iterator<Item = &'a str> {
        self.iter().filter(|t| !allowed.contains(t))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// The scope of the admin API (`/admin/api/...`).
pub const ADMIN_SCOPE: &str = "admin";

/// What a client may ask for, before it is known for whom: what it asked for if it registered
/// all of it, else `invalid_scope`; with no `scope` parameter, its whole registered scope
/// (CONTRACT: "no `scope` parameter means the client's registered scopes") except `admin`, which
/// is only ever granted when asked for by name.
pub fn client_scope(requested: Option<&str>, registered: &Scope) -> Result<Scope, OAuthError> {
    let Some(requested) = requested else {
        return Ok(Scope(
            registered
                .iter()
                .filter(|t| *t != ADMIN_SCOPE)
                .map(str::to_owned)
                .collect(),
        ));
    };
    let requested = Scope::parse(requested)?;
    if let Some(bad) = requested.excess_over(registered).next() {
        return Err(OAuthError::invalid_scope(format!(
            "scope '{bad}' is not registered for this client"
        )));
    }
    Ok(requested)
}

/// The `admin` scope goes to admins only: the user in the user flows (code, refresh, password),
/// the client itself for client_credentials. Anyone else asking for it gets `invalid_scope`.
pub fn check_admin_scope(scope: &Scope, principal_is_admin: bool) -> Result<(), OAuthError> {
    if scope.contains(ADMIN_SCOPE) && !principal_is_admin {
        return Err(OAuthError::invalid_scope(
            "the admin scope is granted to administrators only",
        ));
    }
    Ok(())
}

/// The scope a grant gets when the principal (the user, or the client for client_credentials) is
/// known up front: [`client_scope`], then [`check_admin_scope`].
pub fn grant_scope(
    requested: Option<&str>,
    registered: &Scope,
    principal_is_admin: bool,
) -> Result<Scope, OAuthError> {
    let scope = client_scope(requested, registered)?;
    check_admin_scope(&scope, principal_is_admin)?;
    Ok(scope)
}

/// The scope of a refreshed access token (RFC 6749 §6): what was asked for, within what the
/// family was granted, or with no `scope` parameter the family's whole scope. A principal who has
/// lost the admin role keeps the rest: `admin` is dropped when not asked for, refused when it is.
pub fn refresh_scope(
    requested: Option<&str>,
    granted: &Scope,
    principal_is_admin: bool,
) -> Result<Scope, OAuthError> {
    let scope = match requested {
        None if principal_is_admin => return Ok(granted.clone()),
        None => return client_scope(None, granted),
        Some(r) => Scope::parse(r)?,
    };
    if let Some(bad) = scope.excess_over(granted).next() {
        return Err(OAuthError::invalid_scope(format!(
            "scope '{bad}' was not granted to this refresh token"
        )));
    }
    check_admin_scope(&scope, principal_is_admin)?;
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_form_tokens_are_accepted() {
        let s = Scope::parse("api.read api:write https://x/y").unwrap();
        assert_eq!(s.to_string(), "api.read api:write https://x/y");
    }

    #[test]
    fn duplicates_and_extra_spaces_collapse() {
        assert_eq!(Scope::parse(" a  b a ").unwrap().to_string(), "a b");
    }

    #[test]
    fn quotes_and_backslashes_are_invalid_scope() {
        assert!(Scope::parse("a\"b").is_err());
        assert!(Scope::parse("a\\b").is_err());
        assert!(Scope::parse("caf\u{e9}").is_err());
    }

    #[test]
    fn no_scope_means_the_registered_scope() {
        let reg = Scope::parse("a b").unwrap();
        assert_eq!(grant_scope(None, &reg, false).unwrap(), reg);
    }

    #[test]
    fn a_scope_outside_the_registration_is_invalid_scope() {
        let reg = Scope::parse("a b").unwrap();
        let err = grant_scope(Some("a c"), &reg, true).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
        assert_eq!(
            grant_scope(Some("b"), &reg, false).unwrap().to_string(),
            "b"
        );
    }

    #[test]
    fn the_admin_scope_is_granted_to_admins_who_ask_for_it() {
        let reg = Scope::parse("a admin").unwrap();
        assert_eq!(
            grant_scope(Some("a admin"), &reg, true)
                .unwrap()
                .to_string(),
            "a admin"
        );
    }

    #[test]
    fn a_non_admin_asking_for_the_admin_scope_gets_invalid_scope() {
        let reg = Scope::parse("a admin").unwrap();
        let err = grant_scope(Some("admin"), &reg, false).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
        assert!(check_admin_scope(&Scope::parse("a").unwrap(), false).is_ok());
    }

    #[test]
    fn the_admin_scope_is_never_granted_without_being_asked_for() {
        let reg = Scope::parse("a admin b").unwrap();
        assert_eq!(grant_scope(None, &reg, true).unwrap().to_string(), "a b");
        assert_eq!(client_scope(None, &reg).unwrap().to_string(), "a b");
    }

    #[test]
    fn the_admin_scope_is_never_granted_without_registration_even_to_admins() {
        let reg = Scope::parse("a").unwrap();
        let err = grant_scope(Some("admin"), &reg, true).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
    }

    #[test]
    fn a_refresh_keeps_the_family_scope_and_admin_only_for_admins() {
        let granted = Scope::parse("a admin").unwrap();
        assert_eq!(refresh_scope(None, &granted, true).unwrap(), granted);
        assert_eq!(
            refresh_scope(None, &granted, false).unwrap().to_string(),
            "a",
            "a former admin keeps the rest"
        );
        let err = refresh_scope(Some("a admin"), &granted, false).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
        assert_eq!(
            refresh_scope(Some("a"), &granted, false)
                .unwrap()
                .to_string(),
            "a"
        );
        let err = refresh_scope(Some("a c"), &granted, true).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
    }
}
