"""``mynacard demo``: personalise a card in a temporary directory and run a JPKI flow on the virtual reader.

The flow is what a terminal does for 利用者証明 (user authentication): select the JPKI-AP, read the
user-authentication certificate, check the PIN counter, verify the PIN, sign, and check the signature
with the certificate's public key. Every exchange is printed as a trace, with the PIN masked. On the next
card the 券面等AP is then read through PACE and secure messaging, wire and plain side by side. A residence
card (``residence-gen1``, ``residence-gen2``) is read whole with its card number (在留カード等番号) and its
signature checked against the TEST anchor ``ZairyuCard-TEST``.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path
from typing import TextIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from mynacard.apdu.applets import nextgen
from mynacard.apdu.applets.jpki import AUTH_CERTIFICATE, AUTH_KEY, AUTH_PIN, JpkiSession
from mynacard.apdu.applets.nextgen import AuthSession
from mynacard.apdu.applets.residence import ResidenceSession, SpecifiedResidenceSession, verify_signature
from mynacard.apdu.applets.text import TextSession
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.processors import ProcessedReader, Processor, Transmit
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace, read_card_access
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import PacePassword, PasswordReference, decode_card_access
from mynacard.apdu.status import SW
from mynacard.apdu.trace import Exchange
from mynacard.apdu.tracefile import TraceWriter
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import DEFAULT_PERSONA, DEFAULT_PROFILE, open_card
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.residence_pki import load_anchor, load_delivery_key
from mynacard.emulator.store.documents import CardDocument
from mynacard.emulator.store.state import StateStore
from mynacard.tools.cli.exits import CliError, Exit

MESSAGE = "mynacard demo: 利用者証明のテスト".encode()


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="run a short JPKI flow against a fresh card on the virtual reader"
    )
    parser.add_argument(
        "--profile", help=f"card profile (default: the card's own, or {DEFAULT_PROFILE} for a new card)"
    )
    parser.add_argument(
        "--persona", help=f"TEST persona (default: the card's own, or {DEFAULT_PERSONA} for a new card)"
    )
    parser.add_argument("--state", type=Path, help="keep the card in this directory (default: a temp dir)")
    parser.add_argument("--trace", type=Path, help="also record the session as a trace file (secrets masked)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        trace = stack.enter_context(args.trace.open("w", encoding="utf-8")) if args.trace else None
        if args.state is not None:
            return _demo(args.profile, args.persona, args.state, trace)
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="mynacard-demo-"))
        return _demo(args.profile, args.persona, Path(tmp) / "card", trace)


def _demo(profile: str | None, persona_id: str | None, state: Path, trace: TextIO | None = None) -> int:
    """Open (or personalise) the card, refusing one of another profile or persona before any VERIFY."""
    store = StateStore(state)
    if store.exists():
        print(f"opening the card in {state} …")
        card = open_card(profile, persona_id, state)
        made_for = store.read_document(StateStore.CARD, CardDocument).persona
        if made_for is None:
            raise CliError(f"{state}: the card was made for no persona, so the demo knows no PIN")
        persona = load_persona(made_for)
    else:
        persona = load_persona(persona_id or DEFAULT_PERSONA)
        print(
            f"personalising a {profile or DEFAULT_PROFILE} card for TEST persona {persona.id!r} in {state} …"
        )
        card = open_card(profile or DEFAULT_PROFILE, persona.id, state)
    reader = VirtualReader(card)
    reader.add_observer(_print_exchange)
    if trace is not None:
        reader.add_observer(TraceWriter(trace, reader.name))
    atr = reader.power_on()
    print(f"ATR {atr.hex(' ').upper()}\n")
    residence = card.residence
    if residence is not None and residence.access == "mutual_authentication":
        _residence_flow(reader, persona)
    elif card_family(card) == "nextgen-2026":
        _nextgen_flows(reader, persona)
        if card.pace_infos:
            reader.power_on()
            _face_via_pace(reader, persona)
    else:
        _legacy_flows(reader, persona)
    if residence is not None and residence.access == "session_key_delivery":
        reader.power_on()
        _specified_residence_flow(reader, persona, card)
    reader.close()
    return Exit.OK


def _legacy_flows(reader: VirtualReader, persona: Persona) -> None:
    """利用者証明 on today's card: certificate, PIN counter, VERIFY, signature; then 基本4情報."""
    client = JpkiSession(reader)
    client.select()
    certificate = x509.load_der_x509_certificate(client.read_certificate(AUTH_CERTIFICATE))
    print(f"# user-authentication certificate: {certificate.subject.rfc4514_string()}")
    print(f"# PIN tries left: {client.tries_left(AUTH_PIN)}")
    client.verify(AUTH_PIN, persona.auth_pin)
    signature = client.sign_sha256(AUTH_KEY, MESSAGE)
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    print("# signature verified with the certificate's public key: OK\n")
    _read_basic_attributes(reader, persona.text_pin)


