"""A database restart, at every statement of a request: always a 503 with Retry-After
(JSON on the API, a page elsewhere), never a 500, whatever ran before the failure.

The app here has no app context held open around its requests, as under gunicorn: each
request gets its own database session and closes it at teardown, where an invalidated
connection is rolled back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text

from portal import api_tokens, database
from portal.extensions import db
from portal.models import Role
from tests.fixtures.app import make_app
from tests.fixtures.database import postgres_url
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.outage import Outage

PASSWORD = "correct horse battery"


@pytest.fixture
def world(database_url, tmp_path):
    # Production answers a bug with the 500 page, not a traceback in the test run.
    app = make_app(
        database_url, PROPAGATE_EXCEPTIONS=False, PORTAL_MAIL_OUTBOX_DIR=str(tmp_path / "mail")
    )
    with app.app_context():
        practitioner = make_user(Role.PRACTITIONER)
        client = make_user(Role.CLIENT)
        session = make_workshop(practitioner)
        token = api_tokens.issue_token(client, "tests")[1]
        world = {
            "app": app,
            "client_email": client.email,
            "practitioner_email": practitioner.email,
            "service_id": session.service_id,
            "session_id": session.id,
            "token": token,
        }
        db.session.commit()
        engine = db.engine
    world["outage"] = Outage(engine)
    yield world
    engine.dispose()


def signed_in(world, email: str):
    browser = world["app"].test_client()
    answer = browser.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 302
    return browser


def requests_of(world):
    """(name, test client, method, path, keyword arguments, answered in JSON)."""
    anonymous = world["app"].test_client()
    client = signed_in(world, world["client_email"])
    practitioner = signed_in(world, world["practitioner_email"])
    bearer = {"Authorization": f"Bearer {world['token']}"}
    login = {"email": world["client_email"], "password": PASSWORD}
    order = {"service_id": world["service_id"], "service_session_id": world["session_id"]}
    return [
        ("home, anonymous", anonymous, "GET", "/", {}, False),
        ("sign in", anonymous, "POST", "/auth/login", {"data": login}, False),
        ("my bookings", client, "GET", "/bookings/", {}, False),
        ("a workshop page", client, "GET", f"/book/services/{world['service_id']}", {}, False),
        ("attendance", practitioner, "GET", "/attendance/", {}, False),
        ("an unknown page", client, "GET", "/no/such/page", {}, False),
        ("api session", anonymous, "GET", f"/api/v1/sessions/{world['session_id']}",
         {"headers": bearer}, True),
        ("api order", anonymous, "POST", "/api/v1/orders", {"headers": bearer, "json": order},
         True),
    ]  # fmt: skip


def test_every_request_during_a_restart_is_a_503_with_retry_after(world):
    outage = world["outage"]
    failures = []
    for name, browser, method, path, kwargs, json in requests_of(world):
        with outage.counting():
            browser.open(path, method=method, **kwargs)
        statements = outage.statements
        assert statements > 0, name
        for n in range(statements + 1):
            with outage.at_statement(n):
                try:
                    response = browser.open(path, method=method, **kwargs)
                except Exception as escaped:  # gunicorn would answer its bare 500
                    failures.append((name, n, type(escaped).__name__))
                    continue
            if not outage.down:
                continue  # this time the request ran fewer statements (a write done once)
            if response.status_code != 503:
                failures.append((name, n, response.status_code))
                continue
            assert response.headers["Retry-After"] == "5", name
            assert response.headers["Cache-Control"] == "no-store", name
            if json:
                assert response.mimetype == "application/json", name
                assert response.get_json()["error"]["code"] == "database_unavailable"
            else:
                assert response.mimetype == "text/html", name
                assert "Briefly unavailable" in response.get_data(as_text=True), name
    assert failures == []


def test_service_resumes_after_the_restart(world):
    """The connections the outage broke are replaced: the next requests are served."""
    outage = world["outage"]
    client = signed_in(world, world["client_email"])
    for n in range(3):
        with outage.at_statement(n):
            assert client.get("/bookings/").status_code == 503
        assert client.get("/bookings/").status_code == 200


def _kill_pooled_connections(world, make_request) -> None:
    """Serve one request on fresh connections, then end each of them on the server, as a
    restart does while they sit in the pool."""
    engine = world["outage"].engine
    engine.dispose()
    pids: list[int] = []

    def remember(dbapi_connection, _record):
        pids.append(dbapi_connection.info.backend_pid)

    event.listen(engine, "connect", remember)
    try:
        assert make_request().status_code == 200
    finally:
        event.remove(engine, "connect", remember)
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()


@pytest.mark.skipif(postgres_url() is None, reason="SQLite has no connection to lose")
def test_an_idle_connection_a_restart_broke_is_replaced_before_a_request_uses_it(
    world, monkeypatch
):
    """No round trip per request (#19), yet a connection that sat idle is pinged first."""
    client = signed_in(world, world["client_email"])
    _kill_pooled_connections(world, lambda: client.get("/bookings/"))
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)
    assert client.get("/bookings/").status_code == 200


@pytest.mark.skipif(postgres_url() is None, reason="SQLite has no connection to lose")
def test_a_connection_a_restart_ended_is_replaced_at_once_and_a_live_one_is_not_pinged(
    world, monkeypatch
):
    """A restart's backends say so before they close: the socket of a pooled connection
    reads as ready, and that alone makes the pool ping it, however short its idle."""
    client = signed_in(world, world["client_email"])
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 3600.0)
    _kill_pooled_connections(world, lambda: client.get("/bookings/"))
    assert client.get("/bookings/").status_code == 200
    pings: list[object] = []
    dialect = world["outage"].engine.dialect
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn))
    for _ in range(3):
        assert client.get("/bookings/").status_code == 200
    assert pings == []
