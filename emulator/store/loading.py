"""Opening a personalised card: its state directory becomes a ``Card`` (カードの読み込み).

The stored profile says what the card is; ``contents.json`` holds the EF contents, ``keys/`` the private
keys and ``security.json`` the credentials' counters and digests.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mynacard.apdu.sm import PasswordReference
from mynacard.emulator.card import Card
from mynacard.emulator.commands.fixed import StatusCommand
from mynacard.emulator.commands.security_domains import RegistryEntry, get_status_handler
from mynacard.emulator.commands.table import Handler, InsKey, build_ins_table
from mynacard.emulator.credentials import (
    Credential,
    CredentialFormat,
    CredentialKind,
    CredentialState,
    ReferenceDataPolicy,
)
from mynacard.emulator.filesystem import (
    Applet,
    AppletAlias,
    DataObject,
    FileSystem,
    InternalEF,
    Key,
    RecordEF,
    TerminalKey,
    TransparentEF,
)
from mynacard.emulator.security import CredentialRef
from mynacard.emulator.store.counters import SecurityFile
from mynacard.emulator.store.documents import CardDocument, ContentsDocument
from mynacard.emulator.store.rules import compile_rule
from mynacard.emulator.store.state import StateError, StateStore
from mynacard.profiles.schema import (
    AppletSpec,
    CredentialSpec,
    KeySpec,
    Profile,
    TerminalKeySpec,
    parse_profile,
    resolve_sfi,
)


def load_card(store: StateStore) -> Card:
    """Rebuild the card from its state directory; a damaged state file is refused, naming file and field."""
    card_doc = store.read_document(StateStore.CARD, CardDocument)
    profile = _stored_profile(store, card_doc)
    contents = store.read_document(StateStore.CONTENTS, ContentsDocument)
    security = SecurityFile(store)
    security.remove_leftovers()
    states = security.states()
    _check_states(store, profile, states)
    applets = [_load_applet(a, store, contents, states, security) for a in profile.applets]
    data_objects = [
        DataObject(
            int.from_bytes(d.tag, "big"),
            d.label,
            bytes.fromhex(_content(store, contents.data_objects, "data_objects", d.tag.hex().upper())),
            d.scope == "mf",
        )
        for d in profile.data_objects
    ]
    status_commands = [
        StatusCommand(bool(c.cla & 0x80), c.ins, int.from_bytes(c.sw, "big"), frozenset(c.applets))
        for c in profile.status_commands
    ]
    filesystem = FileSystem(applets, aliases=profile.behaviour.legacy_aliases)
    optional = {a.id: _optional_commands(a) for a in profile.applets}
    pace = profile.pace.infos() if profile.pace is not None else []
    residence = profile.residence
    specified = residence is not None and residence.access == "session_key_delivery"
    table = build_ins_table(
        profile.behaviour,
        status_commands,
        optional,
        pace_commands=bool(pace),
        residence_commands=residence is not None and not specified,
        residence_applets=residence.applets if residence is not None and specified else (),
        applet_commands=_security_domain_commands(profile),
    )
    card = Card(profile.name, profile.atr.build(), filesystem, profile.behaviour, table, data_objects)
    card.pace_infos = tuple(pace)
    card.residence = residence
    if residence is not None and residence.delivery_key is not None:
        card.residence_delivery_key = _delivery_key(residence.delivery_key)
    return card


def _security_domain_commands(profile: Profile) -> dict[str, dict[InsKey, Handler]]:
    """GET STATUS in the ISD's applet, over the registry ``[global_platform]`` describes."""
    gp = profile.global_platform
    if gp is None:
        return {}
    aids = {a.id: a.aid for a in profile.applets}
    domain_aid = {d.id: aids[d.applet or d.id] for d in gp.domains}
    isd = next(d for d in gp.domains if d.parent is None)
    holder = {applet: d.id for d in gp.domains for applet in d.holds}
    entries = [
        RegistryEntry(domain_aid[isd.id], isd.lifecycle, isd.privileges, domain_aid[isd.id], is_isd=True)
    ]
    for d in gp.domains:
        if d.parent is not None:
            entries.append(RegistryEntry(domain_aid[d.id], d.lifecycle, d.privileges, domain_aid[d.parent]))
    for a in profile.applets:
        if a.id in holder:
            domain = domain_aid[holder[a.id]]
            entries.append(RegistryEntry(a.aid, gp.application_lifecycle, gp.application_privileges, domain))
    handler = get_status_handler(entries, open_registry=gp.get_status == "open")
    assert isd.applet is not None  # checked by the schema
    return {isd.applet: {(True, 0xF2): handler}}


