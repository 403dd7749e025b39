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

/// The scope a client gets: what it asked for if it registered all of it, its whole registered scope
/// if it asked for none (CONTRACT: "no `scope` parameter means the client's registered scopes").
pub fn grant_scope(requested: Option<&str>, registered: &Scope) -> Result<Scope, OAuthError> {
    let Some(requested) = requested else {
        return Ok(registered.clone());
    };
    let requested = Scope::parse(requested)?;
    if let Some(bad) = requested.excess_over(registered).next() {
        return Err(OAuthError::invalid_scope(format!(
            "scope '{bad}' is not registered for this client"
        )));
    }
    Ok(requested)
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
        assert_eq!(grant_scope(None, &reg).unwrap(), reg);
    }

    #[test]
    fn a_scope_outside_the_registration_is_invalid_scope() {
        let reg = Scope::parse("a b").unwrap();
        let err = grant_scope(Some("a c"), &reg).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
        assert_eq!(grant_scope(Some("b"), &reg).unwrap().to_string(), "b");
    }
}
