"""What every suite shares: APDU helpers that use only ``reader.transmit``, the expected values of the
default TEST persona, a small client-side BER reader (what public clients do on the host, independent of
``mynacard.apdu.tlv`` so that the card is not checked with its own parser), and the stored contents of a
personalised card, so a read can be compared byte for byte.

AIDs and FIDs come from ``mynacard.apdu.applets``; the expected status words and the DigestInfo prefix are
written out here, independently of the code under test. Spec: ../shared/spec/current-card.md (cited as §n).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from mynacard.apdu.applets.card import ISD_AID
from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.applets.juki import COMMON_AID, JUKI_AID
from mynacard.apdu.applets.text import TEXT_AID
from mynacard.apdu.applets.visual import VISUAL_AID
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace, read_card_access
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import PacePassword, PasswordReference
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import Profile

__all__ = ["COMMON_AID", "ISD_AID", "JPKI_AID", "JUKI_AID", "TEXT_AID", "VISUAL_AID"]

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


def with_pace(reader: Reader, aid: bytes, reference: PasswordReference, secret: str) -> ProcessedReader:
    """``reader`` under secure messaging: EF.CardAccess read at MF level, the application selected, PACE
    run with the password; the result wraps and unwraps every later ``transmit``."""
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(reader, [processor])
    card_access = read_card_access(protected)
    select_aid(protected, aid)
    establish_pace(protected, processor, card_access, PacePassword.digits(reference, secret))
    return protected


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


SECURITY_NOT_SATISFIED = 0x6982
INCOMPATIBLE_WITH_FILE = 0x6981
REFERENCE_DATA_BLOCKED = 0x6984
RECORD_NOT_FOUND = 0x6A83


def show(command: bytes) -> str:
    return command.hex(" ").upper()


def verify_selected(reader: Reader, fid: int, value: bytes, sw: int = OK) -> None:
    """SELECT the key EF, then ``00 20 00 80 Lc <value>`` (§4.4)."""
    select_ef(reader, fid)
    expect(reader, apdu("00 20 00 80", value), sw, b"")


def verify_sfi(reader: Reader, fid: int, value: bytes, sw: int = OK) -> None:
    """``00 20 00 <80|SFI> Lc <value>`` with no SELECT (§4.4; MBE, jsapdu)."""
    expect(reader, apdu(f"00 20 00 {0x80 | fid:02X}", value), sw, b"")


def read_binary_chunks(reader: Reader, total: int, start: int = 0) -> bytes:
    """OpenSC/MYNA style: 256-byte chunks (Le 00) from ``start``, the last one with the exact Le."""
    out = bytearray()
    position = start
    while position < total:
        n = min(256, total - position)
        command = bytes((0x00, 0xB0, position >> 8, position & 0xFF, n & 0xFF))
        response = expect(reader, command, OK)
        assert len(response.data) == n, f"{show(command)}: {len(response.data)} bytes, asked {n}"
        out += response.data
        position += n
    return bytes(out)


# --- a client-side BER reader (the host's view, independent of apdu.tlv) ---------------------------


@dataclass(frozen=True)
class Ber:
    tag: int
    value: bytes
    start: int
    header: int

    @property
    def end(self) -> int:
        return self.start + self.header + len(self.value)

    @property
    def encoded_length(self) -> int:
        return self.header + len(self.value)


def ber_at(data: bytes, pos: int = 0) -> Ber:
    """One BER-TLV at ``pos`` (multi-byte tags, definite lengths up to 3 length bytes)."""
    start = pos
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        while True:
            tag = tag << 8 | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        assert 1 <= count <= 3, f"length form {first:02X} at {pos - 1}"
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    assert pos + length <= len(data), f"tag {tag:X} at {start}: {length} bytes declared, data too short"
    return Ber(tag, data[pos : pos + length], start, pos - start)


def ber_children(value: bytes) -> list[Ber]:
    out: list[Ber] = []
    pos = 0
    while pos < len(value):
        item = ber_at(value, pos)
        out.append(item)
        pos = item.end
    return out


def ber_header_total(head: bytes) -> int:
    """Total size of the object whose first bytes are ``head`` (what a 4- or 7-byte probe is for)."""
    pos = 1
    if head[0] & 0x1F == 0x1F:
        while head[pos] & 0x80:
            pos += 1
        pos += 1
    first = head[pos]
    pos += 1
    if first < 0x80:
        return pos + first
    count = first & 0x7F
    return pos + count + int.from_bytes(head[pos : pos + count], "big")


# --- personalised cards and what personalisation stored -------------------------------------------


def stored_contents(state_dir: Path) -> dict[str, object]:
    """``contents.json`` of a card's state directory: ``files`` and ``records`` keyed ``applet/FID``."""
    document = json.loads((state_dir / StateStore.CONTENTS).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def stored_file(state_dir: Path, applet: str, fid: int) -> bytes:
    files = stored_contents(state_dir)["files"]
    assert isinstance(files, dict)
    return bytes.fromhex(files[f"{applet}/{fid:04X}"])


def has_stored_file(state_dir: Path, applet: str, fid: int) -> bool:
    files = stored_contents(state_dir)["files"]
    return isinstance(files, dict) and f"{applet}/{fid:04X}" in files


def stored_records(state_dir: Path, applet: str, fid: int) -> list[bytes]:
    records = stored_contents(state_dir)["records"]
    assert isinstance(records, dict)
    return [bytes.fromhex(r) for r in records[f"{applet}/{fid:04X}"]]


def open_copy(template: Path, target: Path) -> Card:
    """A fresh card from a copy of a personalised state directory."""
    shutil.copytree(template, target)
    return load_card(StateStore(target))


def juki_terminal_key() -> ec.EllipticCurvePrivateKey:
    """The TEST 住基 terminal key shipped with the nextgen-2026 profile (for EXTERNAL AUTHENTICATE tests)."""
    pem = resources.files("mynacard.profiles").joinpath("keys/TEST-juki-terminal-p384.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def juki_signature(challenge: bytes, key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    """A 住基 terminal's EXTERNAL AUTHENTICATE data: ECDSA P-384 over SHA-384(challenge), as ``r ‖ s``."""
    r, s = decode_dss_signature((key or juki_terminal_key()).sign(challenge, ec.ECDSA(hashes.SHA384())))
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


def client_view(state_dir: Path, profile: Profile, target: Path) -> Path:
    """What today's client expects to read, for the card in ``state_dir``: a copy whose ``contents.json``
    also holds each file under today's ``applet/FID`` when the profile's legacy aliases route it there
    (``[behaviour] legacy_aliases``). Without aliases it is a plain copy: today's files are not there."""
    shutil.copytree(state_dir, target)
    if not profile.behaviour.legacy_aliases:
        return target
    today = {a.aid: a.id for a in load_profile("legacy-2016").applets}
    path = target / StateStore.CONTENTS
    document = json.loads(path.read_text(encoding="utf-8"))
    for applet in profile.applets:
        for alias in applet.aliases:
            old_applet = today.get(alias.aid)
            if old_applet is None:
                continue
            for old_fid, new_fid in alias.fid_map().items():
                for table in ("files", "records"):
                    key = StateStore.content_key(applet.id, new_fid)
                    if key in document[table]:
                        document[table][StateStore.content_key(old_applet, old_fid)] = document[table][key]
    path.write_text(json.dumps(document), encoding="utf-8")
    return target
