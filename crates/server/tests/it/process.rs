//! The real binary as a running server: started with an explicit environment on a free port,
//! its stderr kept in a file for the assertion messages, killed if the test fails.

use crate::cli::{KillOnDrop, command, scratch_dir};
use oauth2_testkit::temp_path;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub struct RunningServer {
    pub child: KillOnDrop,
    pub port: u16,
    log: PathBuf,
}

impl RunningServer {
    /// Starts `oauth2-server` with `env` (its `OAUTH2_SERVER_PORT` replaced by a free port) and
    /// waits until `/health` answers 200.
    pub async fn start(env: &BTreeMap<String, String>) -> RunningServer {
        let port = free_port();
        let mut env = env.clone();
        env.insert("OAUTH2_SERVER_PORT".into(), port.to_string());
        let log = temp_path("log");
        let mut cmd = command(&scratch_dir(), &env, &[]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let mut server = RunningServer {
            child: KillOnDrop(cmd.spawn().unwrap()),
            port,
            log,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = http.get(server.url("/health")).send().await {
                assert_eq!(res.status(), 200, "/health answers 200");
                break;
            }
            if let Some(status) = server.child.0.try_wait().unwrap() {
                panic!("the server exited with {status}: {}", server.logs());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer within 30 s: {}",
                server.logs()
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the server has logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn sigterm(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.0.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits (at most 30 s) for the process to exit.
    pub async fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within 30 s: {}",
                self.logs()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