def _nextgen_flows(reader: VirtualReader, persona: Persona) -> None:
    """The next card: one signature password opens both signatures and the attributes (verify once)."""
    auth = AuthSession(reader)
    auth.select()
    auth_certificate = x509.load_der_x509_certificate(auth.read_certificate(nextgen.AUTH_CERTIFICATE))
    print(f"# user-authentication certificate: {auth_certificate.subject.rfc4514_string()}")
    print(
        f"# tries left: PIN {auth.tries_left(nextgen.PIN)}, signature password "
        f"{auth.tries_left(nextgen.SIGN_PASSWORD)}"
    )
    auth.verify(nextgen.SIGN_PASSWORD, persona.sign_password)
    sign_certificate = x509.load_der_x509_certificate(auth.read_certificate(nextgen.SIGN_CERTIFICATE))
    for label, key_fid, certificate in (
        ("user-authentication key", nextgen.AUTH_KEY, auth_certificate),
        ("signature key", nextgen.SIGN_KEY, sign_certificate),
    ):
        _verify_p384(certificate, auth.sign_sha384(key_fid, MESSAGE))
        print(f"# {label}: ECDSA P-384 / SHA-384 signature verified with its certificate: OK")
    attributes = auth.read_attributes()
    print(f"# 4情報: 氏名 {attributes.name} ({attributes.furigana}, {attributes.romanised_name})")
    print(f"#        住所 {attributes.address} / 生年月日 {attributes.birth_date} / 性別 {attributes.sex}")
    print(
        f"# verify once: one password, two signatures and the attributes; the PIN still has "
        f"{auth.tries_left(nextgen.PIN)} tries and was never asked for\n"
    )


class _PlainSide(Processor):
    """Prints each exchange as the terminal's application sees it, above secure messaging."""

    def transmit(self, command: bytes, send: Transmit) -> ResponseApdu:
        response = send(command)
        print(f"    plain > {_shorten(Exchange(command, b'').command_text())}")
        print(f"    plain < {_shorten(response.data.hex(' ').upper())}  {response.sw:04X}")
        return response


