"""The basic lesson's handout as a person sees it: drawn by headless Chromium to PNG, in
English and Chinese. Light paper, text on it, and every Chinese glyph drawn from the page
itself: on a machine with no CJK font at all it looks exactly as it does here, while the same
page without its embedded font shows boxes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from handshake_viz.classroom.handout import export_handout
from tests.helpers.chromium import CHROMIUM, screenshot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed"),
]

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>{dirs}<cachedir>{cache}</cachedir></fontconfig>
"""
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
"""Where Debian's fonts-dejavu-core and fonts-noto-cjk (scripts/bootstrap.sh) put them."""


def fonts_env(tmp_path: Path, *folders: Path) -> dict[str, str]:
    """Chromium's environment on a machine whose only fonts are in `folders`."""
    conf = tmp_path / f"fonts-{len(folders)}.conf"
    dirs = "".join(f"<dir>{f}</dir>" for f in folders)
    conf.write_text(FONTS_CONF.format(dirs=dirs, cache=tmp_path / f"fc-cache-{len(folders)}"))
    return {"FONTCONFIG_FILE": str(conf)}


def light_share(png: Path) -> float:
    """The share of pixels that are paper (each channel at least 235)."""
    im = Image.open(png).convert("RGB")
    r, g, b = (band.point(lambda v: 255 if v >= 235 else 0) for band in im.split())
    paper = ImageChops.darker(ImageChops.darker(r, g), b)
    return paper.histogram()[255] / (im.width * im.height)


def differing_share(a: Path, b: Path) -> float:
    """The share of pixels that differ between two pictures (by more than anti-aliasing)."""
    diff = ImageChops.difference(Image.open(a).convert("RGB"), Image.open(b).convert("RGB"))
    r, g, b_ = (band.point(lambda v: 255 if v > 40 else 0) for band in diff.split())
    changed = ImageChops.lighter(ImageChops.lighter(r, g), b_)
    return changed.histogram()[255] / (diff.width * diff.height)


@pytest.fixture
def handouts(need_capture: None, port: int, tmp_path: Path) -> dict[str, Path]:
    """The basic lesson run for real, its handout written in each language."""
    return {
        lang: export_handout("basic", tmp_path / f"basic-{lang}.html", lang, port=port)[0]
        for lang in ("en", "zh")
    }


def test_both_languages_print_dark_on_light(handouts: dict[str, Path], tmp_path: Path) -> None:
    for lang, page in handouts.items():
        png = tmp_path / f"{lang}.png"
        screenshot(page, png)
        share = light_share(png)
        assert 0.8 < share < 0.995, (lang, share)  # paper, and text on it
        assert Image.open(png).convert("RGB").getpixel((2, 2)) == (255, 255, 255)


@pytest.mark.skipif(
    not (DEJAVU.is_dir() and NOTO_CJK.is_dir()),
    reason="needs fonts-dejavu-core and fonts-noto-cjk (scripts/bootstrap.sh)",
)
def test_chinese_glyphs_come_from_the_page_itself(handouts: dict[str, Path], tmp_path: Path):
    """Drawn where Noto Sans CJK is installed and where no CJK font is, the page is the same
    to the pixel: no glyph of it comes from the machine. Without its embedded font, the
    machine with no CJK font shows boxes."""
    page = handouts["zh"]
    html = page.read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in html and "data:font/woff;base64," in html
    with_cjk, no_cjk = fonts_env(tmp_path, DEJAVU, NOTO_CJK), fonts_env(tmp_path, DEJAVU)
    here, bare = tmp_path / "here.png", tmp_path / "bare.png"
    shares = []
    for _ in range(2):  # a glyph missing differs every time; Chromium once drew one late
        screenshot(page, here, (900, 1400), env=with_cjk)
        screenshot(page, bare, (900, 1400), env=no_cjk)
        shares.append(differing_share(here, bare))
        if shares[-1] == 0:
            break
    assert shares[-1] == 0, shares
    stripped = tmp_path / "stripped.html"
    stripped.write_text(re.sub(r"@font-face \{[^}]*\}", "", html), encoding="utf-8")
    tofu = tmp_path / "tofu.png"
    screenshot(stripped, tofu, (900, 1400), env=no_cjk)
    assert differing_share(bare, tofu) > 0.01  # without its font: boxes
