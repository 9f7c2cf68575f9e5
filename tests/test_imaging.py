"""Card-face images: formats, sizes and determinism."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from mynacard.emulator.issuance import imaging
from mynacard.emulator.issuance.imaging import (
    FontNotFoundError,
    find_cjk_font,
    render_address,
    render_my_number,
    render_name,
    render_photo,
    render_security_code,
)
from mynacard.emulator.issuance.personas import list_personas, load_persona

RENDERERS = [render_name, render_address, render_photo, render_security_code, render_my_number]


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("name", ["default", "long-address", "multi-part-name", "child-under-15"])
def test_formats_and_sizes(name: str) -> None:
    persona = load_persona(name)
    for render in (render_name, render_address):
        image = opened(render(persona))
        assert (image.format, image.mode) == ("PNG", "1")
    photo = opened(render_photo(persona))
    assert (photo.format, photo.mode) == ("JPEG2000", "L")
    assert render_photo(persona)[:12] == bytes.fromhex("0000000c6a5020200d0a870a")  # JP2 signature box
    code = opened(render_security_code(persona))
    assert (code.format, code.mode, code.size) == ("PNG", "1", (24, 12))
    number = opened(render_my_number(persona))
    assert (number.format, number.mode, number.size) == ("PNG", "1", (72, 12))


def test_images_have_ink() -> None:
    persona = load_persona("default")
    for render in (render_name, render_address, render_security_code, render_my_number):
        image = opened(render(persona)).convert("L")
        assert image.getextrema() == (0, 255), render.__name__


def test_long_address_wraps() -> None:
    short = opened(render_address(load_persona("default")))
    long = opened(render_address(load_persona("long-address")))
    assert long.size[1] >= 9 * short.size[1] // 2


@pytest.mark.parametrize("render", RENDERERS)
def test_deterministic(render: object) -> None:
    assert callable(render)
    for name in list_personas():
        persona = load_persona(name)
        assert render(persona) == render(persona)


def test_photo_depends_on_seed() -> None:
    default = load_persona("default")
    other = default.model_copy(update={"photo_seed": default.photo_seed + 1})
    assert render_photo(default) != render_photo(other)


def test_missing_font_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    find_cjk_font.cache_clear()
    monkeypatch.setenv(imaging.FONT_ENV, str(tmp_path / "absent.ttf"))
    try:
        with pytest.raises(FontNotFoundError, match="no such font file"):
            find_cjk_font()
        monkeypatch.delenv(imaging.FONT_ENV)
        monkeypatch.setattr(imaging, "_DEBIAN_FONT_CANDIDATES", ())
        monkeypatch.setattr(imaging, "_fc_match", lambda pattern: None)
        find_cjk_font.cache_clear()
        with pytest.raises(FontNotFoundError, match="fonts-ipafont-gothic"):
            find_cjk_font()
    finally:
        find_cjk_font.cache_clear()


def test_fc_match_finds_a_japanese_font() -> None:
    found = imaging._fc_match("IPAGothic:lang=ja")
    if found is None:
        pytest.skip("fc-match has no Japanese font here")
    assert found.is_file()


def _digests_in_fresh_interpreter() -> str:
    script = (
        "import hashlib\n"
        "from mynacard.emulator.issuance.imaging import render_address, render_my_number, render_name, "
        "render_photo, render_security_code\n"
        "from mynacard.emulator.issuance.personas import load_persona\n"
        "p = load_persona('long-address')\n"
        "for r in (render_name, render_address, render_photo, render_security_code, render_my_number):\n"
        "    print(hashlib.sha256(r(p)).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout


def test_identical_across_runs() -> None:
    """Two separate interpreter runs give byte-identical images for the same seed."""
    first, second = _digests_in_fresh_interpreter(), _digests_in_fresh_interpreter()
    assert first == second
    persona = load_persona("long-address")
    assert first.split() == [hashlib.sha256(render(persona)).hexdigest() for render in RENDERERS]
