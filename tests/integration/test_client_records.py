"""The pages of the client record: session notes (htmx autosave and plain submit), the
client list with search and CSV, the record page, and the audit log's three views."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, text

from portal import booking, records
from portal.extensions import db
from portal.models import AttendanceStatus, AuditAction, AuditEntry, NoteKind, Role, SessionNote
from tests.fixtures.attendance import book_past_session, finish, past
from tests.fixtures.client_portal import make_bundle
from tests.fixtures.factories import future, make_user, make_workshop
from tests.integration.test_query_counts import counted

HTMX = {"HX-Request": "true"}


@pytest.fixture
def seat(practitioner, client_user):
    return book_past_session(practitioner, [client_user], past(1)).bookings[0]


def _note_url(seat, action: str = "") -> str:
    return f"/notes/bookings/{seat.id}{action}"


def test_an_htmx_autosave_answers_the_status_fragment(client, auth, practitioner, seat):
    auth.login(practitioner)
    page = client.get(_note_url(seat)).get_data(as_text=True)
    assert 'hx-trigger="change, input changed delay:1500ms"' in page
    assert f'action="{_note_url(seat, "/draft")}"' in page

    answer = client.post(
        _note_url(seat, "/draft"), data={"kind": "free", "text": "**Tight** neck"}, headers=HTMX
    )
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert body.startswith('<p id="draft-status"') and "Draft saved at" in body
    assert "<html" not in body
    note = db.session.scalar(select(SessionNote))
    assert records.read_note(note, practitioner).sections == {"text": "**Tight** neck"}


def test_without_javascript_the_form_saves_signs_and_takes_addenda(
    client, auth, practitioner, seat
):
    auth.login(practitioner)
    saved = client.post(
        _note_url(seat, "/draft"),
        data={"kind": "soap", "subjective": "Sore", "plan": "Rest <script>x</script>"},
    )
    assert saved.status_code == 302
    page = client.get(_note_url(seat)).get_data(as_text=True)
    assert "Subjective" in page and "Sore" in page

    assert client.post(_note_url(seat, "/sign")).status_code == 302
    page = client.get(_note_url(seat)).get_data(as_text=True)
    assert "Signed note" in page and "&lt;script&gt;" in page and "<script>x" not in page
    assert 'action="' + _note_url(seat, "/draft") not in page  # locked: no draft form

    refused = client.post(_note_url(seat, "/draft"), data={"kind": "free", "text": "rewrite"})
    assert refused.status_code == 422
    assert "signed and locked" in refused.get_data(as_text=True)

    client.post(_note_url(seat, "/addenda"), data={"text": "Follow-up call went well"})
    page = client.get(_note_url(seat)).get_data(as_text=True)
    assert "Follow-up call went well" in page and practitioner.name in page


def test_a_bad_kind_changes_nothing(client, auth, practitioner, seat):
    auth.login(practitioner)
    answer = client.post(_note_url(seat, "/draft"), data={"kind": "poem", "text": "x"})
    assert answer.status_code == 422
    assert db.session.scalar(select(SessionNote)) is None


def test_staff_read_a_note_only_once_shared(client, auth, practitioner, staff_user, seat):
    note = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "Shared words"})
    auth.login(staff_user)
    assert client.get(_note_url(seat)).status_code == 404
    records.share_with_staff(note, practitioner, True)
    page = client.get(_note_url(seat))
    assert page.status_code == 200 and "Shared words" in page.get_data(as_text=True)
    # Reading is not writing.
    assert client.post(_note_url(seat, "/draft"), data={"kind": "free"}).status_code == 404


def test_the_client_sees_who_read_their_notes(client, auth, practitioner, client_user, seat):
    records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "private"})
    auth.login(practitioner)
    client.get(_note_url(seat))
    client.get(f"/clients/{client_user.id}")
    auth.logout()

    auth.login(client_user)
    page = client.get("/audit/").get_data(as_text=True)
    assert "Who read my record" in page
    assert page.count(practitioner.name) == 2
    assert "note read" in page and "client record read" in page
    assert "private" not in page
    # A client learns who read, nothing else: no booking or payment entries.
    assert "booking created" not in page


def test_the_audit_page_scopes_and_filters(client, auth, practitioner, staff_user, client_user):
    other = make_user(Role.PRACTITIONER)
    mine = make_workshop(practitioner)
    theirs = make_workshop(other)
    booking.book_workshop_seat(client_user, mine)
    booking.book_workshop_seat(client_user, theirs)

    auth.login(practitioner)
    page = client.get("/audit/").get_data(as_text=True)
    assert page.count('"What">booking created<') == 1
    assert page.count('"What">session created<') == 1
    auth.logout()

    auth.login(staff_user)
    page = client.get("/audit/").get_data(as_text=True)
    assert page.count("<tr>") - 1 == db.session.query(AuditEntry).count()
    only = client.get("/audit/?action=booking.created").get_data(as_text=True)
    assert only.count('"What">booking created<') == 2
    assert '"What">session created<' not in only
    assert client.get("/audit/?object_id=99999999999&action=nonsense").status_code == 200


_days = itertools.count(3)


def _client_world(practitioner, clients):
    """Past and coming sessions, credits and a no-show for each client."""
    day = next(_days)
    past_session = book_past_session(practitioner, clients, past(day))
    finish(past_session)
    booking.record_outcomes([past_session.id])
    coming = make_workshop(practitioner, seats=len(clients) + 1, start=future(day))
    for person in clients:
        booking.confirm_payment(booking.book_workshop_seat(person, coming))
        booking.buy_credits(person, make_bundle(practitioner, classes=2, price_cents=0))
    return past_session, coming


def test_the_client_list_shows_figures_and_its_query_count_stays_fixed(client, auth, practitioner):
    first = [make_user(name=f"Ann {n}") for n in range(2)]
    past_session, coming = _client_world(practitioner, first)
    records.save_client_file(practitioner, first[0], "", ["knees"])
    stranger = make_user(name="Nobody Else")
    booking.book_workshop_seat(stranger, make_workshop(make_user(Role.PRACTITIONER)))
    auth.login(practitioner)
    client.get("/clients/")
    with counted() as small:
        page = client.get("/clients/").get_data(as_text=True)
    assert "Ann 0" in page and "Ann 1" in page and "Nobody Else" not in page
    assert "knees" in page

    _client_world(practitioner, [make_user(name=f"Bea {n}") for n in range(8)])
    with counted() as large:
        page = client.get("/clients/").get_data(as_text=True)
    assert "Bea 7" in page
    assert len(large) == len(small)

    rows = {r.name: r for r in records.client_rows(practitioner.id)}
    ann = rows["Ann 0"]
    assert ann.last_session == past_session.start_time
    assert ann.next_session == coming.start_time
    assert ann.credits_left == 2
    assert ann.no_shows == 1  # never joined the room
    assert ann.tags == ("knees",)


def test_search_tag_filter_and_csv(client, auth, practitioner):
    people = [make_user(name="Dana Quill"), make_user(name="=cmd Evil")]
    _client_world(practitioner, people)
    records.save_client_file(practitioner, people[0], "", ["prenatal"])
    auth.login(practitioner)
    page = client.get("/clients/?q=quill").get_data(as_text=True)
    assert "Dana Quill" in page and "Evil" not in page
    page = client.get(f"/clients/?q={people[1].email.upper()}").get_data(as_text=True)
    assert "Evil" in page and "Dana" not in page
    page = client.get("/clients/?tag=prenatal").get_data(as_text=True)
    assert "Dana Quill" in page and "Evil" not in page
    assert "Dana" not in client.get("/clients/?q=%25").get_data(as_text=True)

    csv_answer = client.get("/clients/clients.csv")
    assert csv_answer.mimetype == "text/csv"
    lines = csv_answer.get_data(as_text=True).splitlines()
    assert lines[0].startswith("Name,Email,Last session")
    assert any(line.startswith("Dana Quill,") and "prenatal" in line for line in lines)
    assert any(line.startswith("'=cmd Evil") for line in lines)


def test_the_record_page_keeps_an_encrypted_about_note_and_tags(
    client, auth, practitioner, client_user, seat
):
    finish(seat.service_session)
    booking.override_outcome(seat, AttendanceStatus.ATTENDED, practitioner, reason="was there")
    records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "x"})
    auth.login(practitioner)
    saved = client.post(
        f"/clients/{client_user.id}/record",
        data={"about": "Marathon runner; asthma", "tags": "Runner, asthma ,runner"},
    )
    assert saved.status_code == 302
    page = client.get(f"/clients/{client_user.id}").get_data(as_text=True)
    assert "Marathon runner; asthma" in page and "asthma, runner" in page
    assert "Timeline" in page and "attended" in page and "Draft note" in page
    raw = db.session.execute(text("SELECT about_encrypted FROM client_records")).scalar_one()
    assert "Marathon" not in raw
    too_many = ",".join(f"t{n}" for n in range(30))
    refused = client.post(f"/clients/{client_user.id}/record", data={"tags": too_many})
    assert refused.status_code == 422 and "at most 20 tags" in refused.get_data(as_text=True)
    assert records.practitioner_tags(practitioner.id) == ["asthma", "runner"]


def test_the_record_page_query_count_stays_fixed(client, auth, practitioner, client_user):
    _client_world(practitioner, [client_user])
    auth.login(practitioner)
    url = f"/clients/{client_user.id}"
    client.get(url)
    # Both measured requests start from the same identity map: everything expired.
    db.session.expire_all()
    with counted() as small:
        client.get(url)
    for days in (15, 16, 17):
        finish(book_past_session(practitioner, [client_user], past(days)))
    booking.buy_credits(client_user, make_bundle(practitioner, classes=3, price_cents=0))
    db.session.expire_all()
    with counted() as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


def test_reading_a_record_is_audited(client, auth, practitioner, client_user, seat):
    auth.login(practitioner)
    client.get(f"/clients/{client_user.id}")
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == AuditAction.CLIENT_RECORD_READ)
    )
    assert (entry.actor_id, entry.client_id, entry.address) == (
        practitioner.id,
        client_user.id,
        "127.0.0.1",
    )


def test_the_list_shows_the_balance_due_from_the_ledger(client, auth, practitioner):
    ann, bob = make_user(name="Ann Owes"), make_user(name="Bob Paid")
    unpaid = make_workshop(practitioner, price_cents=3000, start=future(3))
    booking.book_workshop_seat(ann, unpaid)
    paid = make_workshop(practitioner, price_cents=2500, start=future(4))
    booking.confirm_payment(booking.book_workshop_seat(ann, paid))
    booking.confirm_payment(booking.book_workshop_seat(bob, paid))
    # Another practitioner's order is not this practitioner's money.
    booking.book_workshop_seat(ann, make_workshop(make_user(Role.PRACTITIONER), price_cents=900))

    rows = {r.name: r for r in records.client_rows(practitioner.id)}
    assert rows["Ann Owes"].balance_due == (("USD", 3000),)
    assert rows["Bob Paid"].balance_due == ()
    auth.login(practitioner)
    page = client.get("/clients/").get_data(as_text=True)
    assert "Balance due" in page and "$30.00" in page
    lines = client.get("/clients/clients.csv").get_data(as_text=True).splitlines()
    assert "Balance due" in lines[0]
    assert any(line.startswith("Ann Owes,") and "$30.00" in line for line in lines)
