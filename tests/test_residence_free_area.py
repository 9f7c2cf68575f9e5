"""The chip's free area (空き領域) with the applets that went live in it (issue 13 items 4 and 5): the 在留AP
of the 特定在留カード and the licence applet of the マイナ免許証 (a labelled placeholder), on today's chip and
on the next one; each counts against the budget, and one that does not fit is refused with its shortfall.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.emulator.issuance.capacity import CapacityError
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.profiles import load_profile

LICENCE_AID = bytes.fromhex("A0 00 00 02 31 06") + bytes(10)
ZAIRYU_AID = bytes.fromhex("D3 92 F0 00 4F 01") + bytes(10)


def tx(r: VirtualReader, command: str | bytes) -> tuple[bytes, int]:
    response = r.transmit(bytes.fromhex(command) if isinstance(command, str) else command)
    return response.data, response.sw


@pytest.mark.parametrize("profile", ["free-area-2016", "free-area-nextgen"])
def test_the_licence_applet_placeholder(profile: str) -> None:
    with VirtualReader(open_card(profile, "residence-worker", None)) as r:
        assert tx(r, select_df_name(LICENCE_AID)) == (b"", 0x9000)
        assert tx(r, "00 B0 9A 00 03") == (bytes.fromhex("C1 01 01"), 0x9000)  # PIN set, free to read
        assert tx(r, "00 B0 9B 00 00 00 00") == (b"", 0x6982)
        assert tx(r, "00 20 00 86") == (b"", 0x63C3)
        assert tx(r, "00 20 00 86 04 31 31 31 31") == (b"", 0x63C2)
        assert tx(r, "00 20 00 86 04 31 32 33 34") == (b"", 0x9000)
        record, sw = tx(r, "00 B0 9B 00 00 00 00")
        assert (
            sw == 0x9000 and len(record) == 880 and record[:9] == bytes.fromhex("C5 07 05 31 32 30 33 31 30")
        )
        assert tx(r, select_df_name(ZAIRYU_AID)) == (b"", 0x9000)  # the 在留AP beside it


@pytest.mark.parametrize(
    ("profile", "free_area_applets"),
    [
        ("legacy-2016", []),
        ("specified-residence", ["zairyu", "zairyu_df1", "zairyu_df2", "zairyu_df3"]),
        ("free-area-2016", ["zairyu", "zairyu_df1", "zairyu_df2", "zairyu_df3", "licence"]),
        ("nextgen-2026", []),
        ("free-area-nextgen", ["zairyu", "zairyu_df1", "zairyu_df2", "zairyu_df3", "licence"]),
    ],
)
def test_free_area_applets_count_against_the_budget(profile: str, free_area_applets: list[str]) -> None:
    loaded = load_profile(profile)
    assert [a.id for a in loaded.applets if a.free_area] == free_area_applets
    assert loaded.capacity.eeprom_bytes == 81920


def test_an_applet_that_does_not_fit_is_refused_with_its_shortfall(tmp_path: Path) -> None:
    """80 KiB less all but 1,000 bytes of today's free area: the 在留AP's DF1 (8,220 bytes) is refused."""
    variant = tmp_path / "small.toml"
    variant.write_text(
        '[profile]\nname = "small-chip"\ndescription = "test"\nextends = "free-area-2016"\n'
        "[capacity]\neeprom_bytes = 19055\n",
        encoding="utf-8",
    )
    with pytest.raises(CapacityError) as refused:
        open_card(variant, "residence-worker", None)
    assert refused.value.applet == "zairyu_df1"
    assert refused.value.shortfall > 7000
    assert "zairyu_df1" in str(refused.value)
