"""The holder's burden, measured (カードをかざす回数や暗証番号の入力回数): workflows run on a card.

A workflow is data: card presentations (sessions), each a list of functions done while the card is on
the reader. A planner maps each function to the APDUs of a profile family and runs it as a careful client
would: select the applet, try the operation, and only on ``69 82`` ask the holder for the function's
secret, VERIFY it and try again. So what the card does decides the count: on ``nextgen-2026`` a verified
signature password satisfies every rule of the 4-digit PIN (verify once), on ``legacy-2016`` each applet
has its own PIN and selecting an applet forgets it. Within a session, functions that need the signature
password go first, which is what a client that knows verify-once does.

Counted per workflow: the distinct secrets the holder must know (PINs and passwords, not the numbers
printed on the card, which the terminal reads), PIN entries, card presentations, APDUs, bytes on the wire
both ways, the wire time at ISO/IEC 14443's base rate of 106 kbit/s (fc/128), a floor that leaves out
frame overhead and the card's processing time, and the card time of the timing model (the profile's
``[timing]``: its bit rate, per-APDU overhead and operation times such as a signature's). The workflows'
sessions are ASSUMED from how the services work today (マイナポータル, e-Tax, コンビニ交付, マイナ保険証),
each noted below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mynacard.apdu.applets import jpki, juki, nextgen, text, visual
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace, read_card_access
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.sm import PacePassword, PasswordReference
from mynacard.apdu.status import SW
from mynacard.apdu.trace import Exchange
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personas import Persona
from mynacard.emulator.timing import expected_seconds
from mynacard.profiles.timing import TimingSpec
from mynacard.tools.harness.suites.helpers import juki_signature

DEFAULT_TIMING = TimingSpec()
"""The references' timing class (profiles/timing.py): what ``model_ms`` assumes unless told otherwise."""
WIRE_BITS_PER_SECOND = 106_000
"""ISO/IEC 14443-2's base bit rate (fc/128), the rate every contactless reader supports."""

SHA256_DIGEST_INFO = bytes.fromhex("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20")


@dataclass(frozen=True, slots=True)
class Workflow:
    id: str
    label: str
    sessions: tuple[tuple[str, ...], ...]
    """Card presentations, each the functions done while the card is on the reader."""
    note: str


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "e-tax",
        "e-Tax 確定申告 (filing)",
        (("login",), ("read_attributes", "sign")),
        "ASSUMED: log in to マイナポータル first; at submission the form is filled from the 4情報 and signed",
    ),
    Workflow("login", "マイナポータル login", (("login",),), "利用者証明用電子証明書 with the PIN"),
    Workflow(
        "moving-in",
        "転入届 at the municipal counter",
        (("check_face", "juki"),),
        "ASSUMED: the clerk checks the card face (照合番号B read off the card); the holder enters"
        " the 住基 PIN (legacy) or the PIN behind a 住基 terminal (next card)",
    ),
    Workflow(
        "convenience-store",
        "コンビニ交付 (certificate issuance)",
        (("login",),),
        "利用者証明用電子証明書 with the PIN at the kiosk",
    ),
    Workflow(
        "health-insurance",
        "マイナ保険証 qualification check (PIN mode)",
        (("read_certificate", "login"),),
        "the reader reads the 利用者証明用 certificate and has the holder sign with the PIN",
    ),
)


