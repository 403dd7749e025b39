//! The OpenAPI document (`/api-docs/openapi.json`) and Swagger UI (`/swagger-ui/`): the document
//! describes exactly the JSON routes the app registers, it is a valid OpenAPI document, real
//! answers fit the schemas it gives, and Swagger UI loads with its vendored assets.

use actix_web::{App, HttpRequest, HttpResponse, test, web};
use oauth2_actors::Actors;
use oauth2_core::client::{AuthMethod, GrantType};
use oauth2_testkit::browser::Browser;
use oauth2_testkit::flow::{pkce_pair, sign_in_and_allow, standard_request};
use oauth2_testkit::{Backend, TestApp, TestClient, spawn_app_with};
use oauth2_web::openapi::{DOCUMENT_PATH, is_undocumented};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The methods a route may have; `OPTIONS` (CORS preflight) and `HEAD` are not operations here.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn sqlite_app(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_with(Backend::Sqlite, extra)
        .await
        .expect("SQLite is always available")
}

async fn served_document(app: &TestApp) -> Value {
    let res = app.http.get(app.url(DOCUMENT_PATH)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    res.json().await.unwrap()
}

/// `/clients/{id}` or `/swagger-ui/{tail:.*}` with every variable segment filled in.
fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in pattern.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push('x');
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// `{tail:.*}` → `{tail}`, as OpenAPI spells a path variable.
fn openapi_path(pattern: &str) -> String {
    let mut out = String::new();
    let (mut depth, mut in_regex) = (0, false);
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push(c);
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    in_regex = false;
                    out.push(c);
                }
            }
            ':' if depth == 1 => in_regex = true,
            _ if in_regex || depth > 1 => {}
            _ => out.push(c),
        }
    }
    out
}

/// Every full route pattern the app registers, read from actix's own resource map.
///
/// actix has no public way to list its resources, so the patterns are picked out of the resource
/// map's `Debug` output (each resource, and each scope prefix, shows `patterns: Single("...")`),
/// every scope prefix is tried in front of every pattern, and only what the resource map itself
/// confirms (`match_pattern`) is kept. The app is built in process with the same `configure`
/// functions the server uses (`oauth2_server::app` adds only middleware around them).
async fn registered_patterns(app: &TestApp) -> BTreeSet<String> {
    async fn dump(req: HttpRequest) -> HttpResponse {
        let rmap = req.resource_map();
        let debug = format!("{rmap:?}");
        // (pattern, is_prefix): resources, and the prefixes of the scopes they sit in.
        let mut pieces = Vec::new();
        let marker = "patterns: Single(\"";
        let mut rest = debug.as_str();
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let end = rest.find("\")").unwrap();
            let pattern = rest[..end].replace("\\\"", "\"");
            rest = &rest[end..];
            let is_prefix = rest.find("is_prefix: ").unwrap();
            pieces.push((pattern, rest[is_prefix..].starts_with("is_prefix: true")));
        }
        let prefixes: Vec<&str> = pieces
            .iter()
            .filter(|(_, is_prefix)| *is_prefix)
            .map(|(p, _)| p.as_str())
            .collect();
        // Up to two levels of scopes in front of a resource's own pattern.
        let mut candidates = BTreeSet::new();
        for (p, _) in &pieces {
            for a in &prefixes {
                for b in &prefixes {
                    candidates.insert(format!("{a}{b}{p}"));
                }
            }
        }
        let found: BTreeSet<String> = candidates
            .into_iter()
            .filter(|p| p.starts_with('/'))
            .filter(|p| rmap.match_pattern(&concrete(p)).as_deref() == Some(p.as_str()))
            .collect();
        HttpResponse::Ok().json(found)
    }
    let svc = app.services.clone();
    let service = test::init_service(
        App::new()
            .configure(|cfg| {
                oauth2_web::configure(cfg, Actors::start(svc.clone()), svc.clone());
                oauth2_web::configure_metrics(cfg, svc.clone());
            })
            .default_service(web::to(dump)),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/no/such/route/for/sure")
        .to_request();
    let found: BTreeSet<String> = test::call_and_read_body_json(&service, req).await;
    // The harvest must see routes at the top level and inside the `/admin/api` scope; if actix
    // ever prints its resource map differently, this fails instead of checking nothing.
    for must in ["/oauth/token", "/health", "/admin/api/clients/{id}"] {
        assert!(found.contains(must), "{must} not found in {found:?}");
    }
    found
}

