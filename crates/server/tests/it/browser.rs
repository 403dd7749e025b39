//! The login and consent pages in a real browser: runs the node tests in `tests/browser/`
//! (node's test runner, playwright-core driving Debian's `/usr/bin/chromium`) against this build's
//! binary, so that `cargo test --workspace` includes them.
//!
//! Without node or chromium the test prints a skip line and passes, unless `CI` is set: then it fails.
//! Screenshots of the pages land in `target/browser-artifacts/`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// `npm ci` of one package from the registry.
const NPM_DEADLINE: Duration = Duration::from_secs(300);
/// The node tests bound every step themselves (a few seconds each, five minutes in all); this is the
/// backstop above that.
const NODE_DEADLINE: Duration = Duration::from_secs(420);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// What a bounded run printed (stdout then stderr) and how it ended; `None`: killed at the deadline.
struct Run {
    status: Option<ExitStatus>,
    output: String,
}

/// Runs `cmd` in its own process group; past `deadline` kills the whole group (node, the server it
/// started, npm's children), so nothing is left running.
fn run_bounded(cmd: &mut Command, deadline: Duration) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {cmd:?}: {e}"));
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < deadline => {
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
    Run { status, output }
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

fn has_command(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn login_and_consent_work_in_a_real_browser() {
    let missing: Vec<&str> = [
        (!has_command("node")).then_some("node"),
        (!has_command("npm")).then_some("npm"),
        (!Path::new(CHROMIUM).exists()).then_some(CHROMIUM),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(
            !in_ci(),
            "CI is set but the browser tests cannot run: missing {what} \
             (apt-get install -y chromium nodejs npm; .ci/run installs chromium)"
        );
        println!(
            "skipping browser tests: {what} not installed (apt-get install chromium; node and npm from nodejs)"
        );
        return;
    }

    let root = repo_root();
    let dir = root.join("tests").join("browser");
    if !dir.join("node_modules").join("playwright-core").exists() {
        let run = run_bounded(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            NPM_DEADLINE,
        );
        assert!(
            run.status.is_some_and(|s| s.success()),
            "npm ci in {} failed ({:?}, None = killed after {NPM_DEADLINE:?}):\n{}",
            dir.display(),
            run.status,
            run.output
        );
    }

    let run = run_bounded(
        Command::new("node")
            .args(["--test", "tests/browser/"])
            .current_dir(&root)
            .env("OAUTH2_BIN", env!("CARGO_BIN_EXE_oauth2-server")),
        NODE_DEADLINE,
    );
    println!("{}", run.output);
    assert!(
        run.status.is_some_and(|s| s.success()),
        "the browser tests failed ({:?}, None = killed after {NODE_DEADLINE:?}); node printed:\n{}",
        run.status,
        run.output
    );
}
