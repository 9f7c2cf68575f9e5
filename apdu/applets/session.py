"""A host-side session (端末) over any ``Reader``: the ISO operations every applet session builds on.

It speaks exactly the forms the public clients use (spec current-card §8): SELECT by DF name with
P2 = 0C, SELECT EF by FID, a 4-byte header probe then 256-byte READ BINARY chunks, VERIFY with P2 = 80.
"""

from __future__ import annotations

from mynacard.apdu.readers.base import Reader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.status import describe, tries_left
from mynacard.apdu.tlv import encoded_size


def select_df_name(aid: bytes) -> bytes:
    """``00 A4 04 0C Lc <AID>``: SELECT by DF name, no response data, the form every client sends."""
    return bytes((0x00, 0xA4, 0x04, 0x0C, len(aid))) + aid


class CardStatusError(Exception):
    """The card answered a status word the flow cannot continue with."""

    def __init__(self, what: str, response: ResponseApdu) -> None:
        super().__init__(f"{what}: {describe(response.sw)}")
        self.response = response


class Session:
    """Card operations as a terminal performs them, in the forms public clients send."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def expect_ok(self, what: str, command: bytes) -> bytes:
        response = self.reader.transmit(command)
        if response.sw != 0x9000:
            raise CardStatusError(what, response)
        return response.data

    def select_applet(self, aid: bytes) -> None:
        self.expect_ok(f"SELECT {aid.hex().upper()}", select_df_name(aid))

    def select_ef(self, fid: int) -> None:
        self.expect_ok(f"SELECT EF {fid:04X}", bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big"))

    def read_certificate(self, fid: int) -> bytes:
        """Read a DER certificate: a 4-byte probe (``30 82 HH LL``), then 256-byte chunks."""
        self.select_ef(fid)
        header = self.expect_ok("READ BINARY header", bytes.fromhex("00B0000004"))
        return self._read_on(b"", int.from_bytes(header[2:4], "big") + 4)

    def read_tlv_file(self, fid: int) -> bytes:
        """Read a BER-TLV EF whole: 256 bytes, then as many more as its header declares."""
        self.select_ef(fid)
        data = self.expect_ok("READ BINARY", bytes.fromhex("00B0000000"))
        return self._read_on(data, encoded_size(data))[: encoded_size(data)]

    def _read_on(self, data: bytes, total: int) -> bytes:
        """``data`` (read from offset 0) extended to ``total`` bytes by READ BINARY of 256-byte chunks."""
        while len(data) < total:
            n = min(256, total - len(data))
            data += self.expect_ok(
                "READ BINARY", bytes((0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, n & 0xFF))
            )
        return data

    def tries_left(self, credential_fid: int) -> int:
        """The empty VERIFY: the counter, without using a try."""
        self.select_ef(credential_fid)
        response = self.reader.transmit(bytes.fromhex("00200080"))
        count = tries_left(response.sw)
        if count is None:
            raise CardStatusError("VERIFY (counter query)", response)
        return count

    def verify(self, credential_fid: int, value: str) -> None:
        self.select_ef(credential_fid)
        data = value.encode("ascii")
        self.expect_ok("VERIFY", bytes((0x00, 0x20, 0x00, 0x80, len(data))) + data)
