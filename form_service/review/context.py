"""The desk's language and the template context of its pages."""

from __future__ import annotations

from typing import Any

from flask import g, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from form_service.frame import Alternate, frame_context
from form_service.models import SessionStage, StaffRole
from form_service.review.labels import (
    CHANGE_LABELS,
    FIELD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    TOPIC_LABELS,
)
from form_service.review.state import desk

DESK_LANGUAGES = ("en", "ja")


def select_locale() -> str:
    """Pick the staff member's saved language, then the session's, then Accept-Language."""
    staff = g.get("staff")
    if staff is not None and staff.language in DESK_LANGUAGES:
        return str(staff.language)
    chosen = session.get("lang")
    if chosen in DESK_LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(DESK_LANGUAGES) or DESK_LANGUAGES[0]


def page_context() -> dict[str, Any]:
    """Build the variables base.html expects, plus who is signed in."""
    locale = str(get_locale() or "en")
    languages = [item for item in desk().languages if item.code in DESK_LANGUAGES]
    current = next((item for item in languages if item.code == locale), languages[0])
    here = request.full_path.rstrip("?") if request.endpoint else "/"
    staff = g.get("staff") if g.get("stage") == SessionStage.SIGNED_IN else None
    context = frame_context(
        language=current,
        # Links for the language switcher only: the desk is never indexed, so it offers no
        # hreflang alternates (they would point at the cookie-setting language switch).
        alternates=[
            Alternate(
                item,
                url=None,
                href=url_for("review.set_language", code=item.code, next=here),
                current=item == current,
            )
            for item in languages
        ],
        description=_("The staff desk of the Request for Information service: staff only."),
        robots="noindex, nofollow",
        # The theme's own fingerprinted stylesheet, which nginx serves long-cached and
        # precompressed on the desk's listener too (the desk app serves no static files).
        stylesheet=desk().stylesheet_url,
    )
    context.update(
        signed_in=staff,
        is_admin=staff is not None and staff.role == StaffRole.ADMIN,
        status_labels=STATUS_LABELS,
        topic_labels=TOPIC_LABELS,
        field_labels=FIELD_LABELS,
        change_labels=CHANGE_LABELS,
        role_labels=ROLE_LABELS,
    )
    return context


def dict_without(values: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a copy of a dict without one key (for paging links that keep the filters)."""
    return {name: value for name, value in values.items() if name != key}
