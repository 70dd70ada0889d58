"""Give the theme's base.html what it needs on desk pages, and choose the desk's language."""

from __future__ import annotations

from typing import Any

from flask import g, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from form_service.languages import Language, load_languages
from form_service.review.forms import STATUS_LABELS, TOPIC_LABELS
from form_service.review.web import desk
from form_service.staff import StaffRole

DESK_LANGUAGES = ("en", "ja")
# Names of the fields the intake seals into a tip (form_service.intake.forms.TipForm).
FIELD_LABELS = {
    "message": _l("Information"),
    "when_where": _l("When and where"),
    "how_known": _l("How they know"),
    "contact": _l("How to reach them"),
}
CHANGE_LABELS = {
    "status": _l("Status"),
    "assignee": _l("Assigned to"),
    "label+": _l("Label added"),
    "label-": _l("Label removed"),
    "note": _l("Note added"),
}


def select_locale() -> str:
    """Pick the staff member's saved language, then the session's, then Accept-Language."""
    staff = g.get("staff")
    if staff is not None and staff.language in DESK_LANGUAGES:
        return str(staff.language)
    chosen = session.get("lang")
    if chosen in DESK_LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(DESK_LANGUAGES) or DESK_LANGUAGES[0]


def desk_languages() -> tuple[Language, ...]:
    """Return the site's languages (tips arrive in any of them), from the theme."""
    return load_languages(desk().settings.theme_dir)


def page_context() -> dict[str, Any]:
    """Build the variables base.html expects, plus who is signed in."""
    locale = str(get_locale() or "en")
    languages = [item for item in desk_languages() if item.code in DESK_LANGUAGES]
    here = request.full_path.rstrip("?") if request.endpoint else "/"
    staff = g.get("staff") if g.get("stage") == "signed_in" else None
    return {
        "page_lang": next((item.html_lang for item in languages if item.code == locale), "en"),
        "lang_code": locale,
        "alternates": [
            {
                "code": item.code,
                "html_lang": item.html_lang,
                "name": item.name,
                "url": url_for("review.set_language", code=item.code, next=here),
            }
            for item in languages
        ],
        "robots": "noindex, nofollow",
        "theme_url": "/theme",
        "stylesheet_url": url_for("review.stylesheet"),
        "site_root": "",
        "signed_in": staff,
        "is_admin": staff is not None and staff.role == StaffRole.ADMIN,
        "status_labels": STATUS_LABELS,
        "topic_labels": TOPIC_LABELS,
        "field_labels": FIELD_LABELS,
        "change_labels": CHANGE_LABELS,
    }


def dict_without(values: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a copy of a dict without one key (for paging links that keep the filters)."""
    return {name: value for name, value in values.items() if name != key}