def _face_via_pace(reader: VirtualReader, persona: Persona) -> None:
    """The 券面等AP requires secure messaging: PACE with 照合番号B off the card face, then protected reads.
    Lines ``>``/``<`` are the wire (protected), ``plain >``/``plain <`` what the application sees."""
    print("# 券面等AP: PACE with 照合番号B (the CAN, reference 02), then secure messaging")
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(reader, [_PlainSide(), processor])
    card_access = read_card_access(reader)
    offered = ", ".join(f"{i.protocol.name} on {i.parameters.name}" for i in decode_card_access(card_access))
    print(f"# EF.CardAccess offers {offered}")
    reader.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, nextgen.FACE_AID).to_bytes())
    plain_read = reader.transmit(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x00\x03").to_bytes())
    print(f"# a plain SELECT EF after the applet: {plain_read.sw:04X} (secure messaging required)")
    password = PacePassword.digits(PasswordReference.CAN, persona.verification_number_b6)
    establish_pace(reader, processor, card_access, password)
    print("# PACE done: session keys agreed, every command from here is wrapped")
    for fid, label in ((0x0003, "4情報 record"), (0x0004, "My Number record")):
        protected.transmit(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")).to_bytes())
        answer = protected.transmit(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=256).to_bytes())
        outcome = f"{len(answer.data)} bytes read" if answer.sw == SW.OK else f"refused {answer.sw:04X}"
        print(f"# {label} ({fid:04X}) with 照合番号B: {outcome}")
    print("# 照合番号B opens the card face, not the My Number (that needs 照合番号A)\n")


def _residence_flow(reader: VirtualReader, persona: Persona) -> None:
    """在留カード等: the free MF files, card-number authentication (GET CHALLENGE, MUTUAL AUTHENTICATE,
    VERIFY under the session key), DF1 under SM, DF2 and DF3 in plain, and the signature."""
    if persona.residence_card_number is None:
        raise CliError(f"TEST persona {persona.id!r} has no residence card ([residence])")
    print("# 在留カード等: authentication with the card number printed on the card (masked here)")
    data = ResidenceSession(reader, persona.residence_card_number).read_all()
    print(
        f"# card type {data.card_type!r} ({data.generation.name}): {data.generation.suite.name} SM, zero IV"
    )
    for name, content in data.files.items():
        print(f"# {name}: {len(content)} bytes")
    anchor = load_anchor(data.generation.name).certificate
    certificate = verify_signature(data, anchor)
    print(f"# card certificate {certificate.subject.rfc4514_string()}")
    print(
        f"# signature over the card face verified against the TEST anchor {anchor.subject.rfc4514_string()}\n"
    )


def _specified_residence_flow(reader: VirtualReader, persona: Persona, card: Card) -> None:
    """特定在留カード: the 在留AP beside today's applets, by session-key delivery (SET SESSION KEY)."""
    spec = card.residence
    if persona.residence_card_number is None or spec is None or spec.delivery_key is None:
        raise CliError(f"TEST persona {persona.id!r} has no residence card ([residence])")
    delivery = load_delivery_key(spec.delivery_key).public_key()
    print("# 在留AP: SET SESSION KEY (an AES-128 key under RSA-OAEP), then every command under SM")
    data = SpecifiedResidenceSession(reader, persona.residence_card_number, delivery).read_all()
    print(f"# card type {data.card_type!r}: {', '.join(f'{k} {len(v)} B' for k, v in data.files.items())}")
    anchor = load_anchor("gen2").certificate
    verify_signature(data, anchor)
    print(f"# signature verified against the TEST anchor {anchor.subject.rfc4514_string()}\n")


def _verify_p384(certificate: x509.Certificate, signature: bytes) -> None:
    """A plain ``r ‖ s`` signature over SHA-384(MESSAGE), checked with the certificate's P-384 key."""
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    half = len(signature) // 2
    r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    key.verify(encode_dss_signature(r, s), MESSAGE, ec.ECDSA(hashes.SHA384()))


def card_family(card: Card) -> str:
    """The profile family of an open card (today's card and its variants: legacy-2016); a card with the
    next card's 認証AP (the 特定在留カード on the next chip too) is nextgen-2026."""
    next_card = card.name.startswith("nextgen-2026") or card.filesystem.find(nextgen.AUTH_AID) is not None
    return "nextgen-2026" if next_card else "legacy-2016"


def _read_basic_attributes(reader: VirtualReader, pin: str) -> None:
    """券面事項入力補助AP: verify its PIN, read 基本4情報 (EF 0002) and decode it with the DF 21 table."""
    text = TextSession(reader)
    text.select()
    attributes = text.read_basic_attributes(pin)
    print(f"# 基本4情報: 氏名 {attributes.name} / 住所 {attributes.address}")
    print(f"#           生年月日 {attributes.birth_date} / 性別 {attributes.sex} (JIS X 0303)")


def _print_exchange(exchange: Exchange) -> None:
    print(f"> {_shorten(exchange.command_text())}")
    data, sw = exchange.response[:-2], exchange.response[-2:]
    shown = _shorten(data.hex(" ").upper()) + "  " if data else ""
    print(f"< {shown}{Exchange(b'', sw).response_text()}")


def _shorten(text: str, limit: int = 32) -> str:
    """At most ``limit`` bytes of hex, then how many there were."""
    count = (len(text) + 1) // 3
    return text if count <= limit else f"{text[: limit * 3 - 1]} … ({count} bytes)"
