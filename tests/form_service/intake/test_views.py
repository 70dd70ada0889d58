"""The intake's routes (views.py): a tipster sends a tip and gets a receipt code.

The tip is stored sealed, on both databases; a tip that needs fixing comes back with its
text. The failure paths are in test_errors.py.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from nacl.public import PrivateKey

from form_service.crypto import open_attachment, receipt_hash
from form_service.models import TipStatus, TipTopic
from form_service.settings import Settings
from tests.form_service.bombs import apng_bomb, gif_bomb, png_still, webp_animation
from tests.form_service.factories import FIXED_MOMENT, jpeg_with_gps
from tests.form_service.intake.helpers import (
    form_token,
    opened_fields,
    post_tip,
    receipt_code,
    stored_tips,
)

LANGUAGES = {"en": "en", "ja": "ja", "ko": "ko", "zh-hans": "zh-Hans"}


@pytest.mark.parametrize(("code", "html_lang"), LANGUAGES.items())
def test_the_form_is_shown_in_each_language(
    client: Any, settings: Settings, code: str, html_lang: str
) -> None:
    response = client.get(f"/form/{code}/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in html
    assert response.headers["Cache-Control"] == "no-store"
    for other_code, other_lang in LANGUAGES.items():
        assert f'<a href="/form/{other_code}/" lang="{other_lang}"' in html
        absolute = f"{settings.site_url}/form/{other_code}/"
        assert f'<link rel="alternate" hreflang="{other_lang}" href="{absolute}">' in html
    assert 'enctype="multipart/form-data"' in html
    assert "<script" not in html and "style=" not in html


def test_form_root_redirects_to_english(client: Any) -> None:
    response = client.get("/form/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/form/en/"


def test_a_tip_is_sealed_and_stored_with_only_triage_fields_in_clear(
    client: Any, settings: Settings, desk_private_key: PrivateKey
) -> None:
    response = post_tip(
        client,
        "ja",
        topic="person",
        message="MARKER 横田めぐみさんを見ました",
        when_where="1990年代、平壌",
        how_known="自分で見た",
        contact="",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    code = receipt_code(response)

    [tip] = stored_tips(settings)
    assert tip.language == "ja"
    assert tip.topic is TipTopic.PERSON
    assert tip.status is TipStatus.NEW
    assert tip.received_on == FIXED_MOMENT.date()
    assert tip.receipt_hash == receipt_hash(settings.receipt_pepper, code)
    assert b"MARKER" not in tip.ciphertext + tip.sealed_key
    assert opened_fields(desk_private_key, tip) == {
        "message": "MARKER 横田めぐみさんを見ました",
        "when_where": "1990年代、平壌",
        "how_known": "自分で見た",
        "contact": "",
    }


def test_the_receipt_code_is_shown_once_and_never_stored(client: Any, settings: Settings) -> None:
    code = receipt_code(post_tip(client))
    digits = code.replace(" ", "")
    assert len(digits) == 25
    [tip] = stored_tips(settings)
    for value in (tip.sealed_key, tip.ciphertext, tip.receipt_hash):
        assert digits.encode() not in value
    # A second visit to the form shows no code.
    assert "receipt-code" not in client.get("/form/en/").get_data(as_text=True)


def test_line_breaks_count_once(client: Any, settings: Settings, desk_private_key: Any) -> None:
    response = post_tip(client, message="a\r\n" * 10_000)
    assert response.status_code == 200
    [tip] = stored_tips(settings)
    assert opened_fields(desk_private_key, tip)["message"] == "a\n" * 10_000


def test_a_message_of_20000_characters_is_accepted_even_url_encoded(
    client: Any, settings: Settings
) -> None:
    # 20,000 four-byte characters are 240 kB url-encoded: no framework limit may refuse them.
    data = {"csrf_token": form_token(client), "topic": "other", "message": "😀" * 20_000}
    response = client.post("/form/en/", data=data, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert len(stored_tips(settings)) == 1


def test_a_longer_paste_is_refused_politely_with_the_text_kept(
    client: Any, settings: Settings
) -> None:
    text = "拉" * 60_000  # 540 kB url-encoded: past Werkzeug's default 500 kB form limit
    data = {"csrf_token": form_token(client), "topic": "other", "message": text}
    response = client.post("/form/en/", data=data, content_type="application/x-www-form-urlencoded")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "60,000 characters long" in html and "20,000" in html
    assert text in html
    assert stored_tips(settings) == []


@pytest.mark.parametrize(
    ("fields", "anchor", "message"),
    [
        ({"message": "   "}, "#message", "Write your information in the box."),
        ({"topic": ""}, "#topic-0", "Choose what your information is about."),
        ({"topic": "forged"}, "#topic-0", "Choose what your information is about."),
        ({"contact": "x" * 1001}, "#contact", "Shorten it to 1,000 characters"),
        ({"how_known": "a\x00b"}, "#how_known", "null character"),
    ],
)
def test_a_validation_error_links_to_the_field_and_keeps_the_text(
    client: Any, settings: Settings, fields: dict[str, str], anchor: str, message: str
) -> None:
    typed = {"message": "MARKER-KEPT my text", "when_where": "MARKER-WHERE Niigata"}
    response = post_tip(client, **{**typed, **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"
    assert 'class="error-summary"' in html
    assert f'<a href="{anchor}">' in html and message in html
    assert "MARKER-WHERE Niigata" in html
    assert "<title>Error:" in html
    assert stored_tips(settings) == []


def test_an_error_page_is_in_the_tipsters_language(client: Any) -> None:
    html = post_tip(client, "zh-hans", message="").get_data(as_text=True)
    assert "请在框内写下您的信息。" in html
    assert '<html lang="zh-Hans">' in html


def test_a_filled_honeypot_stores_nothing_and_gives_the_form_back_empty_of_it(
    client: Any, settings: Settings
) -> None:
    response = post_tip(client, message="MARKER-BOT", homepage="http://spam.example")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "MARKER-BOT" in html
    assert "http://spam.example" not in html
    assert stored_tips(settings) == []


def test_attachments_are_sealed_and_photos_lose_their_gps(
    client: Any, settings: Settings, desk_private_key: PrivateKey
) -> None:
    files = [
        (io.BytesIO(jpeg_with_gps()), "IMG_0001 MARKER-NAME.jpg", "image/jpeg"),
        (io.BytesIO(b"notes MARKER-TEXT\n"), "notes.txt", "text/plain"),
    ]
    response = post_tip(client, attachments=files)
    assert response.status_code == 200, response.get_data(as_text=True)
    [tip] = stored_tips(settings)
    opened = [
        open_attachment(desk_private_key, tip.sealed_key, a.ciphertext) for a in tip.attachments
    ]
    assert [item.content_type for item in opened] == ["image/jpeg", "text/plain"]
    assert [item.safe_name for item in opened] == ["attachment-1.jpg", "attachment-2.txt"]
    assert b"MARKER-CAMERA-MAKER" not in opened[0].data
    assert opened[1].data == b"notes MARKER-TEXT\n"
    for attachment in tip.attachments:
        assert b"MARKER" not in attachment.ciphertext


def test_an_empty_file_input_is_not_an_attachment(client: Any, settings: Settings) -> None:
    response = post_tip(client, attachments=[(io.BytesIO(b""), "", "application/octet-stream")])
    assert response.status_code == 200
    [tip] = stored_tips(settings)
    assert tip.attachments == []


def test_a_bad_attachment_keeps_the_text_and_asks_to_attach_again(
    client: Any, settings: Settings
) -> None:
    files = [(io.BytesIO(b"MZ\x90\x00"), "photo.jpg", "image/jpeg")]
    response = post_tip(client, message="MARKER-KEPT", attachments=files)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#attachments">The content of file 1 does not match its type.' in html
    assert "attach them again" in html
    assert "MARKER-KEPT" in html
    assert stored_tips(settings) == []


def test_an_attachment_over_10_mb_is_refused_with_the_text_kept(
    client: Any, settings: Settings
) -> None:
    big = io.BytesIO(b"a" * (10 * 1024 * 1024 + 1))
    response = post_tip(client, message="MARKER-KEPT", attachments=[(big, "big.txt", "text/plain")])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "File 1 is larger than 10 MB" in html and "MARKER-KEPT" in html


@pytest.mark.parametrize(
    ("name", "declared", "build"),
    [
        ("bomb.gif", "image/gif", lambda: gif_bomb(3000, 3000, 60)),
        ("bomb.png", "image/png", lambda: apng_bomb(3000, 3000, 60)),
        ("bomb.webp", "image/webp", lambda: webp_animation(8, 8, 501)),
    ],
)
def test_a_picture_bomb_is_refused_with_the_text_kept(
    client: Any, settings: Settings, name: str, declared: str, build: Any
) -> None:
    files = [(io.BytesIO(build()), name, declared)]
    response = post_tip(client, message="MARKER-KEPT", attachments=files)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "File 1 is too large a picture for us to read." in html
    assert "MARKER-KEPT" in html
    assert stored_tips(settings) == []


def test_an_unreadable_picture_is_refused_with_the_text_kept(
    client: Any, settings: Settings
) -> None:
    files = [(io.BytesIO(png_still(64, 64, broken=True)), "photo.png", "image/png")]
    response = post_tip(client, message="MARKER-KEPT", attachments=files)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "File 1 could not be read as a picture" in html and "MARKER-KEPT" in html
    assert stored_tips(settings) == []
