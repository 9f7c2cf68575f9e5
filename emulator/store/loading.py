"""Opening a personalised card: its state directory becomes a ``Card`` (カードの読み込み).

The stored profile says what the card is; ``contents.json`` holds the EF contents, ``keys/`` the private
keys and ``security.json`` the credentials' counters and digests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mynacard.emulator.card import Card
from mynacard.emulator.commands.fixed import StatusCommand
from mynacard.emulator.commands.table import build_ins_table
from mynacard.emulator.credentials import Credential, CredentialFormat, CredentialKind, CredentialState
from mynacard.emulator.filesystem import (
    Applet,
    DataObject,
    FileSystem,
    InternalEF,
    Key,
    RecordEF,
    TransparentEF,
)
from mynacard.emulator.security import (
    ALWAYS,
    NEVER,
    AccessRule,
    AllOf,
    AnyOf,
    CredentialRef,
    CredentialVerified,
    Rule,
)
from mynacard.emulator.store.counters import SecurityFile
from mynacard.emulator.store.state import StateError, StateStore
from mynacard.profiles.schema import AppletSpec, CredentialSpec, KeySpec, RuleSpec, parse_profile, resolve_sfi


def load_card(store: StateStore) -> Card:
    """Rebuild the card from its state directory."""
    card_doc = store.read_json(StateStore.CARD)
    where = f"{store.directory}/{StateStore.PROFILE}" if store.directory else StateStore.PROFILE
    profile = parse_profile(store.read(StateStore.PROFILE).decode("utf-8"), where)
    if profile.name != card_doc.get("profile"):
        raise StateError(
            f"{where}: profile {profile.name!r} does not match card.json {card_doc.get('profile')!r}"
        )
    contents = store.read_json(StateStore.CONTENTS)
    security = SecurityFile(store)
    states = security.states()
    applets = [_load_applet(a, store, contents, states, security) for a in profile.applets]
    data_objects = [
        DataObject(
            int.from_bytes(d.tag, "big"),
            d.label,
            bytes.fromhex(contents["data_objects"][d.tag.hex().upper()]),
            d.scope == "mf",
        )
        for d in profile.data_objects
    ]
    status_commands = [
        StatusCommand(bool(c.cla & 0x80), c.ins, int.from_bytes(c.sw, "big"), frozenset(c.applets))
        for c in profile.status_commands
    ]
    filesystem = FileSystem(applets)
    table = build_ins_table(profile.behaviour, status_commands)
    return Card(profile.name, profile.atr.build(), filesystem, profile.behaviour, table, data_objects)


def _load_applet(
    spec: AppletSpec,
    store: StateStore,
    contents: Mapping[str, Any],
    states: Mapping[str, CredentialState],
    security: SecurityFile,
) -> Applet:
    applet = Applet(spec.id, spec.label, spec.aid, spec.select_clears_security, spec.default, spec.fci)
    for f in spec.files:
        key, sfi = StateStore.content_key(spec.id, f.fid), resolve_sfi(f.sfi, f.fid)
        if f.kind == "transparent":
            content = bytes.fromhex(contents["files"].get(key, ""))
            applet.add(TransparentEF(f.fid, sfi, f.label, content, compile_rule(spec.id, f.read)))
        elif f.kind == "record":
            records = [bytes.fromhex(r) for r in contents["records"][key]]
            applet.add(RecordEF(f.fid, sfi, f.label, records, compile_rule(spec.id, f.read)))
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
        change=None if c.change is None else compile_rule(spec.id, c.change),
    )


def _load_key(spec: AppletSpec, k: KeySpec, store: StateStore) -> Key:
    private = serialization.load_pem_private_key(
        store.read(StateStore.key_file(spec.id, k.fid)), password=None
    )
    if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise StateError(f"{StateStore.key_file(spec.id, k.fid)}: unsupported key type")
    return Key(
        k.id,
        k.fid,
        resolve_sfi(k.sfi, k.fid),
        k.label,
        private,
        sign=None if k.sign is None else compile_rule(spec.id, k.sign),
        sign_schemes=frozenset(k.sign_schemes),
        internal_authenticate=None
        if k.internal_authenticate is None
        else compile_rule(spec.id, k.internal_authenticate),
    )


def compile_rule(applet_id: str, spec: RuleSpec) -> AccessRule:
    """A profile's rule spec as an access rule; credential ids name credentials of ``applet_id``."""
    if isinstance(spec, str):
        return AccessRule(_compile(applet_id, spec))
    return AccessRule(_compile(applet_id, spec), spec.secure_messaging)


def _compile(applet_id: str, spec: RuleSpec) -> Rule:
    if isinstance(spec, str):
        if spec == "always":
            return ALWAYS
        if spec == "never":
            return NEVER
        return CredentialVerified(CredentialRef(applet_id, spec))
    if spec.credential is not None:
        return CredentialVerified(CredentialRef(applet_id, spec.credential))
    if spec.any is not None:
        return AnyOf(tuple(_compile(applet_id, s) for s in spec.any))
    assert spec.all is not None
    return AllOf(tuple(_compile(applet_id, s) for s in spec.all))
