"""The chip's capacity budget (容量): counts by hand, the refusal, ``mynacard capacity`` and its chart."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from mynacard.emulator.issuance.capacity import (
    AppletUsage,
    CapacityError,
    CardContents,
    check_capacity,
    measure,
)
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import Profile, parse_profile
from mynacard.tools.cli import main

TINY = """
[profile]
name = "tiny"
description = "a card small enough to count by hand"

[atr]
interface = [{ tb = 0x00, tc = 0xFF, next_protocol = 1 }, { next_protocol = 1 }, { ta = 0xFE, tb = 0x45 }]

[capacity]
eeprom_bytes = BUDGET

[[applets]]
id = "base"
label = "base AP"
aid = "D3 92 00 01"

[[applets.files]]
fid = "0001"
label = "ten bytes, read with the PIN, or the PIN under SM"
content = { hex = "00 01 02 03 04 05 06 07 08 09" }
read = { any = ["pin", { credential = "pin", secure_messaging = true }] }

[[applets.files]]
fid = "0002"
label = "two records"
kind = "record"
records = [{ text = "ABC" }, { hex = "FF FF" }]

[[applets.credentials]]
id = "pin"
fid = "0011"
label = "PIN, 4 to 8 digits"
kind = "pin"
format = { charset = "0-9", min = 4, max = 8 }
max_tries = 3
value = { text = "1234" }

[[applets.keys]]
id = "key"
fid = "0017"
label = "P-384 key"
algorithm = "ec-p384"
source = "tiny.key"
sign = "pin"

[[applets]]
id = "town"
label = "municipal AP in the free area"
aid = "D3 92 00 02 01"
free_area = true

