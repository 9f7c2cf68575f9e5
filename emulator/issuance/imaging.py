"""Card-face images (券面画像) rendered from a TEST persona.

The 券面事項確認AP stores the printed fields as images: 氏名 and 住所 as 1-bit PNG, the 顔写真 as
greyscale JPEG 2000, the セキュリティコード as a 24×12 PNG and the 個人番号 as a 72×12 PNG (spec
§3.3). The photo is a synthetic face-like pattern drawn from the persona's seed; nothing real.

Every function is deterministic: the same persona (and Pillow/OpenJPEG/font versions) gives the
same bytes, so golden tests and signatures over the images are stable.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mynacard.emulator.issuance.personas import Persona

__all__ = [
    "DEFAULT_IMAGE_SIZES",
    "FONT_ENV",
    "FontNotFoundError",
    "ImageSizes",
    "cjk_font",
    "find_cjk_font",
    "render_address",
    "render_my_number",
    "render_name",
    "render_photo",
    "render_security_code",
]

FONT_ENV = "MYNACARD_CJK_FONT"
"""Environment variable naming a CJK font file; overrides the search."""

_DEBIAN_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)
"""Where Debian's ``fonts-ipafont-gothic`` puts IPAゴシック (system locations, not this machine's)."""


class FontNotFoundError(RuntimeError):
    """No Japanese font is available to render 氏名/住所."""


@dataclass(frozen=True)
class ImageSizes:
    """Pixel sizes of the rendered images.

    ``security_code`` (24×12) and ``my_number`` (72×12) are what MC saw on a card; the others are
    ASSUMED (no source gives them) and chosen to keep the card-face EF well under 32 KiB.
    """

    name_font: int = 24
    address_font: int = 16
    address_chars_per_line: int = 20
    margin: int = 2
    photo: tuple[int, int] = (96, 120)
    photo_compression_rate: float = 10.0
    security_code: tuple[int, int] = (24, 12)
    my_number: tuple[int, int] = (72, 12)


DEFAULT_IMAGE_SIZES = ImageSizes()


@cache
def find_cjk_font() -> Path:
    """A font with Japanese glyphs: ``$MYNACARD_CJK_FONT``, Debian's IPAゴシック, or fc-match."""
    override = os.environ.get(FONT_ENV)
    if override:
        if Path(override).is_file():
            return Path(override)
        raise FontNotFoundError(f"{FONT_ENV}={override}: no such font file")
    for candidate in _DEBIAN_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    found = _fc_match("IPAGothic:lang=ja")
    if found is not None:
        return found
    raise FontNotFoundError(
        "no Japanese font found to render 氏名/住所 images: install the Debian package "
        f"fonts-ipafont-gothic (apt-get install fonts-ipafont-gothic) or set {FONT_ENV}"
    )


def _fc_match(pattern: str) -> Path | None:
    executable = shutil.which("fc-match")
    if executable is None:
        return None
    result = subprocess.run(
        [executable, "--format=%{file}\\n%{lang}", pattern], capture_output=True, text=True, check=False
    )
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) < 2 or "ja" not in lines[1].split("|"):
        return None
    return Path(lines[0]) if Path(lines[0]).is_file() else None


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font()), size)


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    """The Japanese font at ``size`` pixels, for other card families' drawings (the residence card's)."""
    return _font(size)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _text_image(lines: list[str], font_size: int, margin: int) -> Image.Image:
    """Black text on white, 1 bit per pixel (no anti-aliasing, as on the card's bitmaps)."""
    font = _font(font_size)
    width = max(int(font.getlength(line)) for line in lines) + 2 * margin
    height = font_size * len(lines) + 2 * margin
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * font_size), line, font=font, fill=0)
    return image


def render_name(persona: Persona, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """氏名 image: 1-bit PNG of the name with its U+3000 separator(s)."""
    return _png(_text_image([persona.name], sizes.name_font, sizes.margin))


def render_address(persona: Persona, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """住所 image: 1-bit PNG, wrapped every ``address_chars_per_line`` characters."""
    step = sizes.address_chars_per_line
    lines = [persona.address[i : i + step] for i in range(0, len(persona.address), step)]
    return _png(_text_image(lines, sizes.address_font, sizes.margin))


def _fixed_digits(digits: str, size: tuple[int, int]) -> bytes:
    """Digits in a fixed-size 1-bit box (font sized to the box height)."""
    image = Image.new("1", size, 1)
    font = _font(size[1])
    offset = max(0, (size[0] - int(font.getlength(digits))) // 2)
    ImageDraw.Draw(image).text((offset, 0), digits, font=font, fill=0)
    return _png(image)


def render_security_code(persona: Persona, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """セキュリティコード image: 1-bit PNG, 24×12 as surveyed."""
    return _fixed_digits(persona.security_code, sizes.security_code)


def render_my_number(persona: Persona, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """個人番号 image (券面事項確認AP EF 0005): 1-bit PNG, 72×12 as surveyed."""
    return _fixed_digits(persona.my_number, sizes.my_number)


def _face(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A synthetic, obviously artificial face: background, shoulders, head, hair, eyes, mouth."""
    width, height = size
    image = Image.new("L", size, rng.randrange(190, 240))
    draw = ImageDraw.Draw(image)
    cx, top = width // 2, int(height * 0.12)
    head_w = int(width * rng.uniform(0.42, 0.52))
    head_h = int(height * rng.uniform(0.45, 0.55))
    shoulders = (4, int(height * 0.72), width - 4, height + 40)
    draw.ellipse(shoulders, fill=rng.randrange(40, 110))
    draw.ellipse((cx - head_w // 2, top, cx + head_w // 2, top + head_h), fill=rng.randrange(130, 200))
    hair = (cx - head_w // 2, top - 6, cx + head_w // 2, top + head_h // 2)
    draw.pieslice(hair, 180, 360, fill=rng.randrange(10, 60))
    eye_y, eye_dx = top + int(head_h * 0.45), head_w // 5
    for side in (-1, 1):
        x = cx + side * eye_dx
        draw.ellipse((x - 4, eye_y - 3, x + 4, eye_y + 3), fill=rng.randrange(0, 40))
    mouth_y = top + int(head_h * 0.75)
    mouth = (cx - eye_dx, mouth_y - 6, cx + eye_dx, mouth_y + 6)
    draw.arc(mouth, 20, 160, fill=rng.randrange(20, 70), width=2)
    return image.filter(ImageFilter.GaussianBlur(1))


def render_photo(persona: Persona, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """顔写真: greyscale JPEG 2000 (JP2 container) of a synthetic face drawn from ``photo_seed``."""
    image = _face(random.Random(persona.photo_seed), sizes.photo)
    buffer = io.BytesIO()
    image.save(
        buffer,
        format="JPEG2000",
        no_jp2=False,
        irreversible=True,
        quality_mode="rates",
        quality_layers=[sizes.photo_compression_rate],
    )
    return buffer.getvalue()
