use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use ed25519_dalek::{Signature, Verifier as _};
use ve_proto::virtengine::mfa::v1::FactorEnrollment;

use super::*;
use crate::attestation::payload;

const T0: u64 = 1_800_000_000; // a fixed wall-clock second, step-aligned (divisible by 30)
const ACCOUNT: Address = Address([3u8; 20]);
const ENCLAVE_OPERATOR: Address = Address([8u8; 20]);
const TOTP_FID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const EMAIL_FID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[derive(Default)]
struct FakeChain {
    challenges: Mutex<BTreeMap<String, Challenge>>,
    enrollments: BTreeMap<String, FactorEnrollment>,
}

impl ChainSource for FakeChain {
    async fn challenge(&self, id: &str) -> Result<Challenge, VerifierError> {
        self.challenges
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .ok_or_else(|| VerifierError::NotFound(format!("challenge {id} not found")))
    }
    async fn enrollment(&self, _a: &str, fid: &str) -> Result<FactorEnrollment, VerifierError> {
        self.enrollments
            .get(fid)
            .cloned()
            .ok_or_else(|| VerifierError::NotFound(format!("factor {fid} not found")))
    }
}

fn challenge(n: u8, factor: FactorType, fid: &str) -> Challenge {
    Challenge {
        challenge_id: format!("{:032x}", u128::from(n)),
        account: ACCOUNT.to_string(),
        factor_type: factor as i32,
        factor_id: fid.to_string(),
        status: ChallengeStatus::Pending as i32,
        challenge_data: vec![n; 32],
        expires_at: i64::try_from(T0 + 300).unwrap(),
        ..Default::default()
    }
}

struct Setup {
    verifier: Verifier<FakeChain>,
    time: Arc<AtomicU64>,
    seed: Vec<u8>,
}

fn setup(home: &Path, mailer: Option<Mailer>, email: &str) -> Setup {
    // Fixed keys: a "restarted" verifier is the same enclave.
    let keys = VerifierKeys::for_enclave(
        &ENCLAVE_OPERATOR,
        ed25519_dalek::SigningKey::from_bytes(&[4u8; 32]),
        ve_crypto::envelope::RecipientSecretKey::from_bytes([6u8; 32]),
    );
    let seed = b"0123456789abcdefghij".to_vec();
    let enc = keys.envelope_public();
    let mut chain = FakeChain::default();
    chain.enrollments.insert(
        TOTP_FID.into(),
        FactorEnrollment {
            account: ACCOUNT.to_string(),
            factor_type: FactorType::Totp as i32,
            factor_id: TOTP_FID.into(),
            status: FactorStatus::Active as i32,
            sealed_secret: SealedSecret::totp_from_seed(&seed).seal(&[enc]).unwrap(),
            ..Default::default()
        },
    );
    chain.enrollments.insert(
        EMAIL_FID.into(),
        FactorEnrollment {
            account: ACCOUNT.to_string(),
            factor_type: FactorType::Email as i32,
            factor_id: EMAIL_FID.into(),
            status: FactorStatus::Active as i32,
            sealed_secret: SealedSecret::email(email).unwrap().seal(&[enc]).unwrap(),
            ..Default::default()
        },
    );
    {
        let mut c = chain.challenges.lock().unwrap();
        for n in 1..=9u8 {
            let ch = challenge(n, FactorType::Totp, TOTP_FID);
            c.insert(ch.challenge_id.clone(), ch);
        }
        for n in 11..=19u8 {
            let ch = challenge(n, FactorType::Email, EMAIL_FID);
            c.insert(ch.challenge_id.clone(), ch);
        }
    }
    let time = Arc::new(AtomicU64::new(T0));
    let t = time.clone();
    let clock: Clock = Arc::new(move || t.load(Ordering::SeqCst));
    let verifier = Verifier::new(
        keys,
        "test-chain",
        chain,
        Store::open(home).unwrap(),
        mailer,
        clock,
    );
    Setup {
        verifier,
        time,
        seed,
    }
}

fn id(n: u8) -> String {
    format!("{:032x}", u128::from(n))
}

/// A code as an authenticator app computes it: totp-rs with the plain seed, no verifier code.
fn app_code(seed: &[u8], time: u64) -> String {
    totp_rs::Builder::new()
        .with_secret(seed.to_vec())
        .build()
        .unwrap()
        .generate(time)
        .to_string()
}

