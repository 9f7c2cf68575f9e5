"""Credentials: PINs (暗証番号), passwords (パスワード), PUKs and 照合番号 (verification numbers).

Each has a format rule, a retry limit and a counter. The counter is persisted *before* the answer that
reveals the comparison (anti-tearing), and the comparison is constant-time over salted digests, so the
stored state never holds the value itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from mynacard.apdu.sm import PasswordReference, StoredPassword, pace_key_seeds
from mynacard.apdu.status import SW
from mynacard.emulator.errors import CardError
from mynacard.emulator.security import AccessRule, CredentialRef, CredentialVerified


class CredentialKind(StrEnum):
    PIN = "pin"
    PASSWORD = "password"
    VERIFICATION_NUMBER = "verification_number"
    PUK = "puk"


@dataclass(frozen=True, slots=True)
class CredentialFormat:
    """What a valid value looks like: characters and length (bytes of ASCII)."""

    charset: str
    min_length: int
    max_length: int
    require_letter: bool = False
    require_digit: bool = False

    def accepts(self, value: bytes) -> bool:
        if not self.min_length <= len(value) <= self.max_length:
            return False
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            return False
        if re.fullmatch(f"[{self.charset}]*", text) is None:
            return False
        if self.require_letter and not any(c.isalpha() for c in text):
            return False
        return not (self.require_digit and not any(c.isdigit() for c in text))


@dataclass(slots=True)
class CredentialState:
    """The persistent part: tries left and the salted digest of the value (None = not set).

    A PACE password also keeps ``pace_seeds`` (``pace_key_seeds``): PACE derives its key from the value, so
    a salted digest is not enough; the seeds give K_π and not the value.
    """

    tries_left: int
    salt: bytes
    digest: bytes | None
    pace_seeds: bytes | None = None

    @classmethod
    def with_value(cls, value: bytes | None, tries: int, *, pace: bool = False) -> CredentialState:
        salt = secrets.token_bytes(16)
        if value is None:
            return cls(tries, salt, None)
        return cls(tries, salt, _digest(salt, value), pace_key_seeds(value) if pace else None)

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "tries_left": self.tries_left,
            "salt": self.salt.hex(),
            "digest": None if self.digest is None else self.digest.hex(),
        }
        if self.pace_seeds is not None:
            document["pace_seeds"] = self.pace_seeds.hex()
        return document


def _digest(salt: bytes, value: bytes) -> bytes:
    return hashlib.sha256(salt + value).digest()


@dataclass(frozen=True, slots=True)
class ReferenceDataPolicy:
    """How the value may be set, changed and reset (暗証番号の設定・変更・初期化)."""

    set_without_old: Literal["any_time", "while_unset"] = "any_time"
    """CHANGE REFERENCE DATA with P1 = 01 (new value only): any time, or only to set a value never set."""
    old_new_split: Literal["exact", "equal_halves"] = "exact"
    """P1 = 00 (old ‖ new): only when the format fixes the length, or as two halves of equal length."""
    reset_by: CredentialRef | None = None
    """The PUK whose RESET RETRY COUNTER may unblock or reset this credential; None: nothing may."""
    reset_requires_blocked: bool = False


class CredentialSync(Protocol):
    """Where credential states live: shared with other card instances, written atomically."""

    def locked(self) -> AbstractContextManager[None]: ...

    def refresh(self) -> None: ...

    def write(self) -> None: ...


class Credential:
    """A verifiable reference (an IEF of a PIN, password, PUK or 照合番号) with its retry counter."""

    __slots__ = (
        "_sync",
        "change",
        "fid",
        "format",
        "id",
        "kind",
        "label",
        "max_tries",
        "pace_reference",
        "policy",
        "ref",
        "sfi",
        "state",
    )

    def __init__(
        self,
        *,
        applet: str,
        id: str,
        fid: int,
        sfi: int | None,
        label: str,
        kind: CredentialKind,
        format: CredentialFormat,
        max_tries: int | None,
        state: CredentialState,
        sync: CredentialSync,
        change: AccessRule | None = None,
        policy: ReferenceDataPolicy = ReferenceDataPolicy(),
        pace_reference: PasswordReference | None = None,
    ) -> None:
        self.id = id
        self.pace_reference = pace_reference
        self.policy = policy
        self.ref = CredentialRef(applet, id)
        self.change = change or AccessRule(CredentialVerified(self.ref))
        """Who may CHANGE REFERENCE DATA with P1 = 01; by default the credential itself, verified."""
        self.fid, self.sfi, self.label, self.kind, self.format = fid, sfi, label, kind, format
        self.max_tries = max_tries
        self.state = state
        self._sync = sync

    @property
    def blocked(self) -> bool:
        return self.max_tries is not None and self.state.tries_left == 0

    @property
    def is_set(self) -> bool:
        return self.state.digest is not None

    def refresh(self) -> None:
        """Take over counters another instance on the same state directory changed."""
        self._sync.refresh()

    def compare(self, value: bytes) -> bool:
        """Compare and count (VERIFY, CHANGE REFERENCE DATA with the old value)."""
        return self.attempt(lambda: self._matches(value))

    def attempt(self, proof: Callable[[], bool]) -> bool:
        """Run ``proof`` (a comparison, or a PACE run's token check) as one counted try, as a card does
        against tearing.

        The try is taken and written first, under the state lock and on the latest counter; only then does
        ``proof`` run, and success gives the try back (written again). A card that cannot write its counter
        fails before any comparison, so no answer reveals a comparison whose try was not recorded. An
        exception from ``proof`` counts as a failure: the try stays taken.
        """
        if self.max_tries is None:
            return proof()
        with self._sync.locked():
            self._sync.refresh()
            if self.blocked:
                raise CardError(SW.REFERENCE_DATA_NOT_USABLE, f"{self.id} is blocked")
            self._write_counter(self.state.tries_left - 1)
        matched = proof()
        if matched:
            with self._sync.locked():
                self._sync.refresh()
                self._write_counter(self.max_tries)
        return matched

    def pace_password(self) -> StoredPassword:
        """The credential as a PACE password (its reference and K_π seeds)."""
        if self.pace_reference is None or self.state.pace_seeds is None:
            raise CardError(SW.DATA_NOT_FOUND, f"{self.id} is not a PACE password")
        return StoredPassword(self.pace_reference, self.state.pace_seeds)

    def _matches(self, value: bytes) -> bool:
        expected = self.state.digest
        return expected is not None and hmac.compare_digest(_digest(self.state.salt, value), expected)

    def _write_counter(self, tries: int) -> None:
        """Set and persist the counter; if the write fails, memory keeps what the disk holds."""
        before = self.state.tries_left
        self.state.tries_left = tries
        try:
            self._sync.write()
        except BaseException:
            self.state.tries_left = before
            raise

    def set_value(self, value: bytes) -> None:
        """New reference data (CHANGE REFERENCE DATA, PUK reset): a fresh salt, a full counter."""
        with self._sync.locked():
            self._sync.refresh()
            self.state.salt = secrets.token_bytes(16)
            self.state.digest = _digest(self.state.salt, value)
            if self.pace_reference is not None:
                self.state.pace_seeds = pace_key_seeds(value)
            if self.max_tries is not None:
                self.state.tries_left = self.max_tries
            self._sync.write()

    def unblock(self) -> None:
        """Reset the counter to its limit, keeping the value (RESET RETRY COUNTER without new data)."""
        if self.max_tries is not None:
            with self._sync.locked():
                self._sync.refresh()
                self._write_counter(self.max_tries)
