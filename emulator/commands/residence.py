"""The residence card's commands (在留カード等, residence-card.md §4, §5, §7): its whole command set.

GET CHALLENGE (``00 84``) and MUTUAL AUTHENTICATE (``00 82``) establish KSenc from the card number
(在留カード等番号による認証); VERIFY (``08 20 00 86``) checks the card number under the session key;
READ BINARY (``00 B0`` / ``08 B0``) reads by SFI or offset, DF1 only under SM; SELECT takes the MF
(``3F 00``) and the DFs by their 16-byte AIDs. Access is data (the EFs' rules name ``mf/card_number``);
the status words the spec does not give are the profile's ``[residence]`` fields.

- ``63 00``: a MUTUAL AUTHENTICATE that does not verify, a VERIFY with another card number (no counter);
- ``69 82``: a read before the card number is verified, a plain read of a DF1 file;
- ``69 88``: SM data objects missing or incorrect (the card unwraps, ``Card._unwrap``);
- ``6A 82``: an SFI the DF does not have, or an EF the card type leaves empty (the SPRC's DF2 files).
"""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.sm import SecureMessagingError
from mynacard.apdu.sm.residence import GENERATIONS, ResidenceChip, ResidenceStateError
from mynacard.apdu.sm.residence_delivery import delivered_keys, unwrap_session_key
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands import selection
from mynacard.emulator.commands.common import require_le, require_no_data, require_p1p2
from mynacard.emulator.commands.verification import counter_status
from mynacard.emulator.context import CardContext
from mynacard.emulator.credentials import Credential
from mynacard.emulator.errors import CardError
from mynacard.emulator.filesystem import TransparentEF
from mynacard.emulator.security import AccessRule, CredentialRef, check_access
from mynacard.profiles.schema import ResidenceSpec

MF_FID = b"\x3f\x00"
CHALLENGE_LENGTH = 8


def _spec(card: CardContext) -> ResidenceSpec:
    spec = card.residence
    if spec is None:  # the table holds these handlers only for a card with [residence]
        raise CardError(SW.INS_NOT_SUPPORTED, "not a residence card")
    return spec


def _end_session(channel: Channel) -> None:
    """No session and nothing proven: the security state of a card that was never authenticated."""
    channel.end_secure_messaging()
    channel.residence_chip = None


def _key(card: CardContext, spec: ResidenceSpec) -> bytes:
    """Kenc = Kmac, from the MF's internal key file."""
    mf = card.filesystem.default
    node = mf.nodes.get(spec.key_file) if mf is not None and spec.key_file is not None else None
    if not isinstance(node, TransparentEF):
        raise CardError(SW.NO_PRECISE_DIAGNOSIS, "no card-number key file in the MF")
    return node.content


