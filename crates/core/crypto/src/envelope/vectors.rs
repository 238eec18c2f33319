//! The published test vectors of docs/envelope.md, reproduced byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// Inputs of both vectors (docs/envelope.md, "Test vectors").
fn material(recipients: usize) -> SealMaterial {
    SealMaterial {
        ephemeral_secret: [0x33; 32],
        data_key: [0x44; 32],
        payload_nonce: [0x55; 24],
        key_nonces: [[0x66; 24], [0x77; 24]][..recipients].to_vec(),
    }
}

fn alice() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([0x11; 32])
}

fn bob() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([0x22; 32])
}

const PAYLOAD: &[u8] = b"hello, virtengine";

const ALICE_PK: &str = "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13";
const ALICE_FP: &str = "d19bf3f082782c87b783fe7134698aeff6e66d9f";
const BOB_PK: &str = "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20";
const BOB_FP: &str = "65cf5c9b1de5d41f758cb67f2d05f3e316a203fc";

/// Vector 1: one recipient (alice), unsigned.
const VECTOR_1: &[&str] = &[
    "0ad201080112185832353531392d5853414c534132302d504f4c5931333035180122207b0d47d93427f8311160781c7c",
    "733fd89f88970aef490d8aa0ee19a4cb8a1b142a1855555555555555555555555555555555555555555555555532760a",
    "286431396266336630383237383263383762373833666537313334363938616566663665363664396612186666666666",
    "666666666666666666666666666666666666661a3079f3d4e79af4a1218bea2f299497a523dfdfa8688231caf849a962",
    "788ed2c10ebcbddaa7e1c87f4ef2ac6763d2fce28e1241d37f580f34f743d3d2524ec45f7126088aab00a2a2ab55bd59",
    "cf8e4f4d06fab4ff47229f84cd921ed3f12bf65f9e98cb72b3f7baafa593241f1b8846bcbd5500b9",
];

/// Vector 2: alice and bob, signed with the Ed25519 seed 0x88 x 32.
const VECTOR_2: &[&str] = &[
    "0aec02080112185832353531392d5853414c534132302d504f4c5931333035180122207b0d47d93427f8311160781c7c",
    "733fd89f88970aef490d8aa0ee19a4cb8a1b142a1855555555555555555555555555555555555555555555555532760a",
    "283635636635633962316465356434316637353863623637663264303566336533313661323033666312186666666666",
    "666666666666666666666666666666666666661a30a01ccc69f95fb7c4c8d6b20669ca865fd66dcea44e63ac802424f2",
    "4c5728bd87a1ca0c73d761b0e628bf8800d502098832760a286431396266336630383237383263383762373833666537",
    "313334363938616566663665363664396612187777777777777777777777777777777777777777777777771a30a44a41",
    "89dc738e7cc447d7a0a8d6b450e3e193492476c99136c9787d0b0f53925f1a9e323dc97b4d80c8b5529c9a4b3f3a20b2",
    "491d9502ae28630a2bacb2e0c74510ffcdd328c334ff3e1393e75b2d31e7dc12412d18bb2adf759b2453521c66e165f1",
    "4e04b51e7023faf5a82f24ff16ae65188d8a5c6013cda3655d0f3dffeb9060496172b3f7baafa593241f1b8846bcbd55",
    "00b91a40eec38d6cd8bb59113d7cfa6553bdd700082577e7d2f063657bb120403161dd25759f2abafd66ab5826b08527",
    "15185450ff3f95dcaefef7a75b48d9f9e34da403",
];

#[test]
fn recipient_keys_and_fingerprints() {
    assert_eq!(alice().public_key().to_hex(), ALICE_PK);
    assert_eq!(alice().public_key().fingerprint(), ALICE_FP);
    assert_eq!(bob().public_key().to_hex(), BOB_PK);
    assert_eq!(bob().public_key().fingerprint(), BOB_FP);
}

#[test]
fn vector_1_single_recipient_unsigned() {
    let env = seal_with_material(&material(1), PAYLOAD, &[alice().public_key()], None).unwrap();
    assert_eq!(hex::encode(&env), VECTOR_1.concat());
    assert_eq!(open(&env, &alice()).unwrap().payload.as_slice(), PAYLOAD);
}

#[test]
fn vector_2_two_recipients_signed() {
    let signer = SenderSigningKey::from_bytes(&[0x88; 32]);
    // Recipient order given to seal does not matter: the header is sorted by fingerprint
    // (bob's sorts first, so bob's entry gets key nonce 0x66 and alice's 0x77).
    let env = seal_with_material(
        &material(2),
        PAYLOAD,
        &[alice().public_key(), bob().public_key()],
        Some(&signer),
    )
    .unwrap();
    assert_eq!(hex::encode(&env), VECTOR_2.concat());
    for key in [alice(), bob()] {
        let o = open(&env, &key).unwrap();
        assert_eq!(o.payload.as_slice(), PAYLOAD);
        assert_eq!(o.sender, Some(signer.verifying_key()));
    }
}
