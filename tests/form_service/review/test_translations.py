"""The desk speaks English and Japanese: Accept-Language, a switch, a saved preference.

A behaviour suite over the desk's catalog, pages and forms (no single module), so it keeps
a behaviour name.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.models import Staff
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import sign_in

CATALOG = Path(__file__).parents[3] / "form_service/translations/ja/LC_MESSAGES"


def test_accept_language_picks_japanese(review_client: FlaskClient) -> None:
    page = review_client.get("/sign-in", headers={"Accept-Language": "ja,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "メールアドレス" in html and "サインイン" in html


def test_english_is_the_default(review_client: FlaskClient) -> None:
    html = review_client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in html and "E-mail address" in html


def test_the_switch_changes_language_and_is_saved_for_the_staff_member(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    make_tip(db, desk_private_key)
    sign_in(review_client, db, account)
    switch = re.search(
        r'href="(/language/ja\?next=[^"]*)"', review_client.get("/").get_data(as_text=True)
    )
    assert switch
    response = review_client.get(switch.group(1).replace("&amp;", "&"))
    assert response.headers["Location"] == "/"
    html = review_client.get("/").get_data(as_text=True)
    assert "受信一覧" in html and "状態別の件数" in html
    db.expire_all()
    assert db.get(Staff, account.staff_id).language == "ja"  # type: ignore[union-attr]


def test_every_desk_string_has_a_japanese_translation() -> None:
    po = (CATALOG / "desk.po").read_text(encoding="utf-8")
    assert 'msgstr ""\n\n' not in po.split("\n\n", 1)[1]
    assert 'msgstr[0] ""' not in po


def test_form_choices_are_translated_too(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    sign_in(review_client, db, make_staff(db, desk_private_key))
    html = review_client.get(f"/tips/{tip.tip_id}", headers={"Accept-Language": "ja"}).get_data(
        as_text=True
    )
    assert '<option selected value="new">新規</option>' in html
    assert ">仕分け済み</option>" in html
