//! Logging set-up: human-readable text or JSON lines, filtered by `log.level`; and, when
//! `otlp.endpoint` is set, OpenTelemetry export of the spans over OTLP/HTTP (protobuf) or OTLP/gRPC
//! (`otlp.protocol`).
//!
//! Without an endpoint no OpenTelemetry code runs: there is no layer, no exporter thread, and the
//! request middleware keeps its own trace ids.

use crate::config::{LogFormat, OtlpProtocol};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use std::time::Duration;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Where to export spans, how, and as what service.
pub struct Otlp<'a> {
    /// The collector's base URL: `http://host:4318` for OTLP/HTTP (`/v1/traces` is added unless
    /// present), `http://host:4317` for gRPC.
    pub endpoint: &'a str,
    pub protocol: OtlpProtocol,
    pub service_name: &'a str,
}

/// What [`init`] started: call [`Telemetry::shutdown`] once the server has stopped, so the spans
/// still queued are sent.
#[must_use = "shut it down when the server stops, or queued spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the span exporter (a no-op without one).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(5))
        {
            eprintln!("warning: could not flush the last spans to the OTLP collector: {e}");
        }
    }
}

/// The collector URL for traces: OTLP/HTTP posts them to `{base}/v1/traces`.
fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

/// Installs the global subscriber once; later calls (tests) are no-ops and export nothing.
pub fn init(level: &str, format: LogFormat, otlp: Option<Otlp<'_>>) -> Telemetry {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => fmt.boxed(),
        // Each line carries its spans, the outermost being the request (request_id, trace_id).
        LogFormat::Json => fmt
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
    };
    let provider = otlp.and_then(|o| match tracer_provider(&o) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("warning: OpenTelemetry export is off: {e}");
            None
        }
    });
    // Each layer has its own filter: the log level does not decide which spans are exported
    // (spans at info and above are, whatever the log level). The exporter's own events (its
    // errors, its HTTP client) are logged but never traced: that would feed the exporter itself.
    let otel = provider.as_ref().map(|p| {
        let exporter_crates = [
            "opentelemetry",
            "opentelemetry_sdk",
            "opentelemetry_otlp",
            "opentelemetry_http",
            "reqwest",
            "hyper",
            "hyper_util",
            "tonic",
            "h2",
            "tower",
        ];
        let filter = exporter_crates
            .into_iter()
            .fold(Targets::new().with_default(LevelFilter::INFO), |t, c| {
                t.with_target(c, LevelFilter::OFF)
            });
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("oauth2-server"))
            .with_filter(filter)
    });
    let installed = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otel)
        .try_init()
        .is_ok();
    match provider {
        Some(provider) if installed => {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            oauth2_web::context::enable_trace_export();
            Telemetry {
                provider: Some(provider),
            }
        }
        Some(provider) => {
            let _ = provider.shutdown();
            Telemetry { provider: None }
        }
        None => Telemetry { provider: None },
    }
}

/// A tracer provider with a batch exporter: spans are queued in memory and sent from a thread of
/// their own, never on the request's path.
fn tracer_provider(otlp: &Otlp<'_>) -> Result<SdkTracerProvider, String> {
    let resource = Resource::builder()
        .with_service_name(otlp.service_name.to_owned())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let builder = match otlp.protocol {
        OtlpProtocol::HttpProtobuf => builder.with_batch_exporter(
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(traces_url(otlp.endpoint))
                .build()
                .map_err(|e| e.to_string())?,
        ),
        OtlpProtocol::Grpc => builder.with_batch_exporter(OnTokio::grpc(otlp.endpoint)?),
    };
    Ok(builder.build())
}

/// The gRPC exporter (tonic on hyper) needs a Tokio runtime for its connection, and the SDK's
/// batch processor exports from a plain thread with no runtime (tonic would panic there, "no
/// reactor running", and every span after would be lost). So the exporter gets a runtime of its
/// own, one thread, made only when gRPC is chosen, and each export runs on it.
#[derive(Debug)]
struct OnTokio {
    exporter: opentelemetry_otlp::SpanExporter,
    runtime: tokio::runtime::Runtime,
}

impl OnTokio {
    fn grpc(endpoint: &str) -> Result<OnTokio, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otlp-grpc")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the gRPC exporter's runtime: {e}"))?;
        // The channel is made here (it connects lazily, on the first export), inside the runtime.
        let exporter = {
            let _in = runtime.enter();
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .map_err(|e| e.to_string())?
        };
        Ok(OnTokio { exporter, runtime })
    }
}

impl SpanExporter for OnTokio {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // Called on the batch processor's own thread, never inside a runtime: blocking is fine.
        std::future::ready(self.runtime.block_on(self.exporter.export(batch)))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _in = self.runtime.enter();
        self.exporter.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _in = self.runtime.enter();
        self.exporter.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}