/// Checks the attestation signature against a payload rebuilt from the challenge.
fn assert_signed(v: &Verifier<FakeChain>, verdict: &Verdict, n: u8, factor: u32) {
    let sig = B64.decode(&verdict.attestation.signature).unwrap();
    let fid = if factor == 1 { TOTP_FID } else { EMAIL_FID };
    let data = vec![n; 32];
    let p = payload(&AttestationInput {
        chain_id: "test-chain",
        challenge_id: &id(n),
        account: &ACCOUNT,
        factor_type: factor,
        factor_id: fid,
        challenge_data: &data,
        verified: verdict.verified,
        otp_step: verdict.attestation.otp_step,
    });
    let pk = ed25519_dalek::VerifyingKey::from_bytes(
        &hex::decode(v.info().public_key)
            .unwrap()
            .try_into()
            .unwrap(),
    )
    .unwrap();
    pk.verify(&p, &Signature::from_slice(&sig).unwrap())
        .unwrap();
    assert_eq!(verdict.attestation.verified, verdict.verified);
    assert_eq!(
        verdict.attestation.verifier_key_id,
        ENCLAVE_OPERATOR.to_string()
    );
    if factor == 1 && verdict.verified {
        assert_eq!(
            verdict.attestation.otp_step,
            T0 / 30,
            "the code's RFC 6238 step"
        );
    } else {
        assert_eq!(verdict.attestation.otp_step, 0);
    }
}

#[tokio::test]
async fn totp_code_from_a_standard_library_is_attested_as_verified() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), None, "a@example.org");
    let code = app_code(&s.seed, T0);
    let v = s.verifier.verify_totp(&id(1), &code).await.unwrap();
    assert!(v.verified, "{v:?}");
    assert_signed(&s.verifier, &v, 1, 1);
}

#[tokio::test]
async fn wrong_totp_code_is_attested_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), None, "a@example.org");
    let good = app_code(&s.seed, T0);
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    let v = s.verifier.verify_totp(&id(1), &wrong).await.unwrap();
    assert!(!v.verified);
    assert_eq!(v.reason, "wrong code");
    assert_signed(&s.verifier, &v, 1, 1);
    // A code two steps away is outside the ±1 skew.
    let far = app_code(&s.seed, T0 + 60);
    assert!(!s.verifier.verify_totp(&id(2), &far).await.unwrap().verified);
}

#[tokio::test]
async fn totp_code_is_accepted_once_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let code = {
        let s = setup(dir.path(), None, "a@example.org");
        let code = app_code(&s.seed, T0);
        assert!(
            s.verifier
                .verify_totp(&id(1), &code)
                .await
                .unwrap()
                .verified
        );
        let again = s.verifier.verify_totp(&id(2), &code).await.unwrap();
        assert!(!again.verified);
        assert!(again.reason.contains("already used"), "{}", again.reason);
        code
    };
    // A new process with the same home still refuses it...
    let s = setup(dir.path(), None, "a@example.org");
    assert!(
        !s.verifier
            .verify_totp(&id(3), &code)
            .await
            .unwrap()
            .verified
    );
    // ...and the previous step's code (within skew) too, since a later step was used.
    let prev = app_code(&s.seed, T0 - 30);
    assert!(
        !s.verifier
            .verify_totp(&id(4), &prev)
            .await
            .unwrap()
            .verified
    );
    // The next step's code works.
    s.time.store(T0 + 30, Ordering::SeqCst);
    let next = app_code(&s.seed, T0 + 30);
    assert!(
        s.verifier
            .verify_totp(&id(5), &next)
            .await
            .unwrap()
            .verified
    );
}

#[tokio::test]
async fn challenges_that_cannot_be_answered_get_no_attestation() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), None, "a@example.org");
    let code = app_code(&s.seed, T0);
    // Unknown challenge.
    let e = s.verifier.verify_totp(&id(99), &code).await.unwrap_err();
    assert_eq!(e.status(), 404);
    // An email challenge answered as TOTP.
    let e = s.verifier.verify_totp(&id(11), &code).await.unwrap_err();
    assert_eq!(e.status(), 409);
    // Not pending any more.
    s.verifier
        .chain
        .challenges
        .lock()
        .unwrap()
        .get_mut(&id(1))
        .unwrap()
        .status = ChallengeStatus::Verified as i32;
    let e = s.verifier.verify_totp(&id(1), &code).await.unwrap_err();
    assert_eq!(e.status(), 409);
    // Expired.
    s.time.store(T0 + 300, Ordering::SeqCst);
    let e = s
        .verifier
        .verify_totp(&id(2), &app_code(&s.seed, T0 + 300))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
    // Not digits.
    assert_eq!(
        s.verifier
            .verify_totp(&id(3), "12ab56")
            .await
            .unwrap_err()
            .status(),
        400
    );
}

