//! Stopping: on SIGTERM the real binary stops accepting, finishes the requests it has, and exits 0.

use crate::process::RunningServer;
use oauth2_testkit::{Backend, basic, spawn_app};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads from `conn` until the end of a response head (`\r\n\r\n`); returns the head.
fn read_head(conn: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = conn.read(&mut byte).unwrap();
        assert_eq!(
            n, 1,
            "the connection closed inside a response head: {head:?}"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[actix_web::test]
async fn on_sigterm_a_request_in_flight_completes_then_connections_are_refused_and_the_exit_is_0() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let client = app.service_client("api.read").await;
    let mut server = RunningServer::start(&app.env).await;
    let body = "grant_type=client_credentials&scope=api.read";
    let (first, rest) = body.split_at(12);

    // A token request whose body is only partly sent. `Expect: 100-continue` makes the server
    // say when it has the request in hand (parsed by a worker, not waiting in the accept queue).
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n",
        server.port,
        basic(&client.id, client.secret.as_deref().unwrap()),
        body.len()
    )
    .unwrap();
    let interim = read_head(&mut conn);
    assert!(
        interim.starts_with("HTTP/1.1 100 Continue"),
        "the request is in flight: {interim:?}"
    );
    conn.write_all(first.as_bytes()).unwrap();

    server.sigterm();

    // The listener closes: new connections are refused while the request is still open.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect(("127.0.0.1", server.port)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => break,
            Err(e) => panic!("connecting failed otherwise: {e}"),
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "still accepting 30 s after SIGTERM: {}",
                    server.logs()
                );
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(
        server.child.0.try_wait().unwrap().is_none(),
        "the server waits for the request in flight: {}",
        server.logs()
    );

    // The rest of the body: a complete answer.
    conn.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, json) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("a whole response: {response:?}"));
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{response}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("a Content-Length: {head}"));
    assert_eq!(json.len(), length, "the whole body arrived: {response}");
    let token: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(token["token_type"], "Bearer", "{token}");
    assert!(token["access_token"].as_str().is_some_and(|t| t.len() > 20));

    let status = server.exit_status().await;
    assert!(status.success(), "exit status {status}: {}", server.logs());
    assert_eq!(
        TcpStream::connect(("127.0.0.1", server.port))
            .unwrap_err()
            .kind(),
        ErrorKind::ConnectionRefused
    );
}
