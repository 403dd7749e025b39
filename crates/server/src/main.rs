//! `oauth2-server`: see `oauth2-server --help`.

fn main() -> std::process::ExitCode {
    oauth2_server::cli::main()
}
