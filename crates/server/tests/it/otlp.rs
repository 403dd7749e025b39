//! OpenTelemetry export: the real binary (the tracing subscriber is process-wide, so the
//! in-process test app cannot install one of its own) sends the spans of a token request to an
//! OTLP receiver run by the test, over HTTP or gRPC, with the W3C trace context of the caller.

use crate::cli::{KillOnDrop, command, run, scratch_dir};
use crate::http_receiver::read_request;
use crate::process::free_port;
use oauth2_testkit::temp_path;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::server::TcpIncoming;

/// One exported span, with the `service.name` of the batch it came in.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    span: Span,
}

/// What the receiver saw: the spans, and anything wrong with a request.
#[derive(Default)]
struct Inbox {
    spans: Vec<Received>,
    problems: Vec<String>,
}

impl Inbox {
    fn record(&mut self, export: ExportTraceServiceRequest) {
        for resource_spans in export.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| string_attribute(&r.attributes, "service.name"))
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    self.spans.push(Received {
                        service: service.clone(),
                        span,
                    });
                }
            }
        }
    }

    fn spans(inbox: &Mutex<Inbox>) -> Vec<Received> {
        let inbox = inbox.lock().unwrap();
        assert!(
            inbox.problems.is_empty(),
            "bad export requests: {:?}",
            inbox.problems
        );
        inbox.spans.clone()
    }
}

/// An OTLP/HTTP receiver on a free loopback port: `POST /v1/traces` with a protobuf
/// `ExportTraceServiceRequest`, answered 200 with an empty `ExportTraceServiceResponse`.
struct Receiver {
    port: u16,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let shared = inbox.clone();
        // Lives as long as the test process; each connection gets a thread (keep-alive).
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inbox = shared.clone();
                std::thread::spawn(move || serve_connection(stream, &inbox));
            }
        });
        Receiver { port, inbox }
    }

    fn spans(&self) -> Vec<Received> {
        Inbox::spans(&self.inbox)
    }
}

/// An OTLP/gRPC receiver on a free loopback port: the `TraceService` server that
/// opentelemetry-proto generates for tonic, on a thread with its own Tokio runtime.
struct GrpcReceiver {
    port: u16,
    inbox: Arc<Mutex<Inbox>>,
}

struct Collector(Arc<Mutex<Inbox>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().record(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl GrpcReceiver {
    fn start() -> GrpcReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let collector = Collector(inbox.clone());
        // Lives as long as the test process.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tonic::transport::Server::builder()
                    .serve_with_incoming(
                        TraceServiceServer::new(collector),
                        TcpIncoming::from(listener),
                    )
                    .await
                    .unwrap();
            });
        });
        GrpcReceiver { port, inbox }
    }

    fn spans(&self) -> Vec<Received> {
        Inbox::spans(&self.inbox)
    }
}

