"""Card-number authentication of the residence card (在留カード等番号による認証), both generations.

在留カード等仕様書 §3.4.1, §3.5.2, 別添1 (first generation) and 第２世代在留カード等仕様書 Appendix 1
(``residence-card.md`` §5.1): a key establishment plug-in of the SM layer, whose session is the
encryption-only SM of ``residence_sm``.

- Kenc = Kmac = the first 16 bytes of SHA-1(在留カード等番号, 12 ASCII bytes);
- GET CHALLENGE gives RND.ICC; the IFD sends E.IFD = Enc(Kenc, RND.IFD ‖ RND.ICC ‖ K.IFD) and
  M.IFD = MAC(Kmac, E.IFD) in MUTUAL AUTHENTICATE; the ICC answers E.ICC = Enc(Kenc, RND.ICC ‖ RND.IFD ‖
  K.ICC) and M.ICC = MAC(Kmac, E.ICC);
- KSenc = the first 16 bytes of SHA-1((K.IFD ⊕ K.ICC) ‖ 00 00 00 01).

Gen 1: two-key 3DES-CBC with a zero IV, retail MAC over the method-2 padded cryptogram. Gen 2: AES-128-CBC
with a zero IV, AES-CMAC cut to 8 bytes over the unpadded cryptogram. Both ciphers are the suites of
``ciphers``; the zero-IV CBC is the one PACE uses for its nonce. A wrong MAC or a nonce that does not come
back answers ``63 00``, as a real gen-2 card does (``residence-card.md`` §5.1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.sm.ciphers import AES_128, MAC_LENGTH, TDES, CipherSuite
from mynacard.apdu.sm.errors import SecureMessagingError
from mynacard.apdu.sm.padding import pad
from mynacard.apdu.sm.residence_sm import ResidenceSm
from mynacard.apdu.status import SW

CARD_NUMBER_LENGTH = 12
"""在留カード等番号: 12 upper-case alphanumerics, e.g. ``AA12345678BB``."""
CHALLENGE_LENGTH = 8
"""RND.ICC and RND.IFD."""
KEY_LENGTH = 16
"""Kenc, Kmac, K.IFD, K.ICC and KSenc."""
AUTHENTICATION_DATA_LENGTH = 2 * CHALLENGE_LENGTH + KEY_LENGTH + MAC_LENGTH
"""E.IFD ‖ M.IFD and E.ICC ‖ M.ICC: 32 + 8 bytes."""
SESSION_KEY_COUNTER = b"\x00\x00\x00\x01"

Random = Callable[[int], bytes]
"""A source of RND and K values; the default is ``secrets.token_bytes``."""


class ResidenceAuthenticationError(SecureMessagingError):
    """MUTUAL AUTHENTICATE did not verify: a wrong MAC, a nonce that does not match (``63 00``)."""

    sw = SW.NO_RETRY_LIMIT


class ResidenceStateError(SecureMessagingError):
    """MUTUAL AUTHENTICATE without a fresh GET CHALLENGE before it (``69 85``; the card's word is a
    profile field, the spec does not give it)."""

    sw = SW.CONDITIONS_OF_USE_NOT_SATISFIED


@dataclass(frozen=True, slots=True)
class ResidenceGeneration:
    """The cipher of one generation (世代) of the residence card."""

    name: str
    suite: CipherSuite
    mac_pads: bool
    """Gen 1: the retail MAC always pads (method 2); gen 2: AES-CMAC pads by itself."""

    def encrypt(self, key: bytes, padded: bytes) -> bytes:
        """CBC with a zero IV (residence-card.md §5.1, §5.2)."""
        return self.suite.encrypt_nonce(key, padded)

    def decrypt(self, key: bytes, cryptogram: bytes) -> bytes:
        return self.suite.decrypt_nonce(key, cryptogram)

    def mac(self, key: bytes, data: bytes) -> bytes:
        """M.IFD / M.ICC: retail MAC (gen 1) or AES-CMAC (gen 2), 8 bytes."""
        return self.suite.mac(key, pad(data, self.suite.block_size) if self.mac_pads else data)


GEN1 = ResidenceGeneration("gen1", TDES, mac_pads=True)
"""第1世代 (card types '1' and '2'): 3DES-CBC and the retail MAC."""
GEN2 = ResidenceGeneration("gen2", AES_128, mac_pads=False)
"""第2世代 (card types "05" and "06"): AES-128-CBC and AES-CMAC."""
GENERATIONS = {g.name: g for g in (GEN1, GEN2)}


def card_number_bytes(card_number: str) -> bytes:
    """The 12 ASCII bytes of a 在留カード等番号; ``ValueError`` for anything else."""
    if len(card_number) != CARD_NUMBER_LENGTH or not card_number.isascii() or not card_number.isalnum():
        raise ValueError("a card number is 12 ASCII letters and digits")
    return card_number.encode("ascii")


def card_number_key(card_number: bytes) -> bytes:
    """Kenc = Kmac = SHA-1(card number)[:16] (§3.4.1)."""
    return hashlib.sha1(card_number).digest()[:KEY_LENGTH]


def session_key(k_ifd: bytes, k_icc: bytes) -> bytes:
    """KSenc = SHA-1((K.IFD ⊕ K.ICC) ‖ 00 00 00 01)[:16] (別添1)."""
    mixed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
    return hashlib.sha1(mixed + SESSION_KEY_COUNTER).digest()[:KEY_LENGTH]


def _split(data: bytes) -> tuple[bytes, bytes]:
    if len(data) != AUTHENTICATION_DATA_LENGTH:
        reason = f"authentication data is {AUTHENTICATION_DATA_LENGTH} bytes, not {len(data)}"
        raise SecureMessagingError(reason, sw=SW.WRONG_LENGTH)
    return data[:-MAC_LENGTH], data[-MAC_LENGTH:]


class _Party:
    """What both sides share: the generation and Kenc = Kmac."""

    def __init__(self, generation: ResidenceGeneration, key: bytes, random: Random | None) -> None:
        if len(key) != KEY_LENGTH:
            raise ValueError(f"the card-number key is {KEY_LENGTH} bytes")
        self.generation = generation
        self._key = bytes(key)
        self._random: Random = random or secrets.token_bytes

    def _seal(self, plain: bytes) -> bytes:
        """E ‖ M for the 32-byte ``plain`` (no padding: it is whole blocks)."""
        cryptogram = self.generation.encrypt(self._key, plain)
        return cryptogram + self.generation.mac(self._key, cryptogram)

    def _open(self, data: bytes) -> bytes:
        """The plaintext of E ‖ M after its MAC verified."""
        cryptogram, mac = _split(data)
        if not hmac.compare_digest(self.generation.mac(self._key, cryptogram), mac):
            raise ResidenceAuthenticationError("the MAC of the authentication data is wrong")
        return self.generation.decrypt(self._key, cryptogram)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.generation.name}, key masked)"


class ResidenceTerminal(_Party):
    """The IFD (reader) side: E.IFD ‖ M.IFD for a RND.ICC, then the session from E.ICC ‖ M.ICC."""

    _rnd_icc: bytes = b""
    _rnd_ifd: bytes = b""
    _k_ifd: bytes = b""

    @classmethod
    def for_card_number(
        cls, generation: ResidenceGeneration, card_number: str, random: Random | None = None
    ) -> ResidenceTerminal:
        return cls(generation, card_number_key(card_number_bytes(card_number)), random)

    def authentication_data(self, rnd_icc: bytes) -> bytes:
        """The data of MUTUAL AUTHENTICATE: E.IFD ‖ M.IFD (40 bytes)."""
        if len(rnd_icc) != CHALLENGE_LENGTH:
            raise ValueError(f"RND.ICC is {CHALLENGE_LENGTH} bytes")
        self._rnd_icc = bytes(rnd_icc)
        self._rnd_ifd = self._random(CHALLENGE_LENGTH)
        self._k_ifd = self._random(KEY_LENGTH)
        return self._seal(self._rnd_ifd + self._rnd_icc + self._k_ifd)

    def complete(self, response: bytes) -> ResidenceSm:
        """Check E.ICC ‖ M.ICC (MAC, both nonces) and start the session under KSenc."""
        if not self._k_ifd:
            raise ValueError("authentication_data first")
        plain = self._open(response)
        if not hmac.compare_digest(plain[:16], self._rnd_icc + self._rnd_ifd):
            raise ResidenceAuthenticationError("the card's answer does not carry both nonces")
        k_icc = plain[16:]
        return ResidenceSm(self.generation.suite, session_key(self._k_ifd, k_icc))


class ResidenceChip(_Party):
    """The ICC (card) side: RND.ICC for GET CHALLENGE, E.ICC ‖ M.ICC and the session for MUTUAL
    AUTHENTICATE. A challenge serves one MUTUAL AUTHENTICATE, whatever its outcome."""

    _rnd_icc: bytes = b""

    def challenge(self) -> bytes:
        """GET CHALLENGE: a fresh RND.ICC (8 bytes)."""
        self._rnd_icc = self._random(CHALLENGE_LENGTH)
        return self._rnd_icc

    def respond(self, data: bytes) -> tuple[bytes, ResidenceSm]:
        """E.ICC ‖ M.ICC for E.IFD ‖ M.IFD, and the session; raises ``63 00``/``67 00``/``69 85``."""
        rnd_icc, self._rnd_icc = self._rnd_icc, b""
        if not rnd_icc:
            raise ResidenceStateError("no GET CHALLENGE before MUTUAL AUTHENTICATE")
        plain = self._open(data)
        rnd_ifd, echoed, k_ifd = plain[:8], plain[8:16], plain[16:]
        if not hmac.compare_digest(echoed, rnd_icc):
            raise ResidenceAuthenticationError("E.IFD does not carry the card's RND.ICC")
        k_icc = self._random(KEY_LENGTH)
        answer = self._seal(rnd_icc + rnd_ifd + k_icc)
        return answer, ResidenceSm(self.generation.suite, session_key(k_ifd, k_icc))


VERIFY_P2 = 0x86
"""VERIFY ``08 20 00 86``: the card number as reference data under SM (§4.2.2)."""


def verify_command(session: ResidenceSm, card_number: str) -> CommandApdu:
    """VERIFY of the card number under KSenc: ``08 20 00 86 13 86 11 01 <Enc(number ‖ 80 00 00 00)>``."""
    return session.wrap_command(CommandApdu(0x00, 0x20, 0x00, VERIFY_P2, card_number_bytes(card_number)))
