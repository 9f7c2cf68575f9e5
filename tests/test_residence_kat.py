"""Residence-card known answers: the spec's worked examples of card-number authentication, byte for byte.

``residence-card.md`` §8.1 (在留カード等仕様書 別添1, first generation: 3DES and the retail MAC) and §8.2
(第２世代在留カード等仕様書 Appendix 2: AES-128 and AES-CMAC), both for the card number ``AA12345678BB``,
RND.IFD ``11 … 88`` and K.IFD ``40 … 4F``; the card's RND.ICC and K.ICC are injected. Then the
encryption-only SM of §5.2 and the negative cases: every fault answers the spec's status word.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import SecureMessagingError, SmObjectsIncorrectError
from mynacard.apdu.sm.residence import (
    GEN1,
    GEN2,
    ResidenceAuthenticationError,
    ResidenceChip,
    ResidenceGeneration,
    ResidenceStateError,
    ResidenceTerminal,
    card_number_bytes,
    card_number_key,
    session_key,
    verify_command,
)
from mynacard.apdu.sm.residence_sm import ResidenceSm


def h(text: str) -> bytes:
    return bytes.fromhex(text)


CARD_NUMBER = "AA12345678BB"
RND_IFD = h("11 22 33 44 55 66 77 88")
K_IFD = h("40 41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F")
SHA1_CARD_NUMBER = h("65 22 B4 E1 71 19 5B B2 18 22 3A 97 6C 04 01 11 BD C4 AA 25")
K_CARD_NUMBER = SHA1_CARD_NUMBER[:16]


@dataclass(frozen=True)
class Example:
    """One worked example of §8: the card's values and everything both sides compute."""

    generation: ResidenceGeneration
    rnd_icc: bytes
    k_icc: bytes
    e_ifd: bytes
    m_ifd: bytes
    e_icc: bytes
    m_icc: bytes
    k_xor: bytes
    ks_enc: bytes
    verify_cryptogram: bytes


GEN1_EXAMPLE = Example(
    GEN1,
    rnd_icc=h("5A 6E 7E 38 51 62 B7 A3"),
    k_icc=h("19 D0 49 49 0F FF 52 EE DB FC B9 30 BC 81 0E D0"),
    e_ifd=h(
        "93 77 45 C2 08 83 A1 BA D1 E0 41 93 72 2A 15 92 37 8F 81 A8 F1 DC 58 91 57 AE B0 F7 54 4F A1 BA"
    ),
    m_ifd=h("1A D7 FB 6A 33 89 E0 17"),
    e_icc=h(
        "58 60 77 5B 4D 03 2C C5 64 BA 20 4B 8E A8 68 F6 94 A7 4E 74 75 A8 FE F2 40 58 8B DA 1A F4 96 CE"
    ),
    m_icc=h("59 38 8F D6 CD 45 24 8B"),
    k_xor=h("59 91 0B 0A 4B BA 14 A9 93 B5 F3 7B F0 CC 40 9F"),
    ks_enc=h("CE 94 93 8E 19 E3 B9 7D F9 6E AB CE DC 17 15 CC"),
    verify_cryptogram=h("1A A8 29 73 DB 95 9A 81 1F 97 11 D7 28 F0 EE F6"),
)
GEN2_EXAMPLE = Example(
    GEN2,
    rnd_icc=h("92 1C E2 77 32 3D A0 57"),
    k_icc=h("2C C6 AF 9B 8B 60 7C 66 2F DC AD 27 B4 01 D0 8B"),
    e_ifd=h(
        "4A D3 C7 B6 BB 48 4A 52 77 19 77 DE D6 18 B4 1D F8 41 FA 04 76 A0 5F BE 04 1D EA D6 10 9E 77 3B"
    ),
    m_ifd=h("AC 85 46 17 63 4F 53 97"),
    e_icc=h(
        "28 9A 96 B1 DA 6A E3 DA 87 77 04 19 BF D1 4F 0B DA D1 5F 36 43 2B 5A 94 6C 18 8C 72 21 75 9A 62"
    ),
    m_icc=h("FA 94 2E C5 1E 62 FF 5F"),
    k_xor=h("6C 87 ED D8 CF 25 3A 21 67 95 E7 6C F8 4C 9E C4"),
    ks_enc=h("C1 9C F1 3D 3D 7F BE E9 EA 29 3D 83 4C 88 95 2F"),
    verify_cryptogram=h("EE 0B 31 EF 87 7F 68 D0 71 C5 6D 58 C7 2E 67 48"),
)
EXAMPLES = [pytest.param(GEN1_EXAMPLE, id="gen1-bessoe1"), pytest.param(GEN2_EXAMPLE, id="gen2-appendix2")]


