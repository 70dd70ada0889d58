"""Replies to tipsters (on the tip page) and the reply templates admins keep per language."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from form_service.models import ReplyTemplate, Tip
from form_service.review import audit, replies
from form_service.review.forms import ReplyForm, ReplyTemplateForm
from form_service.review.state import current_staff, db, desk
from form_service.review.views import bp


@bp.route("/tips/<int:tip_id>/replies", methods=["POST"])
def send_reply(tip_id: int) -> ResponseReturnValue:
    """Seal a reply to the tipster and to the desk; the audit log notes it, not its text."""
    tip = db().get(Tip, tip_id) or abort(404)
    form = ReplyForm()
    if not form.validate_on_submit():
        flash(_("Write the reply first (at most 10,000 characters)."), "error")
        return redirect(url_for("review.show_tip", tip_id=tip_id))
    try:
        replies.send_reply(
            db(),
            tip,
            current_staff(),
            desk().private_key,
            form.reply_text.data,
            desk().clock.today(),
        )
    except replies.NoReplyKey:
        db().rollback()
        flash(
            _("This tipster has not come back with the code yet, so no reply can reach them."),
            "error",
        )
        return redirect(url_for("review.show_tip", tip_id=tip_id))
    db().commit()
    flash(_("Reply sent. The tipster sees it when they check with their code."), "info")
    return redirect(url_for("review.show_tip", tip_id=tip_id) + "#conversation-heading")


@bp.route("/reply-templates", methods=["GET", "POST"])
def reply_templates() -> ResponseReturnValue:
    """List the reply templates and add one (admins)."""
    form = ReplyTemplateForm()
    form.language.choices = [(item.code, item.name) for item in desk().languages]
    if form.validate_on_submit():
        template = ReplyTemplate(
            language=form.language.data, title=form.title.data, body=form.body.data
        )
        db().add(template)
        db().flush()
        audit.record(
            db(), current_staff().email, "reply_template.add", template_id=template.template_id
        )
        db().commit()
        flash(_("Saved."), "info")
        return redirect(url_for("review.reply_templates"))
    return render_template(
        "review/reply_templates.html", form=form, templates=replies.all_templates(db())
    )


@bp.route("/reply-templates/<int:template_id>/delete", methods=["POST"])
def delete_reply_template(template_id: int) -> ResponseReturnValue:
    """Delete one reply template (admins)."""
    template = db().get(ReplyTemplate, template_id) or abort(404)
    # CSRFProtect has checked the token of this post before the view runs.
    db().delete(template)
    audit.record(db(), current_staff().email, "reply_template.delete", template_id=template_id)
    db().commit()
    flash(_("Deleted."), "info")
    return redirect(url_for("review.reply_templates"))
