"""Profile variants: ``[profile] extends`` a base and overrides only what differs (profiles/variants.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.errors import ProfileError
from mynacard.profiles.schema import parse_profile, profile_text
from tests.test_profile_format import MINI


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(tmp_path, "mini.toml", MINI)


def test_a_variant_overrides_tables_and_merges_applets_by_id(tmp_path: Path, base: Path) -> None:
    variant = write(
        tmp_path,
        "variant.toml",
        """
[profile]
name = "mini-variant"
description = "the PIN has 5 tries and a second file"
extends = "mini.toml"

[behaviour]
le_too_short = "truncate"

[[applets]]
id = "app"
label = "application (variant)"

[[applets.credentials]]
id = "pin"
max_tries = 5

[[applets.files]]
fid = "00 03"
label = "added by the variant"
content = { hex = "AA" }
""",
    )
    profile = load_profile(variant)
    assert (profile.name, profile.profile.variant_of) == ("mini-variant", "mini")
    assert profile.behaviour.le_too_short == "truncate"
    assert profile.behaviour.ef_fcp == "minimal"  # the base's, untouched
    app = next(a for a in profile.applets if a.id == "app")
    assert app.label == "application (variant)"
    assert app.aid == bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01")
    assert [c.max_tries for c in app.credentials] == [5]
    assert app.credentials[0].format.max == 4  # merged into the base's credential, not replacing it
    assert [f.fid for f in app.files] == [0x0002, 0x0003]
    assert [a.id for a in profile.applets] == ["cm", "app"]


def test_remove_drops_a_base_entry(tmp_path: Path, base: Path) -> None:
    variant = write(
        tmp_path,
        "variant.toml",
        '[profile]\nname = "v"\ndescription = "d"\nextends = "mini.toml"\n\n'
        '[[applets]]\nid = "app"\n\n[[applets.files]]\nfid = "0002"\nremove = true\n',
    )
    app = next(a for a in load_profile(variant).applets if a.id == "app")
    assert app.files == []


def test_a_content_table_is_replaced_whole_not_merged(tmp_path: Path, base: Path) -> None:
    """``hex`` in the base and ``text`` in the variant would merge into a content of two kinds."""
    variant = write(
        tmp_path,
        "variant.toml",
        '[profile]\nname = "v"\ndescription = "d"\nextends = "mini.toml"\n\n'
        '[[applets]]\nid = "app"\n\n[[applets.files]]\nfid = "0002"\ncontent = { text = "TEST" }\n',
    )
    app = next(a for a in load_profile(variant).applets if a.id == "app")
    content = app.files[0].content
    assert content is not None and (content.text, content.hex, content.source) == ("TEST", None, None)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('[[applets]]\nlabel = "no id"\n', "applets: every entry of a variant names its 'id'"),
        (
            '[[applets]]\nid = "app"\n[[applets.files]]\nfid = "0009"\nremove = true\n',
            "no fid '0009' to remove",
        ),
        ('[behaviour]\nle_too_short = "maybe"\n', "behaviour.le_too_short: Input should be"),
    ],
)
def test_a_broken_variant_names_the_file_and_field(
    tmp_path: Path, base: Path, body: str, problem: str
) -> None:
    variant = write(
        tmp_path, "v.toml", f'[profile]\nname = "v"\ndescription = "d"\nextends = "mini.toml"\n{body}'
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(variant)
    assert str(variant) in str(caught.value) and problem in str(caught.value)


def test_a_cycle_of_variants_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", '[profile]\nname = "a"\ndescription = "d"\nextends = "b.toml"\n')
    write(tmp_path, "b.toml", '[profile]\nname = "b"\ndescription = "d"\nextends = "a.toml"\n')
    with pytest.raises(ProfileError, match="more than 8 levels"):
        load_profile(tmp_path / "a.toml")


def test_a_card_of_a_variant_stores_the_resolved_profile(tmp_path: Path, base: Path) -> None:
    variant = write(
        tmp_path,
        "v.toml",
        '[profile]\nname = "v"\ndescription = "d"\nextends = "mini.toml"\n'
        "[behaviour]\nlogical_channels = 2\n",
    )
    open_card(variant, None, tmp_path / "card")
    stored = (tmp_path / "card" / StateStore.PROFILE).read_text(encoding="utf-8")
    assert "extends" not in tomllib.loads(stored)["profile"]
    variant.unlink()
    base.unlink()
    card = open_card(None, None, tmp_path / "card")  # self-contained: both files are gone
    assert card.name == "v" and card.behaviour.logical_channels == 2


def test_the_shipped_alias_variant_is_nextgen_with_aliases_on() -> None:
    variant, nextgen = load_profile("nextgen-2026-aliases"), load_profile("nextgen-2026")
    assert (
        variant.profile.variant_of,
        variant.behaviour.legacy_aliases,
        nextgen.behaviour.legacy_aliases,
    ) == (
        "nextgen-2026",
        True,
        False,
    )
    assert variant.applets == nextgen.applets
    text, _ = profile_text("nextgen-2026-aliases")
    assert parse_profile(text, "resolved").behaviour.legacy_aliases is True
    with pytest.raises(ProfileError, match="a variant is loaded by name or path"):
        parse_profile('[profile]\nname = "v"\ndescription = "d"\nextends = "x"\n', "v.toml")
