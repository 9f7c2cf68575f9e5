"""The card's file system: applets (DF by AID) holding EFs by FID and short EF identifier (SFI).

Pure data and lookups: no P1/P2 decoding happens here (the command handlers decode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mynacard.emulator.credentials import Credential
from mynacard.emulator.security import OPEN, AccessRule

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(slots=True)
class TransparentEF:
    """A binary EF (トランスペアレントファイル) read with READ BINARY."""

    fid: int
    sfi: int | None
    label: str
    content: bytes
    read: AccessRule = OPEN


@dataclass(slots=True)
class RecordEF:
    """A record-structured EF read with READ RECORD; record numbers start at 1."""

    fid: int
    sfi: int | None
    label: str
    records: list[bytes]
    read: AccessRule = OPEN


@dataclass(slots=True)
class InternalEF:
    """An EF the card keeps for itself: selectable, never readable (READ answers ``69 81``)."""

    fid: int
    sfi: int | None
    label: str


@dataclass(slots=True)
class Key:
    """A private key object (秘密鍵) and the rules of its operations; absent operation = not usable."""

    id: str
    fid: int
    sfi: int | None
    label: str
    private_key: PrivateKey
    sign: AccessRule | None = None
    sign_schemes: frozenset[int] = frozenset({0x00})
    internal_authenticate: AccessRule | None = None


Node = TransparentEF | RecordEF | InternalEF | Credential | Key


@dataclass(frozen=True, slots=True)
class DataObject:
    """A GET DATA object (データオブジェクト); ``mf_only`` answers only at MF level."""

    tag: int
    label: str
    value: bytes
    mf_only: bool


@dataclass(slots=True)
class Applet:
    """An application DF (AP) selected by its DF name (AID)."""

    id: str
    label: str
    aid: bytes
    select_clears_security: bool = False
    is_default: bool = False
    fci: bytes | None = None
    """What SELECT by DF name with P2 = 00 answers; None: the minimal ``6F { 84 DF-name }``."""
    nodes: dict[int, Node] = field(default_factory=dict)
    by_sfi: dict[int, Node] = field(default_factory=dict)
    default_key: Key | None = None

    def add(self, node: Node) -> None:
        if node.fid in self.nodes:
            raise ValueError(f"{self.id}: FID {node.fid:04X} defined twice")
        self.nodes[node.fid] = node
        if node.sfi is not None:
            if node.sfi in self.by_sfi:
                raise ValueError(f"{self.id}: SFI {node.sfi:02X} defined twice")
            self.by_sfi[node.sfi] = node

    def credentials(self) -> list[Credential]:
        return [n for n in self.nodes.values() if isinstance(n, Credential)]


class FileSystem:
    """All applets of a card, with selection by full or partial DF name (JICSAP 4.2(1))."""

    def __init__(self, applets: list[Applet]) -> None:
        self.applets = applets
        self._by_aid = {a.aid: a for a in applets}
        if len(self._by_aid) != len(applets):
            raise ValueError("two applets share an AID")
        defaults = [a for a in applets if a.is_default]
        if len(defaults) > 1:
            raise ValueError("more than one default applet")
        self.default = defaults[0] if defaults else None

    def find(self, name: bytes, after: Applet | None = None) -> Applet | None:
        """The applet whose AID is ``name`` or starts with it; ``after`` asks for the next occurrence."""
        if after is None and (exact := self._by_aid.get(name)) is not None:
            return exact
        matches = [a for a in self.applets if a.aid.startswith(name)]
        if after is None:
            return matches[0] if matches else None
        if after in matches:
            index = matches.index(after) + 1
            return matches[index] if index < len(matches) else None
        return matches[0] if matches else None

    def applet(self, applet_id: str) -> Applet:
        for a in self.applets:
            if a.id == applet_id:
                return a
        raise KeyError(applet_id)