/// Which methods a route answers on the running server: anything but 404 and 405. No request
/// carries credentials, so none of them changes anything.
async fn methods_of(app: &TestApp, pattern: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for m in METHODS {
        let status = app
            .http
            .request(m.parse().unwrap(), app.url(&concrete(pattern)))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status != 404 && status != 405 {
            out.push(m);
        }
    }
    out
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                ops.insert((path.clone(), method.to_uppercase()));
            }
        }
    }
    ops
}

#[actix_web::test]
async fn the_document_describes_exactly_the_json_routes() {
    let app = sqlite_app(&[]).await;
    let doc = served_document(&app).await;
    let documented = documented_operations(&doc);

    // Every documented operation exists on the running server.
    for (path, method) in &documented {
        let status = app
            .http
            .request(method.parse().unwrap(), app.url(&concrete(path)))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(
            status != 404 && status != 405,
            "{method} {path} is documented but answers {status}"
        );
    }

    // Every registered JSON route (and method) is documented; everything else is listed in
    // oauth2_web::openapi::UNDOCUMENTED.
    let patterns = registered_patterns(&app).await;
    let mut registered = BTreeSet::new();
    for pattern in patterns.iter().filter(|p| !is_undocumented(p)) {
        let methods = methods_of(&app, pattern).await;
        assert!(!methods.is_empty(), "{pattern} answers no method");
        for m in methods {
            registered.insert((openapi_path(pattern), m.to_owned()));
        }
    }
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "registered JSON routes missing from the document (document them in \
         oauth2_web::openapi, or list HTML routes in UNDOCUMENTED): {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&registered).collect();
    assert!(
        phantom.is_empty(),
        "documented operations that are not registered routes: {phantom:?}"
    );

    // The HTML pages are left out on purpose, and the list does not rot: its exact entries
    // are real routes.
    for (p, _) in oauth2_web::openapi::UNDOCUMENTED {
        if !p.ends_with("/*") {
            assert!(patterns.contains(*p), "UNDOCUMENTED names {p}, not a route");
        }
    }
    for html in ["/auth/login", "/oauth/authorize", "/account/applications"] {
        assert!(patterns.contains(html) && is_undocumented(html), "{html}");
        assert!(!doc["paths"].as_object().unwrap().contains_key(html));
    }
    assert!(!is_undocumented("/admin/api/clients"));
    eprintln!(
        "openapi: {} operations documented, {} routes registered, {} left out as non-JSON",
        documented.len(),
        patterns.len(),
        patterns.iter().filter(|p| is_undocumented(p)).count()
    );
}

#[actix_web::test]
async fn the_document_is_valid_openapi() {
    let app = sqlite_app(&[]).await;
    let doc = served_document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    // Operation ids are unique (the validator checks it too; this says which).
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            }
        }
    }

    let validator = std::process::Command::new("openapi-spec-validator")
        .arg("--version")
        .output();
    if validator.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "openapi-spec-validator is not installed (CI installs it: .ci/run)"
        );
        eprintln!(
            "SKIPPED: openapi-spec-validator is not installed \
             (pip install openapi-spec-validator==0.9.0)"
        );
        return;
    }
    let path = oauth2_testkit::temp_path("json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = std::process::Command::new("openapi-spec-validator")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openapi-spec-validator rejects the document:\n{stdout}\n{stderr}"
    );
    eprintln!("openapi-spec-validator: {}", stdout.trim());
}

