//! Strict `application/x-www-form-urlencoded` parsing for protocol requests.
//!
//! RFC 6749 §3.1: parameters sent without a value are treated as omitted, and request parameters
//! must not be included more than once. Invalid UTF-8 is rejected rather than replaced, so a
//! mangled secret can never match by accident.

use crate::error::OAuthError;
use percent_encoding::percent_decode;

/// Most parameters a protocol request may carry; more is an attack or a bug.
const MAX_PARAMS: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses a form body or a query string.
    pub fn parse(input: &[u8]) -> Result<Form, OAuthError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in input.split(|b| *b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.iter().position(|b| *b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter '{}' is repeated",
                    truncate(&name)
                )));
            }
            if pairs.len() >= MAX_PARAMS {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            pairs.push((name, value));
        }
        Ok(Form { pairs })
    }

    /// The value of a parameter; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of a parameter that must be present.
    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter '{name}'")))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

fn decode(raw: &[u8]) -> Result<String, OAuthError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes)
        .map_err(|_| OAuthError::invalid_request("request parameters are not valid UTF-8"))
}

/// Echoing attacker-controlled names back is fine, echoing megabytes of them is not.
fn truncate(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let f = Form::parse(b"a=b+c&d=%2F%3D&e").unwrap();
        assert_eq!(f.get("a"), Some("b c"));
        assert_eq!(f.get("d"), Some("/="));
        assert_eq!(f.get("e"), None);
    }

    #[test]
    fn repeated_parameters_are_invalid_request() {
        let err = Form::parse(b"scope=a&scope=b").unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidRequest);
    }

    #[test]
    fn invalid_utf8_is_rejected_not_replaced() {
        assert!(Form::parse(b"client_secret=%FF%FE").is_err());
    }

    #[test]
    fn empty_values_count_as_absent() {
        let f = Form::parse(b"scope=&grant_type=x").unwrap();
        assert_eq!(f.get("scope"), None);
        assert!(f.require("scope").is_err());
    }

    #[test]
    fn too_many_parameters_are_refused() {
        let body: Vec<String> = (0..100).map(|i| format!("p{i}=v")).collect();
        assert!(Form::parse(body.join("&").as_bytes()).is_err());
    }
}
