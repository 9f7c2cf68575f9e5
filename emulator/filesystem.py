"""The card's file system: applets (DF by AID) holding EFs by FID and short EF identifier (SFI).

Pure data and lookups: no P1/P2 decoding happens here (the command handlers decode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mynacard.emulator.credentials import Credential
from mynacard.emulator.security import OPEN, AccessRule, CredentialRef

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
    prehashed_lengths: frozenset[int] = frozenset({48, 32, 64})
    """EC keys, ``80 2A`` P1 = 00: the lengths of a host-computed hash the card accepts."""
    card_hash: str = "sha384"
    """EC keys: the hash the card applies for P1 = 01 and INTERNAL AUTHENTICATE (``hashlib`` name)."""
    challenge_lengths: range = range(1, 256)
    """INTERNAL AUTHENTICATE: the challenge lengths accepted."""


@dataclass(frozen=True, slots=True)
class TerminalKey:
    """A terminal's public key (端末認証鍵): EXTERNAL AUTHENTICATE ``00 82 00 <reference>`` proves it."""

    ref: CredentialRef
    reference: int
    label: str
    public_key: ec.EllipticCurvePublicKey
    hash: str = "sha384"


@dataclass(frozen=True, slots=True)
class AppletAlias:
    """Today's AID answering for a merged applet, with today's FIDs (and SFIs) mapped to the applet's."""

    aid: bytes
    label: str
    fid_map: dict[int, int] = field(default_factory=dict)


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
    terminal_keys: dict[int, TerminalKey] = field(default_factory=dict)
    aliases: list[AppletAlias] = field(default_factory=list)
    requires_secure_messaging: bool = False
    """After SELECT every plain command but the PACE ones is refused (``69 82``)."""

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
    """All applets of a card, with selection by full or partial DF name (JICSAP 4.2(1)).

    With ``aliases`` on, each applet's ``AppletAlias`` names are DF names too, after the applets' own.
    """

    def __init__(self, applets: list[Applet], *, aliases: bool = False) -> None:
        self.applets = applets
        self._by_aid = {a.aid: a for a in applets}
        if len(self._by_aid) != len(applets):
            raise ValueError("two applets share an AID")
        self.aliases = [(alias, a) for a in applets for alias in a.aliases] if aliases else []
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

    def find_alias(self, name: bytes) -> tuple[AppletAlias, Applet] | None:
        """The alias whose AID is ``name`` or starts with it, when no applet's own DF name matched."""
        exact = [(alias, a) for alias, a in self.aliases if alias.aid == name]
        matches = exact or [(alias, a) for alias, a in self.aliases if alias.aid.startswith(name)]
        return matches[0] if matches else None

    def pace_credential(self, reference: int) -> Credential | None:
        """The credential a PACE password reference (MSE:Set AT tag ``83``) names, in any applet."""
        for applet in self.applets:
            for credential in applet.credentials():
                if credential.pace_reference == reference:
                    return credential
        return None

    def applet(self, applet_id: str) -> Applet:
        for a in self.applets:
            if a.id == applet_id:
                return a
        raise KeyError(applet_id)
