//! A minimal browser for black-box tests: keeps cookies, never follows redirects, and reads
//! forms, so a test drives login and consent exactly as a person's browser would.

use crate::TestApp;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub struct Browser<'a> {
    pub app: &'a TestApp,
    cookies: Mutex<BTreeMap<String, String>>,
}

/// A response, read in full.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first `<input name="{name}" value="...">` in the page.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// Every hidden input of the first form, in order.
    pub fn hidden_inputs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
            rest = &rest[i + 27..];
            let Some(name_end) = rest.find('"') else {
                break;
            };
            let name = rest[..name_end].to_owned();
            let Some(v) = rest.find("value=\"") else {
                break;
            };
            let after = &rest[v + 7..];
            let Some(value_end) = after.find('"') else {
                break;
            };
            out.push((name, unescape(&after[..value_end])));
        }
        out
    }

    /// A query parameter of the redirect target.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let loc = self.location.as_deref()?;
        let query = loc.split_once('?')?.1;
        oauth2_core::form::Form::parse(query.as_bytes())
            .ok()?
            .get(name)
            .map(str::to_owned)
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

pub fn form_encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                oauth2_core::authorize::encode(k),
                oauth2_core::authorize::encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    /// A second browser sharing this one's cookies (a second tab, or the same browser later).
    pub fn with_cookies_of(app: &'a TestApp, other: &Browser<'_>) -> Browser<'a> {
        Browser {
            app,
            cookies: Mutex::new(other.cookies.lock().unwrap().clone()),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&self, res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = v.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            let mut jar = self.cookies.lock().unwrap();
            if removed {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = headers
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        Page {
            status,
            location,
            headers,
            body: res.text().await.unwrap_or_default(),
        }
    }

    fn absolute(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.app.url(path_or_url)
        }
    }

    pub async fn get(&self, path_or_url: &str) -> Page {
        let res = self
            .app
            .http
            .get(self.absolute(path_or_url))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    pub async fn post(&self, path: &str, pairs: &[(String, String)]) -> Page {
        let res = self
            .app
            .http
            .post(self.absolute(path))
            .header(COOKIE, self.cookie_header())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form_encode(pairs))
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    /// Opens the login page (for `return_to`) and submits it.
    pub async fn login(&self, username: &str, password: &str, return_to: &str) -> Page {
        let path = format!(
            "/auth/login?return_to={}",
            oauth2_core::authorize::encode(return_to)
        );
        let page = self.get(&path).await;
        assert_eq!(page.status, 200, "login page: {}", page.body);
        let csrf = page
            .input("csrf_token")
            .expect("login form has a CSRF token");
        self.post(
            "/auth/login",
            &[
                ("csrf_token".into(), csrf),
                (
                    "return_to".into(),
                    page.input("return_to").unwrap_or_default(),
                ),
                ("username".into(), username.into()),
                ("password".into(), password.into()),
            ],
        )
        .await
    }

    /// Submits the consent form of `page` with `decision`.
    pub async fn decide(&self, page: &Page, decision: &str) -> Page {
        assert_eq!(page.status, 200, "consent page: {}", page.body);
        let mut fields = page.hidden_inputs();
        assert!(!fields.is_empty(), "consent form has hidden fields");
        fields.push(("decision".into(), decision.into()));
        self.post("/oauth/authorize", &fields).await
    }
}
