"""Secure messaging (ISO/IEC 7816-4 §10, ICAO Doc 9303-11 §9.8) and PACE v2 key establishment (§4.4).

Shared by the card and the terminal, with no card internals: ``SmSession`` wraps and unwraps on either side
under keys that any key establishment gives (``SessionKeys``); ``PaceTerminal`` and ``PaceChip`` are the two
sides of PACE with ECDH generic mapping; ``card_access`` and ``mse`` encode EF.CardAccess and MSE:Set AT.
Every error is a ``SecureMessagingError`` whose ``sw`` is the status word the card answers.
"""

from __future__ import annotations

from mynacard.apdu.sm.card_access import FID_EF_CARD_ACCESS, PaceInfo, decode_card_access, encode_card_access
from mynacard.apdu.sm.ciphers import AES_128, AES_192, AES_256, TDES, AesSuite, CipherSuite, TdesSuite
from mynacard.apdu.sm.curves import (
    BRAINPOOL_P256R1,
    BRAINPOOL_P384R1,
    NIST_P256,
    NIST_P384,
    STANDARDIZED_DOMAIN_PARAMETERS,
    DomainParameters,
    domain_parameters,
)
from mynacard.apdu.sm.errors import (
    PaceAuthenticationError,
    PaceDataError,
    PaceError,
    PaceReferenceError,
    PaceRefusedError,
    PaceStateError,
    SecureMessagingError,
    SmObjectsIncorrectError,
    SmObjectsMissingError,
    SmSessionClosedError,
)
from mynacard.apdu.sm.kdf import (
    PacePassword,
    PasswordKey,
    PasswordReference,
    StoredPassword,
    kdf,
    pace_key_seeds,
)
from mynacard.apdu.sm.mse import MseSetAt
from mynacard.apdu.sm.pace_chip import PaceChip
from mynacard.apdu.sm.pace_terminal import PaceTerminal
from mynacard.apdu.sm.protocols import (
    ID_PACE_ECDH_GM_3DES_CBC_CBC,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_192,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    PACE_PROTOCOLS,
    PaceProtocol,
    protocol_by_name,
    protocol_by_oid,
)
from mynacard.apdu.sm.randomness import FixedRandom, PaceRandom, SystemRandom
from mynacard.apdu.sm.residence import (
    GEN1,
    GEN2,
    ResidenceAuthenticationError,
    ResidenceChip,
    ResidenceGeneration,
    ResidenceStateError,
    ResidenceTerminal,
)
from mynacard.apdu.sm.residence_sm import ResidenceSm
from mynacard.apdu.sm.session import SessionKeys, SmSession, is_protected, protected_cla

__all__ = [
    "AES_128",
    "AES_192",
    "AES_256",
    "BRAINPOOL_P256R1",
    "BRAINPOOL_P384R1",
    "FID_EF_CARD_ACCESS",
    "GEN1",
    "GEN2",
    "ID_PACE_ECDH_GM_3DES_CBC_CBC",
    "ID_PACE_ECDH_GM_AES_CBC_CMAC_128",
    "ID_PACE_ECDH_GM_AES_CBC_CMAC_192",
    "ID_PACE_ECDH_GM_AES_CBC_CMAC_256",
    "NIST_P256",
    "NIST_P384",
    "PACE_PROTOCOLS",
    "STANDARDIZED_DOMAIN_PARAMETERS",
    "TDES",
    "AesSuite",
    "CipherSuite",
    "DomainParameters",
    "FixedRandom",
    "MseSetAt",
    "PaceAuthenticationError",
    "PaceChip",
    "PaceDataError",
    "PaceError",
    "PaceInfo",
    "PacePassword",
    "PaceProtocol",
    "PaceRandom",
    "PaceReferenceError",
    "PaceRefusedError",
    "PaceStateError",
    "PaceTerminal",
    "PasswordKey",
    "PasswordReference",
    "ResidenceAuthenticationError",
    "ResidenceChip",
    "ResidenceGeneration",
    "ResidenceSm",
    "ResidenceStateError",
    "ResidenceTerminal",
    "SecureMessagingError",
    "SessionKeys",
    "SmObjectsIncorrectError",
    "SmObjectsMissingError",
    "SmSession",
    "SmSessionClosedError",
    "StoredPassword",
    "SystemRandom",
    "TdesSuite",
    "decode_card_access",
    "domain_parameters",
    "encode_card_access",
    "is_protected",
    "kdf",
    "pace_key_seeds",
    "protected_cla",
    "protocol_by_name",
    "protocol_by_oid",
]
