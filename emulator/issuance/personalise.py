"""Personalisation (個人化): a profile and a persona become a card's state directory; and opening it again.

At personalisation the card's keys are generated, certificates issued by the test PKI, every EF's
content built, and every credential set from the persona. Afterwards the directory is the card: it holds
a copy of the profile it was made from, so a card reopens the same even when shipped profiles change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mynacard.apdu.tlv import ber_decode
from mynacard.emulator.card import Card
from mynacard.emulator.credentials import CredentialState
from mynacard.emulator.filesystem import PrivateKey
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateError, StateStore
from mynacard.profiles.schema import (
    ContentSpec,
    CredentialSpec,
    Profile,
    load_profile,
)

__all__ = ["PersonalisationError", "generate_key", "load_card", "open_card", "personalise"]


class PersonalisationError(ValueError):
    """The profile asks for something the persona or the record builders cannot give."""


def generate_key(algorithm: str) -> PrivateKey:
    if algorithm == "rsa-2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    raise PersonalisationError(f"unknown key algorithm {algorithm!r}")


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


def _credential_value(spec: CredentialSpec, persona: Any, where: str) -> bytes | None:
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
    persona: Any,
    store: StateStore,
    pki: Any = None,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Write a new card's state into ``store`` (which must be empty)."""
    if store.exists():
        raise StateError(f"{store.directory}: already holds a card")
    keys = {k.source: generate_key(k.algorithm) for a in profile.applets for k in a.keys}
    if pki is None and _needed_sources(profile) and persona is not None:
        from mynacard.emulator.issuance.pki import TestPki

        pki = TestPki.create()
        if store.directory is not None:
            pki.save(store.directory / "pki")
    sources = _build_sources(
        profile, persona, keys, pki, profile.personalisation.options() | dict(options or {})
    )
    store.write(StateStore.PROFILE, profile_text.encode("utf-8"))
    for applet in profile.applets:
        for k in applet.keys:
            store.write(StateStore.key_file(applet.id, k.fid), _key_pem(keys[k.source]))
    store.write_json(StateStore.CONTENTS, _contents(profile, sources))
    store.write_json(StateStore.SECURITY, {"credentials": _initial_credentials(profile, persona)})
    store.write_json(
        StateStore.CARD,
        {
            "profile": profile.name,
            "persona": getattr(persona, "id", None),
            "personalised_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )


def _build_sources(
    profile: Profile, persona: Any, keys: Mapping[str, PrivateKey], pki: Any, options: Mapping[str, Any]
) -> dict[str, bytes]:
    sources = _card_sources(profile, persona)
    needed = _needed_sources(profile) - set(sources)
    if needed:
        from mynacard.emulator.issuance.records.legacy import RecordOptions, build_contents

        if persona is None:
            raise PersonalisationError(f"sources {sorted(needed)} need a persona")
        from mynacard.emulator.issuance.pki import CARD_KEY_IDS

        # The builders make every record of today's card; keys of applets this profile lacks are
        # generated for them and then dropped with the records nobody stores.
        all_keys = dict(keys) | {k: generate_key("rsa-2048") for k in CARD_KEY_IDS if k not in keys}
        sources.update(build_contents(persona, all_keys, pki, RecordOptions(**options)))
        sources.update(_issuer_sources(pki))
    return sources


def _issuer_sources(pki: Any) -> dict[str, bytes]:
    """MF-level key references and CV certificate (§4.7), ASSUMED to be the text-AP issuer's.

    GET DATA returns a CV certificate's inner content, without the ``7F 21`` wrapper (§3.6).
    """
    issuer = pki.text_issuer
    return {
        "card.issuer_key_id": issuer.ca_key_id,
        "card.intermediate_key_id": issuer.signer_key_id,
        "card.cv_certificate_content": ber_decode(issuer.cv_certificate()).value,
    }


def _card_sources(profile: Profile, persona: Any) -> dict[str, bytes]:
    """Card-level values GET DATA answers with (カード管理データ)."""
    sources = {"card.atr_without_ts": profile.atr.build()[1:]}
    if persona is not None:
        sources["card.municipality_code"] = persona.municipality_code.encode("ascii")
        sources["card.expiry"] = persona.card_expiry.strftime("%Y%m%d").encode("ascii")
        sources["card.identification_number"] = persona.card_serial.encode("ascii")
    return sources


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _contents(profile: Profile, sources: Mapping[str, bytes]) -> dict[str, Any]:
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


def _initial_credentials(profile: Profile, persona: Any) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for applet in profile.applets:
        for c in applet.credentials:
            value = _credential_value(c, persona, f"{applet.id} credential {c.id}")
            tries = c.max_tries if c.max_tries is not None else 0
            if c.initial_state == "blocked":
                tries = 0
            states[f"{applet.id}/{c.id}"] = CredentialState.with_value(value, tries).to_json()
    return states


def open_card(
    profile: str | Path,
    persona: str | Path | None,
    state_dir: Path | None,
    pki: Any = None,
    options: Mapping[str, Any] | None = None,
) -> Card:
    """Open the card in ``state_dir``, personalising it first from ``profile`` and ``persona`` if empty.

    ``state_dir=None`` makes a card that lives only in memory.
    """
    store = StateStore(state_dir)
    if not store.exists():
        loaded = load_profile(profile)
        text = _profile_text(profile)
        persona_obj = None
        if persona is not None:
            from mynacard.emulator.issuance.personas import load_persona

            persona_obj = load_persona(str(persona))
        personalise(loaded, text, persona_obj, store, pki, options)
    else:
        _require_same_profile(store, profile)
    return load_card(store)


def _require_same_profile(store: StateStore, profile: str | Path) -> None:
    """Reopening a card under another profile's name is a mistake worth stopping, not guessing."""
    made_from = store.read_json(StateStore.CARD).get("profile")
    wanted = load_profile(profile).name
    if made_from != wanted:
        raise StateError(f"{store.directory}: holds a {made_from} card, not {wanted}")


def _profile_text(profile: str | Path) -> str:
    path = Path(profile)
    if path.suffix == ".toml" or path.exists():
        return path.read_text(encoding="utf-8")
    from importlib import resources

    return resources.files("mynacard.profiles").joinpath(f"{profile}.toml").read_text(encoding="utf-8")
