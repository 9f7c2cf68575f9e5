"""``security.json`` shared safely: every card instance open on a state directory sees one set of counters.

Two processes serving the same state directory (a mistake, but an easy one) must never hand each other
tries back. So a counter change happens under an exclusive lock, after re-reading the file, and every
reader notices another writer's change by the file's identity (atomic replace gives it a new inode).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mynacard.emulator.credentials import CredentialState
from mynacard.emulator.store.documents import CredentialDocument, SecurityDocument
from mynacard.emulator.store.state import StateError, StateStore

if TYPE_CHECKING:
    from mynacard.emulator.credentials import Credential

_LOCK = "security.lock"
Stamp = tuple[int, int, int]


class SecurityFile:
    """The credentials of one card and the file that holds their counters and digests."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._credentials: dict[str, Credential] = {}
        self._stamp: Stamp | None = self._current_stamp()
        self._in_memory: dict[str, CredentialState] | None = None
        """A card that lives in memory keeps its written states as objects: there is nothing to encode."""

    def states(self) -> dict[str, CredentialState]:
        """The stored state of every credential, as on disk now (validated: see ``documents``)."""
        if self._in_memory is not None:
            return {key: dataclasses.replace(state) for key, state in self._in_memory.items()}
        document = self._store.read_document(StateStore.SECURITY, SecurityDocument)
        return {key: _state(value) for key, value in document.credentials.items()}

    def remove_leftovers(self) -> None:
        """Temporary files of writes that a kill interrupted (``.security.json.XXXXXXXX``).

        Only counter writes run while a card is open, and they run under the lock, so a leftover found
        under the lock belongs to no write in progress.
        """
        if self._store.directory is None:
            return
        with self.locked():
            for leftover in self._store.directory.glob(f".{StateStore.SECURITY}.*"):
                leftover.unlink(missing_ok=True)

    def attach(self, credential: Credential) -> None:
        self._credentials[str(credential.ref)] = credential

    def _current_stamp(self) -> Stamp | None:
        if self._store.directory is None:
            return None
        try:
            st = os.stat(self._store.directory / StateStore.SECURITY)
        except FileNotFoundError:
            return None  # reading it says what is missing
        return st.st_ino, st.st_mtime_ns, st.st_size

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive against every other instance on this directory, in any process."""
        if self._store.directory is None:
            yield
            return
        with open(self._store.directory / _LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def refresh(self) -> None:
        """Take over what another instance wrote since this one last looked (a ``stat`` when nothing did)."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        states = self.states()
        for key, credential in self._credentials.items():
            if key not in states:
                raise StateError(f"security.json has no state for credential {key}")
            credential.state = states[key]
        self._stamp = stamp

    def write(self) -> None:
        """Persist every credential's state; call under ``locked`` after ``refresh``."""
        if not self._store.persistent:
            # Nothing can fail or tear in memory: the live states are what was written (copied when read).
            self._in_memory = {key: c.state for key, c in self._credentials.items()}
            return
        document = {key: c.state.to_json() for key, c in self._credentials.items()}
        self._store.write_json(StateStore.SECURITY, {"credentials": document})
        self._stamp = self._current_stamp()


def _state(document: CredentialDocument) -> CredentialState:
    digest = None if document.digest is None else bytes.fromhex(document.digest)
    seeds = None if document.pace_seeds is None else bytes.fromhex(document.pace_seeds)
    return CredentialState(document.tries_left, bytes.fromhex(document.salt), digest, seeds)
