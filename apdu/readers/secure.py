"""The terminal's secure messaging on any reader: PACE, then every APDU wrapped and unwrapped transparently.

Stack ``SecureMessagingProcessor`` nearest the card, under ``ResponseCompletion``, so a ``61 xx``'s GET
RESPONSE goes protected too::

    sm = SecureMessagingProcessor()
    reader = ProcessedReader(VirtualReader(card), [ResponseCompletion(), sm])
    card_access = read_card_access(reader)          # at MF level, before selecting the application
    reader.transmit(select_face_ap)                 # plain: SELECT by DF name
    establish_pace(reader, sm, card_access, PacePassword.digits(PasswordReference.CAN, "123456"))
    reader.transmit(read_binary)                    # protected on the wire, plain for the caller

Until PACE completes the processor passes APDUs through unchanged. When the card answers a protected command
with a plain status word (``69 87``/``69 88``: it ended the session), the caller gets that status word and
the session ends here too; a response whose MAC or objects are wrong raises ``SecureMessagingError``.
"""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.processors import Processor, Transmit
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import (
    FID_EF_CARD_ACCESS,
    PacePassword,
    PaceTerminal,
    SecureMessagingError,
    SmObjectsMissingError,
    SmSession,
)
from mynacard.apdu.status import SW


class SecureMessagingProcessor(Processor):
    """Wraps commands and unwraps responses under the session it was given (``start``)."""

    def __init__(self) -> None:
        self.session: SmSession | None = None

    @property
    def active(self) -> bool:
        return self.session is not None and not self.session.closed

    def start(self, session: SmSession) -> None:
        self.session = session

    def end(self) -> None:
        if self.session is not None:
            self.session.close()
        self.session = None

    def transmit(self, command: bytes, send: Transmit) -> ResponseApdu:
        session = self.session
        if session is None or session.closed:
            return send(command)
        response = send(session.wrap_command(CommandApdu.from_bytes(command)).to_bytes())
        try:
            return session.unwrap_response(response)
        except SmObjectsMissingError as error:
            self.end()
            if error.card_sw is None:
                raise
            return ResponseApdu(b"", error.card_sw)
        except SecureMessagingError:
            self.end()
            raise

    def reset(self) -> None:
        self.end()


def read_card_access(reader: Reader) -> bytes:
    """EF.CardAccess (``01 1C`` under the MF): SELECT by FID and READ BINARY at MF level."""
    fid = FID_EF_CARD_ACCESS.to_bytes(2, "big")
    selected = reader.transmit(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid).to_bytes())
    if selected.sw != SW.OK:
        raise SecureMessagingError(f"EF.CardAccess cannot be selected ({selected.sw:04X})", sw=selected.sw)
    content = reader.transmit(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=256).to_bytes())
    if content.sw != SW.OK:
        raise SecureMessagingError(f"EF.CardAccess cannot be read ({content.sw:04X})", sw=content.sw)
    return content.data


def establish_pace(
    reader: Reader, processor: SecureMessagingProcessor, card_access: bytes, password: PacePassword
) -> PaceTerminal:
    """Run PACE through ``reader`` (plain) and start ``processor``'s session; raises PACE errors (a wrong
    password: ``PaceRefusedError`` with the card's ``63 Cx``)."""
    processor.end()
    terminal = PaceTerminal.from_card_access(card_access, password)
    answer = reader.transmit(terminal.mse_set_at().to_bytes())
    if answer.sw != SW.OK:
        raise SecureMessagingError(f"MSE:Set AT refused ({answer.sw:04X})", sw=answer.sw)
    while not terminal.established:
        terminal.process(reader.transmit(terminal.command().to_bytes()))
    processor.start(terminal.secure_messaging())
    return terminal
