"""Secure-messaging known answers, on the terminal side and mirrored on the card side.

3DES: ICAO Doc 9303-11 Appendix D.4, the worked example after BAC (SELECT EF.COM and two READ BINARY;
KSenc, KSmac and SSC of Appendix D.3). The same bytes are asserted by many independent eMRTD readers
(JMRTD-style Java, Go, Dart, Swift and Rust test suites found in public code).
AES-256: the EF.COM exchange of the open-source Go eMRTD reader gmrtd (``iso7816`` tests), recorded with
an AES PACE session at SSC ``…20``; no ICAO appendix gives an AES SM example.
"""

from __future__ import annotations

import pytest

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import AES_256, TDES, CipherSuite, SmSession
from mynacard.apdu.sm.padding import pad, unpad


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


Exchange = tuple[str, str, str, str]  # plain command, protected command, protected response, plain response

D4_KEYS = (h("979EC13B1CBFE9DCD01AB0FED307EAE5"), h("F1CB1F1FB5ADF208806B89DC579DC1F8"))
D4_SSC = h("887022120C06C226")
D4: list[Exchange] = [
    (
        "00A4020C02011E",
        "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
        "990290008E08FA855A5D4C50A8ED9000",
        "9000",
    ),
    (
        "00B0000004",
        "0CB000000D9701048E08ED6705417E96BA5500",
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
        "60145F019000",
    ),
    (
        "00B0000412",
        "0CB000040D9701128E082EA28A70F3C7B53500",
        "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
        "04303130365F36063034303030305C0261759000",
    ),
]

AES_KEYS = (
    h("74B94F408BBB2CD92571FD5B6370A94CCE7A2FA42AE3EB4DA47B97CE6EAA24C6"),
    h("9E28D5D9FF1D979BE752E8926BF0E1D35A440FC0AEFC4AA3BC5610055AC8B113"),
)
AES_SSC = h("00000000000000000000000000000020")
AES: list[Exchange] = [
    (
        "00A4020C02011E",
        "0CA4020C1D8711011D35E7EB510E21A0DD12380D9AD2B92D8E0828CB68B81D3FAFC000",
        "990290008E08E083EAA61ADABFCE9000",
        "9000",
    ),
    (
        "00B0000004",
        "0CB000000D9701048E084AFC933E0CDBE5F000",
        "871101D8059A9CF835105082CA2B1837E4AEC0990290008E08B36DB56761D706BB9000",
        "60185F019000",
    ),
    (
        "00B0000416",
        "0CB000040D9701168E0811F7EFC907D1F27400",
        "87210142E919C115FAF69350B01813D77A9E8D91912A7F717AFD073F199070E61B79C6990290008E083382E3D983F44136"
        "9000",
        "04303130385F36063034303030305C06617563766D6E9000",
    ),
]

CASES = [
    pytest.param(TDES, D4_KEYS, D4_SSC, D4, "887022120C06C22C", id="3des-icao-d4"),
    pytest.param(AES_256, AES_KEYS, AES_SSC, AES, "00000000000000000000000000000026", id="aes256-gmrtd"),
]


@pytest.mark.parametrize(("suite", "keys", "ssc", "exchanges", "final_ssc"), CASES)
def test_terminal_wraps_and_unwraps_the_published_bytes(
    suite: CipherSuite, keys: tuple[bytes, bytes], ssc: bytes, exchanges: list[Exchange], final_ssc: str
) -> None:
    session = SmSession(*keys, suite, ssc)
    for plain, protected, protected_response, plain_response in exchanges:
        assert session.wrap_command(CommandApdu.from_bytes(h(plain))).to_bytes() == h(protected)
        unwrapped = session.unwrap_response(ResponseApdu.from_bytes(h(protected_response)))
        assert unwrapped.to_bytes() == h(plain_response)
    assert session.ssc.to_bytes(suite.ssc_length, "big") == h(final_ssc)


@pytest.mark.parametrize(("suite", "keys", "ssc", "exchanges", "final_ssc"), CASES)
def test_card_unwraps_and_wraps_the_published_bytes(
    suite: CipherSuite, keys: tuple[bytes, bytes], ssc: bytes, exchanges: list[Exchange], final_ssc: str
) -> None:
    session = SmSession(*keys, suite, ssc)
    for plain, protected, protected_response, plain_response in exchanges:
        command = session.unwrap_command(CommandApdu.from_bytes(h(protected)))
        assert command.to_bytes() == h(plain)
        answer = ResponseApdu.from_bytes(h(plain_response))
        assert session.wrap_response(answer.data, answer.sw).to_bytes() == h(protected_response)
    assert session.ssc.to_bytes(suite.ssc_length, "big") == h(final_ssc)


def test_d4_building_blocks() -> None:
    """Appendix D.4 step by step: the cryptogram of 01 1E and the MAC of the padded SELECT."""
    k_enc, k_mac = D4_KEYS
    assert pad(h("011E"), 8) == h("011E800000000000")
    assert TDES.encrypt(k_enc, b"", h("011E800000000000")) == h("6375432908C044F6")
    n = h("887022120C06C227 0CA4020C80000000 8709016375432908 C044F68000000000")
    assert TDES.mac(k_mac, n) == h("BF8B92D635FF24F8")


@pytest.mark.parametrize(
    ("data", "padded"),
    [("", "8000000000000000"), ("01", "0180000000000000"), ("01020304050607", "0102030405060780")],
)
def test_padding_method_2(data: str, padded: str) -> None:
    assert pad(h(data), 8) == h(padded)
    assert unpad(h(padded), 8) == h(data)


def test_padding_of_a_full_block_adds_a_block() -> None:
    assert pad(bytes(8), 8) == bytes(8) + h("8000000000000000")
    assert pad(bytes(16), 16) == bytes(16) + h("80") + bytes(15)
