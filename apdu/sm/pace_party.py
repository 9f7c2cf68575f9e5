"""What both sides of PACE share: parameters, password key, step counter, failure and the session keys.

ICAO Doc 9303-11 §4.4: four GENERAL AUTHENTICATE steps; after the fourth both sides hold
K_enc = KDF(K, 1) and K_mac = KDF(K, 2) and start secure messaging with SSC 0 (§9.8). A side that hits an
error aborts the run: every later call raises ``PaceStateError`` (``69 85``), so nothing of a failed run
leaks into the next one; the card starts again with a new object at the next MSE:Set AT.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mynacard.apdu.sm.curves import DomainParameters
from mynacard.apdu.sm.errors import PaceError, PaceStateError
from mynacard.apdu.sm.kdf import KDF_ENC, KDF_MAC, PasswordKey, kdf
from mynacard.apdu.sm.protocols import PaceProtocol
from mynacard.apdu.sm.randomness import PaceRandom, SystemRandom
from mynacard.apdu.sm.session import SessionKeys, SmSession

STEPS = 4


class PaceParty:
    """Base of ``PaceTerminal`` and ``PaceChip``; ``step`` is the step due next (5 once established)."""

    def __init__(
        self,
        protocol: PaceProtocol,
        parameters: DomainParameters,
        password: PasswordKey,
        *,
        random: PaceRandom | None = None,
    ) -> None:
        self.protocol = protocol
        self.parameters = parameters
        self.password_reference = password.reference
        self._k_pi = password.key(protocol.suite)
        self._random: PaceRandom = random or SystemRandom()
        self._step = 1
        self._failed = False
        self._keys: SessionKeys | None = None

    @property
    def step(self) -> int:
        return self._step

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def established(self) -> bool:
        """Both tokens verified: secure messaging may start."""
        return self._step > STEPS and not self._failed

    def session_keys(self) -> SessionKeys:
        """K_enc and K_mac of the established run."""
        if not self.established or self._keys is None:
            raise PaceStateError("PACE has not been completed")
        return self._keys

    def secure_messaging(self) -> SmSession:
        """A new SM session under the session keys, SSC 0 (ICAO Doc 9303-11 §9.8)."""
        return self.session_keys().session(0)

    def _derive_keys(self, shared_secret: bytes) -> None:
        suite = self.protocol.suite
        k_enc, k_mac = kdf(shared_secret, KDF_ENC, suite), kdf(shared_secret, KDF_MAC, suite)
        self._keys = SessionKeys(k_enc, k_mac, suite)

    def _k_mac(self) -> bytes:
        assert self._keys is not None
        return self._keys.k_mac

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Refuse calls after a failure or the end; mark the run failed on any PACE error."""
        if self._failed:
            raise PaceStateError(f"PACE was aborted; {what} refused")
        if self._step > STEPS:
            raise PaceStateError(f"PACE is complete; {what} refused")
        try:
            yield
        except PaceError:
            self._abort()
            raise

    def _abort(self) -> None:
        self._failed = True
        self._k_pi = b""
        self._keys = None

    def __repr__(self) -> str:
        state = "failed" if self._failed else "established" if self.established else f"step {self._step}"
        return (
            f"{type(self).__name__}({self.protocol.name}, {self.parameters.name}, "
            f"{self.password_reference.name}, {state})"
        )
