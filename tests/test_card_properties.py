"""Hypothesis properties of the card OS and the APDU codec (issue 2, "What it must show").

* For arbitrary byte strings (0–300 bytes, and generated short/extended shapes up to a few thousand bytes
  with consistent and inconsistent Lc/Le) ``Card.process`` returns a well-formed response whose SW is in
  the declared table, never raises, never answers ``6F 00`` (an internal error) and logs no error.
* ``CommandApdu`` round-trips every case and form, and every byte string it accepts is canonical.
* Random sequences of plausible commands keep a model of the card exact: selection, security state,
  retry counters, blocking.

Each test opens its card once (opening parses RSA keys) and powers it on afresh for every example.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.command import ApduFormatError, Case, CommandApdu
from mynacard.apdu.status import SW, is_known
from mynacard.emulator.card import Card
from mynacard.emulator.credentials import Credential
from mynacard.emulator.issuance.personalise import load_card
from mynacard.emulator.store.state import StateStore

SELECT_JPKI = bytes.fromhex("00 A4 04 0C 0A") + JPKI_AID
AUTH_PIN, SIGN_PASSWORD = b"1234", b"TEST1234"
DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420") + bytes(range(32))

HANDLED_INS = [0xA4, 0xB0, 0xB2, 0x20, 0x24, 0x84, 0x88, 0xCA, 0xC0, 0x2A, 0x32, 0x2C, 0x70, 0xD6]
PARAMETERS = [0x00, 0x01, 0x02, 0x04, 0x0C, 0x80, 0x81, 0x8A, 0x97, 0x98, 0x9A, 0x9B, 0xA0, 0xFF]
CLASSES = [0x00, 0x80, 0x01, 0x03, 0x04, 0x0C, 0x10, 0x20, 0x40, 0x4F, 0x60, 0x84, 0x90, 0xC0, 0xFF]

NO_HEALTH_NAGS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


class ErrorLog(logging.Handler):
    """Collects ERROR records of the emulator (an internal error is logged with a traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("mynacard.emulator")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def well_formed(response: bytes) -> int:
    """Assert the response is data + SW, the SW declared and no internal error; return the SW."""
    assert isinstance(response, bytes)
    assert len(response) >= 2
    sw = response[-2] << 8 | response[-1]
    assert sw != SW.NO_PRECISE_DIAGNOSIS, "6F 00: an internal error escaped a handler"
    assert is_known(sw), f"undeclared SW {sw:04X}"
    if sw >> 8 not in (0x90, 0x62) and sw != 0x9000:
        assert len(response) == 2 or sw >> 8 == 0x61, f"data with SW {sw:04X}"
    return sw


# --- strategies ----------------------------------------------------------------------------------------


@st.composite
def command_shapes(draw: st.DrawFn) -> bytes:
    """A header from plausible classes and instructions, then a body of a random shape: absent, short or
    extended Le, Lc with data with or without Le, consistent or off by a few bytes either way."""
    cla = draw(st.one_of(st.sampled_from([0x00, 0x80]), st.sampled_from(CLASSES), st.integers(0, 255)))
    ins = draw(st.one_of(st.sampled_from(HANDLED_INS), st.sampled_from(HANDLED_INS), st.integers(0, 255)))
    p1, p2 = (draw(st.one_of(st.sampled_from(PARAMETERS), st.integers(0, 255))) for _ in range(2))
    header = bytes((cla, ins, p1, p2))
    extended = draw(st.booleans())
    nc = draw(st.one_of(st.integers(0, 12), st.integers(0, 255), st.integers(0, 3000 if extended else 255)))
    data = draw(st.binary(min_size=nc, max_size=nc))
    le = draw(st.one_of(st.none(), st.integers(0, 0xFF), st.integers(0, 0xFFFF if extended else 0xFF)))
    if extended:
        body = (b"\x00" + nc.to_bytes(2, "big") + data if nc else b"") + (
            b"" if le is None else (b"" if nc else b"\x00") + le.to_bytes(2, "big")
        )
    else:
        body = (bytes((nc,)) + data if nc else b"") + (b"" if le is None else bytes((le,)))
    skew = draw(st.sampled_from([0] * 6 + [-2, -1, 1, 2]))  # mostly consistent, sometimes not
    if skew < 0:
        body = body[:skew]
    elif skew > 0:
        body += draw(st.binary(min_size=skew, max_size=skew))
    return header + body


def fresh_card(card_state_factory: Callable[..., Path]) -> Card:
    return load_card(StateStore(card_state_factory()))


# --- Card.process never fails ----------------------------------------------------------------------------


def test_arbitrary_bytes_get_a_declared_status_word(card_state_factory: Callable[..., Path]) -> None:
    card = fresh_card(card_state_factory)

    @given(raw=st.binary(max_size=300), in_jpki=st.booleans())
    @settings(max_examples=400, deadline=None, suppress_health_check=NO_HEALTH_NAGS)
    def run(raw: bytes, in_jpki: bool) -> None:
        card.power_on()
        if in_jpki:
            assert card.process(SELECT_JPKI) == b"\x90\x00"
        with error_log() as errors:
            well_formed(card.process(raw))
        assert not errors.records, [r.getMessage() for r in errors.records]

    run()


def test_command_shapes_get_a_declared_status_word(card_state_factory: Callable[..., Path]) -> None:
    card = fresh_card(card_state_factory)

    @given(raw=command_shapes(), prelude=st.sampled_from(["mf", "jpki", "jpki+pin", "jpki+password"]))
    @settings(max_examples=400, deadline=None, suppress_health_check=NO_HEALTH_NAGS)
    def run(raw: bytes, prelude: str) -> None:
        card.power_on()
        if prelude != "mf":
            assert card.process(SELECT_JPKI) == b"\x90\x00"
        if prelude == "jpki+pin":
            assert card.process(b"\x00\x20\x00\x98\x04" + AUTH_PIN) == b"\x90\x00"
        if prelude == "jpki+password":
            assert card.process(b"\x00\x20\x00\x9b\x08" + SIGN_PASSWORD) == b"\x90\x00"
        with error_log() as errors:
            well_formed(card.process(raw))
        assert not errors.records, [r.getMessage() for r in errors.records]
        _restore_counters(card)

    run()


HANDLER_HEADERS = st.tuples(
    st.sampled_from([0x00, 0x80]),
    st.sampled_from(HANDLED_INS),
    st.one_of(st.sampled_from(PARAMETERS), st.integers(0, 255)),
    st.one_of(st.sampled_from(PARAMETERS), st.integers(0, 255)),
)


def test_well_formed_commands_reach_the_handlers_and_get_a_declared_status_word(
    card_state_factory: Callable[..., Path],
) -> None:
    """Valid encodings of the card's own instructions, in each security state: the handlers' own checks."""
    card = fresh_card(card_state_factory)
    answers: set[int] = set()

    @given(
        cmd=valid_apdus(HANDLER_HEADERS), prelude=st.sampled_from(["mf", "jpki", "jpki+pin", "jpki+password"])
    )
    @settings(max_examples=400, deadline=None, suppress_health_check=NO_HEALTH_NAGS)
    def run(cmd: CommandApdu, prelude: str) -> None:
        card.power_on()
        if prelude != "mf":
            assert card.process(SELECT_JPKI) == b"\x90\x00"
        if prelude == "jpki+pin":
            assert card.process(b"\x00\x20\x00\x98\x04" + AUTH_PIN) == b"\x90\x00"
        if prelude == "jpki+password":
            assert card.process(b"\x00\x20\x00\x9b\x08" + SIGN_PASSWORD) == b"\x90\x00"
        with error_log() as errors:
            answers.add(well_formed(card.process(cmd.to_bytes())))
        assert not errors.records, [r.getMessage() for r in errors.records]
        _restore_counters(card)

    run()
    # the generator reaches past the parser into the handlers' own answers
    assert answers & {0x9000, 0x6A82, 0x6A86, 0x6982, 0x6986, 0x6981}, sorted(answers)


def _restore_counters(card: Card) -> None:
    """Harness only: undo what a generated VERIFY / CHANGE did, so every example starts alike."""
    jpki = card.filesystem.applet("jpki")
    for credential in jpki.credentials():
        value = AUTH_PIN if credential.id == "auth_pin" else SIGN_PASSWORD
        if credential.state.tries_left != credential.max_tries or not _holds(credential, value):
            credential.set_value(value)


def _holds(credential: Credential, value: bytes) -> bool:
    import hashlib
    import hmac

    assert credential.state.digest is not None
    return hmac.compare_digest(
        hashlib.sha256(credential.state.salt + value).digest(), credential.state.digest
    )


# --- CommandApdu round trips ---------------------------------------------------------------------------


@st.composite
def valid_apdus(draw: st.DrawFn, header: st.SearchStrategy[tuple[int, ...]] | None = None) -> CommandApdu:
    header = draw(header if header is not None else st.tuples(*[st.integers(0, 255)] * 4))
    case = draw(st.sampled_from(list(Case)))
    extended = case is not Case.ONE and draw(st.booleans())  # case 1 has a single form
    data = b""
    ne = 0
    if case in (Case.THREE, Case.FOUR):
        size = draw(st.integers(1, 700 if extended else 255))
        data = draw(st.binary(min_size=size, max_size=size))
    if case in (Case.TWO, Case.FOUR):
        ne = draw(st.integers(1, 65536 if extended else 256))
    return CommandApdu(*header, data=data, ne=ne, extended=extended)


@given(valid_apdus())
@settings(max_examples=500, deadline=None)
def test_command_apdu_round_trips_every_case_and_form(cmd: CommandApdu) -> None:
    raw = cmd.to_bytes()
    parsed = CommandApdu.from_bytes(raw)
    assert parsed == cmd
    assert (parsed.case, parsed.data, parsed.ne, parsed.extended) == (
        cmd.case,
        cmd.data,
        cmd.ne,
        cmd.extended,
    )
    assert (parsed.cla, parsed.ins, parsed.p1, parsed.p2) == (cmd.cla, cmd.ins, cmd.p1, cmd.p2)
    expected_length = 4 + (len(cmd.data) + (3 if cmd.extended else 1) if cmd.data else 0)
    if cmd.ne:
        expected_length += (2 if cmd.data else 3) if cmd.extended else 1
    assert len(raw) == expected_length


@given(st.one_of(st.binary(max_size=300), command_shapes()))
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
def test_every_accepted_encoding_is_canonical(raw: bytes) -> None:
    """What ``from_bytes`` accepts re-encodes to the same bytes; what it refuses is refused with 67 00."""
    try:
        cmd = CommandApdu.from_bytes(raw)
    except ApduFormatError as exc:
        assert exc.sw == SW.WRONG_LENGTH
        return
    assert cmd.to_bytes() == raw


# --- stateful: random sequences keep a model of the card exact ---------------------------------------

JPKI_FIDS = [0x0001, 0x0002, 0x0006, 0x0008, 0x000A, 0x000B, 0x0017, 0x0018, 0x001A, 0x001B]
KEYS = {0x0017: "auth", 0x001A: "sign"}
CREDENTIALS = {0x0018: "auth", 0x001B: "sign"}
MAX_TRIES = {"auth": 3, "sign": 5}
VALUES = {"auth": AUTH_PIN, "sign": SIGN_PASSWORD}
WRONG = {"auth": b"9999", "sign": b"WRONG999"}
P2 = {"auth": 0x98, "sign": 0x9B}
KEY_P2 = {"auth": 0x97, "sign": 0x9A}


def test_random_command_sequences_keep_the_model(card_state_factory: Callable[..., Path]) -> None:
    card = fresh_card(card_state_factory)

    class CardModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.applet = "mf"
            self.ef: int | None = None
            self.verified: set[str] = set()
            self.tries = dict(MAX_TRIES)
            self.errors = ErrorLog()
            logging.getLogger("mynacard.emulator").addHandler(self.errors)

        def teardown(self) -> None:
            logging.getLogger("mynacard.emulator").removeHandler(self.errors)

        def send(self, command: bytes) -> tuple[bytes, int]:
            response = card.process(command)
            sw = well_formed(response)
            return response[:-2], sw

        @initialize()
        def power_on(self) -> None:
            _restore_counters(card)
            card.power_on()

        @invariant()
        def no_internal_error(self) -> None:
            assert not self.errors.records, [r.getMessage() for r in self.errors.records]

        @rule()
        def select_jpki(self) -> None:
            assert self.send(SELECT_JPKI) == (b"", 0x9000)
            self.applet, self.ef, self.verified = "jpki", None, set()

        @rule(
            aid=st.sampled_from(
                ["D3 92 10 00 31 00 01 01 04 08", "A0 00 00 01 51 00 00", "A0 00 00 00 01 01"]
            )
        )
        def select_elsewhere(self, aid: str) -> None:
            body = bytes.fromhex(aid)
            response = self.send(b"\x00\xa4\x04\x0c" + bytes((len(body),)) + body)
            if aid.startswith("A0 00 00 00"):
                assert response == (b"", 0x6A82)  # unknown: nothing changes
                return
            assert response == (b"", 0x9000)
            self.applet, self.ef = "other", None
            self.verified = set()  # back in the JPKI-AP means a re-SELECT, which clears it anyway

        @precondition(lambda self: self.applet == "jpki")
        @rule(fid=st.one_of(st.sampled_from(JPKI_FIDS), st.sampled_from(JPKI_FIDS), st.integers(0, 0xFFFF)))
        def select_ef(self, fid: int) -> None:
            _, sw = self.send(b"\x00\xa4\x02\x0c\x02" + fid.to_bytes(2, "big"))
            if fid in JPKI_FIDS:
                assert sw == 0x9000
                self.ef = fid
            elif sw == 0x9000:
                self.ef = fid  # one of the internal EFs the profile also declares
            else:
                assert sw == 0x6A82

        @precondition(lambda self: self.applet == "jpki")
        @rule(which=st.sampled_from(["auth", "sign"]), right=st.booleans())
        def verify(self, which: str, right: bool) -> None:
            value = VALUES[which] if right else WRONG[which]
            _, sw = self.send(b"\x00\x20\x00" + bytes((P2[which], len(value))) + value)
            if self.tries[which] == 0:
                assert sw == 0x6984
            elif right:
                assert sw == 0x9000
                self.tries[which] = MAX_TRIES[which]
                self.verified.add(which)
            else:
                self.tries[which] -= 1
                assert sw == 0x63C0 | self.tries[which]
                self.verified.discard(which)

        @precondition(lambda self: self.applet == "jpki")
        @rule(which=st.sampled_from(["auth", "sign"]))
        def query(self, which: str) -> None:
            assert self.send(bytes((0x00, 0x20, 0x00, P2[which]))) == (b"", 0x63C0 | self.tries[which])

        @precondition(lambda self: self.applet == "jpki")
        @rule()
        def read_sign_certificate(self) -> None:
            data, sw = self.send(bytes.fromhex("00 B0 81 00 04"))
            self.ef = 0x0001
            if "sign" in self.verified:
                assert (data[:2], sw) == (b"\x30\x82", 0x9000)
            else:
                assert (data, sw) == (b"", 0x6982)

        @precondition(lambda self: self.applet == "jpki")
        @rule()
        def read_current(self) -> None:
            data, sw = self.send(bytes.fromhex("00 B0 00 00 04"))
            if self.ef is None:
                assert sw == 0x6986
            elif self.ef in KEYS or self.ef in CREDENTIALS or self.ef not in JPKI_FIDS:
                assert sw == 0x6981
            elif self.ef == 0x0001 and "sign" not in self.verified:
                assert sw == 0x6982
            else:
                assert sw == 0x9000 and len(data) == (3 if self.ef == 0x0008 else 4)

        @precondition(lambda self: self.applet == "jpki")
        @rule(which=st.sampled_from(["auth", "sign", "current"]))
        def sign(self, which: str) -> None:
            p2 = 0x80 if which == "current" else KEY_P2[which]
            data, sw = self.send(bytes((0x80, 0x2A, 0x00, p2, len(DIGEST_INFO))) + DIGEST_INFO + b"\x00")
            key = KEYS.get(self.ef) if self.ef is not None and which == "current" else which
            if which == "current" and self.ef is None:
                assert sw == 0x6986
            elif key is None:
                assert sw == 0x6981
            elif key in self.verified:
                assert (len(data), sw) == (256, 0x9000)
            else:
                assert sw == 0x6982

        @rule(n=st.integers(1, 256))
        def get_challenge(self, n: int) -> None:
            data, sw = self.send(bytes((0x00, 0x84, 0x00, 0x00, n & 0xFF)))
            assert (len(data), sw) == (n, 0x9000)

        @rule()
        def power_cycle(self) -> None:
            card.power_off()
            card.power_on()
            self.applet, self.ef, self.verified = "mf", None, set()

        @rule()
        def warm_reset(self) -> None:
            card.reset()  # reset_keeps_security: the model does not change

        @precondition(lambda self: not self.verified)
        @rule(raw=st.one_of(st.binary(max_size=64), command_shapes()))
        def anything(self, raw: bytes) -> None:
            self.send(raw)
            # whatever it did, resynchronise: back in the JPKI-AP and read the counters
            self.select_jpki()
            for which in ("auth", "sign"):
                _, sw = self.send(bytes((0x00, 0x20, 0x00, P2[which])))
                assert sw & 0xFFF0 == 0x63C0 and (sw & 0x0F) <= self.tries[which]
                self.tries[which] = sw & 0x0F

    CardModel.TestCase.settings = settings(
        max_examples=80, stateful_step_count=30, deadline=None, suppress_health_check=NO_HEALTH_NAGS
    )
    CardModel.TestCase().runTest()