def get_challenge(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """GET CHALLENGE ``00 84 00 00 08``: RND.ICC for the next MUTUAL AUTHENTICATE."""
    spec = _spec(card)
    require_p1p2(cmd, 0x00, 0x00)
    require_no_data(cmd)
    if cmd.ne != CHALLENGE_LENGTH:
        raise CardError(SW.WRONG_LENGTH, f"RND.ICC is {CHALLENGE_LENGTH} bytes")
    if spec.challenge_ends_session:
        _end_session(channel)
    chip = ResidenceChip(GENERATIONS[spec.generation], _key(card, spec), card.residence_random)
    channel.residence_chip = chip
    return chip.challenge()


def mutual_authenticate(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """MUTUAL AUTHENTICATE ``00 82 00 00 28 <E.IFD ‖ M.IFD> 00``: E.ICC ‖ M.ICC, and SM under KSenc."""
    spec = _spec(card)
    require_p1p2(cmd, 0x00, 0x00)
    chip, channel.residence_chip = channel.residence_chip, None
    if chip is None:
        raise CardError(spec.no_challenge_sw, "no GET CHALLENGE before MUTUAL AUTHENTICATE")
    try:
        answer, session = chip.respond(cmd.data)
    except ResidenceStateError:
        raise CardError(spec.no_challenge_sw, "the challenge was used") from None
    except SecureMessagingError as error:
        if spec.failed_authentication_ends_session:
            _end_session(channel)
        raise CardError(error.sw, str(error)) from None
    _end_session(channel)
    channel.sm = session
    return answer


def set_session_key(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """SET SESSION KEY ``80 AE 00 00`` (特定在留カード, 鍵配送): an AES-128 key wrapped with RSA-OAEP under
    the card's delivery key; SM (AES-CBC, AES-CMAC, the SSC as message counter) starts under keys derived
    from it (``residence_delivery``; layout, derivation and status words ASSUMED, residence-card.md §9.2)."""
    spec = _spec(card)
    require_p1p2(cmd, 0x00, 0x00)
    key = card.residence_delivery_key
    if key is None:
        raise CardError(SW.INS_NOT_SUPPORTED, "no delivery key")
    _end_session(channel)
    try:
        session_key = unwrap_session_key(key, cmd.data, spec.delivery_oaep_hash, sw=spec.session_key_sw)
    except SecureMessagingError as error:
        raise CardError(error.sw, str(error)) from None
    channel.sm = delivered_keys(session_key).session()
    return b""


def _card_number(card: CardContext, spec: ResidenceSpec) -> Credential:
    ref = CredentialRef.parse(spec.credential)
    node = next((c for c in card.filesystem.applet(ref.applet).credentials() if c.id == ref.credential), None)
    if node is None:
        raise CardError(SW.NO_PRECISE_DIAGNOSIS, f"no credential {spec.credential}")
    return node


def verify(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """VERIFY ``08 20 00 86`` of the card number under KSenc: ``90 00``, or ``63 00`` without a counter."""
    spec = _spec(card)
    require_p1p2(cmd, 0x00, spec.verify_p2)
    if not channel.security.secure_messaging:
        raise CardError(spec.plain_verify_sw, "the card number is verified under secure messaging")
    if not cmd.data:
        _end_session(channel)
        raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, "no cryptogram 86 with the card number")
    credential = _card_number(card, spec)
    credential.refresh()
    if credential.compare(cmd.data):
        channel.security.grant(credential.ref)
        return b""
    channel.security.revoke(credential.ref)
    if spec.failed_authentication_ends_session:
        _end_session(channel)
    raise CardError(counter_status(credential), "another card number")


def select(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """SELECT: the MF by ``00 A4 00 00 02 3F 00`` (and ``00 A4 00 0C``), the DFs by AID as ISO says."""
    if cmd.p1 == 0x00 and cmd.data == MF_FID:
        if cmd.p2 not in (0x00, 0x0C):
            raise CardError(SW.INCORRECT_P1_P2, f"P2={cmd.p2:02X} is not supported")
        channel.applet, channel.alias, channel.ef = card.filesystem.default, None, None
        if _spec(card).select_mf_ends_session:
            _end_session(channel)
        return b""
    return selection.select(card, channel, cmd)


def read_binary(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """READ BINARY: P1 = 100x xxxx the SFI (P2 the offset), else P1 ‖ P2 a 15-bit offset in the current EF;
    Ne 65536 (``00 00``, or ``96 02 00 00`` under SM) is the whole EF."""
    spec = _spec(card)
    require_no_data(cmd)
    require_le(cmd)
    ef, offset = _addressed(channel, cmd)
    if ef.read.secure_messaging and not channel.security.secure_messaging:
        check_access(AccessRule(ef.read.rule), channel.security)
        raise CardError(spec.plain_read_sw, "this EF is read under secure messaging only")
    check_access(ef.read, channel.security)
    if offset >= len(ef.content):
        raise CardError(SW.WRONG_P1_P2, f"offset {offset} is at or past the end ({len(ef.content)} bytes)")
    return ef.content[offset : offset + cmd.ne]


def _addressed(channel: Channel, cmd: CommandApdu) -> tuple[TransparentEF, int]:
    """READ BINARY's EF and offset. Not ``reading.read_binary``'s lookup: the residence card reads its
    MF's EFs by SFI, where today's card (no MF) answers ``6A 82``; an EF its card type leaves empty is
    absent."""
    if cmd.p1 & 0x80:
        if cmd.p1 & 0x60:
            raise CardError(SW.INCORRECT_P1_P2, f"P1={cmd.p1:02X} is neither an offset nor an SFI")
        applet = channel.applet
        node = applet.by_sfi.get(cmd.p1 & 0x1F) if applet is not None else None
        if node is not None:
            channel.ef = node
        offset = cmd.p2
    else:
        node, offset = channel.ef, (cmd.p1 << 8) | cmd.p2
        if node is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "no current EF")
    if not isinstance(node, TransparentEF) or not node.content:
        raise CardError(SW.FILE_NOT_FOUND, "no such EF in this DF (or not on this card type)")
    return node, offset
