"""The chip's capacity budget (容量): what every applet of a personalised card takes, and the refusal.

Pure functions of a profile and the card's personalised contents (``contents.json``: what personalisation
builds before it writes anything, or what a state directory holds). Every per-item cost is a field of the
profile's ``[capacity]`` table (``CapacitySpec``, all ASSUMED); how they add up is in ``profiles/README.md``
("Capacity"). Applets install in profile order, the free-area applets (空き領域) after all the others, so a
card that does not fit names the first free-area applet that does not and the bytes it is short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mynacard.emulator.card import Card
from mynacard.emulator.filesystem import RecordEF, TransparentEF
from mynacard.emulator.store.documents import FORMAT, VERSION, ContentsDocument
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import (
    AppletSpec,
    CapacitySpec,
    CredentialSpec,
    FileSpec,
    Profile,
    RuleSpec,
)

__all__ = [
    "KINDS",
    "MF_ID",
    "AppletUsage",
    "CapacityError",
    "CapacityReport",
    "CardContents",
    "check_capacity",
    "measure",
]

KINDS = ("files", "keys", "credentials", "rules", "overhead")
"""What the bytes of an applet are spent on, in the order reports show them."""

MF_ID = "mf"
"""The report's row for the master file: its DF header and the GET DATA objects, which no applet holds."""


class CapacityError(ValueError):
    """A card whose applets do not fit the chip's ``eeprom_bytes`` (容量不足)."""

    def __init__(self, message: str, applet: str | None, shortfall: int) -> None:
        super().__init__(message)
        self.applet = applet
        """The free-area applet that does not fit; None when the card's own applets already do not."""
        self.shortfall = shortfall
        """The bytes missing for it to fit."""


@dataclass(frozen=True, slots=True)
class CardContents:
    """A card's personalised bytes, keyed as in ``contents.json``: ``<applet>/<FID>`` and GET DATA tags."""

    files: Mapping[str, bytes]
    records: Mapping[str, Sequence[bytes]]
    data_objects: Mapping[str, bytes]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CardContents:
        """From the ``contents.json`` document (hex strings), validated as the card loader validates it."""
        checked = ContentsDocument.model_validate({"format": FORMAT, "version": VERSION, **document})
        return cls(
            files={k: bytes.fromhex(v) for k, v in checked.files.items()},
            records={k: [bytes.fromhex(r) for r in v] for k, v in checked.records.items()},
            data_objects={k: bytes.fromhex(v) for k, v in checked.data_objects.items()},
        )

    @classmethod
    def from_card(cls, card: Card) -> CardContents:
        """From a loaded card (one that lives only in memory, say): its EFs' bytes as the card serves them."""
        files: dict[str, bytes] = {}
        records: dict[str, list[bytes]] = {}
        for applet in card.filesystem.applets:
            for fid, node in applet.nodes.items():
                key = StateStore.content_key(applet.id, fid)
                if isinstance(node, TransparentEF):
                    files[key] = node.content
                elif isinstance(node, RecordEF):
                    records[key] = list(node.records)
        tags = {f"{tag:04X}": d.value for tag, d in card.data_objects.items()}  # 2-byte tags, as shipped
        return cls(files=files, records=records, data_objects=tags)


@dataclass(frozen=True, slots=True)
class AppletUsage:
    """The bytes one applet takes (アプリの使用容量), by kind."""

    id: str
    label: str
    free_area: bool
    files: int
    keys: int
    credentials: int
    rules: int
    overhead: int

    @property
    def total(self) -> int:
        return self.files + self.keys + self.credentials + self.rules + self.overhead

    def by_kind(self) -> dict[str, int]:
        return {kind: int(getattr(self, kind)) for kind in KINDS}


@dataclass(frozen=True, slots=True)
class CapacityReport:
    """A card's capacity (容量): every applet in install order, against the profile's budget."""

    profile: str
    budget: int | None
    applets: tuple[AppletUsage, ...]

    @property
    def total(self) -> int:
        return sum(a.total for a in self.applets)

    @property
    def left(self) -> int | None:
        """Bytes left after every applet; negative when the card does not fit; None without a budget."""
        return None if self.budget is None else self.budget - self.total

    @property
    def base(self) -> int:
        """What the card's own applets (and the MF) take before any free-area applet."""
        return sum(a.total for a in self.applets if not a.free_area)

    @property
    def free_area(self) -> int | None:
        """The free area (空き領域): the budget less the card's own applets."""
        return None if self.budget is None else self.budget - self.base

    def kind_totals(self) -> dict[str, int]:
        return {kind: sum(a.by_kind()[kind] for a in self.applets) for kind in KINDS}

    def left_after(self) -> list[int | None]:
        """What is left after installing each applet in turn (None without a budget)."""
        if self.budget is None:
            return [None] * len(self.applets)
        left, out = self.budget, list[int | None]()
        for applet in self.applets:
            left -= applet.total
            out.append(left)
        return out


def measure(profile: Profile, contents: CardContents | Mapping[str, Any]) -> CapacityReport:
    """Count every applet of ``profile`` personalised with ``contents``; never raises for the budget."""
    given = contents if isinstance(contents, CardContents) else CardContents.from_document(contents)
    cost = profile.capacity
    aliases = profile.behaviour.legacy_aliases
    own = [applet_usage(a, given, cost, aliases=aliases) for a in profile.applets if not a.free_area]
    free = [applet_usage(a, given, cost, aliases=aliases) for a in profile.applets if a.free_area]
    return CapacityReport(profile.name, cost.eeprom_bytes, (mf_usage(given, cost), *own, *free))


