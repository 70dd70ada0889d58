"""Japanese and Chinese catalogs write colon and brackets full-width (docs/translations.md).

Every catalog is found by a glob (theme, form and desk alike), so the check keeps working
when catalogs are renamed or moved, as long as they stay in `<locale>/LC_MESSAGES/*.po`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.site.conftest import ROOT

# Languages whose guide asks for full-width colon and brackets (locale prefix).
FULL_WIDTH_LANGUAGES = {"ja", "zh"}
# Japanese kana, CJK ideographs, CJK punctuation and full-width forms.
CJK = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
# The only places where half-width : ( ) are right inside Japanese or Chinese text.
EXEMPT = re.compile(
    r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdif]"  # Python placeholders: %(number)s
    r"|https?://[\x21-\x7e]+"  # URLs keep their own ASCII punctuation
    r"|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)"  # clock times: 10:00, 10:00:30
)
HALF_WIDTH = re.compile(r"[:()]")


def half_width_marks(text: str) -> list[str]:
    """Return the half-width : ( ) in a translation that should be written full-width."""
    if not CJK.search(text):
        # A translation in Latin letters only (a format name, an acronym) keeps Latin marks.
        return []
    return HALF_WIDTH.findall(EXEMPT.sub("", text))


def catalog_locale(path: Path) -> str:
    """Return the locale of a catalog from its place, `<locale>/LC_MESSAGES/<domain>.po`."""
    assert path.parent.name == "LC_MESSAGES", path
    return path.parent.parent.name


def full_width_catalogs() -> list[Path]:
    """Return every Japanese and Chinese catalog of the theme and of the form service."""
    candidates = [*ROOT.glob("theme/translations/**/*.po"), *ROOT.glob("form_service/**/*.po")]
    return sorted(
        path
        for path in candidates
        if catalog_locale(path).split("_")[0].lower() in FULL_WIDTH_LANGUAGES
    )


@pytest.mark.parametrize(
    ("text", "marks"),
    [
        ("エラー:", [":"]),
        ("ファイル(任意)", ["(", ")"]),
        ("例:10:00に見た", [":"]),
        ("文件（选填）：%(number)s", []),
        ("ファイル%(number)sを添付（任意）", []),
        ("详见https://undocs.org/S/RES/1718(2006)。", []),
        ("受付は10:00から", []),
        ("JPEG (image/jpeg)", []),
        ("%(page)s / %(pages)s ページ", []),
        ("页面%(page)s（共%(pages)s页）：(", ["("]),
    ],
)
def test_the_check_flags_half_width_marks_and_only_those(text: str, marks: list[str]) -> None:
    assert half_width_marks(text) == marks


def test_japanese_and_chinese_catalogs_use_full_width_punctuation() -> None:
    catalogs = full_width_catalogs()
    found = {(path.relative_to(ROOT).parts[0], catalog_locale(path)) for path in catalogs}
    # The glob must reach both trees in both languages, or the check proves nothing.
    assert {
        ("theme", "ja"),
        ("theme", "zh_Hans"),
        ("form_service", "ja"),
        ("form_service", "zh_Hans"),
    } <= found
    offenders = []
    for path in catalogs:
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue  # the header
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                marks = half_width_marks(text or "")
                if marks:
                    where = path.relative_to(ROOT)
                    offenders.append(f"{where}: {message.id!r} -> {text!r} ({' '.join(marks)})")
    assert offenders == []
