"""JWTs made and checked independently of the broker, with the openssl
command-line tool only (no Python crypto package): RS256 tokens signed with
a service account's key file as Google's libraries make them, hostile
variants, and ES256 verification of the broker's tokens against its JWKS."""

import base64
import json
import os
import subprocess
import tempfile
import time


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _openssl(args, data):
    p = subprocess.run(["openssl"] + args, input=data, capture_output=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout


def rs256_sign(pem, signing_input):
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
        f.write(pem)
        path = f.name
    try:
        return _openssl(["dgst", "-sha256", "-sign", path], signing_input.encode())
    finally:
        os.unlink(path)


def make(keyfile, claims, header=None):
    """A compact JWS of CLAIMS signed with KEYFILE's private key (RS256)."""
    header = header or {"alg": "RS256", "typ": "JWT", "kid": keyfile["private_key_id"]}
    si = b64u(json.dumps(header, separators=(",", ":"))) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")))
    return si + "." + b64u(rs256_sign(keyfile["private_key"], si))


def self_signed(keyfile, aud="https://pubsub.googleapis.com/", iat=None, life=3600, **extra):
    """What google-auth-library sends for a key file (iss = sub = email)."""
    now = int(time.time()) if iat is None else iat
    claims = {"iss": keyfile["client_email"], "sub": keyfile["client_email"],
              "iat": now, "exp": now + life}
    if aud is not None:
        claims["aud"] = aud
    claims.update(extra)
    return make(keyfile, claims)


def assertion(keyfile, iat=None, life=3600):
    """An RFC 7523 grant assertion for the key file's token_uri."""
    now = int(time.time()) if iat is None else iat
    return make(keyfile, {"iss": keyfile["client_email"], "sub": keyfile["client_email"],
                          "aud": keyfile["token_uri"], "iat": now, "exp": now + life,
                          "scope": "https://www.googleapis.com/auth/pubsub"})


_P256_SPKI = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004")


def _der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def es256_verify(jwks, token):
    """True when TOKEN's ES256 signature verifies with the JWKS key of its kid."""
    h, c, s = token.split(".")
    header = json.loads(unb64u(h))
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if header.get("alg") != "ES256" or len(keys) != 1 or keys[0].get("crv") != "P-256":
        return False
    pub = _P256_SPKI + unb64u(keys[0]["x"]) + unb64u(keys[0]["y"])
    pem = "-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(pub).decode() + \
        "-----END PUBLIC KEY-----\n"
    raw = unb64u(s)
    seq = _der_int(raw[:32]) + _der_int(raw[32:])
    der = b"\x30" + bytes([len(seq)]) + seq
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "k.pem"), "w") as f:
            f.write(pem)
        with open(os.path.join(d, "s.der"), "wb") as f:
            f.write(der)
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "k.pem"),
                            "-signature", os.path.join(d, "s.der")],
                           input=(h + "." + c).encode(), capture_output=True, timeout=30)
        return p.returncode == 0


def claims(token):
    return json.loads(unb64u(token.split(".")[1]))
