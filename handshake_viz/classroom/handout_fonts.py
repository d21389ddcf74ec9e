"""The fonts a handout names, and the CJK font it carries inside itself.

A Chinese handout printed on a machine without a CJK font shows boxes (tofu), and a page laid
out in one font's metrics and drawn in another's overlaps its glyphs (the rich SVG export
does: it places every character on a fixed grid). So a handout is HTML that the browser lays
out itself, and when its text needs CJK glyphs it embeds the subset of a CJK font it uses
(found through fontconfig: Debian's fonts-noto-cjk, which ``scripts/bootstrap.sh``
installs), as a WOFF file in the page: a few hundred glyphs, some 100 KB, so the page shows
the same on any machine it is opened on. Where no such font or fontTools is there, the page
names the usual CJK families and says so.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Micro Hei",
    "PingFang SC", "Microsoft YaHei",
)  # fmt: skip
"""CJK families in the order preferred, embedded or named (Linux, macOS, Windows)."""
SANS = ("Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial", "sans-serif")
MONO = ("DejaVu Sans Mono", "Liberation Mono", "Consolas", "monospace")
EMBEDDED = "handshake-viz CJK"
"""The family name of the embedded subset inside the page."""
KNOWN_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
"""Where Debian's packages put a CJK font, for a machine without fc-list."""


@dataclass(frozen=True, slots=True)
class CjkFont:
    """A CJK font file on this machine."""

    path: Path
    index: int
    """Which font of a collection (.ttc)."""
    family: str


@dataclass(frozen=True, slots=True)
class PageFonts:
    """What a page declares: its @font-face rules, its families, and what it says of them."""

    face_css: str
    """@font-face rules ('' when nothing is embedded)."""
    sans: str
    """The body's font-family list, CSS."""
    mono: str
    """The numbers' font-family list, CSS."""
    names: tuple[str, ...]
    """The fonts the page uses, said in its footer (and its meta)."""
    embedded: str | None = None
    """The family embedded, if any."""
    glyphs: int = 0
    """How many characters the embedded subset holds."""


CJK_RANGES = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))
"""Han, kana, CJK punctuation and full-width forms: what only a CJK font draws."""
UNICODE_RANGE = "U+80-10FFFF"
"""The embedded face's `unicode-range`: all but ASCII, so that the page's Latin (and the
monospaced figures) come from the fonts after it, the same on every machine with DejaVu."""


def needs_cjk(text: str) -> bool:
    """Does `text` have characters only a CJK font has (Han, kana, full-width forms)?"""
    return any(lo <= o <= hi for o in map(ord, text) for lo, hi in CJK_RANGES)


def find_cjk_font() -> CjkFont | None:
    """A regular-weight CJK font for Simplified Chinese, the preferred family first."""
    found: list[CjkFont] = []
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(
                ["fc-list", ":lang=zh-cn:style=Regular", "-f",
                 "%{file}\t%{index}\t%{family[0]}\n"],
                capture_output=True, text=True, timeout=10, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            out = None
        for line in (out.stdout if out is not None else "").splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[1].isdigit():
                found.append(CjkFont(Path(parts[0]), int(parts[1]), parts[2]))
    if not found:
        for path in KNOWN_FILES:
            if path.exists():
                name = "Noto Sans CJK SC" if "Noto" in path.name else "WenQuanYi Micro Hei"
                found.append(CjkFont(path, 2 if "Noto" in path.name else 0, name))
    for family in CJK_FAMILIES:
        for font in found:
            if font.family == family:
                return font
    return found[0] if found else None


def subset_woff(font: CjkFont, text: str) -> bytes | None:
    """The glyphs `text` uses, from `font`, as a WOFF file (None without fontTools)."""
    try:
        from fontTools import subset  # type: ignore[import-untyped]
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    except ImportError:
        return None
    tt = TTFont(str(font.path), fontNumber=font.index, lazy=True)
    options = subset.Options()
    options.flavor = "woff"
    options.name_IDs = ["*"]  # keep the family's name: it is said on the page
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))))
    subsetter.subset(tt)
    out = io.BytesIO()
    tt.flavor = "woff"
    tt.save(out)
    return out.getvalue()


def _family_list(*families: str) -> str:
    return ", ".join(f if f in ("sans-serif", "monospace") else f'"{f}"' for f in families)


def page_fonts(text: str, embed: bool = True) -> PageFonts:
    """The fonts of a page whose words are `text`: a CJK subset embedded where it needs one."""
    if not needs_cjk(text):
        return PageFonts("", _family_list(*SANS), _family_list(*MONO), (SANS[1], MONO[0]))
    font = find_cjk_font() if embed else None
    woff = subset_woff(font, text) if font is not None else None
    if font is None or woff is None:
        sans = _family_list(*CJK_FAMILIES, *SANS)
        return PageFonts("", sans, _family_list(*MONO, *CJK_FAMILIES), (*CJK_FAMILIES[:2],))
    data = base64.b64encode(woff).decode("ascii")
    # One regular face (bold is drawn from it) for everything but ASCII, leading both
    # stacks: Chromium keeps the first shaping of a word in a fallback font that was still
    # loading (boxes where the glyphs are: a call's 成功 in the mono stack, under load),
    # and a page whose first font is loading waits for it instead. No installed CJK family
    # follows it: the subset holds every character of the page that is not ASCII.
    face = (f'@font-face {{ font-family: "{EMBEDDED}"; font-display: block; '
            f"unicode-range: {UNICODE_RANGE}; "
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')  # fmt: skip
    sans = _family_list(EMBEDDED, *SANS)
    mono = _family_list(EMBEDDED, *MONO)
    glyphs = len({c for c in text if needs_cjk(c)})
    return PageFonts(face, sans, mono, (font.family, MONO[0]), font.family, glyphs)
