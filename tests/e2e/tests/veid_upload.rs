//! VEID on a real localnet (issue 4, "done when"): a new user uploads an ID-document photo
//! and a selfie with the CLI (sealed to the identity recipient set, signed by the
//! localnet's approved test capture client and by the user's key), requests
//! verification, and the request is visible as pending. A replayed salt is refused with
//! identity code 7. The recipient set is the validator's enclave key; that the enclave
//! opens and scores the scopes is tests/veid_scoring.rs.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use ve_e2e::{str_of, Localnet, Run, CHAIN_ID};

const TIMEOUT: Duration = Duration::from_secs(120);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn cli(net: &Localnet, args: &[&str]) -> Run {
    net.client(args)
}

fn tx_json(net: &Localnet, args: &[&str]) -> (Run, Value) {
    net.tx_json(args)
}

fn query_json(net: &Localnet, args: &[&str]) -> Value {
    net.query_json(args)
}

#[test]
fn user_uploads_document_and_selfie_with_the_cli_and_the_request_is_pending() {
    // 2 s blocks: the enclave scores a request about 3 blocks after it, and the pending
    // state is checked before that.
    let net = Localnet::start("veid", &["--timeout-commit", "2s"]);
    net.wait_height(2, Duration::from_secs(60));
    let home = net.home.clone();

    // The localnet wrote its approved test capture client, and the identity recipient set
    // is its validator's enclave key (registered, active), not a key file anywhere.
    assert!(home.join("capture-client.key").is_file());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("localnet.json")).unwrap())
            .unwrap();
    let enclaves = manifest["veid"]["enclaves"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(enclaves.len(), 1, "{manifest}");
    let active = query_json(&net, &["query", "enclave", "active-keys"]);
    assert_eq!(
        active["keys"][0]["envelope_fingerprint"], enclaves[0]["fingerprint"],
        "{active}"
    );
    let params = query_json(&net, &["query", "identity", "params"]);
    assert_eq!(
        params["params"]["recipient_fingerprints"],
        serde_json::json!([str_of(&enclaves[0]["fingerprint"])]),
        "{params}"
    );

    // A brand-new user, funded by alice.
    let add = net.cli(
        &[
            "keys",
            "add",
            "carol",
            "--output",
            "json",
            "--home",
            &net.home_str,
            "--keyring-backend",
            "test",
        ],
        TIMEOUT,
    );
    assert!(add.success, "{}", add.describe());
    let carol = str_of(&add.json().expect("keys add prints JSON")["address"]);
    assert!(carol.starts_with("ve1"), "{carol}");
    let (r, sent) = tx_json(
        &net,
        &["tx", "bank", "send", "alice", &carol, "50000000uve"],
    );
    assert!(r.success && sent["code"] == 0, "{}", r.describe());

    // A file that is not an image is refused before anything is sent.
    let not_image = net.home.join("not-an-image.jpg");
    std::fs::write(
        &not_image,
        "just some text, not a photo of anything at all ...",
    )
    .unwrap();
    let bad = cli(
        &net,
        &[
            "tx",
            "identity",
            "upload",
            "--document",
            not_image.to_str().unwrap(),
            "--from",
            "carol",
            "--chain-id",
            CHAIN_ID,
            "--yes",
        ],
    );
    assert!(!bad.success, "{}", bad.describe());
    assert!(
        bad.stderr.contains("not a usable image"),
        "{}",
        bad.describe()
    );

    // Upload both photos in one tx, with consent for the selfie (biometric).
    let doc = fixture("document.jpg");
    let selfie = fixture("selfie.jpg");
    let (r, up) = tx_json(
        &net,
        &[
            "tx",
            "identity",
            "upload",
            "--document",
            doc.to_str().unwrap(),
            "--selfie",
            selfie.to_str().unwrap(),
            "--consent",
            "--from",
            "carol",
        ],
    );
    assert!(r.success, "{}", r.describe());
    assert_eq!(up["code"], 0, "{up}");
    let hash = str_of(&up["txhash"]);
    assert_eq!(hash.len(), 64, "{up}");
    let scopes = up["scopes"].as_array().cloned().unwrap_or_default();
    assert_eq!(scopes.len(), 2, "{up}");
    let doc_scope = scopes
        .iter()
        .find(|s| s["scope_type"] == "id_document")
        .unwrap_or_else(|| panic!("no id_document scope in {up}"));
    let doc_id = str_of(&doc_scope["scope_id"]);
    let doc_salt = str_of(&doc_scope["salt"]);
    assert_eq!(doc_scope["media_type"], "image/jpeg");
    // The chain recorded it at that hash.
    let (h, code, _) = net.rpc.tx(&hash).unwrap().expect("/tx finds the upload");
    assert_eq!((h, code), (up["height"].as_u64().unwrap(), 0));

    // Both scopes are PENDING, signed by the localnet's approved client.
    let listed = query_json(&net, &["query", "identity", "scopes", "carol"]);
    let list = listed["scopes"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{listed}");
    for s in &list {
        assert_eq!(s["status"], "PENDING", "{listed}");
        assert_eq!(s["metadata"]["client_id"], "localnet-capture", "{listed}");
    }
    let record = query_json(&net, &["query", "identity", "record", "carol"]);
    assert_eq!(record["record"]["live_scope_count"], 2, "{record}");

    // Request verification: one request covering both scopes, visible as pending.
    let (r, req) = tx_json(
        &net,
        &["tx", "identity", "request-verification", "--from", "carol"],
    );
    assert!(r.success, "{}", r.describe());
    assert_eq!(req["code"], 0, "{req}");
    let request_id = str_of(&req["request_id"]);
    assert_eq!(request_id.len(), 32, "{req}");
    let pending = query_json(&net, &["query", "identity", "pending", "carol"]);
    let reqs = pending["requests"].as_array().cloned().unwrap_or_default();
    assert_eq!(reqs.len(), 1, "{pending}");
    assert_eq!(reqs[0]["request_id"], request_id.as_str(), "{pending}");
    assert_eq!(reqs[0]["status"], "PENDING", "{pending}");
    assert_eq!(reqs[0]["account"], carol.as_str(), "{pending}");
    let mut covered: Vec<String> = reqs[0]["scope_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    covered.sort();
    let mut uploaded: Vec<String> = scopes.iter().map(|s| str_of(&s["scope_id"])).collect();
    uploaded.sort();
    assert_eq!(covered, uploaded, "{pending}");
    // The whole queue shows it too, and the scopes are now IN_PROGRESS.
    let all = query_json(&net, &["query", "identity", "pending"]);
    assert!(
        all["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["request_id"] == request_id.as_str()),
        "{all}"
    );
    let listed = query_json(&net, &["query", "identity", "scopes", "carol"]);
    for s in listed["scopes"].as_array().unwrap() {
        assert_eq!(s["status"], "IN_PROGRESS", "{listed}");
    }
    let score = query_json(&net, &["query", "identity", "score", "carol"]);
    assert_eq!(
        (&score["found"], &score["tier"]),
        (&Value::Bool(false), &Value::String("UNVERIFIED".into())),
        "{score}"
    );

    // Replaying the document's salt (new scope id, valid signatures) is refused: code 7.
    // With simulated gas the simulation already refuses it, with the module's message.
    let sim = cli(
        &net,
        &[
            "tx",
            "identity",
            "upload",
            "--document",
            doc.to_str().unwrap(),
            "--salt",
            &doc_salt,
            "--from",
            "carol",
            "--chain-id",
            CHAIN_ID,
            "--yes",
        ],
    );
    assert!(!sim.success, "{}", sim.describe());
    assert!(
        sim.stderr.contains("salt was already used"),
        "{}",
        sim.describe()
    );
    // With a fixed gas limit the transaction reaches the chain and fails with the code.
    let (r, replay) = tx_json(
        &net,
        &[
            "tx",
            "identity",
            "upload",
            "--document",
            doc.to_str().unwrap(),
            "--salt",
            &doc_salt,
            "--gas",
            "800000",
            "--from",
            "carol",
        ],
    );
    assert!(!r.success, "a replayed salt must fail\n{}", r.describe());
    assert_eq!(
        (replay["codespace"].as_str(), replay["code"].as_u64()),
        (Some("identity"), Some(7)),
        "{replay}"
    );
    assert!(r.stderr.contains("fresh salt"), "{}", r.describe());
    let listed = query_json(&net, &["query", "identity", "scopes", "carol"]);
    assert_eq!(listed["scopes"].as_array().unwrap().len(), 2, "{listed}");

    // The stored document envelope can be exported; it is addressed to the enclave key
    // (only the enclave service, which holds the sealed secret, opens it).
    let env = net.home.join("doc.env");
    let q = query_json(
        &net,
        &[
            "query",
            "identity",
            "scope",
            "carol",
            &doc_id,
            "--envelope-out",
            env.to_str().unwrap(),
        ],
    );
    assert_eq!(q["scope"]["scope_id"], doc_id.as_str(), "{q}");
    assert!(std::fs::metadata(&env).unwrap().len() > 1000);

    net.stop();
}
