"""Untrusted tip text is shown inert: escaped, never linked, hidden characters spelled out."""

from __future__ import annotations

from form_service.review import text


def test_inert_text_escapes_markup_and_spells_out_hidden_characters() -> None:
    payload = '<script>alert(1)</script> <a href="javascript:x">y</a> gpj.\u202eexe \u200b{{ 7*7 }}'
    html = str(text.inert(payload))
    assert "<script" not in html
    assert "<a " not in html
    assert "\u202e" not in html
    assert "\u200b" not in html
    assert "[U+202E]" in html
    assert "[U+200B]" in html
    assert "{{ 7*7 }}" in html
    assert text.reveal_hidden("a\u2066b\nc") == "a[U+2066]b\nc"
