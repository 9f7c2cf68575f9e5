"""Dynamic authentication data of GENERAL AUTHENTICATE for PACE (ICAO Doc 9303-11 §4.4, BSI TR-03110-3).

The command and response data field is one ``7C`` object whose content is at most one object per step:

| step | command (terminal → chip) | response (chip → terminal) |
|---|---|---|
| 1 encrypted nonce | (empty) | ``80`` encrypted nonce |
| 2 map nonce | ``81`` mapping data | ``82`` mapping data |
| 3 key agreement | ``83`` ephemeral public key | ``84`` ephemeral public key |
| 4 mutual authentication | ``85`` authentication token | ``86`` authentication token |

Decoding is strict. A well-formed object of another step is an order problem (``PaceStateError``, ``69 85``);
anything else — bad TLV, trailing bytes, an unknown tag, several objects, a zero-length object — is bad data
(``PaceDataError``, ``6A 80``). Lengths of the values are checked by the step that uses them.
"""

from __future__ import annotations

from mynacard.apdu.sm.errors import PaceDataError, PaceStateError
from mynacard.apdu.tlv import TlvError, ber_decode, ber_decode_all, ber_encode

TAG_DYNAMIC_AUTHENTICATION_DATA = 0x7C
TAG_ENCRYPTED_NONCE = 0x80
TAG_MAPPING_DATA_TERMINAL = 0x81
TAG_MAPPING_DATA_CHIP = 0x82
TAG_EPHEMERAL_KEY_TERMINAL = 0x83
TAG_EPHEMERAL_KEY_CHIP = 0x84
TAG_TOKEN_TERMINAL = 0x85
TAG_TOKEN_CHIP = 0x86

COMMAND_TAGS: tuple[int | None, ...] = (None, 0x81, 0x83, 0x85)
"""The object of each step's command (index = step − 1); step 1 has none."""
RESPONSE_TAGS: tuple[int, ...] = (0x80, 0x82, 0x84, 0x86)
"""The object of each step's response."""

MAX_DATA_LENGTH = 1024
"""No PACE step needs more (a P-521 point is 133 bytes); longer data is refused before it is parsed."""


def encode(tag: int | None, value: bytes = b"") -> bytes:
    """``7C L { tag L value }``, or ``7C 00`` for step 1's command."""
    return ber_encode(TAG_DYNAMIC_AUTHENTICATION_DATA, b"" if tag is None else ber_encode(tag, value))


def decode(data: bytes, expected: int | None, step_tags: tuple[int | None, ...]) -> bytes:
    """The value of the ``expected`` object (``b""`` for step 1's empty command)."""
    if len(data) > MAX_DATA_LENGTH:
        raise PaceDataError(f"dynamic authentication data of {len(data)} bytes is oversized")
    try:
        outer = ber_decode(data)
        inner = ber_decode_all(outer.value)
    except TlvError as error:
        raise PaceDataError(f"dynamic authentication data is not BER-TLV: {error}") from None
    if outer.tag != TAG_DYNAMIC_AUTHENTICATION_DATA or outer.end != len(data):
        raise PaceDataError("the data field must be exactly one 7C object")
    if len(inner) > 1:
        raise PaceDataError(f"7C holds {len(inner)} objects, a PACE step sends one")
    found = inner[0].tag if inner else None
    if found != expected:
        if found in step_tags:
            sent, due = step_tags.index(found) + 1, step_tags.index(expected) + 1
            raise PaceStateError(f"data of PACE step {sent} where step {due} is due")
        raise PaceDataError("7C is empty" if found is None else f"unexpected object {found:02X} in 7C")
    if not inner:
        return b""
    if not inner[0].value:
        raise PaceDataError(f"zero-length {found:02X} object")
    return inner[0].value