#[tokio::test]
async fn a_secret_sealed_to_another_key_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = setup(dir.path(), None, "a@example.org");
    let other = ve_crypto::envelope::RecipientSecretKey::generate(&mut OsRng);
    s.verifier
        .chain
        .enrollments
        .get_mut(TOTP_FID)
        .unwrap()
        .sealed_secret = SealedSecret::totp_from_seed(&s.seed)
        .seal(&[other.public_key()])
        .unwrap();
    let e = s
        .verifier
        .verify_totp(&id(1), &app_code(&s.seed, T0))
        .await
        .unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
}

// ---- email over a real SMTP server (aiosmtpd, a Python package: scripts/setup.sh) ----

struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp() -> SmtpServer {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("Maildir"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect(
            "python3 must be installed (with aiosmtpd: pip install aiosmtpd, see scripts/setup.sh)",
        );
    let server = SmtpServer {
        child,
        port,
        maildir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("aiosmtpd did not listen on {port}: is it installed? (pip install aiosmtpd)");
}

/// Every delivered message in the Maildir, as text.
fn delivered(server: &SmtpServer) -> Vec<String> {
    let new = server.maildir.path().join("Maildir").join("new");
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(new) {
        for e in entries.flatten() {
            out.push(std::fs::read_to_string(e.path()).unwrap());
        }
    }
    out
}

fn code_in(mail: &str) -> String {
    let at = mail.find("code is: ").expect("mail names the code") + "code is: ".len();
    mail[at..at + 6].to_string()
}

#[tokio::test]
async fn email_code_delivered_by_smtp_is_attested_once() {
    let smtp = start_smtp();
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(&crate::email::SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port,
        from: "verifier@localhost".into(),
    })
    .unwrap();
    let s = setup(dir.path(), Some(mailer), "Carol@Example.org");
    let sent = s.verifier.send_email(&id(11)).await.unwrap();
    assert_eq!(sent.sent_to, "C****@example.org");
    assert_eq!(sent.expires_at, T0 + 300); // capped at the challenge's expiry
    let mails = delivered(&smtp);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: Carol@example.org"), "{}", mails[0]);
    let code = code_in(&mails[0]);

    // Asking again at once is refused (cooldown) and sends nothing.
    assert_eq!(
        s.verifier.send_email(&id(11)).await.unwrap_err().status(),
        429
    );
    assert_eq!(delivered(&smtp).len(), 1);

    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let v = s.verifier.verify_email(&id(11), &wrong).await.unwrap();
    assert!(!v.verified);
    assert_signed(&s.verifier, &v, 11, 4);

    let v = s.verifier.verify_email(&id(11), &code).await.unwrap();
    assert!(v.verified, "{v:?}");
    assert_signed(&s.verifier, &v, 11, 4);
    // Used: the same code is gone.
    assert_eq!(
        s.verifier
            .verify_email(&id(11), &code)
            .await
            .unwrap_err()
            .status(),
        404
    );
    // A code for one challenge does not answer another.
    assert_eq!(
        s.verifier
            .verify_email(&id(12), &code)
            .await
            .unwrap_err()
            .status(),
        404
    );
}

#[tokio::test]
async fn email_code_is_discarded_after_five_wrong_answers() {
    let smtp = start_smtp();
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(&crate::email::SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port,
        from: "verifier@localhost".into(),
    })
    .unwrap();
    let s = setup(dir.path(), Some(mailer), "dave@example.org");
    s.verifier.send_email(&id(12)).await.unwrap();
    let code = code_in(&delivered(&smtp)[0]);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..EMAIL_MAX_ATTEMPTS {
        assert!(
            !s.verifier
                .verify_email(&id(12), &wrong)
                .await
                .unwrap()
                .verified
        );
    }
    assert_eq!(
        s.verifier
            .verify_email(&id(12), &code)
            .await
            .unwrap_err()
            .status(),
        404
    );
}

#[tokio::test]
async fn email_without_smtp_configured_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), None, "a@example.org");
    assert_eq!(
        s.verifier.send_email(&id(11)).await.unwrap_err().status(),
        503
    );
}