fn serve_connection(stream: TcpStream, inbox: &Mutex<Inbox>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    // Until the exporter closes the connection.
    while let Some(request) = read_request(&mut reader) {
        let (request_line, headers, body) = (request.line, request.headers, request.body);
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let content_type = headers.get("content-type").map(String::as_str);
        let problem = if (method, path) != ("POST", "/v1/traces") {
            Some(format!("unexpected request {request_line:?}"))
        } else if content_type != Some("application/x-protobuf") {
            Some(format!("content type {content_type:?}"))
        } else {
            match ExportTraceServiceRequest::decode(body.as_slice()) {
                Ok(export) => {
                    inbox.lock().unwrap().record(export);
                    None
                }
                Err(e) => Some(format!("not an ExportTraceServiceRequest: {e}")),
            }
        };
        let status = if let Some(p) = problem {
            inbox.lock().unwrap().problems.push(p);
            "400 Bad Request"
        } else {
            "200 OK"
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn string_attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref() {
            Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) => Some(s.clone()),
            _ => None,
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Traces the token request's whole path: request span (child of the caller's span) → token
/// operation → client authentication → database. The batch exporter is set to wait 30 s between
/// exports, so the spans can only arrive through the flush when the server stops on SIGTERM.
#[actix_web::test]
async fn a_token_request_exports_its_spans_as_children_of_the_incoming_traceparent() {
    let receiver = Receiver::start();
    exports_a_token_requests_trace(receiver.port, None, || receiver.spans()).await;
}

/// The same over OTLP/gRPC (`OAUTH2_OTLP_PROTOCOL=grpc`), to the tonic `TraceService`.
#[actix_web::test]
async fn over_grpc_a_token_request_exports_the_same_spans() {
    let receiver = GrpcReceiver::start();
    exports_a_token_requests_trace(receiver.port, Some("grpc"), || receiver.spans()).await;
}

/// Runs the binary exporting to `receiver_port` (with `OAUTH2_OTLP_PROTOCOL` = `protocol`, if
/// given), makes a token request in a caller's trace, stops the server with SIGTERM, and checks
/// what `spans` then returns.
async fn exports_a_token_requests_trace(
    receiver_port: u16,
    protocol: Option<&str>,
    spans: impl Fn() -> Vec<Received>,
) {
    let dir = scratch_dir();
    let port = free_port();
    let mut env: BTreeMap<String, String> = [
        ("OAUTH2_SERVER_PORT", port.to_string()),
        (
            "OAUTH2_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{receiver_port}"),
        ),
        ("OAUTH2_SERVICE_NAME", "oauth2-otlp-test".to_owned()),
        ("OAUTH2_LOG_FORMAT", "json".to_owned()),
        ("OAUTH2_LOG_LEVEL", "debug,sqlx=warn".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "30000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(p) = protocol {
        env.insert("OAUTH2_OTLP_PROTOCOL".into(), p.to_owned());
    }

    // The client is created in the database directly: the server meets it first in the token
    // request, so the client lookup goes to the database inside the request's trace.
    let created = {
        let (dir, env) = (dir.clone(), env.clone());
        actix_web::rt::task::spawn_blocking(move || {
            run(
                &dir,
                &env,
                &["client", "create", "--name", "otlp", "--scope", "api.read"],
                None,
            )
        })
        .await
        .unwrap()
        .json()
    };
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let client_secret = created["client_secret"].as_str().unwrap().to_owned();

    let log = temp_path("log");
    let mut cmd = command(&dir, &env, &[]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut server = KillOnDrop(cmd.spawn().unwrap());
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = http.get(format!("{base}/health")).send().await {
            assert_eq!(res.status(), 200, "/health answers 200");
            break;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("the server exited with {status}: {}", logs());
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 30 s: {}",
            logs()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller_span = "b7ad6b7169203331";
    let res = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .header("traceparent", format!("00-{trace}-{caller_span}-01"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=api.read")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the token request succeeds: {}", logs());
    drop(http);

    // SIGTERM: actix stops, then the server flushes the queued spans before it exits.
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 30 s of SIGTERM: {}",
            logs()
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a clean exit: {status}: {}", logs());

    // The receiver has answered each export before the server could exit; allow a moment more.
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        received = spans();
        if received.iter().any(|r| r.span.name == "request") {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let spans = received;
    let names: Vec<&str> = spans.iter().map(|r| r.span.name.as_str()).collect();
    assert!(
        spans.iter().all(|r| r.service == "oauth2-otlp-test"),
        "every span names the service: {spans:#?}"
    );
    let in_trace: Vec<&Span> = spans
        .iter()
        .map(|r| &r.span)
        .filter(|s| hex(&s.trace_id) == trace)
        .collect();
    let find = |name: &str| -> &Span {
        let found: Vec<&&Span> = in_trace.iter().filter(|s| s.name == name).collect();
        assert_eq!(
            found.len(),
            1,
            "one {name} span in the trace; received: {names:?}"
        );
        found[0]
    };
    let request = find("request");
    let token = find("token");
    let authenticate = find("authenticate_client");

    // The request continues the caller's trace.
    assert_eq!(hex(&request.parent_span_id), caller_span);
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(
        string_attribute(&request.attributes, "path").as_deref(),
        Some("/oauth/token")
    );
    assert_eq!(
        string_attribute(&request.attributes, "trace_id").as_deref(),
        Some(trace)
    );
    // The actor's operation runs in it, and authenticates the client in it.
    assert_eq!(token.parent_span_id, request.span_id, "token ⊂ request");
    assert_eq!(
        string_attribute(&token.attributes, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        authenticate.parent_span_id, token.span_id,
        "authenticate_client ⊂ token"
    );
    // The client lookup went to the database, under the token operation.
    let by_id: BTreeMap<&[u8], &Span> = in_trace.iter().map(|s| (&s.span_id[..], *s)).collect();
    let descends_from_token = |s: &Span| {
        let mut parent = &s.parent_span_id[..];
        for _ in 0..16 {
            if parent == token.span_id.as_slice() {
                return true;
            }
            match by_id.get(parent) {
                Some(p) => parent = &p.parent_span_id[..],
                None => return false,
            }
        }
        false
    };
    let db = find("db.get_client");
    assert!(descends_from_token(db), "db.get_client ⊂ token: {db:#?}");
    assert_eq!(db.kind, SpanKind::Client as i32);
    assert_eq!(
        string_attribute(&db.attributes, "db.system").as_deref(),
        Some("sqlite")
    );
    assert!(
        in_trace
            .iter()
            .all(|s| [&request.span_id, &token.span_id].contains(&&s.span_id)
                || descends_from_token(s)),
        "every other span of the trace is under the token operation: {names:?}"
    );

    // Logs and traces join: the request's log lines carry the exported trace id, for a caller's
    // trace and for one the server started (the /health probe had no traceparent).
    let logs = logs();
    let request_trace_ids: Vec<String> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v["spans"]
                .as_array()?
                .iter()
                .find(|s| s["name"] == "request")?["trace_id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        request_trace_ids.iter().any(|t| t == trace),
        "the token request's log lines carry its trace id: {logs}"
    );
    let health = spans
        .iter()
        .map(|r| &r.span)
        .find(|s| {
            s.name == "request"
                && string_attribute(&s.attributes, "path").as_deref() == Some("/health")
        })
        .unwrap_or_else(|| panic!("the /health request was exported: {names:?}"));
    let health_trace = hex(&health.trace_id);
    assert!(health.parent_span_id.is_empty(), "a trace of its own");
    assert!(
        request_trace_ids.contains(&health_trace),
        "the /health request's log lines carry the trace id it was exported with ({health_trace})"
    );
}
