"""The terminal (PCD) side of PACE v2 with ECDH generic mapping (ICAO Doc 9303-11 §4.4, BSI TR-03110-2).

Use: ``mse_set_at()`` gives MSE:Set AT; then four times ``command()`` (or ``command_data()`` for the bare
``7C …``) and ``process_response(data)`` with the chip's ``7C …``; then ``secure_messaging()``. The steps:

1. ``7C 00`` → chip ``80`` z; the terminal decrypts s = D(K_π, z).
2. ``81`` PK_map,PCD → chip ``82`` PK_map,IC; both compute Ĝ = s·G + H.
3. ``83`` PK_DH,PCD (on Ĝ) → chip ``84`` PK_DH,IC; K = x(SK_DH,PCD · PK_DH,IC), K_enc, K_mac.
4. ``85`` T_PCD = MAC(K_mac, PK_DH,IC) → chip ``86`` T_IC, checked against MAC(K_mac, PK_DH,PCD).

Steps 1–3 are sent with CLA ``10`` (command chaining marks the steps, BSI TR-03110-3), step 4 with ``00``.
"""

from __future__ import annotations

import hmac

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import dynamic_auth as da
from mynacard.apdu.sm.card_access import decode_card_access
from mynacard.apdu.sm.ciphers import MAC_LENGTH
from mynacard.apdu.sm.curves import DomainParameters, Point
from mynacard.apdu.sm.errors import PaceAuthenticationError, PaceDataError, PaceRefusedError, PaceStateError
from mynacard.apdu.sm.kdf import PacePassword
from mynacard.apdu.sm.mapping import (
    KeyPair,
    ephemeral_key_pair,
    map_generator,
    mapping_key_pair,
    shared_secret,
)
from mynacard.apdu.sm.mse import MseSetAt
from mynacard.apdu.sm.pace_party import STEPS, PaceParty
from mynacard.apdu.sm.protocols import PaceProtocol
from mynacard.apdu.sm.randomness import PaceRandom
from mynacard.apdu.sm.tokens import authentication_token
from mynacard.apdu.status import SW

INS_GENERAL_AUTHENTICATE = 0x86
CLA_CHAINED = 0x10


class PaceTerminal(PaceParty):
    """A PACE terminal; inject ``random`` (mapping key, then ephemeral key) to reproduce a worked example."""

    _nonce: bytes
    _mapping: KeyPair
    _generator: Point
    _ephemeral: KeyPair
    _chip_key: Point

    def __init__(
        self,
        protocol: PaceProtocol,
        parameters: DomainParameters,
        password: PacePassword,
        *,
        random: PaceRandom | None = None,
    ) -> None:
        super().__init__(protocol, parameters, password, random=random)
        self._sent = False

    @classmethod
    def from_card_access(
        cls, ef_card_access: bytes, password: PacePassword, *, random: PaceRandom | None = None
    ) -> PaceTerminal:
        """A terminal for the first supported PACEInfo of EF.CardAccess."""
        infos = decode_card_access(ef_card_access)
        if not infos:
            raise PaceDataError("EF.CardAccess lists no supported PACE protocol")
        return cls(infos[0].protocol, infos[0].parameters, password, random=random)

    def mse_set_at(self) -> CommandApdu:
        """``00 22 C1 A4`` naming the protocol, the password and the domain parameters."""
        return MseSetAt(self.protocol, self.password_reference, self.parameters.parameter_id).to_command()

    def command(self) -> CommandApdu:
        """The GENERAL AUTHENTICATE of the step due: CLA ``10`` for steps 1–3, ``00`` for 4; Le ``00``."""
        data = self.command_data()
        cla = 0x00 if self._step == STEPS else CLA_CHAINED
        return CommandApdu(cla, INS_GENERAL_AUTHENTICATE, 0x00, 0x00, data, 256)

    def command_data(self) -> bytes:
        """The dynamic authentication data ``7C …`` of the step due."""
        with self._guard("command"):
            if self._sent:
                raise PaceStateError(f"the response to step {self._step} is due first")
            data = (self._step1_command, self._step2_command, self._step3_command, self._step4_command)[
                self._step - 1
            ]()
            self._sent = True
            return data

    def process_response(self, data: bytes) -> None:
        """Take the chip's ``7C …`` of the step sent; raises typed PACE errors and aborts on any."""
        with self._guard("response"):
            if not self._sent:
                raise PaceStateError(f"the command of step {self._step} has not been sent")
            expected = da.RESPONSE_TAGS[self._step - 1]
            value = da.decode(data, expected, da.RESPONSE_TAGS)
            (self._step1_response, self._step2_response, self._step3_response, self._step4_response)[
                self._step - 1
            ](value)
            self._sent = False
            self._step += 1

    def process(self, response: ResponseApdu) -> None:
        """``process_response`` for a whole response APDU; an error status word raises ``PaceRefusedError``.

        With ``63 Cx`` at step 4 the chip rejected our token: the password is wrong.
        """
        if response.sw != SW.OK:
            with self._guard("response"):
                reason = f"the chip refused step {self._step}: {response.sw:04X}"
                raise PaceRefusedError(reason, sw=response.sw)
        self.process_response(response.data)

    # -- the steps -------------------------------------------------------------------------------------------

    def _step1_command(self) -> bytes:
        return da.encode(None)

    def _step1_response(self, z: bytes) -> None:
        block = self.protocol.suite.block_size
        if len(z) % block or len(z) < block:
            raise PaceDataError(f"the encrypted nonce must be whole {block}-byte blocks")
        self._nonce = self.protocol.suite.decrypt_nonce(self._k_pi, z)

    def _step2_command(self) -> bytes:
        self._mapping = mapping_key_pair(self.parameters, self._random)
        return da.encode(da.TAG_MAPPING_DATA_TERMINAL, self.parameters.encode_point(self._mapping.public))

    def _step2_response(self, value: bytes) -> None:
        chip_mapping = self.parameters.decode_point(value)
        self._generator = map_generator(self.parameters, self._nonce, self._mapping, chip_mapping)

    def _step3_command(self) -> bytes:
        self._ephemeral = ephemeral_key_pair(self.parameters, self._generator, self._random)
        return da.encode(da.TAG_EPHEMERAL_KEY_TERMINAL, self.parameters.encode_point(self._ephemeral.public))

    def _step3_response(self, value: bytes) -> None:
        self._chip_key = self.parameters.decode_point(value)
        self._derive_keys(shared_secret(self.parameters, self._ephemeral, self._chip_key))

    def _step4_command(self) -> bytes:
        chip_key = self.parameters.encode_point(self._chip_key)
        return da.encode(da.TAG_TOKEN_TERMINAL, authentication_token(self.protocol, self._k_mac(), chip_key))

    def _step4_response(self, token: bytes) -> None:
        if len(token) != MAC_LENGTH:
            raise PaceDataError(f"the chip's token is {len(token)} bytes, not {MAC_LENGTH}")
        own_key = self.parameters.encode_point(self._ephemeral.public)
        if not hmac.compare_digest(token, authentication_token(self.protocol, self._k_mac(), own_key)):
            raise PaceAuthenticationError("the chip's authentication token is wrong")
