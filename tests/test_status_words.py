"""Status words: the table, human messages and the 61xx / 63Cx / 6Cxx families; ResponseApdu."""

from __future__ import annotations

import pytest

from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.status import (
    SW,
    bytes_available,
    counter_sw,
    describe,
    exact_length,
    is_known,
    tries_left,
)

# Every status word issue 2 and the spec's §4.8 table name, with its exact value.
EXPECTED = {
    "OK": 0x9000,
    "END_OF_FILE": 0x6282,
    "NO_RETRY_LIMIT": 0x6300,
    "SESSION_KEY_NOT_SET": 0x66F1,
    "WRONG_LENGTH": 0x6700,
    "LOGICAL_CHANNEL_NOT_SUPPORTED": 0x6881,
    "SECURE_MESSAGING_NOT_SUPPORTED": 0x6882,
    "COMMAND_CHAINING_NOT_SUPPORTED": 0x6884,
    "COMMAND_INCOMPATIBLE_WITH_FILE": 0x6981,
    "SECURITY_STATUS_NOT_SATISFIED": 0x6982,
    "AUTHENTICATION_METHOD_BLOCKED": 0x6983,
    "REFERENCE_DATA_NOT_USABLE": 0x6984,
    "CONDITIONS_OF_USE_NOT_SATISFIED": 0x6985,
    "COMMAND_NOT_ALLOWED_NO_CURRENT_EF": 0x6986,
    "WRONG_DATA": 0x6A80,
    "FUNCTION_NOT_SUPPORTED": 0x6A81,
    "FILE_NOT_FOUND": 0x6A82,
    "RECORD_NOT_FOUND": 0x6A83,
    "INCORRECT_P1_P2": 0x6A86,
    "DATA_NOT_FOUND": 0x6A88,
    "WRONG_P1_P2": 0x6B00,
    "INS_NOT_SUPPORTED": 0x6D00,
    "CLA_NOT_SUPPORTED": 0x6E00,
    "NO_PRECISE_DIAGNOSIS": 0x6F00,
}


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED.items()))
def test_named_status_words_have_their_iso_values(name: str, value: int) -> None:
    sw = SW[name]
    assert sw == value
    assert sw.sw1 == value >> 8
    assert sw.sw2 == value & 0xFF
    assert sw.bytes == value.to_bytes(2, "big")
    assert is_known(sw)


@pytest.mark.parametrize("sw", list(SW))
def test_every_named_status_word_has_a_message(sw: SW) -> None:
    text = describe(sw)
    assert text.startswith(f"{sw.sw1:02X} {sw.sw2:02X}: ")
    assert "unknown" not in text
    assert len(text) > len("XX XX: ") + 3


def test_messages_say_what_the_status_means() -> None:
    assert describe(0x9000) == "90 00: success"
    assert describe(0x6982) == "69 82: security status not satisfied"
    assert describe(0x6A82) == "6A 82: file or application not found"
    assert describe(0x6984) == "69 84: reference data not usable (blocked)"


def test_61xx_family() -> None:
    assert bytes_available(0x6110) == 0x10
    assert bytes_available(0x6101) == 1
    assert bytes_available(0x6100) == 256
    assert bytes_available(0x9000) is None
    assert bytes_available(0x6C10) is None
    assert describe(0x6110) == "61 10: 16 response bytes available (GET RESPONSE)"
    assert all(is_known(0x6100 | n) for n in range(256))


def test_63cx_family() -> None:
    assert [tries_left(0x63C0 | n) for n in range(16)] == list(range(16))
    assert tries_left(0x6300) is None
    assert tries_left(0x6984) is None
    assert tries_left(0x9000) is None
    assert describe(0x63C2) == "63 C2: verification failed or counter query, 2 tries left"
    assert describe(0x63C1) == "63 C1: verification failed or counter query, 1 try left"
    assert all(is_known(0x63C0 | n) for n in range(16))


def test_counter_sw_builds_63cx() -> None:
    assert counter_sw(0) == 0x63C0
    assert counter_sw(3) == 0x63C3
    assert counter_sw(15) == 0x63CF
    for bad in (-1, 16):
        with pytest.raises(ValueError):
            counter_sw(bad)


def test_6cxx_family() -> None:
    assert exact_length(0x6C20) == 0x20
    assert exact_length(0x6C00) == 256
    assert exact_length(0x6100) is None
    assert describe(0x6C00) == "6C 00: wrong Le, resend with Le for 256 bytes"
    assert all(is_known(0x6C00 | n) for n in range(256))


@pytest.mark.parametrize("sw", [0x0000, 0x9001, 0x6301, 0x63D0, 0x6400, 0x6A00, 0x6F01, 0x6B01, 0xFFFF])
def test_unnamed_status_words_are_unknown(sw: int) -> None:
    assert not is_known(sw)
    assert describe(sw).endswith("unknown status word")


def test_response_apdu_splits_data_and_trailer() -> None:
    r = ResponseApdu.from_bytes(bytes.fromhex("30 82 04 16 90 00"))
    assert r.data == bytes.fromhex("30 82 04 16")
    assert (r.sw, r.sw1, r.sw2, r.ok) == (0x9000, 0x90, 0x00, True)
    assert r.to_bytes() == bytes.fromhex("30 82 04 16 90 00")
    assert bytes(r) == r.to_bytes()
    bare = ResponseApdu.from_bytes(bytes.fromhex("63 C2"))
    assert (bare.data, bare.sw, bare.ok) == (b"", 0x63C2, False)
    assert ResponseApdu(b"", 0x9000) == ResponseApdu.from_bytes(b"\x90\x00")
    assert ResponseApdu(b"", 0x9000) != ResponseApdu(b"", 0x9001)
    assert hash(ResponseApdu(b"\x01", 0x9000)) == hash(ResponseApdu(b"\x01", 0x9000))
    assert "63 C2" in repr(bare)


@pytest.mark.parametrize("raw", [b"", b"\x90"])
def test_response_without_a_status_word_is_rejected(raw: bytes) -> None:
    with pytest.raises(ValueError, match="SW1 SW2"):
        ResponseApdu.from_bytes(raw)
