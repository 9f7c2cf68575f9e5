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
        ("specified-residence", ["zairyu", "zairyu_df1", "zairyu_df2", "zairyu_df3", "zairyu_ssd"]),
        ("free-area-2016", ["zairyu", "zairyu_df1", "zairyu_df2", "zairyu_df3", "licence", "zairyu_ssd"]),
        ("nextgen-2026", []),
        ("free-area-nextgen", ["zairyu", "zairyu_df1", "zairyu_df2", "zairyu_df3", "licence", "zairyu_ssd"]),
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


# -- GlobalPlatform domains (item 1) ---------------------------------------------------------------------

ISD_AID = bytes.fromhex("A0 00 00 01 51 00 00")
SSD_AID = bytes.fromhex("A0 00 00 01 51 53 50 01")


def open_registry(tmp_path: Path, base: str = "free-area-2016") -> Path:
    variant = tmp_path / "open.toml"
    variant.write_text(
        f'[profile]\nname = "open-registry"\ndescription = "test"\nextends = "{base}"\n'
        '[global_platform]\nget_status = "open"\n',
        encoding="utf-8",
    )
    return variant


def entries(data: bytes) -> list[dict[int, bytes]]:
    from mynacard.apdu.tlv import ber_decode_all

    return [{t.tag: t.value for t in ber_decode_all(e.value)} for e in ber_decode_all(data)]


@pytest.mark.parametrize("profile", ["specified-residence", "free-area-nextgen"])
def test_domains_select_and_get_status_needs_the_secure_channel(profile: str) -> None:
    with VirtualReader(open_card(profile, "residence-worker", None)) as r:
        assert tx(r, select_df_name(SSD_AID)) == (b"", 0x9000)
        assert tx(r, select_df_name(ISD_AID)) == (b"", 0x9000)
        assert tx(r, "80 F2 40 02 02 4F 00 00") == (b"", 0x6982)
        assert tx(r, select_df_name(ZAIRYU_AID)) == (b"", 0x9000)
        assert tx(r, "80 F2 40 02 02 4F 00 00") == (b"", 0x6D00)  # only the ISD answers GET STATUS


def test_the_open_registry_shows_which_domain_holds_each_applet(tmp_path: Path) -> None:
    with VirtualReader(open_card(open_registry(tmp_path), "residence-worker", None)) as r:
        assert tx(r, select_df_name(ISD_AID)) == (b"", 0x9000)
        isd, sw = tx(r, "80 F2 80 02 02 4F 00 00")
        assert sw == 0x9000
        expected = "E3 1B 4F 07 A0 00 00 01 51 00 00 9F 70 01 0F C5 03 9E FE 80 CC 07 A0 00 00 01 51 00 00"
        assert isd == bytes.fromhex(expected)
        listed, sw = tx(r, "80 F2 40 02 02 4F 00 00")
        pages = 1
        while sw == 0x6310:  # GP: more entries, next occurrence (P2 = 03)
            more, sw = tx(r, "80 F2 40 03 02 4F 00 00")
            listed, pages = listed + more, pages + 1
        assert sw == 0x9000 and pages == 2
        whole, sw = tx(r, "80 F2 40 02 00 00 02 4F 00 00 00")  # extended Le: everything at once
        assert (whole, sw) == (listed, 0x9000)
        assert (
            len(entries(listed)) == 11
        )  # the SSD, 5 applets and the licence in the ISD, the 在留AP and its 3 DFs
        domain = {e[0x4F]: e[0xCC] for e in entries(listed)}
        assert domain[SSD_AID] == ISD_AID
        assert domain[ZAIRYU_AID] == SSD_AID
        assert domain[bytes.fromhex("D3 92 F0 00 4F 02") + bytes(10)] == SSD_AID
        assert domain[LICENCE_AID] == ISD_AID
        assert domain[bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01")] == ISD_AID  # JPKI-AP
        only_zairyu, _ = tx(r, "80 F2 40 02 08 4F 06 D3 92 F0 00 4F 01 00")
        assert [e[0x4F] for e in entries(only_zairyu)] == [ZAIRYU_AID]
        assert tx(r, "80 F2 20 02 02 4F 00 00") == (b"", 0x6A88)  # no load files modelled
        assert tx(r, "80 F2 40 00 02 4F 00 00") == (b"", 0x6A86)
        assert tx(r, "80 F2 40 02 02 4E 00 00") == (b"", 0x6A80)
        assert tx(r, "80 F2 40 02 04 4F 02 FF FF 00") == (b"", 0x6A88)


def test_the_ssd_counts_in_the_free_area() -> None:
    loaded = load_profile("specified-residence")
    ssd = next(a for a in loaded.applets if a.id == "zairyu_ssd")
    assert ssd.aid == SSD_AID and ssd.free_area
