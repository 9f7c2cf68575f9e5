"""Key operations: COMPUTE DIGITAL SIGNATURE (``80 2A``), INTERNAL AUTHENTICATE (``00 88``), GET CHALLENGE."""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import (
    current_applet,
    require_le,
    require_no_data,
    require_p1p2,
    sfi_lookup,
)
from mynacard.emulator.context import CardContext
from mynacard.emulator.crypto import ecdsa_sign_prehashed, ecdsa_sign_raw, hash_algorithm, rsa_sign_scheme
from mynacard.emulator.errors import CardError
from mynacard.emulator.filesystem import Key
from mynacard.emulator.security import check_access

_CARD_HASHES = 0x01
"""EC keys, ``80 2A`` P1 = 01: the card hashes the data itself (spec nextgen §3)."""


def key_for(channel: Channel, p2: int) -> Key:
    """P2 = 80: the current EF; 80 | SFI: the key with that short identifier; 00: the applet's default key."""
    if p2 == 0x80:
        node = channel.ef
        if node is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "no current EF")
        if not isinstance(node, Key):
            raise CardError(SW.COMMAND_INCOMPATIBLE_WITH_FILE, "the current EF is not a key")
        return node
    applet = current_applet(channel, SW.DATA_NOT_FOUND)
    if p2 == 0x00:
        node = applet.default_key
    elif 0x81 <= p2 <= 0x9E:
        node = sfi_lookup(channel, applet, p2 & 0x1F)
    else:
        raise CardError(SW.INCORRECT_P1_P2, f"P2={p2:02X} names no key")
    if not isinstance(node, Key):
        raise CardError(SW.DATA_NOT_FOUND, "no key at this reference")
    return node


def compute_digital_signature(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """署名: the host sends what is to be signed (a DigestInfo for P1 = 00) and the card signs it."""
    key = key_for(channel, cmd.p2)
    if key.sign is None:
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, f"{key.id} does not sign")
    if cmd.p1 not in key.sign_schemes:
        raise CardError(SW.INCORRECT_P1_P2, f"signature scheme P1={cmd.p1:02X} is not supported")
    check_access(key.sign, channel.security)
    if not cmd.data:
        raise CardError(SW.WRONG_LENGTH, "nothing to sign")
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        return rsa_sign_scheme(private, cmd.p1, cmd.data)
    if cmd.p1 == _CARD_HASHES:
        return ecdsa_sign_raw(private, cmd.data, hash_algorithm(key.card_hash))
    if len(cmd.data) not in key.prehashed_lengths:
        raise CardError(SW.WRONG_LENGTH, f"a hash of {len(cmd.data)} bytes is not accepted")
    return ecdsa_sign_prehashed(private, cmd.data)


def internal_authenticate(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """内部認証: the card signs the terminal's challenge with a key that proves it is genuine."""
    if cmd.p1 != 0x00:
        raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00")
    key = key_for(channel, cmd.p2)
    if key.internal_authenticate is None:
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, f"{key.id} is not an authentication key")
    check_access(key.internal_authenticate, channel.security)
    lengths = key.challenge_lengths
    if len(cmd.data) not in lengths:
        raise CardError(SW.WRONG_LENGTH, f"the challenge is {lengths.start}..{lengths.stop - 1} bytes")
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(cmd.data, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return ecdsa_sign_raw(private, cmd.data, hash_algorithm(key.card_hash))


def get_challenge(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """Exactly Ne random bytes, 1..256; the extended form is refused (``69 85``) as on today's card."""
    require_p1p2(cmd, 0x00, 0x00)
    require_no_data(cmd)
    require_le(cmd)
    if cmd.extended:
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "extended GET CHALLENGE is not supported")
    channel.challenge = secrets.token_bytes(cmd.ne)
    return channel.challenge
