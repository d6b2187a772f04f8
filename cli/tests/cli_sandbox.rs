//! `tgpay sandbox`: the JSON line a client connects with, and a real client using it.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use common::{call, card_form, get_form, slug};
use grammers_client::Client;
use grammers_mtsender::SenderPool;
use grammers_session::storages::MemorySession;
use tgpay_sandbox::ConnectionInfo;
use tgpay_sandbox::handle::{key_from_hex, preshared_session};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .arg("sandbox")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tgpay starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    (Running(child), line)
}

#[tokio::test]
async fn the_first_line_says_how_to_connect_and_a_client_can() {
    let (_sandbox, line) = start(&[]);
    let json: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
    for key in [
        "dc_id",
        "host",
        "port",
        "users",
        "invoices",
        "test_cards",
        "verification_base_url",
    ] {
        assert!(json.get(key).is_some(), "missing {key} in {line}");
    }
    let alice = &json["users"][0];
    assert_eq!(alice["auth_key"].as_str().unwrap().len(), 512);
    assert!(alice["password"].is_string());
    assert!(json["users"][1]["password"].is_null());
    let kinds: Vec<&str> = json["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"card") && kinds.contains(&"stars"));
    for outcome in ["success", "decline", "three_d_secure"] {
        let credentials: serde_json::Value =
            serde_json::from_str(json["test_cards"][outcome].as_str().unwrap()).unwrap();
        assert_eq!(credentials["type"], "card");
    }

    // Connect with nothing but the line.
    let info: ConnectionInfo = serde_json::from_str(&line).unwrap();
    let addr: SocketAddr = format!("{}:{}", info.host, info.port).parse().unwrap();
    let key = key_from_hex(&info.users[0].auth_key).unwrap();
    let session = Arc::new(MemorySession::from(
        preshared_session(info.dc_id, addr, &key).unwrap(),
    ));
    let pool = SenderPool::new(session, 4);
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    let invoice = info.invoices.iter().find(|i| i.kind == "card").unwrap();
    let form = card_form(call(&client, &get_form(slug(&invoice.slug))).await.unwrap());
    let tgpay::tl::enums::Invoice::Invoice(tl_invoice) = form.invoice;
    assert_eq!(tl_invoice.currency, invoice.currency);
    runner.abort();
}

#[test]
fn a_bad_scenario_file_is_exit_code_2_with_a_reason() {
    let dir = std::env::temp_dir().join(format!("tgpay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "[[users]]\nid = -5\nfirst_name = \"Eve\"").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .args(["sandbox", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("ids must be positive"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn listening_beyond_loopback_prints_a_warning() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .args(["sandbox", "--listen", "0.0.0.0:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("auth_key"), "{line}");
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("non-loopback") && stderr.contains("full access"),
        "{stderr}"
    );
}
