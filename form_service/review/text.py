"""Show untrusted tip text inert: escaped, never linked, hidden characters made visible."""

from __future__ import annotations

import unicodedata

from markupsafe import Markup, escape

# Characters that reorder or hide text without being seen. Bidirectional overrides can make
# "exe.txt" read as "txt.exe"; zero-width characters can split words to dodge a search.
_KEEP = {"\n", "\t"}
_WITHOUT_KEPT = str.maketrans("", "", "\n\t")


def _is_hidden(char: str) -> bool:
    """Tell whether a character changes layout or is invisible (Unicode Cc, Cf, Zl, Zp)."""
    if char in _KEEP:
        return False
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Co", "Cn"} and char != " "


def reveal_hidden(value: object) -> str:
    """Return plain text with each hidden or reordering character spelled out, as [U+202E]."""
    text = "" if value is None else str(value)
    if text.translate(_WITHOUT_KEPT).isprintable():
        return text  # Fast path (C speed): nothing hidden, so nothing to spell out.
    return "".join(f"[U+{ord(char):04X}]" if _is_hidden(char) else char for char in text)


def inert(value: object) -> Markup:
    """Render untrusted text as escaped HTML with hidden characters shown as visible marks."""
    text = "" if value is None else str(value)
    parts: list[str] = []
    for char in text:
        if _is_hidden(char):
            parts.append(f'<span class="hidden-char">[U+{ord(char):04X}]</span>')
        else:
            parts.append(str(escape(char)))
    # Isolate the text so right-to-left runs inside it cannot reorder the page around it.
    # Each character was escaped or replaced by our own fixed markup.
    return Markup('<bdi class="tip-text">' + "".join(parts) + "</bdi>")  # noqa: S704  # nosec B704
