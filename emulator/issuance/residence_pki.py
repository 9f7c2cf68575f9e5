"""The residence card's TEST issuer (在留カード等の電子署名, residence-card.md §5.3): ``ZairyuCard-TEST``.

The real anchors are the ISA's "ZairyuCard CA" (RSA-2048, first generation) and "ZairyuCard CA2" (P-384,
second generation); nothing here can chain to them. The TEST anchors' keys and self-signed certificates
ship in ``profiles/keys/`` (``TEST-ZairyuCard-CA*``), so a reader checks a card's signature against a
fixed TEST anchor. Each card gets its own signing key at personalisation: its certificate is DF3's
``DB`` (gen 1) or ``DD`` (gen 2), and it signs the card's data (``DA`` / ``DC``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

from mynacard.emulator.issuance.pki import PrivateKey, key_usage, sign_with

ORGANIZATION = "ZairyuCard-TEST"
ANCHOR_NAMES = {"gen1": "ZairyuCard-TEST CA", "gen2": "ZairyuCard-TEST CA2"}
"""The TEST anchors, named after the real ones (residence-card.md §5.3) with ``-TEST``."""
_FILES = {"gen1": "TEST-ZairyuCard-CA-rsa2048", "gen2": "TEST-ZairyuCard-CA2-p384"}
_NOTE = b"TEST KEY of the ZairyuCard-TEST residence-card issuer (mynacard). Not an ISA key. Tests only.\n"


@dataclass(frozen=True, slots=True)
class ResidenceAnchor:
    """A TEST trust anchor of one generation: its private key and self-signed certificate."""

    generation: str
    key: PrivateKey
    certificate: x509.Certificate


def _name(common_name: str) -> x509.Name:
    """``C=JP, O=ZairyuCard-TEST, CN=…``: short, as DD holds at most 602 bytes of certificate."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _sign(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    """sha256WithRSAEncryption (gen 1) or ecdsa-with-SHA256 with an RFC 6979 nonce (gen 2)."""
    return sign_with(builder, key, hashes.SHA256())


def new_anchor_key(generation: str) -> PrivateKey:
    """A new anchor key: RSA-2048 (gen 1) or P-384 (gen 2)."""
    if generation == "gen1":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1())


def issue_anchor(generation: str, key: PrivateKey) -> x509.Certificate:
    """The self-signed TEST anchor, valid 2024-01-01 to 2044-01-01 (as long as the real ones run)."""
    name = _name(ANCHOR_NAMES[generation])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2044, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return _sign(builder, key)


def anchor_files(generation: str) -> tuple[str, str]:
    """The shipped key and certificate files of ``generation`` in ``profiles/keys/``."""
    stem = _FILES[generation]
    return f"{stem}.pem", f"{stem}-certificate.pem"


def load_anchor(generation: str) -> ResidenceAnchor:
    """The shipped TEST anchor of ``gen1`` or ``gen2``."""
    if generation not in _FILES:
        raise ValueError(f"no residence-card generation {generation!r}")
    folder = resources.files("mynacard.profiles").joinpath("keys")
    key_file, certificate_file = anchor_files(generation)
    key = serialization.load_pem_private_key(folder.joinpath(key_file).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_file}: not an RSA or EC key")
    certificate = x509.load_pem_x509_certificate(folder.joinpath(certificate_file).read_bytes())
    return ResidenceAnchor(generation, key, certificate)


def load_delivery_key(name: str) -> rsa.RSAPrivateKey:
    """The 特定在留カード's TEST RSA delivery key (RSA配送鍵) shipped in ``profiles/keys``; a reader needs its
    public half to wrap the session key."""
    data = resources.files("mynacard.profiles").joinpath("keys", name).read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{name}: not an RSA private key")
    return key


def anchor_pem(anchor: ResidenceAnchor) -> tuple[bytes, bytes]:
    """The anchor as the shipped files hold it: the key (with its TEST note) and the certificate."""
    key = anchor.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _NOTE + key, anchor.certificate.public_bytes(serialization.Encoding.PEM)


def issue_card_certificate(
    anchor: ResidenceAnchor, card_number: str, key: PrivateKey, issued: date, expires: date
) -> x509.Certificate:
    """The card's certificate (DB / DD): the anchor certifies the key that signs this card's data."""
    serial = int.from_bytes(hashlib.sha256(card_number.encode("ascii")).digest()[:8], "big") >> 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(f"TEST card {serial:016X}"))  # the card number is a secret: not named
        .issuer_name(anchor.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime.combine(issued, time(1, 0), tzinfo=UTC))
        .not_valid_after(datetime.combine(expires, time(14, 59, 59), tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
    )
    return _sign(builder, anchor.key)


def card_signing_key(generation: str) -> PrivateKey:
    """A new card signing key: RSA-2048 (gen 1) or P-384 (gen 2)."""
    return new_anchor_key(generation)


def sign_card_data(key: PrivateKey, data: bytes) -> bytes:
    """DA: RSA-2048 PKCS#1 v1.5 with SHA-256 (256 bytes); DC: ECDSA P-384 with SHA-256 as raw ``r ‖ s``
    (96 bytes, which ``DC 60`` fixes; residence-card.md §5.3), with an RFC 6979 nonce."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    der = key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")