def check_capacity(profile: Profile, contents: CardContents | Mapping[str, Any]) -> CapacityReport:
    """The report; or ``CapacityError`` naming the first free-area applet that does not fit and its shortfall
    (a ``ValueError``: personalisation refuses the card before it writes anything)."""
    report = measure(profile, contents)
    if report.budget is None:
        return report
    if report.base > report.budget:
        raise CapacityError(_base_message(report), None, report.base - report.budget)
    for applet, left in zip(report.applets, report.left_after(), strict=True):
        if applet.free_area and left is not None and left < 0:
            raise CapacityError(_free_area_message(report, applet, -left), applet.id, -left)
    return report


def _base_message(report: CapacityReport) -> str:
    assert report.budget is not None
    return (
        f"{report.profile}: the card's own applets need {report.base:,} bytes, "
        f"{report.base - report.budget:,} more than eeprom_bytes = {report.budget:,}"
    )


def _free_area_message(report: CapacityReport, applet: AppletUsage, shortfall: int) -> str:
    assert report.budget is not None
    room = applet.total - shortfall
    return (
        f"{report.profile}: free-area applet {applet.id!r} ({applet.label}) needs {applet.total:,} bytes "
        f"but only {room:,} are left of eeprom_bytes = {report.budget:,}: {shortfall:,} bytes short"
    )


def mf_usage(contents: CardContents, cost: CapacitySpec) -> AppletUsage:
    """The MF: its DF header, and each GET DATA object (its value and one object header)."""
    values = list(contents.data_objects.values())
    overhead = cost.df_header_bytes + cost.ef_header_bytes * len(values)
    return AppletUsage(MF_ID, "MF (GET DATA objects)", False, sum(map(len, values)), 0, 0, 0, overhead)


def applet_usage(
    applet: AppletSpec, contents: CardContents, cost: CapacitySpec, *, aliases: bool = False
) -> AppletUsage:
    """One applet's bytes: files, keys, credentials, access rules and its own overhead."""
    return AppletUsage(
        applet.id,
        applet.label,
        applet.free_area,
        files=sum(file_bytes(applet.id, f, contents, cost) for f in applet.files),
        keys=key_bytes(applet, cost),
        credentials=sum(credential_bytes(c, cost) for c in applet.credentials),
        rules=cost.rule_condition_bytes * sum(conditions(r) for r in applet_rules(applet)),
        overhead=overhead_bytes(applet, contents, cost, aliases=aliases),
    )


def file_bytes(applet_id: str, spec: FileSpec, contents: CardContents, cost: CapacitySpec) -> int:
    """An EF's content: a transparent EF's bytes, a record EF's records, an internal EF's assumed size."""
    key = StateStore.content_key(applet_id, spec.fid)
    if spec.kind == "transparent":
        return len(contents.files.get(key, b""))
    if spec.kind == "record":
        return sum(map(len, contents.records.get(key, [])))
    return cost.internal_ef_bytes


def credential_bytes(spec: CredentialSpec, cost: CapacitySpec) -> int:
    """A PIN, password, PUK or 照合番号: reference data at the format's maximum, its counter and format."""
    return spec.format.max + cost.credential_counter_bytes + cost.credential_format_bytes


def key_bytes(applet: AppletSpec, cost: CapacitySpec) -> int:
    """Private keys as the card stores them (by algorithm) and terminal public keys."""
    private = sum(cost.key_bytes(k.algorithm) for k in applet.keys)
    return private + cost.ec_p384_public_key_bytes * len(applet.terminal_keys)


def applet_rules(applet: AppletSpec) -> list[RuleSpec]:
    """Every access rule the applet stores: each EF's read rule, each key operation's, each change rule."""
    rules: list[RuleSpec] = [f.read for f in applet.files]
    for k in applet.keys:
        rules += [r for r in (k.sign, k.internal_authenticate) if r is not None]
    return rules + [c.change for c in applet.credentials if c.change is not None]


def conditions(rule: RuleSpec) -> int:
    """A rule's conditions: each word or credential is one, each AND/OR node one more, SM one more."""
    if isinstance(rule, str):
        return 1
    parts = rule.any if rule.any is not None else rule.all
    count = 1 if parts is None else 1 + sum(conditions(p) for p in parts)
    return count + (1 if rule.secure_messaging else 0)


def overhead_bytes(
    applet: AppletSpec, contents: CardContents, cost: CapacitySpec, *, aliases: bool = False
) -> int:
    """The applet's DF header, AID and stored FCI, one EF header per object, record headers, aliases."""
    objects = len(applet.files) + len(applet.keys) + len(applet.credentials) + len(applet.terminal_keys)
    records = sum(
        len(contents.records.get(StateStore.content_key(applet.id, f.fid), []))
        for f in applet.files
        if f.kind == "record"
    )
    alias_bytes = sum(len(a.aid) + cost.alias_fid_pair_bytes * len(a.fids) for a in applet.aliases)
    return (
        cost.df_header_bytes
        + len(applet.aid)
        + len(applet.fci or b"")
        + cost.ef_header_bytes * objects
        + cost.record_bytes * records
        + (alias_bytes if aliases else 0)
    )
