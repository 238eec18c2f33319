//! cert through the app: an owner publishes a self-signed certificate made with the CLI's
//! generator, duplicates and foreign subjects are refused, revoke, filtered queries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod provider_common;
use provider_common::*;
use ve_cert::proto as cp;

fn generated(c: &Chain, u: usize, cn: Option<&str>, serial: u64) -> ve_cert::generate::Generated {
    let now = c.node.time();
    let owner = cn.map_or_else(|| c.users[u].s(), str::to_string);
    ve_cert::generate::generate(
        &owner,
        now - 3600,
        now + 365 * 86_400,
        &serial.to_be_bytes(),
    )
    .unwrap()
}

fn publish(c: &mut Chain, u: usize, g: &ve_cert::generate::Generated) -> Res {
    let m = cp::MsgCreateCertificate {
        owner: c.users[u].s(),
        cert: g.cert_pem.clone().into_bytes(),
        pubkey: g.pubkey_pem.clone().into_bytes(),
    };
    c.try_send(u, vec![any(&m)], &[])
}

fn list(c: &Chain, owner: &str, serial: &str, state: &str) -> Vec<cp::Certificate> {
    let r: cp::QueryCertificatesResponse = c.query(
        "/virtengine.cert.v1.Query/Certificates",
        &cp::QueryCertificatesRequest {
            filter: Some(cp::CertificateFilter {
                owner: owner.into(),
                serial: serial.into(),
                state: state.into(),
            }),
            pagination: None,
        },
    );
    r.certificates
}

#[test]
fn owner_publishes_a_generated_certificate_then_revokes_it() {
    let mut c = chain(3);
    let g = generated(&c, 1, None, 1001);
    let r = publish(&mut c, 1, &g);
    r.ok();
    assert!(r.has_event("cert_created"));
    let resp: cp::MsgCreateCertificateResponse = r.response(0);
    assert_eq!(resp.serial, "1001");
    let owner = c.users[1].s();
    let certs = list(&c, &owner, "", "");
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].state, cp::CertificateState::Valid as i32);
    assert_eq!(certs[0].cert, g.cert_pem.as_bytes());

    // Same serial again: refused.
    let again = generated(&c, 1, None, 1001);
    publish(&mut c, 1, &again).refused("cert", 9);

    let rv = cp::MsgRevokeCertificate {
        owner: owner.clone(),
        serial: "1001".into(),
    };
    c.try_send(1, vec![any(&rv)], &[]).ok();
    assert_eq!(
        list(&c, &owner, "1001", "")[0].state,
        cp::CertificateState::Revoked as i32
    );
    assert!(list(&c, &owner, "", "valid").is_empty());
    assert_eq!(list(&c, &owner, "", "revoked").len(), 1);
    c.try_send(1, vec![any(&rv)], &[]).refused("cert", 11);
    let unknown = cp::MsgRevokeCertificate {
        owner,
        serial: "5".into(),
    };
    c.try_send(1, vec![any(&unknown)], &[]).refused("cert", 10);
}

#[test]
fn certificates_for_someone_else_or_with_a_foreign_key_are_refused() {
    let mut c = chain(3);
    // A certificate whose CN names user 2, published by user 1.
    let g = generated(&c, 1, Some(&c.users[2].s()), 7);
    publish(&mut c, 1, &g).refused("cert", 6);
    // The key of another certificate.
    let a = generated(&c, 1, None, 8);
    let b = generated(&c, 1, None, 9);
    let mixed = ve_cert::generate::Generated {
        cert_pem: a.cert_pem,
        pubkey_pem: b.pubkey_pem,
        private_key_pem: String::new(),
    };
    publish(&mut c, 1, &mixed).refused("cert", 5);
    // Expired.
    let now = c.node.time();
    let old = ve_cert::generate::generate(&c.users[1].s(), now - 7200, now - 3600, &[3]).unwrap();
    publish(&mut c, 1, &old).refused("cert", 8);
    // Garbage.
    let junk = ve_cert::generate::Generated {
        cert_pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
        pubkey_pem: b"".iter().map(|_| ' ').collect(),
        private_key_pem: String::new(),
    };
    publish(&mut c, 1, &junk).refused("cert", 4);
    assert!(list(&c, &c.users[1].s(), "", "").is_empty());
}

#[test]
fn certificates_of_all_owners_are_listed_with_pagination() {
    let mut c = chain(3);
    for (u, s) in [(1usize, 1u64), (1, 2), (2, 3)] {
        let g = generated(&c, u, None, s);
        publish(&mut c, u, &g).ok();
    }
    let r: cp::QueryCertificatesResponse = c.query(
        "/virtengine.cert.v1.Query/Certificates",
        &cp::QueryCertificatesRequest {
            filter: None,
            pagination: Some(ve_proto::cosmos::base::query::v1beta1::PageRequest {
                limit: 2,
                ..Default::default()
            }),
        },
    );
    assert_eq!(r.certificates.len(), 2);
    let next = r.pagination.unwrap().next_key;
    assert!(!next.is_empty());
    let r: cp::QueryCertificatesResponse = c.query(
        "/virtengine.cert.v1.Query/Certificates",
        &cp::QueryCertificatesRequest {
            filter: None,
            pagination: Some(ve_proto::cosmos::base::query::v1beta1::PageRequest {
                key: next,
                limit: 2,
                ..Default::default()
            }),
        },
    );
    assert_eq!(r.certificates.len(), 1);
}
