"""Personalisation (個人化): a profile and a persona become a card's state directory; and opening it again.

At personalisation the card's keys are generated, certificates issued by the test PKI, every EF's
content built by the content builders the profile uses, and every credential set from the persona.
Afterwards the directory is the card: it holds a copy of the profile it was made from, so a card reopens
the same even when shipped profiles change.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from mynacard.emulator.card import Card
from mynacard.emulator.credentials import CredentialState
from mynacard.emulator.filesystem import PrivateKey
from mynacard.emulator.issuance.builders import BuildError, BuildInput, build_sources, builders_for
from mynacard.emulator.issuance.capacity import check_capacity
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.pki import KeyType, TestPki, generate_key
from mynacard.emulator.issuance.profiles import load_profile, load_profile_with_text
from mynacard.emulator.issuance.records.legacy import RecordOptions
from mynacard.emulator.issuance.records.residence import ResidenceOptions
from mynacard.emulator.security import CredentialRef
from mynacard.emulator.store.documents import CardDocument
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateError, StateStore
from mynacard.profiles.schema import ContentSpec, CredentialSpec, Profile

__all__ = ["PersonalisationError", "load_card", "open_card", "personalise"]


class PersonalisationError(ValueError):
    """The profile asks for something the persona or the content builders cannot give."""


def _needed_sources(profile: Profile) -> set[str]:
    specs: list[ContentSpec] = [d.content for d in profile.data_objects]
    for applet in profile.applets:
        for f in applet.files:
            specs += [f.content] if f.content else []
            specs += f.records or []
    return {s.source for s in specs if s.source is not None}


def _resolve(spec: ContentSpec, sources: Mapping[str, bytes], where: str) -> bytes:
    if spec.hex is not None:
        data = spec.hex
    elif spec.text is not None:
        data = spec.text.encode("ascii")
    else:
        assert spec.source is not None
        if spec.source not in sources:
            raise PersonalisationError(f"{where}: no content for source {spec.source!r}")
        data = sources[spec.source]
    if spec.pad_to is not None:
        if len(data) > spec.pad_to:
            raise PersonalisationError(f"{where}: {len(data)} bytes do not fit pad_to={spec.pad_to}")
        data += bytes((spec.pad_byte,)) * (spec.pad_to - len(data))
    return data


def _credential_value(spec: CredentialSpec, persona: Persona | None, where: str) -> bytes | None:
    if spec.value.unset:
        return None
    if spec.value.text is not None:
        return spec.value.text.encode("ascii")
    field = spec.value.persona
    value = getattr(persona, field or "", None) if persona is not None else None
    if not isinstance(value, str):
        raise PersonalisationError(f"{where}: the persona has no text field {field!r}")
    return value.encode("ascii")


def personalise(
    profile: Profile,
    profile_text: str,
    persona: Persona | None,
    store: StateStore,
    pki: TestPki | None = None,
) -> None:
    """Write a new card's state into ``store`` (which must be empty)."""
    if store.exists():
        raise StateError(f"{store.directory}: already holds a card")
    keys = {k.source: generate_key(KeyType(k.algorithm)) for a in profile.applets for k in a.keys}
    builders = builders_for(_needed_sources(profile))
    generation = profile.personalisation.pki
    if pki is not None and pki.generation != generation:
        raise PersonalisationError(f"{profile.name} needs a {generation} TEST PKI, not {pki.generation}")
    created = pki is None and any(b.pki for b in builders)
    if created:
        pki = TestPki.create(generation=generation)
    given = BuildInput(profile.atr.build(), keys, _record_options(profile), persona, pki)
    try:
        sources = build_sources(builders, given)
    except BuildError as exc:
        raise PersonalisationError(f"{profile.name}: {exc}") from None
    contents = _contents(profile, sources)
    check_capacity(profile, contents)  # 容量: a card whose applets do not fit is refused before any write
    if created and pki is not None and store.directory is not None:
        pki.save(store.directory / "pki")
    store.write(StateStore.PROFILE, profile_text.encode("utf-8"))
    for applet in profile.applets:
        for k in applet.keys:
            store.write(StateStore.key_file(applet.id, k.fid), _key_pem(keys[k.source]))
    store.write_json(StateStore.CONTENTS, contents)
    store.write_json(StateStore.SECURITY, {"credentials": _initial_credentials(profile, persona)})
    store.write_json(
        StateStore.CARD,
        {
            "profile": profile.name,
            "persona": persona.id if persona is not None else None,
            "personalised_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )


def _record_options(profile: Profile) -> RecordOptions:
    """The profile's choices where sources conflict (``[personalisation]``)."""
    spec = profile.personalisation
    residence = None
    if (rc := profile.residence) is not None:
        specified = rc.access == "session_key_delivery"
        residence = ResidenceOptions(rc.generation, rc.text_encoding, rc.other_length_form, specified)
    return RecordOptions(
        token_label=spec.token_label, attributes_length_form=spec.attributes_length_form, residence=residence
    )


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _contents(profile: Profile, sources: Mapping[str, bytes]) -> dict[str, object]:
    files: dict[str, str] = {}
    records: dict[str, list[str]] = {}
    for applet in profile.applets:
        for f in applet.files:
            where = f"{applet.id} EF {f.fid:04X}"
            if f.content is not None and (f.content.source is None or f.content.source in sources):
                files[StateStore.content_key(applet.id, f.fid)] = _resolve(f.content, sources, where).hex()
            if f.records is not None:
                records[StateStore.content_key(applet.id, f.fid)] = [
                    _resolve(r, sources, where).hex() for r in f.records
                ]
    data_objects = {
        d.tag.hex().upper(): _resolve(d.content, sources, f"data object {d.tag.hex()}").hex()
        for d in profile.data_objects
    }
    return {"files": files, "records": records, "data_objects": data_objects}


def _initial_credentials(profile: Profile, persona: Persona | None) -> dict[str, object]:
    states: dict[str, object] = {}
    for applet in profile.applets:
        for c in applet.credentials:
            value = _credential_value(c, persona, f"{applet.id} credential {c.id}")
            tries = c.max_tries if c.max_tries is not None else 0
            if c.initial_state == "blocked":
                tries = 0
            states[str(CredentialRef(applet.id, c.id))] = CredentialState.with_value(
                value, tries, pace=c.pace_reference is not None
            ).to_json()
    return states


DEFAULT_PROFILE = "legacy-2016"
DEFAULT_PERSONA = "default"


def open_card(
    profile: str | Path | None,
    persona: str | Path | None,
    state_dir: str | os.PathLike[str] | None,
    pki: TestPki | None = None,
) -> Card:
    """Open the card in ``state_dir``, personalising it first from ``profile`` and ``persona`` if needed.

    A card reopens from its own copy of its profile: ``profile`` and ``persona``, when given, must be the
    ones it was made from, and ``None`` accepts the card's own. For a new card, ``profile=None`` is
    ``legacy-2016`` and ``persona=None`` is no holder at all (for profiles with literal contents only).
    ``state_dir=None`` makes a card that lives only in memory. A directory with files but no ``card.json``
    is refused: it is not a card, and personalising over it would lie.
    """
    if state_dir is None:
        store = StateStore(None)
        _personalise_new(store, profile, persona, pki)
        return load_card(store)
    directory = Path(state_dir)
    store = StateStore(directory)
    if store.exists():
        _require_made_from(store, profile, persona)
        return load_card(store)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise StateError(
            f"{directory}: holds files but no {StateStore.CARD}, so it is no card (was {StateStore.CARD} "
            "deleted?); refusing to personalise over it"
        )
    _personalise_into(directory, profile, persona, pki)
    return load_card(store)


def _personalise_new(
    store: StateStore, profile: str | Path | None, persona: str | Path | None, pki: TestPki | None
) -> None:
    loaded, text = load_profile_with_text(profile if profile is not None else DEFAULT_PROFILE)
    holder = load_persona(persona) if persona is not None else None
    personalise(loaded, text, holder, store, pki)


def _personalise_into(
    directory: Path, profile: str | Path | None, persona: str | Path | None, pki: TestPki | None
) -> None:
    """Personalise aside, then rename into place: a killed or failed personalisation leaves no card."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    for stale in directory.parent.glob(f".{directory.name}.personalising-*"):
        shutil.rmtree(stale, ignore_errors=True)
    aside = Path(tempfile.mkdtemp(prefix=f".{directory.name}.personalising-", dir=directory.parent))
    try:
        _personalise_new(StateStore(aside), profile, persona, pki)
        os.replace(aside, directory)  # onto a missing or empty directory
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise


def _require_made_from(store: StateStore, profile: str | Path | None, persona: str | Path | None) -> None:
    """Reopening a card as another profile's or persona's is a mistake worth stopping, not guessing."""
    made = store.read_document(StateStore.CARD, CardDocument)
    if profile is not None and (wanted := load_profile(profile).name) != made.profile:
        raise StateError(f"{store.directory}: holds a {made.profile} card, not {wanted}")
    if persona is not None and (holder := load_persona(persona).id) != made.persona:
        raise StateError(
            f"{store.directory}: holds the card of TEST persona {made.persona!r}, not {holder!r}"
        )