@dataclass(slots=True)
class Tally:
    """What one workflow cost on one card."""

    workflow: str
    profile: str
    secrets: set[str] = field(default_factory=set)
    pin_entries: int = 0
    sessions: int = 0
    apdus: int = 0
    bytes_on_wire: int = 0
    model_seconds: float = 0.0
    """The timing model's time for every exchange (``mynacard.emulator.timing.expected_seconds``)."""

    @property
    def wire_ms(self) -> float:
        return self.bytes_on_wire * 8 / WIRE_BITS_PER_SECOND * 1000

    def row(self) -> dict[str, object]:
        return {
            "workflow": self.workflow,
            "profile": self.profile,
            "secrets": len(self.secrets),
            "secret_names": sorted(self.secrets),
            "pin_entries": self.pin_entries,
            "sessions": self.sessions,
            "apdus": self.apdus,
            "bytes": self.bytes_on_wire,
            "wire_ms": round(self.wire_ms, 1),
            "model_ms": round(self.model_seconds * 1000, 1),
        }


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret the holder types: its name, the applet and the FID of its credential."""

    name: str
    aid: bytes
    fid: int
    value: Callable[[Persona], str]


class BurdenError(RuntimeError):
    """A function did not succeed on the card: the workflow cannot be done with this profile."""


class _Client:
    """Runs functions on one card presentation and counts what the holder does."""

    def __init__(self, reader: Reader, persona: Persona, tally: Tally, family: str) -> None:
        self.reader, self.persona, self.tally, self.family = reader, persona, tally, family
        self.current: bytes | None = None

    def send(self, command: bytes) -> tuple[bytes, int]:
        response = self.reader.transmit(command)
        return response.data, response.sw

    def select(self, aid: bytes) -> None:
        if self.current != aid:
            self.expect(CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid).to_bytes(), "SELECT")
            self.current = aid

    def with_secret(self, secret: Secret, operation: Callable[[], tuple[bytes, int]]) -> bytes:
        """Try ``operation``; on ``69 82`` ask for the secret, VERIFY it and try once more."""
        self.select(secret.aid)
        data, sw = operation()
        if sw == SW.SECURITY_STATUS_NOT_SATISFIED:
            self.verify(secret)
            data, sw = operation()
        if sw != SW.OK:
            raise BurdenError(f"{secret.name}: the operation answered {sw:04X}")
        return data

    def verify(self, secret: Secret) -> None:
        self.tally.secrets.add(secret.name)
        self.tally.pin_entries += 1
        self.expect(CommandApdu(0x00, 0xA4, 0x02, 0x0C, secret.fid.to_bytes(2, "big")).to_bytes(), "SELECT")
        value = secret.value(self.persona).encode("ascii")
        self.expect(CommandApdu(0x00, 0x20, 0x00, 0x80, value).to_bytes(), f"VERIFY {secret.name}")

    def read(self, fid: int) -> Callable[[], tuple[bytes, int]]:
        def operation() -> tuple[bytes, int]:
            _, sw = self.send(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")).to_bytes())
            if sw != SW.OK:
                return b"", sw
            return self._read_whole()

        return operation

    def _read_whole(self) -> tuple[bytes, int]:
        """READ BINARY in 256-byte steps until a shorter answer (or end of file) ends the EF."""
        content = b""
        while len(content) < 0x8000:
            p1p2 = len(content).to_bytes(2, "big")
            data, sw = self.send(CommandApdu(0x00, 0xB0, p1p2[0], p1p2[1], ne=256).to_bytes())
            if sw != SW.OK:
                return (content, SW.OK) if content and sw in (0x6B00, 0x6282) else (b"", sw)
            content += data
            if len(data) < 256:
                break
        return content, SW.OK

    def sign(self, key_fid: int, message: bytes) -> Callable[[], tuple[bytes, int]]:
        if self.family == "nextgen-2026":  # ECDSA P-384 over a host-side SHA-384 hash
            data = hashlib.sha384(message).digest()
        else:  # RSA PKCS#1 over a SHA-256 DigestInfo
            data = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()

        def operation() -> tuple[bytes, int]:
            _, sw = self.send(CommandApdu(0x00, 0xA4, 0x02, 0x0C, key_fid.to_bytes(2, "big")).to_bytes())
            if sw != SW.OK:
                return b"", sw
            return self.send(CommandApdu(0x80, 0x2A, 0x00, 0x80, data, 256).to_bytes())  # the current key EF

        return operation

    def expect(self, command: bytes, what: str) -> None:
        _, sw = self.send(command)
        if sw != SW.OK:
            raise BurdenError(f"{what} answered {sw:04X}")


# --- the functions, per profile family -----------------------------------------------------------------

LEGACY = {
    "auth_pin": Secret("利用者証明用暗証番号", jpki.JPKI_AID, jpki.AUTH_PIN, lambda p: p.auth_pin),
    "sign_password": Secret("署名用パスワード", jpki.JPKI_AID, jpki.SIGN_PASSWORD, lambda p: p.sign_password),
    "text_pin": Secret("券面事項入力補助用暗証番号", text.TEXT_AID, text.PIN, lambda p: p.text_pin),
    "juki_pin": Secret("住民基本台帳用暗証番号", juki.JUKI_AID, 0x001C, lambda p: p.juki_pin),
}
NEXTGEN = {
    "pin": Secret("暗証番号 (4桁)", nextgen.AUTH_AID, nextgen.PIN, lambda p: p.auth_pin),
    "sign_password": Secret(
        "署名用パスワード", nextgen.AUTH_AID, nextgen.SIGN_PASSWORD, lambda p: p.sign_password
    ),
}
MESSAGE = "mynacard burden: 申告書".encode()


def _legacy(client: _Client, function: str) -> None:
    if function == "login":
        client.with_secret(LEGACY["auth_pin"], client.sign(jpki.AUTH_KEY, MESSAGE))
    elif function == "sign":
        client.with_secret(LEGACY["sign_password"], client.sign(jpki.SIGN_KEY, MESSAGE))
    elif function == "read_certificate":
        client.select(jpki.JPKI_AID)
        client.with_secret(LEGACY["auth_pin"], client.read(jpki.AUTH_CERTIFICATE))
    elif function == "read_attributes":
        client.with_secret(LEGACY["text_pin"], client.read(text.BASIC_ATTRIBUTES))
    elif function == "read_my_number":
        client.with_secret(LEGACY["text_pin"], client.read(text.MY_NUMBER))
    elif function == "juki":
        client.select(juki.JUKI_AID)
        client.verify(LEGACY["juki_pin"])
    elif function == "check_face":
        client.select(visual.VISUAL_AID)
        number = client.persona.verification_code_b.encode("ascii")  # read off the card, not typed
        client.expect(CommandApdu(0x00, 0x20, 0x00, 0x92, number).to_bytes(), "VERIFY 照合番号B")
        _, sw = client.read(0x0002)()
        if sw != SW.OK:
            raise BurdenError(f"card face: {sw:04X}")
    else:
        raise BurdenError(f"unknown function {function!r}")


def _nextgen(client: _Client, function: str) -> None:
    pin, password = NEXTGEN["pin"], NEXTGEN["sign_password"]
    if function == "login":
        client.with_secret(pin, client.sign(nextgen.AUTH_KEY, MESSAGE))
    elif function == "sign":
        client.with_secret(password, client.sign(nextgen.SIGN_KEY, MESSAGE))
    elif function == "read_certificate":
        client.with_secret(pin, client.read(nextgen.AUTH_CERTIFICATE))
    elif function == "read_attributes":
        client.with_secret(pin, client.read(nextgen.ATTRIBUTES))
    elif function == "read_my_number":
        client.with_secret(pin, client.read(nextgen.MY_NUMBER))
    elif function == "juki":
        client.select(nextgen.AUTH_AID)
        challenge, _ = client.send(CommandApdu(0x00, 0x84, 0x00, 0x00, ne=8).to_bytes())
        signature = juki_signature(challenge)  # the 住基 terminal authenticates itself: no holder secret
        client.expect(
            CommandApdu(0x00, 0x82, 0x00, nextgen.JUKI_TERMINAL_KEY, signature).to_bytes(), "EXTERNAL AUTH"
        )
        client.with_secret(pin, client.read(nextgen.RESIDENT_CODE))
    elif function == "check_face":
        _face_via_pace(client)
    else:
        raise BurdenError(f"unknown function {function!r}")


def _face_via_pace(client: _Client) -> None:
    """The 券面等AP under PACE with 照合番号B read off the card face (no secret typed)."""
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(client.reader, [processor])
    card_access = read_card_access(protected)
    client.current = None
    client.select(nextgen.FACE_AID)
    password = PacePassword.digits(PasswordReference.CAN, client.persona.verification_number_b6)
    establish_pace(protected, processor, card_access, password)
    saved, client.reader = client.reader, protected
    try:
        _, sw = client.read(nextgen.FRONT)()
    finally:
        client.reader = saved
        processor.end()
    if sw != SW.OK:
        raise BurdenError(f"card face: {sw:04X}")
    client.current = None  # the plain command that follows ends the session; select again


PLANNERS: dict[str, Callable[[_Client, str], None]] = {"legacy-2016": _legacy, "nextgen-2026": _nextgen}
PASSWORD_FIRST = {"sign"}


def run_workflow(
    card: Card, family: str, persona: Persona, workflow: Workflow, timing: TimingSpec = DEFAULT_TIMING
) -> Tally:
    """Run ``workflow`` on ``card`` in the virtual reader (a fresh presentation per session)."""
    return run_on_reader(VirtualReader(card), card.name, family, persona, workflow, timing)


def run_on_reader(
    reader: Reader,
    profile: str,
    family: str,
    persona: Persona,
    workflow: Workflow,
    timing: TimingSpec = DEFAULT_TIMING,
) -> Tally:
    """Run ``workflow`` on the card in ``reader`` (powered off and on between presentations) and count what
    it took: the holder's secrets, entries and taps, every APDU and byte, and the timing model's time."""
    tally = Tally(workflow.id, profile)

    def count(exchange: Exchange) -> None:
        tally.apdus += 1
        tally.bytes_on_wire += len(exchange.command) + len(exchange.response)
        tally.model_seconds += expected_seconds(timing, exchange.command, exchange.response)

    reader.add_observer(count)
    try:
        for functions in workflow.sessions:
            reader.power_on()
            tally.sessions += 1
            client = _Client(reader, persona, tally, family)
            for function in sorted(functions, key=lambda f: f not in PASSWORD_FIRST):
                PLANNERS[family](client, function)
            reader.power_off()
    finally:
        reader.remove_observer(count)  # the reader may serve the next workflow
    return tally


def run_all(cards: Sequence[tuple[Card, str, TimingSpec]], persona: Persona) -> list[Tally]:
    """Every workflow on every (card, its planner's family, its timing class)."""
    return [
        run_workflow(card, family, persona, w, timing) for card, family, timing in cards for w in WORKFLOWS
    ]


def table(tallies: Sequence[Tally]) -> str:
    """Legacy beside next-gen, one line per workflow and profile."""
    lines = [
        f"{'workflow':<18} {'profile':<14} {'secrets':>7} {'PIN entries':>11} {'taps':>4} {'APDUs':>5} "
        f"{'bytes':>6} {'wire ms':>7} {'model ms':>8}"
    ]
    for t in [*sorted(tallies, key=lambda t: (t.workflow, t.profile)), *totals(tallies)]:
        lines.append(
            f"{t.workflow:<18} {t.profile:<14} {len(t.secrets):>7} {t.pin_entries:>11} {t.sessions:>4} "
            f"{t.apdus:>5} {t.bytes_on_wire:>6} {t.wire_ms:>7.1f} {t.model_seconds * 1000:>8.1f}"
        )
    return "\n".join(lines)


def totals(tallies: Sequence[Tally]) -> list[Tally]:
    """Per profile, every workflow together: the secrets a holder must know for all of them (the union),
    and the entries, taps, APDUs and bytes summed."""
    out: dict[str, Tally] = {}
    for t in tallies:
        total = out.setdefault(t.profile, Tally("all workflows", t.profile))
        total.secrets |= t.secrets
        total.pin_entries += t.pin_entries
        total.sessions += t.sessions
        total.apdus += t.apdus
        total.bytes_on_wire += t.bytes_on_wire
        total.model_seconds += t.model_seconds
    return list(out.values())
