#!/usr/bin/env python3
"""Seals and opens VirtEngine envelopes with libsodium (PyNaCl), written from
docs/envelope.md alone: reproduces the published vectors byte for byte, opens an envelope
the Rust CLI sealed, and seals one the Rust CLI opens.

Usage: check.py DOCS_ENVELOPE_MD [VIRTENGINE_BINARY]
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

from nacl.bindings import (
    crypto_box, crypto_box_open, crypto_scalarmult_base,
    crypto_secretbox, crypto_secretbox_open,
)
from nacl.signing import SigningKey, VerifyKey

ALG = b"X25519-XSALSA20-POLY1305"
DOMAIN = b"virtengine-envelope-v1-signature"


def sha256(b):
    return hashlib.sha256(b).digest()


def fingerprint(pk):
    return sha256(pk)[:20].hex()


# --- protobuf, by hand (section 3.1) ---------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, value):
    return b"" if not value else varint(num << 3 | 2) + varint(len(value)) + value


def field_uint(num, value):
    return b"" if not value else varint(num << 3) + varint(value)


def parse_fields(buf):
    """[(field, wiretype, value)] of one message level; raises on malformed input."""
    out, i = [], 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated")
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("unexpected wire type")
        out.append((num, wt, v))
    return out


def read_varint(buf, i):
    n, shift = 0, 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


# --- seal / open (sections 4 and 5) ----------------------------------------------------

def seal(payload, recipient_pks, esk, dk, pn, key_nonces, signing_key=None):
    epk = crypto_scalarmult_base(esk)
    recips = sorted(recipient_pks, key=fingerprint)
    entries = b""
    for pk, kn in zip(recips, key_nonces):
        wrapped = crypto_box(dk, kn, pk, esk)
        entry = field_bytes(1, fingerprint(pk).encode()) + field_bytes(2, kn) + field_bytes(3, wrapped)
        entries += field_bytes(6, entry)
    header = (field_uint(1, 1) + field_bytes(2, ALG) + field_uint(3, 1) + field_bytes(4, epk)
              + field_bytes(5, pn) + entries)
    if signing_key is not None:
        header += field_bytes(7, bytes(signing_key.verify_key))
    ciphertext = crypto_secretbox(sha256(header) + payload, pn, dk)
    env = field_bytes(1, header) + field_bytes(2, ciphertext)
    if signing_key is not None:
        sig = signing_key.sign(DOMAIN + sha256(header) + sha256(ciphertext)).signature
        env += field_bytes(3, sig)
    return env


def open_envelope(env, sk):
    fields = {n: v for n, _, v in parse_fields(env)}
    header, ciphertext, sig = fields[1], fields[2], fields.get(3, b"")
    h = parse_fields(header)
    scalars = {n: v for n, _, v in h if n != 6}
    assert scalars[1] == 1 and scalars[2] == ALG and scalars[3] == 1, "unsupported envelope"
    epk, pn, sender = scalars[4], scalars[5], scalars.get(7)
    if sender is not None:
        VerifyKey(sender).verify(DOMAIN + sha256(header) + sha256(ciphertext), sig)
    me = fingerprint(crypto_scalarmult_base(sk)).encode()
    for n, _, v in h:
        if n != 6:
            continue
        e = {k: val for k, _, val in parse_fields(v)}
        if e[1] == me:
            dk = crypto_box_open(e[3], e[2], epk, sk)
            plain = crypto_secretbox_open(ciphertext, pn, dk)
            assert plain[:32] == sha256(header), "header mismatch"
            return plain[32:], sender
    raise KeyError("not a recipient")


# --- checks ----------------------------------------------------------------------------

def vectors(doc):
    found = {}
    for name in ("vector-1-envelope", "vector-2-envelope"):
        m = re.search(name + r":\n([0-9a-f\n]+)```", doc)
        found[name] = bytes.fromhex(m.group(1).replace("\n", ""))
    return found


def check_vectors(doc):
    v = vectors(doc)
    alice, bob = b"\x11" * 32, b"\x22" * 32
    pa, pb = crypto_scalarmult_base(alice), crypto_scalarmult_base(bob)
    assert fingerprint(pa) == "d19bf3f082782c87b783fe7134698aeff6e66d9f"
    common = dict(esk=b"\x33" * 32, dk=b"\x44" * 32, pn=b"\x55" * 24)
    payload = b"hello, virtengine"
    one = seal(payload, [pa], key_nonces=[b"\x66" * 24], **common)
    assert one == v["vector-1-envelope"], "vector 1 differs:\n" + one.hex()
    two = seal(payload, [pa, pb], key_nonces=[b"\x66" * 24, b"\x77" * 24],
               signing_key=SigningKey(b"\x88" * 32), **common)
    assert two == v["vector-2-envelope"], "vector 2 differs:\n" + two.hex()
    for sk in (alice, bob):
        assert open_envelope(two, sk)[0] == payload
    print("ok: both published vectors reproduced with libsodium and opened")


def check_cli(binary):
    with tempfile.TemporaryDirectory() as d:
        run = lambda *a: subprocess.run([binary, *a], cwd=d, check=True, capture_output=True, text=True).stdout
        import json
        rust_key = json.loads(run("envelope", "keygen", "--out", "rust.key", "-o", "json"))
        py_sk = os.urandom(32)
        py_pk = crypto_scalarmult_base(py_sk)
        payload = os.urandom(5000)
        with open(os.path.join(d, "msg"), "wb") as f:
            f.write(payload)
        # Rust seals to the Python key and its own; Python opens.
        run("envelope", "keygen", "--ed25519", "--out", "sender.key")
        run("envelope", "seal", "--to", py_pk.hex(), "--to", "rust.key", "msg",
            "--out", "rust.env", "--sign-with", "sender.key")
        with open(os.path.join(d, "rust.env"), "rb") as f:
            got, sender = open_envelope(f.read(), py_sk)
        assert got == payload and sender is not None
        print("ok: libsodium opened an envelope sealed by `virtengine envelope seal`")
        # Python seals to the Rust key (and its own), signed; Rust opens.
        env = seal(payload, [bytes.fromhex(rust_key["public_key"]), py_pk], esk=os.urandom(32),
                   dk=os.urandom(32), pn=os.urandom(24), key_nonces=[os.urandom(24), os.urandom(24)],
                   signing_key=SigningKey(os.urandom(32)))
        with open(os.path.join(d, "py.env"), "wb") as f:
            f.write(env)
        out = run("envelope", "open", "--key", "rust.key", "py.env", "--out", "py.out")
        with open(os.path.join(d, "py.out"), "rb") as f:
            assert f.read() == payload
        assert "signature verified" in out
        print("ok: `virtengine envelope open` opened an envelope sealed with libsodium")


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        check_vectors(f.read())
    if len(sys.argv) > 2:
        check_cli(sys.argv[2])
