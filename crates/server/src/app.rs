//! Building and running the server: storage, migrations, keys, actors, HTTP.

use crate::config::{Config, redact_url};
use actix_web::{App, HttpServer};
use oauth2_actors::{Actors, Services};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Why the server could not start; each is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {url}: {cause}")]
    Database { url: String, cause: String },
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
    #[error("cannot load the signing keys: {0}")]
    Keys(String),
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: String, cause: String },
}

/// Opens the database named in the configuration and applies pending migrations.
pub async fn open_storage(
    config: &Config,
) -> Result<Arc<dyn oauth2_core::ports::Storage>, StartError> {
    let store = oauth2_store::open(&config.database_url, config.database_max_connections)
        .await
        .map_err(|e| StartError::Database {
            url: redact_url(&config.database_url),
            cause: e.to_string(),
        })?;
    let applied = store
        .migrate()
        .await
        .map_err(|e| StartError::Migrate(e.to_string()))?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied database migrations");
    }
    Ok(store)
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    metrics_server: Option<actix_web::dev::Server>,
    services: Arc<Services>,
    cleanup_interval: u64,
}

impl Application {
    /// Binds the configured address and prepares everything; call [`Application::run`] to serve.
    pub async fn build(mut config: Config) -> Result<Application, StartError> {
        let addr = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&addr).map_err(|e| StartError::Bind {
            addr: addr.clone(),
            cause: e.to_string(),
        })?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(config.port);
        if config.issuer_from_address && config.port == 0 {
            // Port 0 picks a free port: the derived issuer must name the real one.
            let issuer = format!("http://{}:{port}", config.host);
            if config.settings.audience == config.settings.issuer {
                config.settings.audience = issuer.clone();
            }
            config.settings.issuer = issuer;
        }
        let store = open_storage(&config).await?;
        let services = Services::start(store, config.settings.clone())
            .await
            .map_err(|e| StartError::Keys(e.to_string()))?;
        let shared = services.clone();
        oauth2_web::metrics::handle();
        let metrics_on_main = config.metrics_addr.is_none();
        let mut http = HttpServer::new(move || {
            // One set of actors per worker thread: see oauth2_actors::Actors::start.
            let actors = Actors::start(shared.clone());
            let services = shared.clone();
            let for_metrics = shared.clone();
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    oauth2_web::metrics::http_metrics,
                ))
                .wrap(oauth2_web::security_headers())
                // Outermost: the request span covers every other middleware and the handler.
                .wrap(actix_web::middleware::from_fn(
                    oauth2_web::context::request_context,
                ))
                .configure(move |cfg| {
                    oauth2_web::configure(cfg, actors, services);
                    if metrics_on_main {
                        oauth2_web::configure_metrics(cfg, for_metrics);
                    }
                })
        })
        .shutdown_timeout(10);
        if let Some(w) = config.workers {
            http = http.workers(w);
        }
        let metrics_server = match &config.metrics_addr {
            Some(addr) => {
                let svc = services.clone();
                let server = HttpServer::new(move || {
                    let svc = svc.clone();
                    App::new().configure(move |cfg| oauth2_web::configure_metrics(cfg, svc))
                })
                .workers(1)
                .bind(addr)
                .map_err(|e| StartError::Bind {
                    addr: addr.clone(),
                    cause: e.to_string(),
                })?
                .run();
                Some(server)
            }
            None => None,
        };
        let server = http
            .listen(listener)
            .map_err(|e| StartError::Bind {
                addr: addr.clone(),
                cause: e.to_string(),
            })?
            .run();
        tracing::info!(
            %addr,
            port,
            issuer = %services.settings.issuer,
            database = services.store.backend(),
            algorithm = %services.settings.algorithm,
            "oauth2-server listening"
        );
        Ok(Application {
            port,
            server,
            metrics_server,
            services,
            cleanup_interval: config.cleanup_interval,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Serves until the process is told to stop (SIGINT/SIGTERM, handled by actix-web).
    pub async fn run(self) -> std::io::Result<()> {
        let events = self
            .services
            .events
            .start(self.services.store.clone(), true);
        let svc = self.services.clone();
        // Keys rotated by the CLI or another instance are picked up within this period; they
        // sign only after `key_activation_delay`, which is longer, so no token is ever signed
        // with a key a resource server has not been able to fetch.
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                if let Err(e) = svc.reload_keys().await {
                    tracing::warn!(error = %e, "could not reload signing keys");
                }
            }
        });
        if let Some(m) = self.metrics_server {
            actix_web::rt::spawn(m);
        }
        // The Prometheus recorder keeps histogram samples until they are folded into the
        // buckets; without this they would pile up between scrapes (or forever, unscraped).
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Some(h) = oauth2_web::metrics::handle() {
                    h.run_upkeep();
                }
            }
        });
        let svc = self.services.clone();
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(oauth2_web::metrics::CLUSTER_GAUGE_PERIOD);
            loop {
                tick.tick().await;
                oauth2_web::metrics::refresh_cluster_gauges(&svc).await;
            }
        });
        if self.cleanup_interval > 0 {
            let svc = self.services.clone();
            let period = Duration::from_secs(self.cleanup_interval);
            actix_web::rt::spawn(async move {
                let mut tick = actix_web::rt::time::interval(period);
                loop {
                    tick.tick().await;
                    let now = oauth2_actors::now();
                    if let Err(e) =
                        oauth2_actors::housekeeping::cleanup(svc.store.as_ref(), &svc.settings, now)
                            .await
                    {
                        tracing::warn!(error = %e, "housekeeping failed");
                    }
                }
            });
        }
        let served = self.server.await;
        // Stopped accepting and drained the requests in flight (SIGTERM/SIGINT): the events
        // they caused go to their sinks (webhook events into the outbox, for the next start or
        // another instance) before the process ends.
        events.shutdown().await;
        tracing::info!("events flushed; stopped");
        served
    }
}
