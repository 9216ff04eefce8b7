"""Intake forms sent by email before the first session: one link per client and form,
however often the job runs; one reminder 24 hours before if still unanswered; none once
answered. The link is signed, expires and works once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import booking, records
from portal.extensions import db
from portal.models import (
    IntakeDelivery,
    IntakeRequest,
    ItemKind,
    Notification,
    NotificationKind,
    ServiceType,
)
from portal.notifications.messages import load_subjects, render, skip_reason
from portal.records.intake_requests import link_token
from tests.fixtures.factories import future, make_service, open_all_week


@pytest.fixture
def booked(practitioner, client_user):
    open_all_week(practitioner)
    service = make_service(practitioner, ServiceType.INDIVIDUAL, price_cents=0)
    form = records.create_form(
        practitioner,
        title="Nutrition history",
        delivery=IntakeDelivery.BY_EMAIL,
        required=True,
        items=[records.Item(key="", kind=ItemKind.LONG_TEXT, label="What do you eat?")],
        service_ids=[service.id],
    )
    start = future(days=3)
    order = booking.book_individual_session(client_user, service, start)
    booking.book_individual_session(client_user, service, start + timedelta(days=1))
    return form, order.bookings[0], start


def _messages():
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.kind == NotificationKind.INTAKE_FORM_REQUESTED)
            .order_by(Notification.id)
        )
    )


def test_the_link_goes_once_for_the_first_session(booked, client_user):
    form, first, _start = booked
    assert records.queue_intake_requests() == 1
    assert records.queue_intake_requests() == 0
    (message,) = _messages()
    assert message.user_id == client_user.id
    assert message.payload["booking_id"] == first.id
    assert "/intake/answer/" in message.payload["url"]
    rendered = render(message, load_subjects(message))
    assert "Nutrition history" in rendered.subject
    assert message.payload["url"] in rendered.text


def test_one_reminder_24_hours_before_while_unanswered(booked):
    _form, _first, start = booked
    records.queue_intake_requests()
    assert records.queue_intake_reminders() == 0
    day_before = start - timedelta(hours=23)
    assert records.queue_intake_reminders(day_before) == 1
    assert records.queue_intake_reminders(day_before) == 0
    sent, reminder = _messages()
    assert reminder.payload["reminder"] is True
    # A fresh link: the first one may have expired by then.
    assert reminder.payload["request_id"] == sent.payload["request_id"]


def test_an_answered_form_gets_no_reminder_and_its_link_is_spent(booked, client_user):
    form, _first, start = booked
    records.queue_intake_requests()
    request = db.session.scalar(select(IntakeRequest))
    (item,) = records.items_of(form.current)
    records.answer_by_link(request, records.Answers(form.current, {item.key: "Mostly rice"}))
    (message,) = _messages()
    assert skip_reason(message, load_subjects(message)) == "the form is answered"
    assert records.queue_intake_reminders(start - timedelta(hours=23)) == 0
    with pytest.raises(booking.InvalidTransition):
        records.answer_by_link(request, records.Answers(form.current, {item.key: "again"}))


def test_the_link_expires(app, booked):
    records.queue_intake_requests()
    request = db.session.scalar(select(IntakeRequest))
    token = link_token(request)
    assert records.request_for_token(token) == request
    assert records.request_for_token(token + "x") is None
    # Older than the age a link may have (any age is, past -1 seconds).
    app.config["PORTAL_INTAKE_LINK_MAX_AGE"] = -1
    assert records.request_for_token(token) is None


def test_a_client_who_answered_while_booking_is_not_sent_the_link(booked, client_user):
    form, first, _start = booked
    (item,) = records.items_of(form.current)
    records.submit_answers(
        client_user, records.Answers(form.current, {item.key: "Soup"}), booking_id=first.id
    )
    assert records.queue_intake_requests() == 0
