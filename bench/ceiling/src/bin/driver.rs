//! Load driver for what wrk cannot do: flows of several dependent requests, where each request
//! needs something from the answer before it (a CSRF token, a cookie, a code, the refresh token
//! of the previous rotation). Plain blocking HTTP/1.1 keep-alive over std's TcpStream, one thread
//! per connection, so it costs the machine little next to the server it measures.
//!
//! ```text
//! oauth2-bench-driver codeflow BASE_URL   # authorize → login page → login → consent → code exchange
//! oauth2-bench-driver refresh  BASE_URL   # refresh token rotation, one chain per connection
//! oauth2-bench-driver argon2 [N]          # the cost of one Argon2id hash with production parameters
//! ```
//!
//! Settings come from the environment: `CLIENT_ID`, `CLIENT_SECRET`, `REDIRECT_URI`, `SCOPE`,
//! `USER_PREFIX` + `USER_START` + `USERS` (codeflow: a fresh user per flow, so consent is asked
//! every time), `USERNAME` (refresh), `PASSWORD`, `CONNS` (default 32), `DURATION` (seconds,
//! default 10). Prints one JSON object.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oauth2_core::password::{PasswordParams, hash_password};
use oauth2_core::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client with keep-alive.

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn describe(&self) -> String {
        let mut body = self.text();
        body.truncate(300);
        format!("HTTP {} {}", self.status, body.replace('\n', " "))
    }
}

struct Conn {
    addr: String,
    host: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(base: &str) -> Result<Conn> {
        let addr = base
            .strip_prefix("http://")
            .ok_or("the base URL must start with http://")?
            .trim_end_matches('/')
            .to_owned();
        Ok(Conn {
            host: addr.clone(),
            addr,
            stream: None,
        })
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        // A kept-alive connection the server has closed fails on first use: retry once, fresh.
        let reused = self.stream.is_some();
        match self.try_request(method, path, headers, body) {
            Ok(r) => Ok(r),
            Err(_) if reused => {
                self.stream = None;
                self.try_request(method, path, headers, body)
                    .map_err(|e| format!("{method} {path}: {e}"))
            }
            Err(e) => {
                self.stream = None;
                Err(format!("{method} {path}: {e}"))
            }
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.stream = Some(BufReader::with_capacity(16 * 1024, s));
        }
        let Some(reader) = self.stream.as_mut() else {
            return Err(io::Error::other("no connection"));
        };
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (n, v) in headers {
            req.push_str(n);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        reader.get_mut().write_all(&bytes)?;
        let res = read_response(reader);
        match &res {
            Ok(r)
                if r.header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close")) =>
            {
                self.stream = None
            }
            Ok(_) => {}
            Err(_) => self.stream = None,
        }
        res
    }
}

fn read_response(reader: &mut BufReader<TcpStream>) -> io::Result<Response> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                line.clear();
                reader.read_line(&mut line)?;
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if let Some(len) = get("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

// ---------------------------------------------------------------------------------------------
// Browser bits: cookies, forms, HTML hidden fields.

#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, res: &Response) {
        for (n, v) in &res.headers {
            if !n.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let first = v.split(';').next().unwrap_or("");
            if let Some((name, value)) = first.split_once('=') {
                let expired = v.to_ascii_lowercase().contains("max-age=0");
                if value.is_empty() || expired {
                    self.0.remove(name.trim());
                } else {
                    self.0
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", pct(n), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn unpct(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The hidden inputs of the first form of a page, in order.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<input") {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if attr(tag, "type") == Some("hidden")
            && let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value"))
        {
            out.push((html_unescape(n), html_unescape(v)));
        }
        rest = &rest[end..];
    }
    out
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (unpct(k) == name).then(|| unpct(v))
    })
}

// ---------------------------------------------------------------------------------------------
// The flows.

struct Config {
    base: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    password: String,
    basic: String,
}

fn env(name: &str, default: Option<&str>) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => default
            .map(str::to_owned)
            .ok_or_else(|| format!("{name} is not set")),
    }
}

fn env_num(name: &str, default: u64) -> Result<u64> {
    env(name, Some(&default.to_string()))?
        .parse()
        .map_err(|_| format!("{name} must be a number"))
}

impl Config {
    fn from_env(base: String) -> Result<Config> {
        let client_id = env("CLIENT_ID", None)?;
        let client_secret = env("CLIENT_SECRET", None)?;
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", pct(&client_id), pct(&client_secret)))
        );
        Ok(Config {
            base,
            client_id,
            redirect_uri: env("REDIRECT_URI", Some("https://app.example/cb"))?,
            scope: env("SCOPE", Some("api.read"))?,
            password: env("PASSWORD", None)?,
            basic,
        })
    }
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce(rng: &SystemRandom) -> Result<Pkce> {
    let mut buf = [0u8; 32];
    rng.fill(&mut buf).map_err(|_| "rng failed")?;
    let verifier = URL_SAFE_NO_PAD.encode(buf);
    let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    Ok(Pkce {
        verifier,
        challenge,
    })
}

