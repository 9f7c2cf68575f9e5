"""The content-builder registry: a profile's sources are checked at load, and personalisation runs only the
builders the profile uses (issue 7, the issuance seam)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mynacard.emulator.issuance import builders
from mynacard.emulator.issuance.personalise import PersonalisationError, open_card
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.documents import ContentsDocument
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import ProfileError, parse_profile
from tests.test_profile_format import MINI


def _with_file(content: str) -> str:
    extra = f'\n[[applets.files]]\nfid = "0003"\nlabel = "built"\ncontent = {content}\n'
    marker = "[[applets.credentials]]"
    return MINI.replace(marker, extra.lstrip("\n") + "\n" + marker, 1)


def test_every_source_of_the_shipped_profile_has_a_builder() -> None:
    profile = load_profile("legacy-2016")
    used = {
        spec.source
        for applet in profile.applets
        for f in applet.files
        for spec in ([f.content] if f.content else []) + (f.records or [])
        if spec.source is not None
    } | {d.content.source for d in profile.data_objects if d.content.source is not None}
    assert used <= builders.known_sources()
    assert "jpki.auth_certificate" in used


def test_an_unknown_source_is_refused_at_load_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(_with_file('{ source = "jpki.auth_certificat" }'), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid profile")
    assert (
        "applets.1.files.1.content.source: Value error, unknown content source 'jpki.auth_certificat'"
        in message
    )


def test_an_unknown_source_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(_with_file('{ source = "no.such_source" }'), encoding="utf-8")
    state = tmp_path / "card"
    with pytest.raises(ProfileError):
        open_card(path, None, state)
    assert not state.exists()


def test_parse_without_sources_does_not_check_them() -> None:
    """A personalised card reopens from its own copy of the profile, whatever the builders are now."""
    assert parse_profile(_with_file('{ source = "retired.source" }'), "stored.toml").name == "mini"


def test_only_the_builders_a_profile_uses_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile that stores only the ATR object needs no persona, no PKI and no card key."""
    ran: list[str] = []
    real = builders.build_sources

    def spy(chosen: list[builders.ContentBuilder], given: builders.BuildInput) -> dict[str, bytes]:
        chosen = list(chosen)
        ran.extend(b.name for b in chosen)
        return real(chosen, given)

    monkeypatch.setattr("mynacard.emulator.issuance.personalise.build_sources", spy)
    path = tmp_path / "atr.toml"
    path.write_text(_with_file('{ source = "card.atr_without_ts" }'), encoding="utf-8")
    card = open_card(path, None, tmp_path / "card")
    assert ran == ["card"]
    assert not (tmp_path / "card" / "pki").exists()
    assert not (tmp_path / "card" / "keys").exists()
    stored = (
        StateStore(tmp_path / "card").read_document(StateStore.CONTENTS, ContentsDocument).files["app/0003"]
    )
    assert bytes.fromhex(stored) == card.atr[1:]


def test_a_builder_whose_card_key_the_profile_lacks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nokey.toml"
    path.write_text(_with_file('{ source = "jpki.token_info" }'), encoding="utf-8")
    with pytest.raises(
        PersonalisationError, match=r"builder 'jpki' needs the card key\(s\) \['jpki.auth_key'"
    ):
        open_card(path, "default", tmp_path / "card")


def test_a_builder_that_needs_a_persona_says_so(tmp_path: Path) -> None:
    path = tmp_path / "holder.toml"
    path.write_text(_with_file('{ source = "card.expiry" }'), encoding="utf-8")
    with pytest.raises(PersonalisationError, match=r"content builder 'card\.holder' needs a persona"):
        open_card(path, None, tmp_path / "card")


def test_a_source_cannot_have_two_builders() -> None:
    with pytest.raises(ValueError, match="provided by two builders"):
        builders.register("again", ["card.atr_without_ts"])(lambda given: {})
