"""The chip (PICC) side of PACE v2 with ECDH generic mapping (ICAO Doc 9303-11 §4.4, BSI TR-03110-2).

The card creates one ``PaceChip`` at MSE:Set AT (with the password the reference names) and hands it the data
field of each GENERAL AUTHENTICATE; ``respond`` returns the response data field. The steps:

1. ``7C 00`` → ``80`` z = E(K_π, s) for a fresh nonce s (one cipher block, as OpenPACE does).
2. ``81`` PK_map,PCD → ``82`` PK_map,IC; Ĝ = s·G + H.
3. ``83`` PK_DH,PCD (which must differ from PK_DH,IC) → ``84`` PK_DH,IC (on Ĝ); K = x(SK_DH,IC · PK_DH,PCD).
4. ``85`` T_PCD, checked against MAC(K_mac, PK_DH,IC) → ``86`` T_IC = MAC(K_mac, PK_DH,PCD).

Errors carry the status word to answer (BSI TR-03110-3, GENERAL AUTHENTICATE): ``69 85`` a step out of
order, repeated or after the end; ``6A 80`` bad data (malformed ``7C``, a zero-length or oversized object, a
point not on the curve); ``63 00`` a wrong token, i.e. a wrong password (the card counts it against the
credential and answers ``63 Cx``). Any error aborts the run.
"""

from __future__ import annotations

import hmac

from mynacard.apdu.sm import dynamic_auth as da
from mynacard.apdu.sm.ciphers import MAC_LENGTH
from mynacard.apdu.sm.curves import Point
from mynacard.apdu.sm.errors import PaceAuthenticationError, PaceDataError
from mynacard.apdu.sm.mapping import (
    KeyPair,
    ephemeral_key_pair,
    map_generator,
    mapping_key_pair,
    shared_secret,
)
from mynacard.apdu.sm.pace_party import PaceParty
from mynacard.apdu.sm.tokens import authentication_token


class PaceChip(PaceParty):
    """A PACE chip; inject ``random`` (nonce, mapping key, ephemeral key) to reproduce an example."""

    _nonce: bytes
    _generator: Point
    _ephemeral: KeyPair
    _terminal_key: Point

    @property
    def final_step_due(self) -> bool:
        """Step 4 is due: its GENERAL AUTHENTICATE ends the chain (CLA ``00``, the others ``10``)."""
        return self._step == 4

    def respond(self, data: bytes) -> bytes:
        """The response ``7C …`` to one GENERAL AUTHENTICATE data field; raises typed PACE errors."""
        with self._guard("GENERAL AUTHENTICATE"):
            value = da.decode(data, da.COMMAND_TAGS[self._step - 1], da.COMMAND_TAGS)
            step = (self._step1, self._step2, self._step3, self._step4)[self._step - 1]
            response = step(value)
            self._step += 1
            return response

    def _step1(self, _: bytes) -> bytes:
        suite = self.protocol.suite
        self._nonce = self._random.nonce(suite.block_size)
        return da.encode(da.TAG_ENCRYPTED_NONCE, suite.encrypt_nonce(self._k_pi, self._nonce))

    def _step2(self, value: bytes) -> bytes:
        terminal_mapping = self.parameters.decode_point(value)
        mapping = mapping_key_pair(self.parameters, self._random)
        self._generator = map_generator(self.parameters, self._nonce, mapping, terminal_mapping)
        return da.encode(da.TAG_MAPPING_DATA_CHIP, self.parameters.encode_point(mapping.public))

    def _step3(self, value: bytes) -> bytes:
        self._terminal_key = self.parameters.decode_point(value)
        self._ephemeral = ephemeral_key_pair(self.parameters, self._generator, self._random)
        self._derive_keys(shared_secret(self.parameters, self._ephemeral, self._terminal_key))
        return da.encode(da.TAG_EPHEMERAL_KEY_CHIP, self.parameters.encode_point(self._ephemeral.public))

    def _step4(self, token: bytes) -> bytes:
        if len(token) != MAC_LENGTH:
            raise PaceDataError(f"the terminal's token is {len(token)} bytes, not {MAC_LENGTH}")
        own_key = self.parameters.encode_point(self._ephemeral.public)
        if not hmac.compare_digest(token, authentication_token(self.protocol, self._k_mac(), own_key)):
            raise PaceAuthenticationError("the terminal's authentication token is wrong")
        terminal_key = self.parameters.encode_point(self._terminal_key)
        return da.encode(da.TAG_TOKEN_CHIP, authentication_token(self.protocol, self._k_mac(), terminal_key))