/// Whether the flow met the consent page or went straight through (consent remembered).
struct FlowResult {
    tokens: Value,
    consent_shown: bool,
}

/// One full authorization code flow for `username` in a fresh browser (no cookies).
fn code_flow(c: &mut Conn, cfg: &Config, username: &str, p: &Pkce) -> Result<FlowResult> {
    let mut jar = Jar::default();
    let authorize = format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state=st&code_challenge={}&code_challenge_method=S256",
        pct(&cfg.client_id),
        pct(&cfg.redirect_uri),
        pct(&cfg.scope),
        p.challenge
    );
    let expect = |r: &Response, statuses: &[u16], step: &str| -> Result<()> {
        if statuses.contains(&r.status) {
            Ok(())
        } else {
            Err(format!("{step}: {}", r.describe()))
        }
    };
    // 1. Not signed in: the authorization endpoint sends the browser to the login page.
    let r = c.request("GET", &authorize, &[], b"")?;
    expect(&r, &[302, 303], "authorize")?;
    jar.take(&r);
    let login_url = r
        .header("location")
        .ok_or("authorize: no Location")?
        .to_owned();
    // 2. The login page: CSRF cookie and token.
    let r = c.request("GET", &login_url, &[("Cookie", &jar.header())], b"")?;
    expect(&r, &[200], "login page")?;
    jar.take(&r);
    let fields = hidden_fields(&r.text());
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let body = form(&[
        ("csrf_token", &field("csrf_token")),
        ("return_to", &field("return_to")),
        ("username", username),
        ("password", &cfg.password),
    ]);
    // 3. Sign in: back to the authorization request.
    let r = c.request(
        "POST",
        "/auth/login",
        &[
            ("Cookie", &jar.header()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    )?;
    expect(&r, &[303], "login")?;
    jar.take(&r);
    let back = r.header("location").ok_or("login: no Location")?.to_owned();
    // 4. The consent page (or, when consent is remembered, the redirect with the code).
    let r = c.request("GET", &back, &[("Cookie", &jar.header())], b"")?;
    expect(&r, &[200, 302, 303], "authorize after login")?;
    jar.take(&r);
    let consent_shown = r.status == 200;
    let location = if consent_shown {
        let mut fields = hidden_fields(&r.text());
        fields.push(("decision".to_owned(), "allow".to_owned()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        // 5. Allow.
        let r = c.request(
            "POST",
            "/oauth/authorize",
            &[
                ("Cookie", &jar.header()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form(&pairs).as_bytes(),
        )?;
        expect(&r, &[302, 303], "consent")?;
        r.header("location")
            .ok_or("consent: no Location")?
            .to_owned()
    } else {
        r.header("location")
            .ok_or("authorize: no Location")?
            .to_owned()
    };
    let code = query_param(&location, "code").ok_or_else(|| format!("no code in {location}"))?;
    // 6. The code exchange.
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &cfg.redirect_uri),
        ("code_verifier", &p.verifier),
    ]);
    let r = c.request(
        "POST",
        "/oauth/token",
        &[
            ("Authorization", &cfg.basic),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    )?;
    expect(&r, &[200], "code exchange")?;
    let tokens: Value =
        serde_json::from_slice(&r.body).map_err(|e| format!("token response: {e}"))?;
    Ok(FlowResult {
        tokens,
        consent_shown,
    })
}

fn refresh(c: &mut Conn, cfg: &Config, token: &str) -> Result<String> {
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", token)]);
    let r = c.request(
        "POST",
        "/oauth/token",
        &[
            ("Authorization", &cfg.basic),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    )?;
    if r.status != 200 {
        return Err(format!("refresh: {}", r.describe()));
    }
    let v: Value = serde_json::from_slice(&r.body).map_err(|e| format!("refresh: {e}"))?;
    v["refresh_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "refresh: no refresh_token in the answer".to_owned())
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    consent_skipped: u64,
}

impl Tally {
    fn error(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
        // Don't spin on a failing server.
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

fn run(mode: &str, base: String) -> Result<Value> {
    let cfg = Arc::new(Config::from_env(base)?);
    let conns = env_num("CONNS", 32)?.max(1);
    let duration = Duration::from_secs_f64(
        env("DURATION", Some("10"))?
            .parse::<f64>()
            .map_err(|_| "DURATION must be a number")?,
    );
    let user_prefix = env("USER_PREFIX", Some("bench-u-"))?;
    let user_start = env_num("USER_START", 0)?;
    let users = env_num("USERS", 1)?.max(1);
    let username = env("USERNAME", Some("bench-user"))?;
    let next_user = Arc::new(AtomicU64::new(0));
    let tallies = Arc::new(Mutex::new(Vec::new()));
    let setup_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    // Refresh: every connection first gets its own refresh token through one code flow, then
    // all start rotating together.
    let barrier = Arc::new(std::sync::Barrier::new(conns as usize + 1));
    let mut handles = Vec::new();
    for _ in 0..conns {
        let cfg = cfg.clone();
        let next_user = next_user.clone();
        let tallies = tallies.clone();
        let setup_errors = setup_errors.clone();
        let barrier = barrier.clone();
        let mode = mode.to_owned();
        let user_prefix = user_prefix.clone();
        let username = username.clone();
        handles.push(std::thread::spawn(move || {
            let rng = SystemRandom::new();
            let mut tally = Tally::default();
            let mut conn = match Conn::new(&cfg.base) {
                Ok(c) => c,
                Err(e) => {
                    tally.error(e);
                    barrier.wait();
                    return;
                }
            };
            let mut chain: Option<String> = None;
            if mode == "refresh" {
                let got = pkce(&rng).and_then(|p| code_flow(&mut conn, &cfg, &username, &p));
                match got {
                    Ok(f) => chain = f.tokens["refresh_token"].as_str().map(str::to_owned),
                    Err(e) => {
                        if let Ok(mut s) = setup_errors.lock() {
                            s.push(e);
                        }
                    }
                }
                if chain.is_none()
                    && let Ok(mut s) = setup_errors.lock()
                {
                    s.push("the code flow gave no refresh token".to_owned());
                }
            }
            barrier.wait();
            let deadline = Instant::now() + duration;
            while Instant::now() < deadline {
                let begun = Instant::now();
                let outcome = if mode == "codeflow" {
                    let i = next_user.fetch_add(1, Ordering::Relaxed);
                    let user = format!("{user_prefix}{}", user_start + i % users);
                    pkce(&rng)
                        .and_then(|p| code_flow(&mut conn, &cfg, &user, &p))
                        .map(|f| {
                            if !f.consent_shown {
                                tally.consent_skipped += 1;
                            }
                        })
                } else {
                    match chain.take() {
                        Some(t) => refresh(&mut conn, &cfg, &t).map(|next| chain = Some(next)),
                        None => Err("no refresh token to rotate".to_owned()),
                    }
                };
                match outcome {
                    Ok(()) => tally.latencies_us.push(begun.elapsed().as_micros() as u64),
                    Err(e) => {
                        tally.error(e);
                        if mode == "refresh" && chain.is_none() {
                            // A broken chain: start a new one (counted as an error above).
                            if let Ok(f) =
                                pkce(&rng).and_then(|p| code_flow(&mut conn, &cfg, &username, &p))
                            {
                                chain = f.tokens["refresh_token"].as_str().map(str::to_owned);
                            }
                        }
                    }
                }
            }
            if let Ok(mut t) = tallies.lock() {
                t.push(tally);
            }
        }));
    }
    // The barrier opens when every connection has finished its setup: the clock starts then.
    barrier.wait();
    let t0 = Instant::now();
    for h in handles {
        let _ = h.join();
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let tallies = std::mem::take(&mut *tallies.lock().map_err(|_| "poisoned")?);
    let mut lat: Vec<u64> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let first_error = tallies
        .iter()
        .find_map(|t| t.first_error.clone())
        .or_else(|| setup_errors.lock().ok().and_then(|s| s.first().cloned()));
    let used = next_user.load(Ordering::Relaxed);
    Ok(json!({
        "mode": mode,
        "conns": conns,
        "seconds": elapsed,
        "completed": lat.len(),
        "rate": lat.len() as f64 / elapsed,
        "p50_ms": percentile(&lat, 0.50),
        "p99_ms": percentile(&lat, 0.99),
        "errors": errors,
        "setup_errors": setup_errors.lock().map(|s| s.len()).unwrap_or(0),
        "first_error": first_error,
        "users_used": used.min(users),
        "users_wrapped": used > users,
        "consent_skipped": tallies.iter().map(|t| t.consent_skipped).sum::<u64>(),
    }))
}

fn argon2(n: usize) -> Result<Value> {
    let params = PasswordParams::default();
    let rng = SystemRandom::new();
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        hash_password("correct horse battery staple", params, &rng).map_err(|e| e.to_string())?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(json!({
        "memory_kib": params.memory_kib,
        "iterations": params.iterations,
        "parallelism": params.parallelism,
        "hashes": n,
        "median_ms": ms.get(n / 2).copied().unwrap_or(0.0),
        "min_ms": ms.first().copied().unwrap_or(0.0),
    }))
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some(mode @ ("codeflow" | "refresh")) => match args.get(2) {
            Some(base) => run(mode, base.clone()),
            None => Err(format!("usage: {} {mode} http://HOST:PORT", args[0])),
        },
        Some("argon2") => argon2(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10)),
        _ => Err("usage: oauth2-bench-driver codeflow|refresh BASE_URL | argon2 [N]".to_owned()),
    };
    match result {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("oauth2-bench-driver: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
