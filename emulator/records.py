"""Byte-exact builders for every EF content of today's card (spec §3).

Pure functions: a persona, the card's keys and the TEST PKI in; bytes out. The lead's
personalisation calls :func:`build_contents` once and stores each value under its source name.
Values the spec marks ASSUMED are fields of :class:`RecordOptions` (or :class:`TokenInfoFields`)
with the observed/assumed value as default.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from emulator.persona import Persona
from emulator.pki import (
    JST,
    PrivateKey,
    TestPki,
    issue_auth_certificate,
    issue_sign_certificate,
)

__all__ = [
    "JpkiCertificates",
    "RecordOptions",
    "TokenInfoFields",
    "build_contents",
    "certificate_availability",
    "issue_jpki_certificates",
    "token_info",
]

LengthForm = Literal["short", "long"]


# ---------------------------------------------------------------------------------------------
# BER-TLV (private until apdu/tlv.py lands; see the report)
# ---------------------------------------------------------------------------------------------


def _ber_length(length: int, form: LengthForm = "short") -> bytes:
    """Definite length. ``short`` = the minimal form (``LL``, ``81 LL``, ``82 HH LL``);
    ``long`` = always ``82 HH LL``."""
    if form == "long":
        if length > 0xFFFF:
            raise ValueError("length does not fit 82 HH LL")
        return b"\x82" + length.to_bytes(2, "big")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def _tlv(tag: int, value: bytes, form: LengthForm = "short") -> bytes:
    return _tag_bytes(tag) + _ber_length(len(value), form) + value


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfoFields:
    """``CK_TOKEN_INFO`` of JPKI EF 0006 apart from the label.

    ASSUMED throughout: MC's unit-test sample (spec §3.1), not a dump of a production card. The
    version slots hold ASCII as physical cards do; ``utc_time`` (unused by clients) is blank.
    """

    manufacturer_id: str = "00000000000000000000000000000001"
    model: str = "E16R01NJ"
    serial_number: str = "0000000020500003"
    flags: int = 0x0000040D
    max_session_count: int = 1
    session_count: int = 0
    max_rw_session_count: int = 1
    rw_session_count: int = 0
    max_pin_len: int = 16
    min_pin_len: int = 6
    total_public_memory: int = 0xFFFFFFFF
    free_public_memory: int = 0xFFFFFFFF
    total_private_memory: int = 0xFFFFFFFF
    free_private_memory: int = 0xFFFFFFFF
    hardware_version: bytes = b"03"
    firmware_version: bytes = b"01"
    utc_time: bytes = b" " * 16


@dataclass(frozen=True)
class RecordOptions:
    """Per-profile choices for :func:`build_contents`."""

    token_label: str = "JPKIAPICCTOKEN2"
    """JPKI EF 0006 label: ``JPKIAPICCTOKEN2`` = My Number card (``JPKIAPICCTOKEN`` = 住基カード)."""
    token_info: TokenInfoFields = field(default_factory=TokenInfoFields)
    attributes_length_form: LengthForm = "short"
    """Outer length of 券面事項入力補助AP EF 0002 (spec §9.5): ``short`` = minimal BER (``FF 20 65``
    on the test card; ``81 LL``/``82 HH LL`` once the value outgrows 127/255 bytes), ``long`` =
    always ``FF 20 82 HH LL`` (what MNB's fixed offsets need)."""
    issued_at: datetime | None = None
    """notBefore of the JPKI certificates; None = the persona's issue date, 10:00 JST."""
    certificate_present: int = 0x8F
    """Byte of JPKI EF 0008 for a certificate the card holds (observed ``8F``)."""
    certificate_absent: int = 0x00
    """Byte of JPKI EF 0008 for a missing signature certificate. ASSUMED (MC unit test)."""

    def issuance(self, persona: Persona) -> datetime:
        """The moment the certificates are issued."""
        if self.issued_at is not None:
            return self.issued_at.astimezone(UTC)
        return datetime.combine(persona.issue_date, time(10, 0, tzinfo=JST)).astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# 公的個人認証AP (JPKI-AP)
# ---------------------------------------------------------------------------------------------

TOKEN_INFO_LENGTH = 160


def _padded(text: str | bytes, size: int, what: str) -> bytes:
    raw = text.encode("ascii") if isinstance(text, str) else text
    if len(raw) > size:
        raise ValueError(f"{what}: {len(raw)} bytes, at most {size}")
    return raw.ljust(size, b" ")


def token_info(label: str = "JPKIAPICCTOKEN2", fields: TokenInfoFields = TokenInfoFields()) -> bytes:
    """JPKI EF 0006: ``CK_TOKEN_INFO`` with 32-bit big-endian integers, 160 bytes.

    Label, manufacturerID, model and serialNumber are blank-padded as PKCS#11 requires, so the
    label reads ``JPKIAPICCTOKEN2`` + 17 × ``20``.
    """
    content = (
        _padded(label, 32, "label")
        + _padded(fields.manufacturer_id, 32, "manufacturer_id")
        + _padded(fields.model, 16, "model")
        + _padded(fields.serial_number, 16, "serial_number")
        + struct.pack(
            ">11I",
            fields.flags,
            fields.max_session_count,
            fields.session_count,
            fields.max_rw_session_count,
            fields.rw_session_count,
            fields.max_pin_len,
            fields.min_pin_len,
            fields.total_public_memory,
            fields.free_public_memory,
            fields.total_private_memory,
            fields.free_private_memory,
        )
        + _padded(fields.hardware_version, 2, "hardware_version")
        + _padded(fields.firmware_version, 2, "firmware_version")
        + _padded(fields.utc_time, 16, "utc_time")
    )
    assert len(content) == TOKEN_INFO_LENGTH
    return content


def certificate_availability(has_sign: bool, *, present: int = 0x8F, absent: int = 0x00) -> bytes:
    """JPKI EF 0008: ``8F 8F 00`` (both certificates) or ``00 8F 00`` (no signature certificate)."""
    return bytes([present if has_sign else absent, present, 0x00])


@dataclass(frozen=True)
class JpkiCertificates:
    """The four certificates of the JPKI-AP (``sign`` is None for a holder under 15)."""

    sign: x509.Certificate | None
    sign_ca: x509.Certificate
    auth: x509.Certificate
    auth_ca: x509.Certificate

    def pem(self) -> dict[str, bytes]:
        """PEM of each certificate, keyed like :func:`build_contents`."""
        named = {
            "jpki.sign_certificate": self.sign,
            "jpki.sign_ca_certificate": self.sign_ca,
            "jpki.auth_certificate": self.auth,
            "jpki.auth_ca_certificate": self.auth_ca,
        }
        return {k: c.public_bytes(serialization.Encoding.PEM) for k, c in named.items() if c is not None}


def _public(key: PrivateKey) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    return key.public_key()


def issue_jpki_certificates(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> JpkiCertificates:
    """署名用/利用者証明用 certificates for the persona's card keys, with their CA certificates."""
    when = options.issuance(persona)
    sign = None
    if persona.signature_certificate:
        sign = issue_sign_certificate(
            persona, _public(keys["jpki.sign_key"]), pki.sign_root, not_before=when, profile=pki.profile
        )
    auth = issue_auth_certificate(
        persona, _public(keys["jpki.auth_key"]), pki.auth_root, not_before=when, profile=pki.profile
    )
    return JpkiCertificates(sign, pki.sign_root.certificate, auth, pki.auth_root.certificate)


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def jpki_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> dict[str, bytes]:
    """Every JPKI-AP EF content, keyed by source name."""
    certificates = issue_jpki_certificates(persona, keys, pki, options)
    contents = {
        "jpki.sign_ca_certificate": _der(certificates.sign_ca),
        "jpki.auth_certificate": _der(certificates.auth),
        "jpki.auth_ca_certificate": _der(certificates.auth_ca),
        "jpki.token_info": token_info(options.token_label, options.token_info),
        "jpki.certificate_availability": certificate_availability(
            certificates.sign is not None,
            present=options.certificate_present,
            absent=options.certificate_absent,
        ),
    }
    if certificates.sign is not None:
        contents["jpki.sign_certificate"] = _der(certificates.sign)
    return contents


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def build_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> dict[str, bytes]:
    """Every EF content of today's card for ``persona``, keyed by source name.

    ``keys`` maps the ids of ``emulator.pki.CARD_KEY_IDS`` to the card's private keys.
    ``jpki.sign_certificate`` is absent for a holder without a signature certificate.
    """
    return jpki_contents(persona, keys, pki, options)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
