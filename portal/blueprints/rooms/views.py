from flask import abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import booking
from ...extensions import db
from ...livekit import join_token, video_configured
from ...models import ServiceSession
from . import bp


def _load_session(session_id: int) -> ServiceSession:
    """The session, or 404: who may enter its room is booking.check_can_join's to say."""
    session = db.session.scalar(
        select(ServiceSession)
        .where(ServiceSession.id == session_id)
        .options(joinedload(ServiceSession.service), joinedload(ServiceSession.practitioner))
    )
    if session is None:
        abort(404)
    return session


@bp.route("/sessions/<int:session_id>/join")
@login_required
def join(session_id: int):
    session = _load_session(session_id)
    try:
        booking.check_can_join(session, current_user)
    except booking.JoinRefused as refusal:
        page = render_template("rooms/refused.html", session=session, refusal=refusal)
        return page, 403
    context = {"session": session, "configured": video_configured()}
    if context["configured"]:
        context["livekit_url"] = current_app.config["LIVEKIT_URL"]
        context["token"] = join_token(session, current_user)
    response = current_app.make_response(render_template("rooms/join.html", **context))
    # The page carries a bearer token: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response
