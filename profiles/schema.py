"""The profile format: a card described as data (TOML), validated on load.

A profile says which applets, files, credentials, keys, access rules, ATR and behaviours a card has.
Errors name the file, the field and what is wrong. The format is documented in ``profiles/README.md``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import tomli_w
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mynacard.apdu.atr import InterfaceGroup, build_atr
from mynacard.apdu.sm import (
    FID_EF_CARD_ACCESS,
    PaceInfo,
    PasswordReference,
    encode_card_access,
    protocol_by_name,
)
from mynacard.profiles.errors import ProfileError
from mynacard.profiles.timing import TimingSpec
from mynacard.profiles.validation import describe_validation_error
from mynacard.profiles.variants import resolve


def _parse_hex(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a hex string such as 'D3 92 F0 00'")
    compact = re.sub(r"[\s:]", "", value)
    if len(compact) % 2 or re.fullmatch(r"[0-9A-Fa-f]*", compact) is None:
        raise ValueError(f"not an even number of hex digits: {value!r}")
    return bytes.fromhex(compact)


def _parse_fid(value: object) -> int:
    raw = _parse_hex(value) if isinstance(value, str) else value
    if isinstance(raw, bytes):
        if len(raw) != 2:
            raise ValueError(f"a file identifier is 2 bytes, got {len(raw)}")
        return int.from_bytes(raw, "big")
    if isinstance(raw, int) and 0 <= raw <= 0xFFFF:
        return raw
    raise ValueError("expected a file identifier such as '001B'")


def _parse_status_word(value: object) -> int:
    raw = _parse_hex(value)
    if len(raw) != 2:
        raise ValueError(f"a status word is 2 bytes, got {len(raw)}")
    return int.from_bytes(raw, "big")


HexBytes = Annotated[bytes, BeforeValidator(_parse_hex)]
StatusWord = Annotated[int, BeforeValidator(_parse_status_word)]
"""A status word written as hex, ``"69 85"``."""
Fid = Annotated[int, BeforeValidator(_parse_fid)]
Byte = Annotated[int, Field(ge=0, le=0xFF)]
SfiSpec = Annotated[int, Field(ge=1, le=30)] | Literal["auto", "none"]
"""A short EF identifier 1..30, ``auto`` (the FID's low byte for 0001–001E) or ``none``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleTable(_Model):
    """``{ any = [...] }``, ``{ all = [...] }`` or ``{ credential = "id" }``, optionally with SM."""

    any: list[RuleSpec] | None = None
    all: list[RuleSpec] | None = None
    credential: str | None = None
    secure_messaging: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("any", "all", "credential") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a rule table has exactly one of 'any', 'all' or 'credential'")
        return self


RuleSpec = str | RuleTable
"""``"always"``, ``"never"``, a credential id of the same applet (or ``applet/credential`` of another, as
the residence card's DFs name the MF's card number), or a ``RuleTable``."""

RESERVED_RULE_WORDS = frozenset({"always", "never"})


def rule_credentials(rule: RuleSpec) -> set[str]:
    """Every credential id a rule mentions."""
    if isinstance(rule, str):
        return set() if rule in RESERVED_RULE_WORDS else {rule}
    if rule.credential is not None:
        return {rule.credential}
    found: set[str] = set()
    for part in rule.any or rule.all or []:
        found |= rule_credentials(part)
    return found


class ContentSpec(_Model):
    """Where an EF's bytes come from: a personalisation ``source``, literal ``hex`` or ASCII ``text``."""

    source: str | None = None
    hex: HexBytes | None = None
    text: str | None = None
    pad_to: int | None = Field(default=None, ge=1, le=65535)
    pad_byte: Byte = 0xFF

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Checked only when the loader passes the content builders' sources (``context["sources"]``)."""
        known = (info.context or {}).get("sources")
        if value is not None and known is not None and value not in known:
            close = difflib.get_close_matches(value, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown content source {value!r}{hint}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("source", "hex", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("content has exactly one of 'source', 'hex' or 'text'")
        return self


class FileSpec(_Model):
    fid: Fid
    sfi: SfiSpec = "auto"
    label: str
    kind: Literal["transparent", "record", "internal"] = "transparent"
    content: ContentSpec | None = None
    records: list[ContentSpec] | None = None
    read: RuleSpec = "always"

    @model_validator(mode="after")
    def _content_matches_kind(self) -> Self:
        if self.kind == "transparent" and self.content is None:
            raise ValueError("a transparent EF needs 'content'")
        if self.kind == "record" and self.records is None:
            raise ValueError("a record EF needs 'records'")
        if self.kind == "internal" and (self.content or self.records):
            raise ValueError("an internal EF has no content")
        return self


class FormatSpec(_Model):
    charset: str = Field(description="regex character class body, e.g. '0-9' or 'A-Z0-9'")
    min: int = Field(ge=1, le=255)
    max: int = Field(ge=1, le=255)
    require_letter: bool = False
    require_digit: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        try:
            re.compile(f"[{self.charset}]")
        except re.error as exc:
            raise ValueError(f"charset {self.charset!r} is not a character class: {exc}") from None
        return self


class ValueSpec(_Model):
    """A credential's initial value: a persona field, literal text (tests), or not set."""

    persona: str | None = None
    text: str | None = None
    unset: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum((self.persona is not None, self.text is not None, self.unset)) != 1:
            raise ValueError("a value has exactly one of 'persona', 'text' or 'unset = true'")
        return self


class CredentialSpec(_Model):
    id: str
    fid: Fid
    sfi: SfiSpec = "auto"
    label: str
    kind: Literal["pin", "password", "verification_number", "puk"]
    format: FormatSpec
    max_tries: int | None = Field(default=None, ge=1, le=15, description="None: no retry limit (63 00)")
    value: ValueSpec
    initial_state: Literal["active", "blocked"] = "active"
    change: RuleSpec | None = Field(default=None, description="who may CHANGE REFERENCE DATA; None = itself")
    satisfies: list[str] = Field(
        default=[], description="credentials whose every rule a verification of this one also satisfies"
    )
    set_without_old: Literal["any_time", "while_unset"] = Field(
        default="any_time", description="CHANGE REFERENCE DATA with P1 = 01 (new value only): when allowed"
    )
    old_new_split: Literal["exact", "equal_halves"] = Field(
        default="exact",
        description="P1 = 00 data old ‖ new: only for a fixed-length format, or two halves of equal length",
    )
    reset_by: str | None = Field(
        default=None, description="the credential (a PUK) whose RESET RETRY COUNTER may reset this one"
    )
    reset_requires_blocked: bool = Field(
        default=False, description="RESET RETRY COUNTER only when this credential is blocked"
    )
    pace_reference: Byte | None = Field(
        default=None,
        description="the MSE:Set AT password reference (tag 83) naming this credential as a PACE password",
    )


class ChallengeLengthSpec(_Model):
    min: int = Field(default=1, ge=1, le=65535)
    max: int = Field(default=255, ge=1, le=65535)


class KeySpec(_Model):
    id: str
    fid: Fid
    sfi: SfiSpec = "auto"
    label: str
    algorithm: Literal["rsa-2048", "ec-p384"]
    source: str = Field(description="the key id personalisation generates and the record builders use")
    sign: RuleSpec | None = None
    sign_schemes: list[Byte] = [0x00]
    prehashed_lengths: list[int] = Field(
        default=[48, 32, 64], description="EC keys, P1 = 00: the hash lengths the card accepts"
    )
    card_hash: Literal["sha256", "sha384", "sha512"] = Field(
        default="sha384", description="EC keys, P1 = 01 and INTERNAL AUTHENTICATE: the hash the card applies"
    )
    internal_authenticate: RuleSpec | None = None
    challenge_length: ChallengeLengthSpec = Field(
        default_factory=lambda: ChallengeLengthSpec(), description="INTERNAL AUTHENTICATE data, bytes"
    )
    default: bool = Field(default=False, description="the key of '80 2A 00 00' (P2 = 00)")


class TerminalKeySpec(_Model):
    """A terminal's public key for EXTERNAL AUTHENTICATE (端末認証); success counts as verified."""

    id: str
    reference: Byte = Field(description="P2 of EXTERNAL AUTHENTICATE")
    label: str
    algorithm: Literal["ec-p384"]
    public_key: HexBytes = Field(description="uncompressed point 04 ‖ X ‖ Y")
    hash: Literal["sha256", "sha384", "sha512"] = "sha384"


class AliasSpec(_Model):
    """Today's AID (and FIDs) answering for this applet when ``[behaviour] legacy_aliases`` is on."""

    aid: HexBytes
    label: str
    fids: dict[str, Fid] = Field(default={}, description="today's FID → this applet's, '0011' = '0018'")

    @field_validator("fids")
    @classmethod
    def _fid_keys(cls, value: dict[str, int]) -> dict[str, int]:
        for old in value:
            _parse_fid(old)
        return value

    def fid_map(self) -> dict[int, int]:
        return {_parse_fid(old): new for old, new in self.fids.items()}


class AppletSpec(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    aid: HexBytes
    default: bool = Field(default=False, description="current DF after power-on (the card manager)")
    select_clears_security: bool = False
    fci: HexBytes | None = Field(
        default=None, description="FCI answered to SELECT with P2 = 00; None: 6F { 84 DF-name }"
    )
    files: list[FileSpec] = []
    credentials: list[CredentialSpec] = []
    keys: list[KeySpec] = []
    terminal_keys: list[TerminalKeySpec] = []
    aliases: list[AliasSpec] = []
    free_area: bool = Field(default=False, description="installed in the chip's free area (空き領域)")
    requires_secure_messaging: bool = Field(
        default=False,
        description="after SELECT every plain command but PACE's (MSE, GENERAL AUTHENTICATE) answers 69 82",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not 1 <= len(self.aid) <= 16:
            raise ValueError(f"an AID is 1..16 bytes, got {len(self.aid)}")
        fids = [f.fid for f in self.files] + [c.fid for c in self.credentials] + [k.fid for k in self.keys]
        dupes = sorted({f for f in fids if fids.count(f) > 1})
        if dupes:
            raise ValueError("FID defined twice: " + ", ".join(f"{f:04X}" for f in dupes))
        nodes: list[FileSpec | CredentialSpec | KeySpec] = [*self.files, *self.credentials, *self.keys]
        sfis = [sfi for n in nodes if (sfi := resolve_sfi(n.sfi, n.fid)) is not None]
        if sfi_clash := sorted({s for s in sfis if sfis.count(s) > 1}):
            raise ValueError("SFI used twice: " + ", ".join(f"{s:02X}" for s in sfi_clash))
        credentials = {c.id for c in self.credentials}
        known = credentials | {t.id for t in self.terminal_keys}
        if clash := known & RESERVED_RULE_WORDS:
            raise ValueError(f"credential id {sorted(clash)} is a reserved rule word")
        if len(known) != len(self.credentials) + len(self.terminal_keys):
            raise ValueError("a credential or terminal key id is used twice")
        for what, rule in self._rules():
            if missing := {c for c in rule_credentials(rule) if "/" not in c} - known:
                raise ValueError(f"{what} names unknown credential(s) {sorted(missing)}")
        for c in self.credentials:
            if missing := (set(c.satisfies) | ({c.reset_by} if c.reset_by else set())) - credentials:
                raise ValueError(f"credential {c.id} names unknown credential(s) {sorted(missing)}")
        refs = [t.reference for t in self.terminal_keys]
        if len(set(refs)) != len(refs):
            raise ValueError("two terminal keys share a reference")
        if sum(k.default for k in self.keys) > 1:
            raise ValueError("more than one default key")
        return self

    def _rules(self) -> list[tuple[str, RuleSpec]]:
        rules: list[tuple[str, RuleSpec]] = [(f"file {f.fid:04X} read", f.read) for f in self.files]
        for k in self.keys:
            rules += [
                (f"key {k.id} {op}", r)
                for op, r in (("sign", k.sign), ("internal_authenticate", k.internal_authenticate))
                if r is not None
            ]
        rules += [(f"credential {c.id} change", c.change) for c in self.credentials if c.change is not None]
        return rules


class AtrGroupSpec(_Model):
    ta: Byte | None = None
    tb: Byte | None = None
    tc: Byte | None = None
    next_protocol: int | None = Field(default=None, ge=0, le=15)


class AtrSpec(_Model):
    ts: Literal[0x3B, 0x3F] = 0x3B
    interface: list[AtrGroupSpec]
    historical: HexBytes = b""

    def build(self) -> bytes:
        groups = [InterfaceGroup(g.ta, g.tb, g.tc, g.next_protocol) for g in self.interface]
        return build_atr(groups, self.historical, self.ts)

    @model_validator(mode="after")
    def _buildable(self) -> Self:
        self.build()
        return self


class BehaviourSpec(_Model):
    """Card-wide behaviours where sources differ or are silent; each is a choice, named here."""

    reset_keeps_security: bool = True
    empty_verify_when_verified: Literal["counter", "ok"] = "counter"
    format_violation: Literal["wrong_value", "wrong_data"] = "wrong_value"
    le_too_short: Literal["6Cxx", "truncate"] = "6Cxx"
    read_past_end: Literal["ok", "end_of_file_warning"] = "ok"
    logical_channels: int = Field(default=1, ge=1, le=20)
    ef_fcp: Literal["minimal", "none"] = "minimal"
    """SELECT EF with P2 = 00/04: ``minimal`` FCP (62 { 80 size, 82 descriptor, 83 FID, 88 SFI }) or none."""
    legacy_aliases: bool = False
    """Also answer today's AIDs and FIDs (``[[applets.aliases]]``) and route them to the merged applets."""
    unset_reference_data_sw: StatusWord = 0x6A88
    """VERIFY or a reset with a credential that was never set (a PUK before the holder sets it)."""
    reset_refused_sw: StatusWord = 0x6985
    """RESET RETRY COUNTER of a credential the PUK may not reset, or not blocked where that is required;
    setting with P1 = 01 a credential that may only be set once."""
    external_authenticate_failed_sw: StatusWord = 0x6300
    """EXTERNAL AUTHENTICATE with a signature that does not verify."""
    command_chaining: bool = True
    """ISO 7816-4 command chaining (CLA b5): the parts' data is joined; False answers ``68 84``."""
    chain_limit: int = Field(default=65535, ge=1, le=65535)
    """Most bytes a chain may carry; beyond, ``6A 84`` (not enough memory)."""


class DataObjectSpec(_Model):
    """A GET DATA object; ``scope = "mf"`` answers only while no application is selected."""

    tag: HexBytes
    label: str
    content: ContentSpec
    scope: Literal["mf", "any"] = "mf"


class StatusCommandSpec(_Model):
    """A command the card answers with a fixed status word (observed, not modelled further)."""

    cla: Byte
    ins: Byte
    sw: HexBytes
    label: str
    applets: list[str] = Field(default=[], description="where it answers so; empty = everywhere")

    @model_validator(mode="after")
    def _two_bytes(self) -> Self:
        if len(self.sw) != 2:
            raise ValueError(f"a status word is 2 bytes, got {len(self.sw)}")
        return self


class PersonalisationSpec(_Model):
    """Choices the record builders make where sources conflict (passed to ``records.RecordOptions``)."""

    attributes_length_form: Literal["short", "long"] = "short"
    token_label: str = "JPKIAPICCTOKEN2"
    pki: Literal["legacy-2016", "nextgen-2026"] = "legacy-2016"
    """Which TEST PKI issues the card's certificates: today's RSA-2048 hierarchy or the next card's P-384."""


class CapacitySpec(_Model):
    """The chip's memory budget (容量): what every file, key, credential and rule takes must fit.

    Every per-item cost below is ASSUMED (no issuer publishes its card OS's layout); each default says where
    its figure comes from, and a profile may set its own. How they are counted: ``profiles/README.md``
    ("Capacity") and ``emulator/issuance/capacity.py``.
    """

    eeprom_bytes: int | None = Field(default=None, ge=1, description="None: no budget is checked")
    # ASSUMED: the header of a DF (an applet, and the MF): 24 bytes, the directory-file header of a native
    # smart-card OS (Schlumberger Multiflex: Guthery & Jurgensen, "Smart Card Developer's Kit", Table 5.15).
    df_header_bytes: int = Field(default=24, ge=0)
    # ASSUMED: the header of every EF (name, type, size, access conditions, link into the tree): 16 bytes,
    # Multiflex's transparent / record EF header (same table). Keys and credentials are EFs on this card
    # (FIDs 0017, 0018, ...), and a GET DATA object or a terminal key is one stored object: each has one.
    ef_header_bytes: int = Field(default=16, ge=0)
    # ASSUMED: per record of a record EF: 4 bytes, Multiflex's per-record overhead (same table).
    record_bytes: int = Field(default=4, ge=0)
    # ASSUMED: the content of an internal EF that no source shows (legacy-2016's FID-sweep finds): none
    # counted, only its header; the real card keeps something there, size UNKNOWN.
    internal_ef_bytes: int = Field(default=0, ge=0)
    # ASSUMED: an RSA-2048 private key as a card keeps it: the five CRT parameters p, q, dP, dQ, qInv of
    # 128 bytes each (Java Card's RSAPrivateCrtKey: P, Q, DP1, DQ1, PQ) = 640, plus the modulus n (256) and
    # the public exponent e (4) to verify every signature before it leaves (the usual guard against CRT
    # fault attacks) = 900.
    rsa_2048_key_bytes: int = Field(default=900, ge=0)
    # ASSUMED: a P-384 private key: the scalar d (48) and the public point 04 ‖ X ‖ Y (97, for the same
    # check) and a 1-byte curve reference = 146; the curve's domain parameters are the OS's, shared by all
    # keys (a Java Card ECKey holding its own p, a, b, G, r, k would add 291).
    ec_p384_key_bytes: int = Field(default=146, ge=0)
    # ASSUMED: a P-384 terminal public key (EXTERNAL AUTHENTICATE): 04 ‖ X ‖ Y (97) + curve reference (1).
    ec_p384_public_key_bytes: int = Field(default=98, ge=0)
    # ASSUMED: a credential's retry counter: maximum and remaining tries, 1 byte each, as in Multiflex's
    # key files (Guthery & Jurgensen, Table 5.12). Its reference data is counted at the format's maximum
    # length (a card reserves the longest value it may be changed to).
    credential_counter_bytes: int = Field(default=2, ge=0)
    # ASSUMED: a credential's format: minimum and maximum length, character class, flags (1 byte each);
    # Multiflex keeps 2 such bytes per key (length, algorithm), our formats have 4 items.
    credential_format_bytes: int = Field(default=4, ge=0)
    # ASSUMED: one condition of an access rule: 2 bytes, an access-mode byte and a security-condition byte
    # as in ISO/IEC 7816-4's compact security attributes; "always", "never", a credential, an AND/OR node
    # and a secure-messaging requirement are one condition each.
    rule_condition_bytes: int = Field(default=2, ge=0)
    # ASSUMED: with [behaviour] legacy_aliases on, each alias costs its AID and 4 bytes per FID it maps
    # (old FID ‖ new FID).
    alias_fid_pair_bytes: int = Field(default=4, ge=0)

    def key_bytes(self, algorithm: str) -> int:
        """What one private key of ``algorithm`` (a ``KeySpec.algorithm``) takes."""
        sizes = {"rsa-2048": self.rsa_2048_key_bytes, "ec-p384": self.ec_p384_key_bytes}
        if algorithm not in sizes:
            raise ValueError(f"no capacity cost for key algorithm {algorithm!r}")
        return sizes[algorithm]


class ProfileInfo(_Model):
    name: str
    description: str
    variant_of: str | None = Field(
        default=None, description="a resolved variant's family: the profile at the root of its ``extends``"
    )

    @property
    def family(self) -> str:
        """The profile this one is, or derives from (``legacy-2016`` for every variant of today's card)."""
        return self.variant_of or self.name


class PaceProtocolSpec(_Model):
    """One PACEInfo of EF.CardAccess: a protocol by its ICAO name and standardized domain parameters."""

    protocol: str = Field(description="e.g. id-PACE-ECDH-GM-AES-CBC-CMAC-256")
    parameter_id: int = Field(ge=0, le=31, description="standardized domain parameters, e.g. 15 = P-384")

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        protocol_by_name(value)
        return value

    def info(self) -> PaceInfo:
        return PaceInfo(protocol_by_name(self.protocol), self.parameter_id)


class PaceSpec(_Model):
    """PACE v2 (ICAO Doc 9303-11 §4.4): the protocols the card offers in EF.CardAccess (``01 1C`` under
    the MF, added to the default applet, free to read). Which credential a password reference names is
    the credential's ``pace_reference``."""

    protocols: list[PaceProtocolSpec] = Field(min_length=1)

    def infos(self) -> list[PaceInfo]:
        return [p.info() for p in self.protocols]


class ResidenceSpec(_Model):
    """The residence card (在留カード, residence-card.md §5): card-number authentication and its
    encryption-only secure messaging. Values the spec leaves open are fields, marked ASSUMED in the
    profiles; the defaults are the shipped profiles' choices."""

    generation: Literal["gen1", "gen2"] = Field(
        description="gen1: 3DES + retail MAC, card types '1'/'2'; gen2: AES-128 + AES-CMAC, '05'/'06'"
    )
    access: Literal["mutual_authentication", "session_key_delivery"] = Field(
        default="mutual_authentication",
        description="GET CHALLENGE + MUTUAL AUTHENTICATE (standalone) or SET SESSION KEY (特定在留カード)",
    )
    applets: list[str] = Field(
        default=[], description="the applets that answer the residence commands; empty: the whole card"
    )
    credential: str = Field(description="the card number's credential, 'applet/credential' (VERIFY)")
    key_file: Fid | None = Field(
        default=None, description="mutual_authentication: the MF's internal EF keeping Kenc = Kmac"
    )
    delivery_key: str | None = Field(
        default=None, description="session_key_delivery: the TEST RSA delivery key's file in profiles/keys"
    )
    delivery_oaep_hash: Literal["sha1", "sha256"] = Field(
        default="sha256", description="the hash of RSA-OAEP (and of its MGF1) that wraps the session key"
    )
    session_key_sw: StatusWord = Field(
        default=0x6A80, description="SET SESSION KEY that does not unwrap to one AES-128 key"
    )
    verify_p2: Byte = Field(default=0x86, description="P2 of the card number's VERIFY (08 20 00 86)")
    no_challenge_sw: StatusWord = Field(
        default=0x6985, description="MUTUAL AUTHENTICATE without a GET CHALLENGE just before it"
    )
    plain_verify_sw: StatusWord = Field(default=0x6982, description="VERIFY of the card number in plain")
    plain_read_sw: StatusWord = Field(
        default=0x6982, description="a plain READ BINARY of an EF that is read under SM only (DF1)"
    )
    challenge_ends_session: bool = Field(
        default=True, description="GET CHALLENGE ends a running session and its card-number verification"
    )
    failed_authentication_ends_session: bool = Field(
        default=True, description="a failed MUTUAL AUTHENTICATE or VERIFY ends the session"
    )
    select_mf_ends_session: bool = Field(
        default=False, description="SELECT of the MF (3F 00) ends the session and the verification"
    )
    text_encoding: Literal["utf-8", "cp932"] = Field(
        default="utf-8", description="gen1 text (address, permissions): the spec's encoding is unconfirmed"
    )
    other_length_form: Literal["short", "two_bytes"] = Field(
        default="two_bytes", description="gen2 DF2/EF03 DE: '82 00 C8' gives the stated 207 bytes"
    )


class SecurityDomainSpec(_Model):
    """A GlobalPlatform security domain (セキュリティドメイン): the issuer's (ISD, no ``parent``) or a
    supplementary one (SSD) under it, and the applets it holds (GP Card Specification 2.3 §7)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    applet: str | None = Field(
        default=None,
        description="the applet that answers for it (the ISD: the card manager); None: a new one",
    )
    aid: HexBytes | None = Field(default=None, description="an SSD's AID (an ISD has its applet's)")
    parent: str | None = Field(default=None, description="the domain above; None: the ISD")
    holds: list[str] = Field(default=[], description="the applets the domain holds (GET STATUS tag CC)")
    privileges: HexBytes = Field(default=b"\x80\x00\x00", description="GET STATUS tag C5")
    lifecycle: Byte = Field(default=0x0F, description="GET STATUS tag 9F 70: 0F PERSONALIZED / SECURED")


class GlobalPlatformSpec(_Model):
    """The card-manager layer as a reader sees it: SELECT of each domain and GET STATUS (``80 F2``) in the
    ISD. Keys and the secure channel are not modelled: ``get_status = "secure_channel"`` answers ``69 82``,
    as a card does to a reader without the issuer's keys; ``open`` lists the registry."""

    domains: list[SecurityDomainSpec] = Field(min_length=1)
    get_status: Literal["secure_channel", "open"] = "secure_channel"
    application_lifecycle: Byte = Field(default=0x07, description="9F 70 of an application: 07 SELECTABLE")
    application_privileges: HexBytes = Field(default=b"\x00\x00\x00", description="C5 of an application")


class Profile(_Model):
    profile: ProfileInfo
    atr: AtrSpec
    behaviour: BehaviourSpec = BehaviourSpec()
    personalisation: PersonalisationSpec = PersonalisationSpec()
    capacity: CapacitySpec = CapacitySpec()
    timing: TimingSpec = TimingSpec()
    pace: PaceSpec | None = None
    residence: ResidenceSpec | None = None
    global_platform: GlobalPlatformSpec | None = None
    applets: list[AppletSpec]
    data_objects: list[DataObjectSpec] = []
    status_commands: list[StatusCommandSpec] = []

    @model_validator(mode="after")
    def _pace(self) -> Self:
        references = [c.pace_reference for a in self.applets for c in a.credentials if c.pace_reference]
        if len(set(references)) != len(references):
            raise ValueError("a PACE password reference names two credentials")
        if unknown := sorted(f"{r:02X}" for r in set(references) - set(PasswordReference)):
            raise ValueError(f"unknown PACE password reference(s) {unknown}")
        if references and self.pace is None:
            raise ValueError("credentials name PACE references but the profile has no [pace]")
        if self.pace is not None:
            default = next((a for a in self.applets if a.default), None)
            if default is None:
                raise ValueError("[pace] needs a default applet (the MF level) to hold EF.CardAccess")
            if all(f.fid != FID_EF_CARD_ACCESS for f in default.files):
                content = ContentSpec(hex=encode_card_access(self.pace.infos()))
                default.files.append(FileSpec(fid=FID_EF_CARD_ACCESS, label="EF.CardAccess", content=content))
        return self

    @model_validator(mode="after")
    def _residence(self) -> Self:
        """The residence table names applets that exist and the key its access needs."""
        spec = self.residence
        if spec is None:
            return self
        if unknown := sorted(set(spec.applets) - {a.id for a in self.applets}):
            raise ValueError(f"residence.applets: unknown applet(s) {unknown}")
        if spec.access == "mutual_authentication" and spec.key_file is None:
            raise ValueError("residence.key_file: mutual_authentication needs the card-number key file")
        if spec.access == "session_key_delivery" and (spec.delivery_key is None or spec.generation != "gen2"):
            raise ValueError("residence: session_key_delivery needs delivery_key and generation = gen2")
        return self

    @model_validator(mode="after")
    def _security_domains(self) -> Self:
        """One ISD on an existing applet; SSDs under a known domain, each becoming an applet of its AID (a
        domain is selectable); every held applet exists and is held once."""
        gp = self.global_platform
        if gp is None:
            return self
        ids = {d.id for d in gp.domains}
        roots = [d for d in gp.domains if d.parent is None]
        if len(roots) != 1 or roots[0].applet is None:
            raise ValueError("global_platform: exactly one ISD (no parent), answered by an applet")
        for domain in gp.domains:
            if domain.parent is not None and domain.parent not in ids:
                raise ValueError(f"global_platform: domain {domain.id} has unknown parent {domain.parent!r}")
            if domain.applet is None:
                if domain.aid is None:
                    raise ValueError(f"global_platform: domain {domain.id} needs an aid or an applet")
                if all(a.id != domain.id for a in self.applets):
                    free = any(a.free_area for a in self.applets if a.id in domain.holds)
                    spec = AppletSpec(id=domain.id, label=domain.label, aid=domain.aid, free_area=free)
                    self.applets.append(spec)
        applets = {a.id for a in self.applets}
        held = [a for d in gp.domains for a in d.holds]
        if unknown := sorted(set(held) - applets):
            raise ValueError(f"global_platform: unknown applet(s) held {unknown}")
        if twice := sorted({a for a in held if held.count(a) > 1}):
            raise ValueError(f"global_platform: applet(s) held by two domains {twice}")
        return self

    @model_validator(mode="after")
    def _cross_applet_rules(self) -> Self:
        """Every ``applet/credential`` a rule (or ``[residence] credential``) names exists."""
        known = {f"{a.id}/{c.id}" for a in self.applets for c in a.credentials}
        named = {
            (f"applet {a.id} {what}", c)
            for a in self.applets
            for what, r in a._rules()
            for c in rule_credentials(r)
            if "/" in c
        }
        if self.residence is not None:
            named.add(("residence.credential", self.residence.credential))
        for what, credential in sorted(named):
            if credential not in known:
                raise ValueError(f"{what} names unknown credential {credential!r}")
        return self

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = {a.id for a in self.applets}
        for command in self.status_commands:
            if missing := set(command.applets) - ids:
                raise ValueError(
                    f"status command {command.label!r} names unknown applet(s) {sorted(missing)}"
                )
        for what, values in (
            ("applet id", [a.id for a in self.applets]),
            ("AID", [a.aid for a in self.applets] + [x.aid for a in self.applets for x in a.aliases]),
        ):
            if len(set(values)) != len(values):
                raise ValueError(f"{what} used twice")
        if sum(a.default for a in self.applets) > 1:
            raise ValueError("more than one default applet")
        return self

    @property
    def name(self) -> str:
        return self.profile.name


def resolve_sfi(sfi: SfiSpec, fid: int) -> int | None:
    """``auto``: the FID's low byte when the FID is 0001–001E (as on today's card), else none."""
    if sfi == "none":
        return None
    if sfi == "auto":
        return fid if 0x0001 <= fid <= 0x001E else None
    if not 1 <= sfi <= 30:
        raise ValueError(f"an SFI is 1..30, got {sfi}")
    return sfi


def parse_profile(text: str, source: str, *, sources: Collection[str] | None = None) -> Profile:
    """Validate a profile's TOML ``text``; ``source`` names it in errors.

    ``sources``: the content sources that exist (the issuance layer's builders); None skips that check,
    as when a personalised card is reopened from its own copy of the profile.
    """
    data = _toml(text, source)
    if isinstance(data.get("profile"), dict) and "extends" in data["profile"]:
        raise ProfileError(f"{source}: profile.extends: a variant is loaded by name or path, not as text")
    context = {"sources": frozenset(sources)} if sources is not None else None
    try:
        return Profile.model_validate(data, context=context)
    except ValidationError as exc:
        raise ProfileError(describe_validation_error(source, "profile", exc)) from None


def list_profiles() -> list[str]:
    """Names of the profiles shipped in ``profiles/``."""
    root = resources.files("mynacard.profiles")
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


def profile_text(name_or_path: str | Path) -> tuple[str, str]:
    """The TOML text of a shipped profile by name (``legacy-2016``) or of a file by path, and its name
    for error messages. A variant (``[profile] extends``) comes resolved: one self-contained profile."""
    text, where = _read_profile(name_or_path)
    data = _toml(text, where)
    info = data.get("profile")
    if not isinstance(info, dict) or "extends" not in info:
        return text, where
    base_dir = Path(where).parent if Path(where).is_file() else None
    resolved = resolve(data, where, lambda name: _load_base(name, base_dir))
    header = f"# {where}, resolved: a variant of {resolved['profile']['variant_of']} (written by mynacard)\n"
    return header + tomli_w.dumps(resolved), where


def _load_base(name: str, base_dir: Path | None) -> tuple[dict[str, Any], str]:
    """A base named by ``extends``: a shipped profile, or a path relative to the variant's folder."""
    candidate = base_dir / name if base_dir is not None and name.endswith(".toml") else name
    text, where = _read_profile(candidate)
    return _toml(text, where), where


def _toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{where}: not valid TOML: {exc}") from None


def _read_profile(name_or_path: str | Path) -> tuple[str, str]:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ProfileError(f"{path}: no such profile file")
        return path.read_text(encoding="utf-8"), str(path)
    resource = resources.files("mynacard.profiles").joinpath(f"{name_or_path}.toml")
    if not resource.is_file():
        known = ", ".join(list_profiles()) or "none"
        raise ProfileError(f"unknown profile {str(name_or_path)!r} (shipped: {known})")
    return resource.read_text(encoding="utf-8"), f"profiles/{name_or_path}.toml"