def _delivery_key(name: str) -> rsa.RSAPrivateKey:
    """The specified residence card's TEST delivery key, shipped in ``profiles/keys``."""
    resource = resources.files("mynacard.profiles").joinpath("keys", name)
    if not resource.is_file():
        raise StateError(f"profiles/keys/{name}: no such delivery key")
    key = serialization.load_pem_private_key(resource.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise StateError(f"profiles/keys/{name}: not an RSA private key")
    return key


def _stored_profile(store: StateStore, card_doc: CardDocument) -> Profile:
    """The card's own copy of its profile, which must be the one ``card.json`` names."""
    where = store.where(StateStore.PROFILE)
    try:
        text = store.read(StateStore.PROFILE).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    profile = parse_profile(text, where)
    if profile.name != card_doc.profile:
        raise StateError(f"{where}: profile {profile.name!r} does not match card.json {card_doc.profile!r}")
    return profile


def _check_states(store: StateStore, profile: Profile, states: Mapping[str, CredentialState]) -> None:
    """Every credential of the profile has a state, within its retry limit, and nothing else has one."""
    where = store.where(StateStore.SECURITY)
    expected = {str(CredentialRef(a.id, c.id)): c for a in profile.applets for c in a.credentials}
    if missing := sorted(set(expected) - set(states)):
        raise StateError(f"{where}: credentials: no state for {', '.join(missing)}")
    if unknown := sorted(set(states) - set(expected)):
        raise StateError(f"{where}: credentials: {', '.join(unknown)} is not a credential of the profile")
    for key, spec in expected.items():
        limit = spec.max_tries or 0
        if states[key].tries_left > limit:
            tries = states[key].tries_left
            raise StateError(f"{where}: credentials.{key}.tries_left: {tries} is more than the limit {limit}")


def _content(store: StateStore, table: Mapping[str, T], kind: str, key: str) -> T:
    """One entry of ``contents.json``; a missing one is named, not a ``KeyError``."""
    if key not in table:
        raise StateError(f"{store.where(StateStore.CONTENTS)}: {kind}: no entry {key!r}")
    return table[key]


T = TypeVar("T")


def _optional_commands(spec: AppletSpec) -> list[str]:
    """The commands this applet's data needs beyond the ISO base table."""
    needed = []
    if any(c.reset_by for c in spec.credentials):
        needed.append("reset_retry_counter")
    if spec.terminal_keys:
        needed.append("external_authenticate")
    return needed


def _load_applet(
    spec: AppletSpec,
    store: StateStore,
    contents: ContentsDocument,
    states: Mapping[str, CredentialState],
    security: SecurityFile,
) -> Applet:
    applet = Applet(spec.id, spec.label, spec.aid, spec.select_clears_security, spec.default, spec.fci)
    applet.requires_secure_messaging = spec.requires_secure_messaging
    applet.aliases = [AppletAlias(a.aid, a.label, a.fid_map()) for a in spec.aliases]
    for t in spec.terminal_keys:
        applet.terminal_keys[t.reference] = _load_terminal_key(spec, t)
    for f in spec.files:
        key, sfi = StateStore.content_key(spec.id, f.fid), resolve_sfi(f.sfi, f.fid)
        if f.kind == "transparent":
            content = bytes.fromhex(contents.files.get(key, ""))
            applet.add(TransparentEF(f.fid, sfi, f.label, content, compile_rule(spec, f.read)))
        elif f.kind == "record":
            records = [bytes.fromhex(r) for r in _content(store, contents.records, "records", key)]
            applet.add(RecordEF(f.fid, sfi, f.label, records, compile_rule(spec, f.read)))
        else:
            applet.add(InternalEF(f.fid, sfi, f.label))
    for c in spec.credentials:
        credential = _load_credential(spec, c, states, security)
        security.attach(credential)
        applet.add(credential)
    for k in spec.keys:
        key_obj = _load_key(spec, k, store)
        applet.add(key_obj)
        if k.default:
            applet.default_key = key_obj
    return applet


def _load_credential(
    spec: AppletSpec, c: CredentialSpec, states: Mapping[str, CredentialState], security: SecurityFile
) -> Credential:
    key = str(CredentialRef(spec.id, c.id))
    if key not in states:
        raise StateError(f"security.json has no state for credential {key}")
    fmt = CredentialFormat(
        c.format.charset, c.format.min, c.format.max, c.format.require_letter, c.format.require_digit
    )
    return Credential(
        applet=spec.id,
        id=c.id,
        fid=c.fid,
        sfi=resolve_sfi(c.sfi, c.fid),
        label=c.label,
        kind=CredentialKind(c.kind),
        format=fmt,
        max_tries=c.max_tries,
        state=states[key],
        sync=security,
        change=compile_rule(spec, c.change if c.change is not None else c.id),
        policy=ReferenceDataPolicy(
            set_without_old=c.set_without_old,
            old_new_split=c.old_new_split,
            reset_by=None if c.reset_by is None else CredentialRef(spec.id, c.reset_by),
            reset_requires_blocked=c.reset_requires_blocked,
        ),
        pace_reference=None if c.pace_reference is None else PasswordReference(c.pace_reference),
    )


def _load_key(spec: AppletSpec, k: KeySpec, store: StateStore) -> Key:
    name = StateStore.key_file(spec.id, k.fid)
    try:
        # The card wrote this key itself at personalisation: re-validating RSA keys costs ~30 ms each.
        private = serialization.load_pem_private_key(
            store.read(name), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError) as exc:
        raise StateError(f"{store.where(name)}: not a PEM private key ({exc})") from None
    if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise StateError(f"{store.where(name)}: unsupported key type")
    return Key(
        k.id,
        k.fid,
        resolve_sfi(k.sfi, k.fid),
        k.label,
        private,
        sign=None if k.sign is None else compile_rule(spec, k.sign),
        sign_schemes=frozenset(k.sign_schemes),
        internal_authenticate=None
        if k.internal_authenticate is None
        else compile_rule(spec, k.internal_authenticate),
        prehashed_lengths=frozenset(k.prehashed_lengths),
        card_hash=k.card_hash,
        challenge_lengths=range(k.challenge_length.min, k.challenge_length.max + 1),
    )


def _load_terminal_key(spec: AppletSpec, t: TerminalKeySpec) -> TerminalKey:
    """A terminal's public key from the profile (an uncompressed P-384 point)."""
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), t.public_key)
    except ValueError as exc:
        raise StateError(f"terminal key {spec.id}/{t.id}: not a P-384 point ({exc})") from None
    return TerminalKey(CredentialRef(spec.id, t.id), t.reference, t.label, public, t.hash)