#[actix_web::test]
async fn swagger_ui_loads_with_its_vendored_assets() {
    let app = sqlite_app(&[]).await;

    let res = app.http.get(app.url("/swagger-ui")).send().await.unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/swagger-ui/");

    let res = app.http.get(app.url("/swagger-ui/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = |name: &str| res.headers()[name].to_str().unwrap().to_owned();
    assert!(
        h("content-type").starts_with("text/html"),
        "{}",
        h("content-type")
    );
    let csp = h("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    // Not even for styles: the one style element Swagger UI inserts is allowed by its hash.
    assert!(!csp.contains("unsafe-"), "{csp}");
    assert_eq!(h("x-frame-options"), "DENY");
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("<script>"),
        "an inline script would be blocked"
    );

    // The page's own assets: relative `src` and `href`, all served from here.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html.as_str();
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            assets.push(rest[..end].trim_start_matches("./").to_owned());
            rest = &rest[end..];
        }
    }
    for needed in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        assert!(assets.iter().any(|a| a == needed), "{needed} in {assets:?}");
    }
    for asset in &assets {
        assert!(
            !asset.contains("//"),
            "{asset}: Swagger UI must not load anything from elsewhere"
        );
        let res = app
            .http
            .get(app.url(&format!("/swagger-ui/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        assert!(!res.bytes().await.unwrap().is_empty(), "{asset}");
    }

    // The initializer points at our document and at no outside validator.
    let init = app
        .http
        .get(app.url("/swagger-ui/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains(DOCUMENT_PATH), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");

    let res = app
        .http
        .get(app.url("/swagger-ui/no-such-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

// Real answers against the document's schemas.

/// Checks `v` against a schema of the document. Stricter than JSON Schema in one way: an object
/// may carry only the properties its schema names, so a field added to an answer but not to
/// the document is caught.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check_shallow(doc, s, v, at, errors);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema[key].as_array() {
            let fits = any.iter().any(|s| {
                let mut e = Vec::new();
                check(doc, s, v, at, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: fits none of {key} {}", schema[key]));
            }
        }
    }
    check_shallow(doc, schema, v, at, errors);
    if let (Some(fields), true) = (v.as_object(), has_properties(doc, schema)) {
        let known = properties(doc, schema);
        for k in fields.keys() {
            if !known.contains(k) {
                errors.push(format!("{at}.{k}: not in the schema"));
            }
        }
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn has_properties(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    schema.get("properties").is_some()
        || schema["allOf"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| has_properties(doc, s)))
}

/// The property names of an object schema, through `allOf` and the `oneOf` of an optional part.
fn properties(doc: &Value, schema: &Value) -> BTreeSet<String> {
    let schema = resolve(doc, schema);
    let mut out: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for key in ["allOf", "oneOf", "anyOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            out.extend(properties(doc, s));
        }
    }
    out
}

/// `type`, `enum`, `required`, `properties` and `items` of one schema (not its compositions).
fn check_shallow(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let fits = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: {v} is not {types:?}"));
            return;
        }
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {values:?}"));
    }
    if let Some(fields) = v.as_object() {
        for r in schema["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap();
            if !fields.contains_key(r) {
                errors.push(format!("{at}.{r}: required but missing"));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            for (k, s) in props {
                if let Some(value) = fields.get(k) {
                    check(doc, s, value, &format!("{at}.{k}"), errors);
                }
            }
        }
    }
    if let (Some(items), Some(s)) = (v.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, s, item, &format!("{at}[{i}]"), errors);
        }
    }
}

/// One real exchange: the request body (JSON, or a form as an object of strings) is checked
/// against the documented request body, the answer against what the document says
/// `method path` answers with `status`.
struct Seen {
    method: &'static str,
    path: &'static str,
    request: Option<(&'static str, Value)>,
    status: u16,
    body: Value,
}

async fn send(
    app: &TestApp,
    method: &'static str,
    path: &'static str,
    url_path: &str,
    bearer: Option<&str>,
    json_body: Option<Value>,
) -> Seen {
    let mut req = app.http.request(method.parse().unwrap(), app.url(url_path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = &json_body {
        req = req.json(b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    Seen {
        method,
        path,
        request: json_body.map(|b| ("application/json", b)),
        status,
        body: if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| json!(text))
        },
    }
}

async fn form(app: &TestApp, path: &'static str, body: &str, client: Option<&TestClient>) -> Seen {
    let res = app.post_form(path, body, client).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let fields: serde_json::Map<String, Value> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    Seen {
        method: "POST",
        path,
        request: Some(("application/x-www-form-urlencoded", Value::Object(fields))),
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// The last request was meant not to fit (to see the error answer): only its answer is checked.
fn invalid_on_purpose(seen: &mut [Seen]) {
    if let Some(last) = seen.last_mut() {
        last.request = None;
    }
}

fn check_seen(doc: &Value, seen: &[Seen]) -> Vec<String> {
    let mut errors = Vec::new();
    for s in seen {
        let op = &doc["paths"][s.path][s.method.to_lowercase()];
        let at = format!("{} {} {}", s.method, s.path, s.status);
        if let Some((content_type, request)) = &s.request {
            let schema = &op["requestBody"]["content"][*content_type]["schema"];
            if schema.is_null() {
                errors.push(format!("{at}: no {content_type} request body documented"));
            } else {
                check(doc, schema, request, &format!("{at} request"), &mut errors);
            }
        }
        let Some(response) = op["responses"].get(s.status.to_string()) else {
            errors.push(format!("{at}: status not documented ({})", s.body));
            continue;
        };
        match response["content"]
            .as_object()
            .and_then(|c| c.values().next())
        {
            Some(media) => check(doc, &media["schema"], &s.body, &at, &mut errors),
            None if s.body.is_null() => {}
            None => errors.push(format!("{at}: a body, but none documented: {}", s.body)),
        }
    }
    errors
}

#[actix_web::test]
async fn real_answers_fit_the_documented_schemas() {
    let app = sqlite_app(&[("OAUTH2_REGISTRATION_POLICY", "open")]).await;
    let doc = served_document(&app).await;
    let mut seen = Vec::new();

    // Health and discovery.
    seen.push(send(&app, "GET", "/health", "/health", None, None).await);
    seen.push(send(&app, "GET", "/ready", "/ready", None, None).await);
    for p in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        seen.push(send(&app, "GET", p, p, None, None).await);
    }

    // OAuth: token, introspection, revocation, errors.
    let service = app.service_client("api.read").await;
    let t = form(
        &app,
        "/oauth/token",
        "grant_type=client_credentials",
        Some(&service),
    )
    .await;
    let access = t.body["access_token"].as_str().unwrap().to_owned();
    seen.push(t);
    seen.push(form(&app, "/oauth/token", "grant_type=nope", Some(&service)).await);
    invalid_on_purpose(&mut seen);
    let wrong = TestClient {
        id: service.id.clone(),
        secret: Some("wrong".into()),
    };
    seen.push(
        form(
            &app,
            "/oauth/token",
            "grant_type=client_credentials",
            Some(&wrong),
        )
        .await,
    );
    seen.push(
        form(
            &app,
            "/oauth/introspect",
            &format!("token={access}"),
            Some(&service),
        )
        .await,
    );
    seen.push(form(&app, "/oauth/introspect", "token=nothing", Some(&service)).await);
    seen.push(form(&app, "/oauth/revoke", "token=nothing", Some(&service)).await);

    // The code flow, for userinfo and a token response with refresh and id tokens.
    let cb = "https://app.example/cb";
    let web_client = app
        .create_client(
            &[GrantType::AuthorizationCode, GrantType::RefreshToken],
            "openid profile email",
            AuthMethod::ClientSecretBasic,
            &[cb],
        )
        .await;
    app.create_user("alice", "alice-password").await;
    let browser = Browser::new(&app);
    let (verifier, challenge) = pkce_pair();
    let authorize = standard_request(&web_client.id, cb, "openid profile email", &challenge);
    let page = sign_in_and_allow(&browser, &authorize, "alice", "alice-password").await;
    let code = page.location_param("code").unwrap();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}",
        oauth2_core::authorize::encode(cb)
    );
    let t = form(&app, "/oauth/token", &body, Some(&web_client)).await;
    assert!(t.body["id_token"].is_string(), "{}", t.body);
    let user_token = t.body["access_token"].as_str().unwrap().to_owned();
    seen.push(t);
    seen.push(
        send(
            &app,
            "GET",
            "/oauth/userinfo",
            "/oauth/userinfo",
            Some(&user_token),
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/oauth/userinfo",
            "/oauth/userinfo",
            None,
            None,
        )
        .await,
    );
    seen.push(
        form(
            &app,
            "/oauth/userinfo",
            &format!("access_token={user_token}"),
            None,
        )
        .await,
    );

    // Registration (open policy) and RFC 7592.
    let reg = send(
        &app,
        "POST",
        "/clients/register",
        "/clients/register",
        None,
        Some(json!({
            "redirect_uris": [cb],
            "client_name": "Registered",
            "scope": "openid",
            "logo_uri": "https://app.example/logo.png",
            "contacts": ["ops@app.example"],
        })),
    )
    .await;
    let reg_id = reg.body["client_id"].as_str().unwrap().to_owned();
    let reg_token = reg.body["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    seen.push(reg);
    let reg_path = format!("/clients/register/{reg_id}");
    let p = "/clients/register/{client_id}";
    seen.push(
        send(
            &app,
            "POST",
            "/clients/register",
            "/clients/register",
            None,
            Some(json!({"redirect_uris": ["javascript:alert(1)"]})),
        )
        .await,
    );
    seen.push(send(&app, "GET", p, &reg_path, Some(&reg_token), None).await);
    seen.push(send(&app, "GET", p, &reg_path, Some("wrong"), None).await);
    seen.push(
        send(
            &app,
            "PUT",
            p,
            &reg_path,
            Some(&reg_token),
            Some(json!({"client_id": reg_id, "redirect_uris": [cb], "client_name": "Renamed"})),
        )
        .await,
    );
    seen.push(send(&app, "DELETE", p, &reg_path, Some(&reg_token), None).await);

    // The admin API, as an admin client.
    let mut admin = oauth2_actors::clients::NewClient::new(
        "admin",
        vec![GrantType::ClientCredentials],
        "",
        AuthMethod::ClientSecretBasic,
        vec![],
    );
    admin.admin = true;
    let admin = oauth2_actors::clients::create_client(
        app.services.store.as_ref(),
        &oauth2_core::SystemRandom::new(),
        oauth2_actors::now(),
        admin,
    )
    .await
    .unwrap();
    let admin = TestClient {
        id: admin.client.client_id,
        secret: admin.secret,
    };
    let (s, v) = app.client_credentials(&admin, Some("admin")).await;
    assert_eq!(s, 200, "{v}");
    let token = v["access_token"].as_str().unwrap().to_owned();
    let tok = Some(token.as_str());
    let a = |p: &str| format!("/admin/api{p}");

    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/clients",
            &a("/clients"),
            None,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/clients",
            &a("/clients"),
            Some(&access),
            None,
        )
        .await,
    );
    let created = send(
        &app,
        "POST",
        "/admin/api/clients",
        &a("/clients"),
        tok,
        Some(json!({"client_name": "Made", "redirect_uris": [cb], "scope": "openid"})),
    )
    .await;
    let made = created.body["client_id"].as_str().unwrap().to_owned();
    seen.push(created);
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/clients",
            &a("/clients"),
            tok,
            Some(json!({"client_name": "Bad", "typo": true})),
        )
        .await,
    );
    invalid_on_purpose(&mut seen);
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/clients",
            &a("/clients?limit=1"),
            tok,
            None,
        )
        .await,
    );
    let c = "/admin/api/clients/{id}";
    let made_path = a(&format!("/clients/{made}"));
    seen.push(send(&app, "GET", c, &made_path, tok, None).await);
    seen.push(send(&app, "GET", c, &a("/clients/nobody"), tok, None).await);
    seen.push(
        send(
            &app,
            "PUT",
            c,
            &made_path,
            tok,
            Some(json!({"client_name": "Made again", "redirect_uris": [cb]})),
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/clients/{id}/secret",
            &format!("{made_path}/secret"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/clients/{id}/revoke-tokens",
            &format!("{made_path}/revoke-tokens"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/tokens",
            &a(&format!("/tokens?client_id={}", web_client.id)),
            tok,
            None,
        )
        .await,
    );
    let listed = seen.last().unwrap().body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    seen.push(send(&app, "GET", "/admin/api/tokens", &a("/tokens"), tok, None).await);
    seen.push(
        send(
            &app,
            "DELETE",
            "/admin/api/tokens/{id}",
            &a(&format!("/tokens/{listed}")),
            tok,
            None,
        )
        .await,
    );
    seen.push(send(&app, "DELETE", c, &made_path, tok, None).await);

    let user = send(
        &app,
        "POST",
        "/admin/api/users",
        &a("/users"),
        tok,
        Some(json!({"username": "bob", "password": "bob-password-1", "email": "bob@example.com"})),
    )
    .await;
    let bob = user.body["id"].as_str().unwrap().to_owned();
    seen.push(user);
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/users",
            &a("/users"),
            tok,
            Some(json!({"username": "bob", "password": "bob-password-2"})),
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/users",
            &a("/users?q=bo"),
            tok,
            None,
        )
        .await,
    );
    let u = "/admin/api/users/{id}";
    let bob_path = a(&format!("/users/{bob}"));
    seen.push(send(&app, "GET", u, &bob_path, tok, None).await);
    seen.push(
        send(
            &app,
            "PATCH",
            u,
            &bob_path,
            tok,
            Some(json!({"email": null, "admin": false})),
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/users/{id}/password",
            &format!("{bob_path}/password"),
            tok,
            Some(json!({"password": "bob-password-3"})),
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/users/{id}/revoke-tokens",
            &format!("{bob_path}/revoke-tokens"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/users/{id}/disable",
            &format!("{bob_path}/disable"),
            tok,
            None,
        )
        .await,
    );

    seen.push(send(&app, "GET", "/admin/api/keys", &a("/keys"), tok, None).await);
    seen.push(
        send(
            &app,
            "POST",
            "/admin/api/keys/rotate",
            &a("/keys/rotate"),
            tok,
            None,
        )
        .await,
    );
    let rt = send(
        &app,
        "POST",
        "/admin/api/registration-tokens",
        &a("/registration-tokens"),
        tok,
        Some(json!({"description": "ci", "expires_in": 3600, "max_uses": 2})),
    )
    .await;
    let rt_id = rt.body["id"].as_str().unwrap().to_owned();
    seen.push(rt);
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/registration-tokens",
            &a("/registration-tokens"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "DELETE",
            "/admin/api/registration-tokens/{id}",
            &a(&format!("/registration-tokens/{rt_id}")),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/events",
            &a("/events?limit=5"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/events",
            &a("/events?after=x"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/events/recent",
            &a("/events/recent?limit=3"),
            tok,
            None,
        )
        .await,
    );
    seen.push(
        send(
            &app,
            "GET",
            "/admin/api/events/recent",
            &a("/events/recent?limit=x"),
            tok,
            None,
        )
        .await,
    );

    let errors = check_seen(&doc, &seen);
    assert!(
        errors.is_empty(),
        "answers that do not fit the document:\n{}",
        errors.join("\n")
    );
    // Every documented operation was seen answering at least once.
    let seen_ops: BTreeSet<(String, String)> = seen
        .iter()
        .map(|s| (s.path.to_owned(), s.method.to_owned()))
        .collect();
    let unseen: Vec<_> = documented_operations(&doc)
        .difference(&seen_ops)
        .cloned()
        .collect();
    assert!(unseen.is_empty(), "not exercised: {unseen:?}");
    eprintln!(
        "openapi: {} real answers fit the document's schemas",
        seen.len()
    );
}
