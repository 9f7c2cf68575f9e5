"""The state store: a card instance's mutable state as versioned JSON and PEM files in a directory.

Every write is atomic (temporary file, fsync, rename, fsync of the directory), so a card killed at any
moment reopens either before or after a change, never in between. No pickle: everything is readable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from mynacard.emulator.errors import StateError, StorageError
from mynacard.emulator.store.documents import FORMAT, VERSION, Document, encode_document, parse_document

__all__ = ["FORMAT", "VERSION", "StateError", "StateStore", "StorageError", "write_atomic"]


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateStore:
    """Files of one card instance. ``directory=None`` keeps everything in memory (nothing persists)."""

    CARD = "card.json"
    PROFILE = "profile.toml"
    CONTENTS = "contents.json"
    SECURITY = "security.json"

    @staticmethod
    def key_file(applet_id: str, fid: int) -> str:
        """Where a key object's private key lives: ``keys/<applet>-<FID>.pem``."""
        return f"keys/{applet_id}-{fid:04X}.pem"

    @staticmethod
    def content_key(applet_id: str, fid: int) -> str:
        """An EF's key in ``contents.json``: ``<applet>/<FID>``."""
        return f"{applet_id}/{fid:04X}"

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[str, bytes] = {}
        self._documents: dict[str, dict[str, Any]] = {}

    @property
    def persistent(self) -> bool:
        return self.directory is not None

    def exists(self) -> bool:
        if self.directory is None:
            return self.CARD in self._memory
        return (self.directory / self.CARD).is_file()

    def write(self, name: str, data: bytes) -> None:
        if self.directory is None:
            self._memory[name] = data
            return
        try:
            write_atomic(self.directory / name, data)
        except OSError as exc:
            raise StorageError(f"{self.directory / name}: cannot write ({exc.strerror or exc})") from exc

    def read(self, name: str) -> bytes:
        if self.directory is None:
            if name not in self._memory:
                raise StateError(f"(memory): no {name}")
            return self._memory[name]
        path = self.directory / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise StateError(f"{path}: missing; the state directory is incomplete") from None

    def where(self, name: str) -> str:
        """How errors name a state file: its path, or ``(memory)/name``."""
        return str(self.directory / name) if self.directory is not None else f"(memory)/{name}"

    def write_json(self, name: str, document: dict[str, Any]) -> None:
        """A state document, atomically; in memory it is kept as it is, with no encoding at all."""
        if self.directory is None:
            self._documents[name] = document
            self._memory[name] = b""
            return
        self.write(name, encode_document(document))

    def read_document(self, name: str, model: type[Document]) -> Document:
        """A state document, validated: a damaged one is a ``StateError`` naming the file and the field."""
        if self.directory is None and name in self._documents:
            return model.model_validate({"format": FORMAT, "version": VERSION, **self._documents[name]})
        return parse_document(self.read(name), self.where(name), model)