def replay(*values: bytes) -> Callable[[int], bytes]:
    """A random source giving ``values`` in order, each of the length asked for."""
    queue = list(values)

    def take(length: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == length
        return value

    return take


def terminal(example: Example, card_number: str = CARD_NUMBER) -> ResidenceTerminal:
    return ResidenceTerminal.for_card_number(example.generation, card_number, replay(RND_IFD, K_IFD))


def chip(example: Example) -> ResidenceChip:
    key = card_number_key(card_number_bytes(CARD_NUMBER))
    return ResidenceChip(example.generation, key, replay(example.rnd_icc, example.k_icc))


def test_card_number_keys() -> None:
    """Kenc = Kmac = SHA-1(``41 41 31 32 … 42 42``)[:16], the same in both generations."""
    assert card_number_bytes(CARD_NUMBER) == h("41 41 31 32 33 34 35 36 37 38 42 42")
    assert card_number_key(card_number_bytes(CARD_NUMBER)) == K_CARD_NUMBER


@pytest.mark.parametrize("example", EXAMPLES)
def test_terminal_sends_the_example_bytes(example: Example) -> None:
    data = terminal(example).authentication_data(example.rnd_icc)
    assert data == example.e_ifd + example.m_ifd
    command = CommandApdu(0x00, 0x82, 0x00, 0x00, data, 256)
    assert command.to_bytes() == h("00 82 00 00 28") + example.e_ifd + example.m_ifd + h("00")


@pytest.mark.parametrize("example", EXAMPLES)
def test_card_answers_the_example_bytes(example: Example) -> None:
    card = chip(example)
    assert card.challenge() == example.rnd_icc
    answer, _ = card.respond(example.e_ifd + example.m_ifd)
    assert answer == example.e_icc + example.m_icc
    plain = example.generation.decrypt(K_CARD_NUMBER, example.e_icc)
    assert plain == example.rnd_icc + RND_IFD + example.k_icc


@pytest.mark.parametrize("example", EXAMPLES)
def test_session_key_and_verify_cryptogram(example: Example) -> None:
    assert bytes(a ^ b for a, b in zip(K_IFD, example.k_icc, strict=True)) == example.k_xor
    assert session_key(K_IFD, example.k_icc) == example.ks_enc
    ifd = terminal(example)
    ifd.authentication_data(example.rnd_icc)
    session = ifd.complete(example.e_icc + example.m_icc)
    command = verify_command(session, CARD_NUMBER)
    assert command.to_bytes() == h("08 20 00 86 13 86 11 01") + example.verify_cryptogram
    padded = card_number_bytes(CARD_NUMBER) + h("80 00 00 00")
    assert example.generation.encrypt(example.ks_enc, padded) == example.verify_cryptogram


def test_gen2_session_key_digest() -> None:
    """Appendix 2 gives the whole SHA-1 of (K.IFD ⊕ K.ICC) ‖ 00 00 00 01; KSenc is its first 16 bytes."""
    digest = hashlib.sha1(GEN2_EXAMPLE.k_xor + h("00 00 00 01")).digest()
    assert digest == h("C1 9C F1 3D 3D 7F BE E9 EA 29 3D 83 4C 88 95 2F AD 53 37 F2")


@pytest.mark.parametrize("example", EXAMPLES)
def test_card_unwraps_the_example_verify(example: Example) -> None:
    card = chip(example)
    card.challenge()
    _, session = card.respond(example.e_ifd + example.m_ifd)
    protected = CommandApdu.from_bytes(h("08 20 00 86 13 86 11 01") + example.verify_cryptogram)
    plain = session.unwrap_command(protected)
    assert plain.to_bytes() == h("00 20 00 86 0C") + card_number_bytes(CARD_NUMBER)
    assert session.wrap_response(b"", 0x9000).to_bytes() == h("90 00")


# -- the encryption-only SM (§5.2) ---------------------------------------------------------------------------


def test_sm_read_binary_command_shape() -> None:
    """``00 B0 85 00 00 00 00`` (whole EF) → ``08 B0 85 00 00 00 04 96 02 00 00 00 00`` (§6.1)."""
    session = ResidenceSm(GEN1.suite, GEN1_EXAMPLE.ks_enc)
    plain = CommandApdu.from_bytes(h("00 B0 85 00 00 00 00"))
    protected = session.wrap_command(plain)
    assert protected.to_bytes() == h("08 B0 85 00 00 00 04 96 02 00 00 00 00")
    assert session.unwrap_command(protected).to_bytes() == plain.to_bytes()
    explicit = session.wrap_command(CommandApdu(0x00, 0xB0, 0x83, 0x00, b"", 0x49, extended=True))
    assert explicit.to_bytes() == h("08 B0 83 00 00 00 04 96 02 00 49 00 00")
    assert session.unwrap_command(explicit).ne == 0x49


@pytest.mark.parametrize(
    ("example", "size", "header"),
    [
        pytest.param(GEN1_EXAMPLE, 7004, "86 82 1B 61 01", id="gen1-DF1-EF01-front-image"),
        pytest.param(GEN1_EXAMPLE, 3004, "86 82 0B C1 01", id="gen1-DF1-EF02-face"),
        pytest.param(GEN2_EXAMPLE, 5508, "86 82 15 91 01", id="gen2-DF1-EF03-name-and-face"),
    ],
)
def test_sm_response_lengths(example: Example, size: int, header: str) -> None:
    """The SM READ answers of §6: ``86 82 LL LL 01`` and the padded cryptogram, nothing else."""
    session = ResidenceSm(example.generation.suite, example.ks_enc)
    content = bytes(range(256)) * (size // 256) + bytes(size % 256)
    wrapped = session.wrap_response(content, 0x9000)
    assert wrapped.data[:5] == h(header)
    assert len(wrapped.data) == 5 + int.from_bytes(h(header)[2:4], "big") - 1
    assert session.unwrap_response(wrapped).to_bytes() == content + h("90 00")


def test_sm_response_cryptogram_is_zero_iv_cbc() -> None:
    session = ResidenceSm(GEN2.suite, GEN2_EXAMPLE.ks_enc)
    wrapped = session.wrap_response(b"C1\x02\x30\x35", 0x9000)
    expected = GEN2.encrypt(GEN2_EXAMPLE.ks_enc, b"C1\x02\x30\x35\x80" + bytes(10))
    assert wrapped.to_bytes() == h("86 11 01") + expected + h("90 00")


# -- negative cases --------------------------------------------------------------------------------


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes((data[index] ^ 0x01,)) + data[index + 1 :]


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize(("index", "part"), [(0, "E.IFD"), (31, "E.IFD"), (32, "M.IFD"), (39, "M.IFD")])
def test_altered_mutual_authenticate_is_63_00(example: Example, index: int, part: str) -> None:
    card = chip(example)
    card.challenge()
    with pytest.raises(ResidenceAuthenticationError) as caught:
        card.respond(flip(example.e_ifd + example.m_ifd, index))
    assert caught.value.sw == 0x6300


@pytest.mark.parametrize("example", EXAMPLES)
def test_wrong_card_number_is_63_00(example: Example) -> None:
    ifd = terminal(example, "AA12345678BC")
    card = chip(example)
    data = ifd.authentication_data(card.challenge())
    with pytest.raises(ResidenceAuthenticationError) as caught:
        card.respond(data)
    assert caught.value.sw == 0x6300


def test_gen1_authentication_to_a_gen2_card_is_63_00() -> None:
    """A real gen-2 card answers ``63 00`` to a 3DES / retail-MAC MUTUAL AUTHENTICATE (§5.1, E9)."""
    card = chip(GEN2_EXAMPLE)
    card.challenge()
    with pytest.raises(ResidenceAuthenticationError) as caught:
        card.respond(GEN1_EXAMPLE.e_ifd + GEN1_EXAMPLE.m_ifd)
    assert caught.value.sw == 0x6300


@pytest.mark.parametrize("example", EXAMPLES)
def test_replayed_mutual_authenticate(example: Example) -> None:
    """A challenge serves one MUTUAL AUTHENTICATE: the same data again is ``69 85`` without a new
    challenge, and ``63 00`` after one (its RND.ICC differs)."""
    key = card_number_key(card_number_bytes(CARD_NUMBER))
    fresh = h("01 02 03 04 05 06 07 08")
    card = ResidenceChip(example.generation, key, replay(example.rnd_icc, example.k_icc, fresh))
    card.challenge()
    card.respond(example.e_ifd + example.m_ifd)
    with pytest.raises(ResidenceStateError) as caught:
        card.respond(example.e_ifd + example.m_ifd)
    assert caught.value.sw == 0x6985
    card.challenge()
    with pytest.raises(ResidenceAuthenticationError) as wrong:
        card.respond(example.e_ifd + example.m_ifd)
    assert wrong.value.sw == 0x6300


@pytest.mark.parametrize("length", [0, 32, 39, 41, 48])
def test_mutual_authenticate_of_the_wrong_length_is_67_00(length: int) -> None:
    card = chip(GEN1_EXAMPLE)
    card.challenge()
    data = (GEN1_EXAMPLE.e_ifd + GEN1_EXAMPLE.m_ifd + bytes(8))[:length]
    with pytest.raises(SecureMessagingError) as caught:
        card.respond(data)
    assert caught.value.sw == 0x6700


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("index", [0, 20, 35])
def test_terminal_refuses_an_altered_answer(example: Example, index: int) -> None:
    ifd = terminal(example)
    ifd.authentication_data(example.rnd_icc)
    with pytest.raises(ResidenceAuthenticationError):
        ifd.complete(flip(example.e_icc + example.m_icc, index))


def test_terminal_refuses_an_answer_to_another_challenge() -> None:
    """The card's answer of the gen-1 example, to a terminal that sent another RND.ICC: the MAC holds,
    the nonces do not."""
    ifd = terminal(GEN1_EXAMPLE)
    ifd.authentication_data(h("00 00 00 00 00 00 00 00"))
    with pytest.raises(ResidenceAuthenticationError, match="nonces"):
        ifd.complete(GEN1_EXAMPLE.e_icc + GEN1_EXAMPLE.m_icc)


@pytest.mark.parametrize("number", ["AA12345678B", "AA12345678BBB", "AA12345678B-", "ＡA12345678BB"])
def test_card_number_format(number: str) -> None:
    with pytest.raises(ValueError, match="12 ASCII"):
        card_number_bytes(number)


CRYPTOGRAM = GEN1_EXAMPLE.verify_cryptogram.hex(" ").upper()


def _session() -> ResidenceSm:
    return ResidenceSm(GEN1.suite, GEN1_EXAMPLE.ks_enc)


VERIFY = "08 20 00 86 13 86 11 01 " + CRYPTOGRAM
BAD_SM_COMMANDS = [
    pytest.param("08 20 00 86 13 87 11 01 " + CRYPTOGRAM, id="tag-87"),
    pytest.param("08 20 00 86 13 86 11 02 " + CRYPTOGRAM, id="indicator-02"),
    pytest.param("08 20 00 86 13 86 11 01 " + CRYPTOGRAM[:-2] + "F7", id="altered-padding"),
    pytest.param("08 20 00 86 0B 86 09 01 1A A8 29 73 DB 95 9A 81", id="one-block-no-padding"),
    pytest.param("08 20 00 86 0A 86 08 01 1A A8 29 73 DB 95 9A", id="not-whole-blocks"),
    pytest.param("08 20 00 86 02 86 01", id="truncated-object"),
    pytest.param("08 20 00 86 03 86 01 01", id="indicator-only"),
    pytest.param("08 B0 85 00 00 00 03 96 01 00 00 00", id="le-one-byte"),
    pytest.param("08 B0 85 00 00 00 08 96 02 00 00 96 02 00 00 00 00", id="le-twice"),
    pytest.param("08 B0 85 00 00 00 05 8E 03 00 00 00 00 00", id="mac-object"),
    pytest.param("0C B0 85 00 00 00 04 96 02 00 00 00 00", id="cla-0C"),
    pytest.param("08 B0 85 00 00 00 00", id="no-objects"),
]


@pytest.mark.parametrize("command", BAD_SM_COMMANDS)
def test_bad_sm_objects_are_69_88(command: str) -> None:
    with pytest.raises(SmObjectsIncorrectError) as caught:
        _session().unwrap_command(CommandApdu.from_bytes(h(command)))
    assert caught.value.sw == 0x6988


def test_objects_out_of_order_are_69_88() -> None:
    session = _session()
    body = h("96 02 00 00") + h("86 11 01") + bytes(16)
    with pytest.raises(SmObjectsIncorrectError):
        session.unwrap_command(CommandApdu(0x08, 0x20, 0x00, 0x86, body))


def test_closed_session_refuses() -> None:
    session = _session()
    assert session.unwrap_command(CommandApdu.from_bytes(h(VERIFY))).data == card_number_bytes(CARD_NUMBER)
    session.close()
    assert session.closed and "keys masked" not in repr(session)
    with pytest.raises(SmObjectsIncorrectError):
        session.unwrap_command(CommandApdu.from_bytes(h(VERIFY)))


def test_terminal_refuses_a_bad_response() -> None:
    session = _session()
    with pytest.raises(SmObjectsIncorrectError):
        session.unwrap_response(ResponseApdu(h("87 09 01") + bytes(8), 0x9000))
    assert session.unwrap_response(ResponseApdu(b"", 0x6982)).sw == 0x6982


def test_reprs_mask_keys() -> None:
    ifd = terminal(GEN1_EXAMPLE)
    assert "key masked" in repr(ifd) and K_CARD_NUMBER.hex() not in repr(ifd).lower()
    assert GEN1_EXAMPLE.ks_enc.hex() not in repr(_session()).lower()