[[applets.files]]
fid = "0001"
label = "700 bytes"
content = { hex = "01", pad_to = 700 }
"""

BASE = AppletUsage("base", "base AP", False, files=15, keys=146, credentials=14, rules=12, overhead=100)
"""By hand, with CapacitySpec's defaults:
files 10 + (3 + 2) = 15; keys: one P-384 key 146; credentials: 8 (the format's maximum) + 2 (counter) + 4
(format) = 14; rules: EF 0001 any(pin, pin + SM) = 1 + 1 + 2 = 4 conditions, EF 0002 "always" 1, the key's
sign "pin" 1: 6 × 2 = 12; overhead: DF header 24 + AID 4 + 4 objects × 16 + 2 records × 4 = 100. Total 287."""
TOWN = AppletUsage("town", "municipal AP in the free area", True, 700, 0, 0, 2, 24 + 5 + 16)
"""700 bytes, one "always" rule (2), DF header 24 + AID 5 + one EF header 16: 747."""
MF = AppletUsage("mf", "MF (GET DATA objects)", False, 0, 0, 0, 0, 24)


def tiny(budget: int) -> Profile:
    return parse_profile(TINY.replace("BUDGET", str(budget)), "tiny.toml")


def write_tiny(tmp_path: Path, budget: int) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.replace("BUDGET", str(budget)), encoding="utf-8")
    return path


TINY_CONTENTS = {
    "files": {"base/0001": "00010203040506070809", "town/0001": "01" + "ff" * 699},
    "records": {"base/0002": ["414243", "ffff"]},
    "data_objects": {},
}


def test_a_tiny_card_counted_by_hand() -> None:
    report = check_capacity(tiny(1058), TINY_CONTENTS)
    assert report.applets == (MF, BASE, TOWN)
    assert (BASE.total, TOWN.total, report.total) == (287, 747, 1058)
    assert report.kind_totals() == {
        "files": 715,
        "keys": 146,
        "credentials": 14,
        "rules": 14,
        "overhead": 169,
    }
    assert (report.base, report.free_area, report.left) == (311, 747, 0)
    assert report.left_after() == [1034, 747, 0]


def test_the_free_area_applet_that_does_not_fit_is_named_with_its_shortfall() -> None:
    with pytest.raises(CapacityError) as refused:
        check_capacity(tiny(1000), TINY_CONTENTS)
    assert (refused.value.applet, refused.value.shortfall) == ("town", 58)
    assert str(refused.value) == (
        "tiny: free-area applet 'town' (municipal AP in the free area) needs 747 bytes "
        "but only 689 are left of eeprom_bytes = 1,000: 58 bytes short"
    )
    assert isinstance(refused.value, ValueError)
    with pytest.raises(CapacityError) as one_short:
        check_capacity(tiny(1057), TINY_CONTENTS)
    assert one_short.value.shortfall == 1


def test_a_card_whose_own_applets_do_not_fit_is_refused_too() -> None:
    with pytest.raises(CapacityError) as refused:
        check_capacity(tiny(300), TINY_CONTENTS)
    assert (refused.value.applet, refused.value.shortfall) == (None, 11)
    assert (
        str(refused.value) == "tiny: the card's own applets need 311 bytes, 11 more than eeprom_bytes = 300"
    )


def test_every_cost_is_the_profiles_own() -> None:
    text = TINY.replace("BUDGET", "2000").replace(
        "eeprom_bytes = 2000", "eeprom_bytes = 2000\nef_header_bytes = 0\nec_p384_key_bytes = 48"
    )
    base = measure(parse_profile(text, "tiny.toml"), TINY_CONTENTS).applets[1]
    assert (base.keys, base.overhead) == (48, 24 + 4 + 2 * 4)


def test_personalisation_refuses_before_it_writes(tmp_path: Path) -> None:
    state = tmp_path / "card"
    with pytest.raises(CapacityError, match=r"'town' .* 58 bytes short"):
        open_card(write_tiny(tmp_path, 1000), None, state)
    assert not state.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.toml"]
    card = open_card(write_tiny(tmp_path, 1058), None, state)
    assert check_capacity(tiny(1058), CardContents.from_card(card)).left == 0


def test_a_state_directory_and_the_card_it_opens_count_the_same(tmp_path: Path) -> None:
    card = open_card("legacy-2016", "default", tmp_path / "card")
    document = json.loads((tmp_path / "card" / StateStore.CONTENTS).read_text(encoding="utf-8"))
    profile = load_profile("legacy-2016")
    assert measure(profile, document) == measure(profile, CardContents.from_card(card))


def test_the_cli_compares_rsa_and_ecc_key_storage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--profile", "legacy-2016", "--profile", "nextgen-2026", "--json"]) == 0
    legacy, nextgen = json.loads(capsys.readouterr().out)["profiles"]
    assert (legacy["profile"], nextgen["profile"]) == ("legacy-2016", "nextgen-2026")
    assert legacy["kinds"]["keys"] == 5 * 900  # five RSA-2048 keys
    assert nextgen["kinds"]["keys"] == 3 * 146 + 98  # three P-384 keys and the 住基 terminal's public key
    assert nextgen["kinds"]["keys"] < legacy["kinds"]["keys"]
    for report in (legacy, nextgen):
        assert report["budget"] == 81920
        assert report["total"] == sum(a["bytes"] for a in report["applets"])
        assert report["left"] == report["budget"] - report["total"]
        assert report["applets"][-1]["left"] == report["left"]
    assert nextgen["free_area"] > legacy["free_area"]


def test_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--profile", "legacy-2016"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("legacy-2016: eeprom_bytes 81,920 (ASSUMED)\napplet ")
    assert [line.split()[0] for line in out.splitlines()[3:10]] == [
        "mf",
        "card_manager",
        "jpki",
        "text",
        "visual",
        "juki",
        "common",
    ]
    assert "free area (空き領域): " in out


def test_a_refused_card_fails_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--profile", str(write_tiny(tmp_path, 1000))]) == 1
    assert "refused: tiny: free-area applet 'town'" in capsys.readouterr().err


def test_the_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib", reason="the 'reports' extra is not installed")
    out = tmp_path / "charts"
    assert (
        main(["capacity", "--profile", "legacy-2016", "--profile", "nextgen-2026", "--chart", str(out)]) == 0
    )
    assert f"chart: {out / 'capacity.png'}, {out / 'capacity.svg'}" in capsys.readouterr().out
    with Image.open(out / "capacity.png") as png:
        assert (png.format, png.size) == ("PNG", (1200, 550))
    svg = ET.parse(out / "capacity.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert (svg.get("width"), svg.get("height")) == ("864pt", "396pt")


def test_without_matplotlib_the_chart_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    assert main(["capacity", "--profile", "nextgen-2026", "--chart", str(tmp_path)]) == 2
    assert "--chart needs matplotlib, the 'reports' extra: pip install 'mynacard[reports]'" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []
