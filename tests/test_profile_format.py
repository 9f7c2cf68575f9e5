"""The profile format: every shipped profile loads; a broken one is refused with the file, the field path
and the problem named (issue 2, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import ProfileError, list_profiles, parse_profile

# A small valid profile; each broken variant below changes one thing in it.
MINI = """
[profile]
name = "mini"
description = "two applets, one PIN-protected EF"

[atr]
interface = [{ tb = 0x00, tc = 0xFF, next_protocol = 1 }, { next_protocol = 1 }, { ta = 0xFE, tb = 0x45 }]

[[applets]]
id = "cm"
label = "card manager"
aid = "A0 00 00 01 51 00 00"
default = true

[[applets]]
id = "app"
label = "application"
aid = "D3 92 F0 00 26 01 00 00 00 01"

[[applets.files]]
fid = "0002"
label = "protected file"
content = { hex = "01 02 03" }
read = "pin"

[[applets.credentials]]
id = "pin"
fid = "0018"
label = "PIN"
kind = "pin"
format = { charset = "0-9", min = 4, max = 4 }
max_tries = 3
value = { text = "1234" }
"""


def broken(old: str, new: str) -> str:
    assert old in MINI, old
    return MINI.replace(old, new, 1)


def test_the_mini_profile_is_valid() -> None:
    profile = parse_profile(MINI, "mini.toml")
    assert profile.name == "mini"
    assert [a.id for a in profile.applets] == ["cm", "app"]


def test_shipped_profiles_are_listed() -> None:
    assert "legacy-2016" in list_profiles()


@pytest.mark.parametrize("name", list_profiles())
def test_every_shipped_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.applets
    assert profile.atr.build()[0] in (0x3B, 0x3F)


def test_legacy_2016_declares_the_jpki_applet_of_the_spec() -> None:
    profile = load_profile("legacy-2016")
    jpki = next(a for a in profile.applets if a.aid == bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01"))
    files = {f.fid for f in jpki.files} | {c.fid for c in jpki.credentials} | {k.fid for k in jpki.keys}
    assert files >= {0x0001, 0x0002, 0x0006, 0x0008, 0x000A, 0x000B, 0x0017, 0x0018, 0x001A, 0x001B}
    pins = {c.fid: (c.max_tries, c.format.min, c.format.max) for c in jpki.credentials}
    assert pins[0x0018] == (3, 4, 4)
    assert pins[0x001B] == (5, 6, 16)


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        (
            'label = "protected file"',
            'label = "protected file"\ncolour = "red"',
            "applets.1.files.0.colour",
            "Extra",
        ),
        ("[profile]", '[profile]\nvendor = "x"', "profile.vendor", "Extra"),
        ('hex = "01 02 03"', 'hex = "01 02 0"', "applets.1.files.0.content.hex", "hex digits"),
        ('hex = "01 02 03"', 'hex = "01 0G 03"', "applets.1.files.0.content.hex", "hex digits"),
        ('aid = "A0 00 00 01 51 00 00"', 'aid = "ZZ"', "applets.0.aid", "hex digits"),
        ('fid = "0002"', 'fid = "02"', "applets.1.files.0.fid", "2 bytes"),
        ('fid = "0018"', 'fid = "0002"', "applets.1", "FID defined twice: 0002"),
        ('read = "pin"', 'read = "nope"', "applets.1", "file 0002 read names unknown credential(s) ['nope']"),
        (
            'read = "pin"',
            'read = { any = ["pin", "puk"] }',
            "applets.1",
            "file 0002 read names unknown credential(s) ['puk']",
        ),
        (
            "min = 4, max = 4",
            "min = 8, max = 4",
            "applets.1.credentials.0.format",
            "min 8 is larger than max 4",
        ),
        ("max_tries = 3", "max_tries = 0", "applets.1.credentials.0.max_tries", "greater than or equal to 1"),
        ('kind = "pin"', 'kind = "fingerprint"', "applets.1.credentials.0.kind", "'pin'"),
        ('value = { text = "1234" }', "value = {}", "applets.1.credentials.0.value", "exactly one of"),
        (
            'aid = "D3 92 F0 00 26 01 00 00 00 01"',
            'aid = "A0 00 00 01 51 00 00"',
            "(top level)",
            "AID used twice",
        ),
        ('id = "app"', 'id = "cm"', "(top level)", "applet id used twice"),
        ('id = "app"', 'id = "App"', "applets.1.id", "pattern"),
        (
            'label = "application"',
            'label = "application"\ndefault = true',
            "(top level)",
            "more than one default",
        ),
        ('content = { hex = "01 02 03" }', "", "applets.1.files.0", "a transparent EF needs 'content'"),
        ("{ ta = 0xFE, tb = 0x45 }", "{ ta = 0x1FE }", "atr.interface.2.ta", "less than or equal to 255"),
    ],
)
def test_broken_profile_names_file_field_and_problem(old: str, new: str, field: str, problem: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(broken(old, new), "profiles/broken.toml")
    message = str(info.value)
    assert message.startswith("profiles/broken.toml: invalid profile")
    assert f"  {field}: " in message, message
    assert problem in message, message


def test_invalid_toml_names_the_file_and_the_line() -> None:
    with pytest.raises(ProfileError, match=r"^broken\.toml: not valid TOML: .*line 3"):
        parse_profile(broken('name = "mini"', "name = "), "broken.toml")


def test_load_profile_by_path_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(broken("max_tries = 3", "max_tries = 99"), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert str(info.value).startswith(f"{path}: invalid profile")
    assert "applets.1.credentials.0.max_tries" in str(info.value)
    path.write_text(MINI, encoding="utf-8")
    assert load_profile(path).name == "mini"


def test_missing_profile_file_and_unknown_name() -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile("/nonexistent/card.toml")
    with pytest.raises(ProfileError, match=r"unknown profile 'nextgen-1999' \(shipped: .*legacy-2016"):
        load_profile("nextgen-1999")


def test_sfi_out_of_range_is_a_profile_error() -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(broken('fid = "0002"', 'fid = "0002"\nsfi = 31'), "broken.toml")
    assert "applets.1.files.0.sfi" in str(info.value)


def test_duplicate_sfi_is_a_profile_error() -> None:
    # 0002 has the automatic SFI 02; a second EF claims SFI 2 explicitly
    extra = '\n[[applets.files]]\nfid = "2F02"\nsfi = 2\nlabel = "clash"\ncontent = { hex = "00" }\n'
    with pytest.raises(ProfileError, match="SFI"):
        parse_profile(MINI + extra, "broken.toml")


def test_a_profile_file_opens_as_a_card(tmp_path: Path) -> None:
    """The mini profile personalises without a persona (literal contents) and answers on the wire."""
    from mynacard.emulator.issuance.personalise import open_card

    path = tmp_path / "mini.toml"
    path.write_text(MINI, encoding="utf-8")
    card = open_card(path, None, tmp_path / "state")
    assert StateStore(tmp_path / "state").exists()
    card.power_on()
    assert card.process(bytes.fromhex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")) == b"\x90\x00"
    assert card.process(bytes.fromhex("00 B0 82 00 00")) == b"\x69\x82"
    assert card.process(bytes.fromhex("00 20 00 98 04 31 32 33 34")) == b"\x90\x00"
    assert card.process(bytes.fromhex("00 B0 82 00 00")) == bytes.fromhex("01 02 03 90 00")


def test_status_commands_are_validated() -> None:
    unknown_applet = (
        '\n[[status_commands]]\ncla = 0x80\nins = 0xFC\nsw = "67 00"\nlabel = "x"\napplets = ["nope"]\n'
    )
    with pytest.raises(ProfileError, match=r"broken\.toml[\s\S]*unknown applet\(s\) \['nope'\]"):
        parse_profile(MINI.replace("[[applets]]", unknown_applet + "\n[[applets]]", 1), "broken.toml")
    one_byte_sw = '\n[[status_commands]]\ncla = 0x80\nins = 0xFC\nsw = "67"\nlabel = "x"\n'
    with pytest.raises(ProfileError, match=r"status_commands\.0[\s\S]*a status word is 2 bytes, got 1"):
        parse_profile(MINI.replace("[[applets]]", one_byte_sw + "\n[[applets]]", 1), "broken.toml")


def test_a_status_command_may_not_replace_a_modelled_command(tmp_path: Path) -> None:
    """A profile cannot silently turn VERIFY into a fixed answer."""
    from mynacard.emulator.issuance.personalise import open_card

    shadow = '\n[[status_commands]]\ncla = 0x00\nins = 0x20\nsw = "90 00"\nlabel = "fake VERIFY"\n'
    path = tmp_path / "shadow.toml"
    path.write_text(MINI.replace("[[applets]]", shadow + "\n[[applets]]", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="INS 20 would replace a modelled command"):
        open_card(path, None, tmp_path / "card")


def test_fci_and_fcp_are_profile_choices(tmp_path: Path) -> None:
    """The unknown FCI/FCP contents are profile fields: a bench can set what its card answers."""
    from mynacard.emulator.issuance.personalise import open_card

    custom = MINI.replace(
        'aid = "D3 92 F0 00 26 01 00 00 00 01"\n',
        'aid = "D3 92 F0 00 26 01 00 00 00 01"\nfci = "6F 03 84 01 D3"\n',
    ).replace(
        'description = "two applets, one PIN-protected EF"\n',
        'description = "x"\n\n[behaviour]\nef_fcp = "none"\n',
    )
    path = tmp_path / "custom.toml"
    path.write_text(custom, encoding="utf-8")
    card = open_card(path, None, tmp_path / "state")
    card.power_on()
    select_fci = bytes.fromhex("00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01 00")
    assert card.process(select_fci) == bytes.fromhex("6F 03 84 01 D3 90 00")
    assert card.process(bytes.fromhex("00 A4 02 00 02 00 02 00")) == b"\x90\x00"  # no FCP with ef_fcp = none

    default = tmp_path / "mini.toml"
    default.write_text(MINI, encoding="utf-8")
    card = open_card(default, None, tmp_path / "state2")
    card.power_on()
    assert card.process(select_fci) == bytes.fromhex("6F 0C 84 0A D3 92 F0 00 26 01 00 00 00 01 90 00")
    assert card.process(bytes.fromhex("00 A4 02 00 02 00 02 00")) == bytes.fromhex(
        "62 0E 80 02 00 03 82 01 01 83 02 00 02 88 01 10 90 00"
    )
