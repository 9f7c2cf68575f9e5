"""Conformance suites: they drive a card only through ``reader.transmit(bytes) -> ResponseApdu``.

Rule 5 of the architecture: one suite, many readers. Nothing here knows whether the reader is the in-process
``VirtualReader`` (``--reader virtual``, the default) or a PC/SC reader (``--reader pcsc:NAME``), so every
test runs unchanged on both. Tests that assert raw ``61xx``/``6Cxx``, power or reset semantics, or card
internals live in ``tests/test_card_response_rules.py`` instead.

The values below are those of the default TEST persona (``profiles/personas/default.toml``).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from apdu.reader import Reader
from apdu.response import ResponseApdu
from emulator.card import Card
from emulator.personalise import load_card
from emulator.state import StateStore

JPKI_AID = bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01")
TEXT_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 08")
VISUAL_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 02")
JUKI_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 01")
COMMON_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 01 00")
ISD_AID = bytes.fromhex("A0 00 00 01 51 00 00")

AUTH_PIN = b"1234"
"""利用者証明用暗証番号 of the TEST persona (JPKI EF 0018, 4 digits, 3 tries)."""
SIGN_PASSWORD = b"TEST1234"
"""署名用パスワード of the TEST persona (JPKI EF 001B, 6–16 of [A-Z0-9], 5 tries)."""
WRONG_AUTH_PIN = b"9999"
WRONG_SIGN_PASSWORD = b"WRONG999"

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20")

OK = 0x9000


def hx(text: str) -> bytes:
    """``'00 A4 04 0C'`` → bytes."""
    return bytes.fromhex(text)


def send(reader: Reader, command: bytes | str) -> ResponseApdu:
    return reader.transmit(hx(command) if isinstance(command, str) else command)


def apdu(header: str, data: bytes = b"", le: str = "") -> bytes:
    """A short APDU from a header, a data field (Lc computed) and an optional Le."""
    out = hx(header)
    if data:
        out += bytes((len(data),)) + data
    return out + hx(le)


def expect(reader: Reader, command: bytes | str, sw: int, data: bytes | None = None) -> ResponseApdu:
    """Send and assert the status word (and the data, when given) exactly."""
    response = send(reader, command)
    shown = command if isinstance(command, str) else command.hex(" ").upper()
    assert response.sw == sw, f"{shown}: SW {response.sw:04X}, expected {sw:04X}"
    if data is not None:
        assert response.data == data, f"{shown}: data {response.data.hex(' ')}"
    return response


def select_aid(reader: Reader, aid: bytes) -> None:
    expect(reader, apdu("00 A4 04 0C", aid), OK, b"")


def select_jpki(reader: Reader) -> None:
    select_aid(reader, JPKI_AID)


def select_ef(reader: Reader, fid: int) -> None:
    expect(reader, apdu("00 A4 02 0C", fid.to_bytes(2, "big")), OK, b"")


def verify(reader: Reader, p2: int, value: bytes, sw: int = OK) -> ResponseApdu:
    return expect(reader, apdu(f"00 20 00 {p2:02X}", value), sw)


def read_current_ef(reader: Reader) -> bytes:
    """The whole current EF, read in 256-byte chunks (Le 00) with the 15-bit offset form."""
    out = bytearray()
    while True:
        r = send(reader, bytes((0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, 0x00)))
        if r.sw == 0x6B00 and out:
            return bytes(out)
        assert r.sw == OK, f"READ BINARY at {len(out)}: {r.sw:04X}"
        out += r.data
        if len(r.data) < 256:
            return bytes(out)


def read_ef(reader: Reader, fid: int) -> bytes:
    select_ef(reader, fid)
    return read_current_ef(reader)


def certificate_key(der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def sha256_digest_info(message: bytes) -> bytes:
    """The 51-byte DER DigestInfo of SHA-256(message) that hosts send to ``80 2A`` (Lc 33)."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


# --- a card shared by the read-only tests of a module ------------------------------------------------------
# Opening a card parses its RSA keys (~0.2 s), so tests that change no persistent state (no wrong VERIFY,
# no CHANGE REFERENCE DATA) share one card per module. Every test still gets a freshly powered card from
# ``reader_for``, and the teardown checks that the test left both JPKI retry counters full.
# A module imports both fixture functions (with a noqa for F401) and asks for ``shared_reader``.


@pytest.fixture(scope="module", name="shared_card")
def shared_card_fixture(
    card_templates: Callable[[str, str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Card:
    directory = tmp_path_factory.mktemp("shared") / "card"
    shutil.copytree(card_templates("legacy-2016", "default"), directory)
    return load_card(StateStore(directory))


@pytest.fixture(name="shared_reader")
def shared_reader_fixture(reader_for: Callable[[Card], Reader], shared_card: Card) -> Iterator[Reader]:
    """The module's shared card in the reader chosen by ``--reader``, powered afresh for this test."""
    reader = reader_for(shared_card)
    yield reader
    select_jpki(reader)
    for fid, full in ((0x0018, 0x63C3), (0x001B, 0x63C5)):
        assert send(reader, bytes((0x00, 0x20, 0x00, 0x80 | fid))).sw == full, "a read-only test used a try"
