"""iCalendar events for sessions, shared by the calendar feeds and the email invites.

Both must name a session's event the same way (UID) and count its changes the same way
(SEQUENCE = the session's revision), or a calendar client would show the invite and the
subscription as two events, or ignore an update as stale.
"""

from __future__ import annotations

from icalendar import Calendar, Event

from .models import ServiceSession

UID_DOMAIN = "estuary-portal"


def session_uid(session: ServiceSession) -> str:
    """Stable for the life of the session, so updates replace the same event."""
    return f"service-session-{session.id}@{UID_DOMAIN}"


def new_calendar(method: str | None, product: str) -> Calendar:
    """`method` None for an event stored in someone's calendar: RFC 4791 forbids METHOD
    in a CalDAV calendar object (it is for invitations and published feeds)."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Estuary Portal//{product}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    return calendar


def session_event(session: ServiceSession, *, canceled: bool, description: str) -> Event:
    """The session as an event in its own timezone, at its current revision."""
    zone = session.zone
    event = Event()
    event.add("uid", session_uid(session))
    event.add("summary", session.display_title)
    event.add("description", description)
    event.add("dtstart", session.start_time.astimezone(zone))
    event.add("dtend", session.end_time.astimezone(zone))
    event.add("dtstamp", session.updated_at)
    event.add("last-modified", session.updated_at)
    event.add("created", session.created_at)
    event.add("sequence", session.revision)
    event.add("status", "CANCELLED" if canceled else "CONFIRMED")
    return event
