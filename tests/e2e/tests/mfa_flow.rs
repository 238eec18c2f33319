//! Issue #7 on a real localnet, through the CLI as a user drives it: a large bank send
//! gated by the mfa module; WebAuthn with the software authenticator plus a VEID score
//! from the localnet's enclave; TOTP codes computed by `totp-rs` (as any authenticator
//! app would) and email codes delivered by a real SMTP server (aiosmtpd), both checked by
//! the validator's enclave service (`enclave run --otp-listen`) and its attestations
//! verified on chain against the enclave registry; the authority rule on MFA
//! configuration.
//!
//! Needs python3 with aiosmtpd (`pip install aiosmtpd`, see scripts/setup.sh).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use ve_e2e::{str_of, wait_until, Localnet, Run, CHAIN_ID, GENESIS_BALANCE};

/// 20,000 VE: above the large-transfer threshold of 10,000 VE.
const LARGE: u128 = 20_000_000_000;
/// MFA messages (CBOR, ES256, envelopes) need more than the CLI's default 200,000 gas.
const GAS: &str = "1000000";
const FEES: &str = "25000uve";
const CLI_TIMEOUT: Duration = Duration::from_secs(120);

/// A local SMTP server that stores every message in a Maildir.
struct Smtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp() -> Smtp {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 is needed for the SMTP server (pip install aiosmtpd)");
    let smtp = Smtp {
        child,
        port,
        maildir,
        _dir: dir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return smtp;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("aiosmtpd did not start on port {port}: install it with `pip install aiosmtpd`");
}

fn mails(smtp: &Smtp) -> Vec<String> {
    std::fs::read_dir(smtp.maildir.join("new"))
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

struct Cli<'a> {
    net: &'a Localnet,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&[
            "--home",
            &self.net.home_str,
            "--node",
            &self.net.rpc.url,
            "--output",
            "json",
        ]);
        self.net.cli(&all, CLI_TIMEOUT)
    }

    /// A transaction command (signing flags added).
    fn tx(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = vec!["tx"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--chain-id",
            CHAIN_ID,
            "--keyring-backend",
            "test",
            "--gas",
            GAS,
            "--fees",
            FEES,
            "--yes",
        ]);
        self.run(&all)
    }

    fn tx_ok(&self, args: &[&str]) -> Value {
        let r = self.tx(args);
        assert!(r.success, "{}", r.describe());
        r.json()
            .unwrap_or_else(|| panic!("stdout is not JSON\n{}", r.describe()))
    }

    fn query(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = vec!["query"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert!(r.success, "{}", r.describe());
        r.json().unwrap()
    }

    /// `tx mfa challenge` → challenge id.
    fn challenge(&self, factor: &str, from: &str, session: Option<&str>) -> String {
        let mut args = vec![
            "mfa",
            "challenge",
            factor,
            "--tx-type",
            "large-transfer",
            "--from",
            from,
        ];
        if let Some(s) = session {
            args.extend_from_slice(&["--session", s]);
        }
        let v = self.tx_ok(&args);
        let id = str_of(&v["challenge_id"]);
        assert_eq!(id.len(), 32, "{v}");
        id
    }

    /// `tx mfa verify` with `answer`; returns (succeeded, JSON output).
    fn verify(&self, challenge: &str, from: &str, answer: &[&str]) -> (bool, Value, Run) {
        let mut args = vec!["mfa", "verify", challenge, "--from", from];
        args.extend_from_slice(answer);
        let r = self.tx(&args);
        let v = r.json().unwrap_or(Value::Null);
        (r.success, v, r)
    }

    fn send(&self, from: &str, to: &str, amount: u128, session: Option<&str>) -> Run {
        let amount = format!("{amount}uve");
        let mut args = vec!["bank", "send", from, to, amount.as_str()];
        if let Some(s) = session {
            args.extend_from_slice(&["--mfa-session", s]);
        }
        self.tx(&args)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code an authenticator app shows for `secret_b32` at `time` (totp-rs, SHA1, 6 digits, 30 s).
fn app_code(secret_b32: &str, time: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(time)
        .to_string()
}

/// Waits (at most one step) until the current TOTP step has at least 8 s left, so a code
/// computed now is still current when the verifier checks it.
fn fresh_step() -> u64 {
    loop {
        let t = now();
        if 30 - (t % 30) >= 8 {
            return t;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// node0's enclave: its operator address and one-time-code endpoint.
fn enclave_otp(home: &Path) -> (String, String) {
    let p = home.join("localnet.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let e = &m["veid"]["enclaves"][0];
    (str_of(&e["operator_address"]), str_of(&e["otp_url"]))
}

#[test]
fn large_send_needs_an_mfa_session_built_from_webauthn_totp_and_email_factors() {
    let smtp = start_smtp();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let net = Localnet::start(
        "mfa",
        &["--timeout-commit", "500ms", "--mfa-smtp", &smtp_url],
    );
    net.wait_height(2, Duration::from_secs(60));
    let cli = Cli { net: &net };
    let (operator, verifier) = enclave_otp(&net.home);
    let bob = net.address("bob");

    // The one-time-code endpoint is node0's enclave: it names its operator and the
    // signing key the enclave registry holds for it.
    let info: Value = http_get_json(&format!("{verifier}/v1/info"));
    assert_eq!(str_of(&info["key"]["key_id"]), operator, "{info}");
    let registered = cli.query(&["enclave", "identity", &operator]);
    let on_chain = serde_json::to_string(&registered).unwrap();
    assert!(
        on_chain.contains(&str_of(&info["key"]["public_key"])),
        "the endpoint signs with the registered enclave key: {info} vs {registered}"
    );

    // 1. A large send without a session is refused; a small one is not gated.
    let refused = cli.send("alice", &bob, LARGE, None);
    assert!(!refused.success, "{}", refused.describe());
    let why = format!("{}{}", refused.stdout, refused.stderr);
    assert!(
        why.contains("MFA required") || why.contains("identity score"),
        "{}",
        refused.describe()
    );
    assert_eq!(net.cli_balance(&bob), GENESIS_BALANCE);
    let small = cli.send("alice", &bob, 1_000, None);
    assert!(small.success, "{}", small.describe());
    assert_eq!(net.cli_balance(&bob), GENESIS_BALANCE + 1_000);

    // 2. Factors: WebAuthn (software authenticator), VEID, TOTP, email.
    let fido = cli.tx_ok(&["mfa", "enroll", "webauthn", "--from", "alice"]);
    assert_eq!(str_of(&fido["factor_id"]).len(), 32, "{fido}");
    assert!(Path::new(&str_of(&fido["credential_file"])).exists());
    cli.tx_ok(&["mfa", "enroll", "veid", "--from", "alice"]);
    let totp = cli.tx_ok(&["mfa", "enroll", "totp", "--from", "alice"]);
    assert_eq!(
        totp["sealed_to_enclaves"],
        serde_json::json!([operator]),
        "{totp}"
    );
    let uri = str_of(&totp["otpauth_uri"]);
    assert!(uri.starts_with("otpauth://totp/VirtEngine:"), "{totp}");
    let secret = str_of(&totp["secret"]);
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    cli.tx_ok(&[
        "mfa",
        "enroll",
        "email",
        "alice@example.org",
        "--from",
        "alice",
    ]);
    let factors = cli.query(&["mfa", "factors", "alice"]);
    assert_eq!(factors["factors"].as_array().unwrap().len(), 4, "{factors}");
    // The chain holds the TOTP seed and the address only sealed.
    let chain_dump = factors.to_string();
    assert!(!chain_dump.contains(&secret) && !chain_dump.contains("alice@example.org"));

    // 3. WebAuthn: the chain verifies the assertion and opens a session.
    let ch = cli.challenge("fido2", "alice", None);
    let (ok, v, r) = cli.verify(&ch, "alice", &["--webauthn"]);
    assert!(ok, "{}", r.describe());
    assert_eq!(v["outcome"], "VERIFIED", "{v}");
    let session = str_of(&v["session_id"]);
    assert_eq!(session.len(), 32, "{v}");
    assert_eq!(
        v["satisfied"], false,
        "FIDO2 alone does not meet VEID+FIDO2: {v}"
    );

    // A FIDO2-only session does not authorise the large send.
    let refused = cli.send("alice", &bob, LARGE, Some(&session));
    assert!(!refused.success, "{}", refused.describe());

    // 4. VEID: alice has no identity score yet, so the VEID factor is refused (and the
    //    attempt counted).
    let ch = cli.challenge("veid", "alice", Some(&session));
    let (ok, v, r) = cli.verify(&ch, "alice", &["--veid"]);
    assert!(!ok, "{}", r.describe());
    assert_ne!(v["outcome"], "VERIFIED", "{v}");

    // 5. TOTP through the enclave: a code from totp-rs is accepted and added to the session.
    let t = fresh_step();
    let good = app_code(&secret, t);
    let ch = cli.challenge("totp", "alice", Some(&session));
    let (ok, v, r) = cli.verify(
        &ch,
        "alice",
        &["--totp-code", &good, "--verifier", &verifier],
    );
    assert!(ok, "{}", r.describe());
    assert_eq!(v["outcome"], "VERIFIED", "{v}");
    assert_eq!(str_of(&v["session_id"]), session, "{v}");
    let mut f: Vec<String> = v["verified_factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    f.sort();
    assert_eq!(f, ["fido2", "totp"], "{v}");

    // A wrong code is refused...
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    let ch = cli.challenge("totp", "alice", None);
    let (ok, v, r) = cli.verify(
        &ch,
        "alice",
        &["--totp-code", &wrong, "--verifier", &verifier],
    );
    assert!(!ok, "{}", r.describe());
    assert_eq!(v["outcome"], "FAILED", "{v}");
    assert_eq!(v["attempts_left"].as_u64(), Some(2), "{v}");
    // ...and so is the accepted code used again (replay).
    let ch = cli.challenge("totp", "alice", None);
    let (ok, v, r) = cli.verify(
        &ch,
        "alice",
        &["--totp-code", &good, "--verifier", &verifier],
    );
    assert!(!ok, "{}", r.describe());
    assert_eq!(v["outcome"], "FAILED", "{v}");
    assert!(
        str_of(&v["verifier_reason"]).contains("already used"),
        "{v}"
    );

    // 6. Email OTP over real SMTP: the enclave mails the code, the mail is read back.
    let ch = cli.challenge("email", "alice", None);
    let r = net.cli(
        &["tx", "mfa", "email-code", &ch, "--verifier", &verifier],
        CLI_TIMEOUT,
    );
    assert!(r.success, "{}", r.describe());
    let delivered = mails(&smtp);
    assert_eq!(delivered.len(), 1, "one mail delivered");
    assert!(
        delivered[0].contains("To: alice@example.org"),
        "{}",
        delivered[0]
    );
    let at = delivered[0].find("code is: ").expect("code in mail") + "code is: ".len();
    let code = delivered[0][at..at + 6].to_string();
    let (ok, v, r) = cli.verify(
        &ch,
        "alice",
        &["--email-code", &code, "--verifier", &verifier],
    );
    assert!(ok, "{}", r.describe());
    assert_eq!(v["outcome"], "VERIFIED", "{v}");

    // 7. VEID: alice uploads an ID document and a selfie with the CLI (the scoring
    //    crate's genuine applicant, sealed to the localnet's enclave key), requests verification, and the enclave service's score
    //    reaches the chain through the vote-extension path (issue 5). With that score the
    //    VEID factor joins the FIDO2 session, which now meets the default VEID + FIDO2 rule.
    let (r, up) = net.tx_json(&[
        "tx",
        "identity",
        "upload",
        "--document",
        fixture("genuine_doc.jpg").to_str().unwrap(),
        "--selfie",
        fixture("genuine_selfie.jpg").to_str().unwrap(),
        "--consent",
        "--from",
        "alice",
    ]);
    assert!(r.success && up["code"] == 0, "{}", r.describe());
    let (r, req) = net.tx_json(&["tx", "identity", "request-verification", "--from", "alice"]);
    assert!(r.success && req["code"] == 0, "{}", r.describe());
    let score = wait_until(
        "alice's identity score",
        Duration::from_secs(90),
        Duration::from_millis(250),
        || {
            let s = net.query_json(&["query", "identity", "score", "alice"]);
            (s["found"] == true).then_some(s)
        },
        || net.logs(40),
    );
    assert!(
        score["score"].as_u64().unwrap() >= 50 && score["status"] == "VERIFIED",
        "the fixtures must verify for the VEID factor: {score}"
    );
    let ch = cli.challenge("veid", "alice", Some(&session));
    let (ok, v, r) = cli.verify(&ch, "alice", &["--veid"]);
    assert!(ok, "{}", r.describe());
    assert_eq!(v["outcome"], "VERIFIED", "{v}");
    assert_eq!(str_of(&v["session_id"]), session, "{v}");
    assert_eq!(v["satisfied"], true, "FIDO2 + VEID meets the rule: {v}");

    // 8. The WebAuthn + VEID session authorises the large send; without it, refused.
    let before = net.cli_balance(&bob);
    let sent = cli.send("alice", &bob, LARGE, Some(&session));
    assert!(sent.success, "{}", sent.describe());
    assert_eq!(net.cli_balance(&bob), before + LARGE);
    let refused = cli.send("alice", &bob, LARGE, None);
    assert!(!refused.success, "{}", refused.describe());

    // 9. MFA rules are changed only by an authority: bob is refused; the localnet's
    //    operator (a roles genesis account) may.
    let rule = [
        "mfa",
        "update-config",
        "--tx-type",
        "large-transfer",
        "--factors",
        "fido2+totp",
        "--min-veid-score",
        "0",
    ];
    let mut as_bob = rule.to_vec();
    as_bob.extend_from_slice(&["--from", "bob"]);
    let r = cli.tx(&as_bob);
    assert!(!r.success, "{}", r.describe());
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("not an authority"),
        "{}",
        r.describe()
    );
    let mut as_operator = rule.to_vec();
    as_operator.extend_from_slice(&["--from", "operator"]);
    cli.tx_ok(&as_operator);
}

/// GET a JSON document over plain HTTP (the enclave's one-time-code endpoint).
fn http_get_json(url: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "10", url])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The scoring crate's genuine applicant (its document and selfie verify).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/scoring/testdata")
        .join(name)
}
