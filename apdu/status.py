"""Status words (SW1 SW2) with human messages and the families ``61xx``, ``63Cx`` and ``6Cxx``.

One table for the whole project: the card answers with these values and the host side explains them.
"""

from __future__ import annotations

from enum import IntEnum


class SW(IntEnum):
    """Status words named as ISO/IEC 7816-4 and the My Number card references name them."""

    OK = 0x9000
    END_OF_FILE = 0x6282
    NO_RETRY_LIMIT = 0x6300
    MORE_DATA_AVAILABLE = 0x6310
    """GlobalPlatform Card Specification, GET STATUS: more entries follow (P2 'next occurrence')."""
    MEMORY_FAILURE = 0x6581
    SESSION_KEY_NOT_SET = 0x66F1
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_OF_CHAIN_EXPECTED = 0x6883
    COMMAND_CHAINING_NOT_SUPPORTED = 0x6884
    COMMAND_INCOMPATIBLE_WITH_FILE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTHENTICATION_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_OF_USE_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_CURRENT_EF = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    INCORRECT_P1_P2 = 0x6A86
    LC_INCONSISTENT_WITH_P1_P2 = 0x6A87
    DATA_NOT_FOUND = 0x6A88
    WRONG_P1_P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00

    @property
    def sw1(self) -> int:
        return self.value >> 8

    @property
    def sw2(self) -> int:
        return self.value & 0xFF

    @property
    def bytes(self) -> bytes:
        return self.value.to_bytes(2, "big")


_MESSAGES: dict[int, str] = {
    SW.OK: "success",
    SW.END_OF_FILE: "end of file reached before reading Ne bytes",
    SW.NO_RETRY_LIMIT: "verification failed (no retry limit)",
    SW.MORE_DATA_AVAILABLE: "more data available (GET STATUS: ask for the next occurrence)",
    SW.MEMORY_FAILURE: "memory failure",
    SW.SESSION_KEY_NOT_SET: "no session key configured",
    SW.WRONG_LENGTH: "wrong length (Lc or Le)",
    SW.LOGICAL_CHANNEL_NOT_SUPPORTED: "logical channel not supported",
    SW.SECURE_MESSAGING_NOT_SUPPORTED: "secure messaging not supported",
    SW.LAST_COMMAND_OF_CHAIN_EXPECTED: "last command of the chain expected",
    SW.COMMAND_CHAINING_NOT_SUPPORTED: "command chaining not supported",
    SW.COMMAND_INCOMPATIBLE_WITH_FILE: "command incompatible with file structure",
    SW.SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied",
    SW.AUTHENTICATION_METHOD_BLOCKED: "authentication method blocked",
    SW.REFERENCE_DATA_NOT_USABLE: "reference data not usable (blocked)",
    SW.CONDITIONS_OF_USE_NOT_SATISFIED: "conditions of use not satisfied",
    SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF: "command not allowed (no current EF)",
    SW.SM_DATA_OBJECTS_MISSING: "expected secure messaging data objects missing",
    SW.SM_DATA_OBJECTS_INCORRECT: "incorrect secure messaging data objects",
    SW.WRONG_DATA: "incorrect parameters in the data field",
    SW.FUNCTION_NOT_SUPPORTED: "function not supported",
    SW.FILE_NOT_FOUND: "file or application not found",
    SW.RECORD_NOT_FOUND: "record not found",
    SW.NOT_ENOUGH_MEMORY: "not enough memory space in the file",
    SW.INCORRECT_P1_P2: "incorrect parameters P1-P2",
    SW.LC_INCONSISTENT_WITH_P1_P2: "Lc inconsistent with P1-P2",
    SW.DATA_NOT_FOUND: "referenced data or data object not found",
    SW.WRONG_P1_P2: "wrong parameters P1-P2 (offset outside the EF)",
    SW.INS_NOT_SUPPORTED: "instruction code not supported",
    SW.CLA_NOT_SUPPORTED: "class not supported",
    SW.NO_PRECISE_DIAGNOSIS: "no precise diagnosis",
}


def bytes_available(sw: int) -> int | None:
    """For ``61xx``: how many bytes GET RESPONSE can fetch (``00`` means 256 or more)."""
    if sw >> 8 == 0x61:
        return (sw & 0xFF) or 256
    return None


def tries_left(sw: int) -> int | None:
    """For ``63Cx``: the retry counter x (verification failed or the empty VERIFY query)."""
    if sw & 0xFFF0 == 0x63C0:
        return sw & 0x0F
    return None


def exact_length(sw: int) -> int | None:
    """For ``6Cxx``: the Ne the card wants (``00`` means 256)."""
    if sw >> 8 == 0x6C:
        return (sw & 0xFF) or 256
    return None


def counter_sw(tries: int) -> int:
    """``63Cx`` for x tries left."""
    if not 0 <= tries <= 15:
        raise ValueError(f"a 63Cx counter holds 0..15, not {tries}")
    return 0x63C0 | tries


def is_known(sw: int) -> bool:
    """True when ``sw`` is a named status word or belongs to one of the families."""
    return sw in _MESSAGES or sw >> 8 in (0x61, 0x6C) or sw & 0xFFF0 == 0x63C0


def describe(sw: int) -> str:
    """``'63 C2: verification failed, 2 tries left'`` and the like, for traces and errors."""
    text = f"{sw >> 8:02X} {sw & 0xFF:02X}"
    if sw in _MESSAGES:
        return f"{text}: {_MESSAGES[sw]}"
    if (n := tries_left(sw)) is not None:
        return f"{text}: verification failed or counter query, {n} {'try' if n == 1 else 'tries'} left"
    if (n := bytes_available(sw)) is not None:
        return f"{text}: {n} response bytes available (GET RESPONSE)"
    if (n := exact_length(sw)) is not None:
        return f"{text}: wrong Le, resend with Le for {n} bytes"
    return f"{text}: unknown status word"
