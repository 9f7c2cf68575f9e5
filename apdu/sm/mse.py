"""MSE:Set AT for PACE: ``00 22 C1 A4`` with the protocol, the password and the domain parameters.

ICAO Doc 9303-11 §4.4 / BSI TR-03110-3: the data field holds ``80`` the protocol OID (content
octets), ``83`` the password reference (01 MRZ, 02 CAN, 03 PIN, 04 PUK; 81 照合番号A, proprietary and
ASSUMED) and, optionally, ``84`` the standardized domain parameter id (needed when EF.CardAccess lists more
than one). Parsing is strict: those tags in that order, ``80`` and ``83`` mandatory. Errors follow
TR-03110-3: ``6A 80`` for malformed data or an unsupported protocol or curve, ``6A 88`` for an unknown
password reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.sm.curves import domain_parameters
from mynacard.apdu.sm.errors import PaceDataError, PaceReferenceError
from mynacard.apdu.sm.kdf import PasswordReference
from mynacard.apdu.sm.protocols import PaceProtocol, protocol_by_oid
from mynacard.apdu.tlv import TlvError, ber_decode_all, ber_encode

INS_MSE = 0x22
P1_SET_MUTUAL_AUTHENTICATION = 0xC1
"""MSE P1: set, for computation, decipherment, internal and external authentication (ISO/IEC 7816-4)."""
P2_AUTHENTICATION_TEMPLATE = 0xA4

TAG_PROTOCOL = 0x80
TAG_PASSWORD = 0x83
TAG_PARAMETER_ID = 0x84


@dataclass(frozen=True, slots=True)
class MseSetAt:
    """The content of MSE:Set AT for PACE."""

    protocol: PaceProtocol
    password: PasswordReference
    parameter_id: int | None = None

    def to_data(self) -> bytes:
        data = ber_encode(TAG_PROTOCOL, self.protocol.oid_value)
        data += ber_encode(TAG_PASSWORD, bytes((self.password,)))
        if self.parameter_id is not None:
            data += ber_encode(TAG_PARAMETER_ID, bytes((self.parameter_id,)))
        return data

    def to_command(self) -> CommandApdu:
        """``00 22 C1 A4 Lc data``."""
        p1, p2 = P1_SET_MUTUAL_AUTHENTICATION, P2_AUTHENTICATION_TEMPLATE
        return CommandApdu(0x00, INS_MSE, p1, p2, self.to_data())

    @classmethod
    def from_data(cls, data: bytes) -> MseSetAt:
        """Parse the data field; raises ``PaceDataError`` or ``PaceReferenceError``."""
        try:
            objects = ber_decode_all(data)
        except TlvError as error:
            raise PaceDataError(f"MSE:Set AT data is not BER-TLV: {error}") from None
        tags = [tlv.tag for tlv in objects]
        if tags not in ([TAG_PROTOCOL, TAG_PASSWORD], [TAG_PROTOCOL, TAG_PASSWORD, TAG_PARAMETER_ID]):
            raise PaceDataError(f"MSE:Set AT for PACE holds 80, 83 [, 84], not {[f'{t:02X}' for t in tags]}")
        protocol = protocol_by_oid(objects[0].value)
        reference = objects[1].value
        if len(reference) != 1:
            raise PaceDataError("the password reference is one byte")
        try:
            password = PasswordReference(reference[0])
        except ValueError:
            raise PaceReferenceError(f"password reference {reference[0]:02X} is not known") from None
        parameter_id = None
        if len(objects) == 3:
            if len(objects[2].value) != 1:
                raise PaceDataError("the domain parameter id is one byte")
            parameter_id = domain_parameters(objects[2].value[0]).parameter_id
        return cls(protocol, password, parameter_id)
