"""Probes, outage answers, request ids, JSON logs and metrics (portal/ops/)."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from portal.extensions import db
from portal.models import Role
from portal.ops.logs import configure_logging
from portal.ops.metrics import DatabaseCollector
from tests.fixtures.app import make_app
from tests.fixtures.database import postgres_url
from tests.fixtures.factories import make_user, make_workshop

# Nothing listens on port 9 (discard) here: connecting is refused at once, as when the
# database server is restarting.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/portal"


def samples(client, name: str, token: str | None = None) -> dict[tuple, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
        if s.name == name
    }


# -- probes


def test_healthz_and_readyz_on_a_migrated_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok", "migrations": "head"}
    assert ready.headers["Cache-Control"] == "no-store"


def test_readyz_refuses_a_database_behind_the_migrations(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}")
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["migrations"] == "behind"
    assert ready.get_json()["applied"] == []


def test_readyz_and_healthz_when_the_database_is_down():
    app = make_app(UNREACHABLE)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process itself is fine
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "database": "unreachable"}


# -- a database outage


def test_an_outage_is_a_json_503_with_retry_after_on_the_api():
    client = make_app(UNREACHABLE).test_client()
    response = client.get(
        "/api/v1/sessions/1",
        headers={"Authorization": "Bearer est_abcdefgh_0123456789", "X-Request-ID": "trace-42"},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable"
    assert error["request_id"] == "trace-42" == response.headers["X-Request-ID"]


def test_an_outage_is_a_friendly_503_page_elsewhere():
    client = make_app(UNREACHABLE).test_client()
    response = client.post("/auth/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Briefly unavailable" in page and "try again" in page
    assert response.headers["X-Request-ID"] in page
    assert "Traceback" not in page and "psycopg" not in page


@pytest.mark.skipif(postgres_url() is None, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_service_resumes_by_itself_after_the_server_drops_every_connection(app, client):
    """A PostgreSQL restart ends every pooled connection; the next request must not fail."""
    email = make_user().email
    assert client.get("/readyz").status_code == 200
    db.session.remove()
    with db.engine.connect() as conn:  # the pooled connection the next request will get
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    assert client.get("/readyz").status_code == 200
    response = client.post("/auth/login", data={"email": email, "password": "wrong"})
    assert response.status_code == 200


def test_an_unexpected_error_is_a_500_with_the_request_id(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    page = client.get("/boom", headers={"X-Request-ID": "bug-1"})
    assert page.status_code == 500
    assert "bug-1" in page.get_data(as_text=True)
    assert "a bug" not in page.get_data(as_text=True)
    api = client.get("/api/boom", headers={"X-Request-ID": "bug-2"})
    assert api.status_code == 500
    assert api.get_json()["error"]["code"] == "internal_error"
    assert api.get_json()["error"]["request_id"] == "bug-2"


# -- request ids


def test_a_request_id_is_echoed_when_sensible_and_made_otherwise(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.1"}).headers["X-Request-ID"]
        == "lb-7f3a.1"
    )
    for hostile in ("has space", "x" * 129, "new\\nline", "<script>"):
        made = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert made != hostile and len(made) == 32
    first = client.get("/healthz").headers["X-Request-ID"]
    assert first != client.get("/healthz").headers["X-Request-ID"]


def test_error_pages_show_the_request_id(client):
    response = client.get("/no/such/page", headers={"X-Request-ID": "find-me-99"})
    assert response.status_code == 404
    assert "find-me-99" in response.get_data(as_text=True)


def test_json_logs_carry_the_request_id(app, capsys):
    root = logging.getLogger()
    level = root.level
    configure_logging("json", "INFO")
    try:

        @app.get("/speak")
        def speak():
            logging.getLogger("portal.test").info("booked %s", "a seat")
            return "ok"

        app.test_client().get("/speak", headers={"X-Request-ID": "log-me-1"})
    finally:
        for handler in [h for h in root.handlers if getattr(h, "portal_handler", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    line = next(entry for entry in lines if entry["message"] == "booked a seat")
    assert line["request_id"] == "log-me-1"
    assert line["level"] == "INFO" and line["logger"] == "portal.test"


# -- metrics


def test_requests_are_counted_by_endpoint_and_status(client):
    before = samples(client, "portal_http_requests_total")
    key = (("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200"))
    client.get("/healthz")
    client.get("/healthz")
    after = samples(client, "portal_http_requests_total")
    assert after[key] - before.get(key, 0) == 2
    latency = samples(client, "portal_http_request_duration_seconds_count")
    assert latency[(("endpoint", "ops.healthz"),)] >= 2


def test_made_up_methods_share_one_series(client):
    before = samples(client, "portal_http_requests_total")
    for n in range(300):
        assert client.open("/healthz", method=f"X{n}").status_code == 405
        client.open("/no/such/page", method=f"PROBE{n}")
    after = samples(client, "portal_http_requests_total")
    new_series = set(after) - set(before)
    assert {dict(labels)["method"] for labels in new_series} <= {"other", "GET"}
    assert len(new_series) <= 3  # this test's two 405s and 404s, and /metrics itself
    other = (("endpoint", "unmatched"), ("method", "other"), ("status", "405"))
    assert after[other] - before.get(other, 0) == 300


def test_seat_purchases_and_refusals_are_counted(client, api_as):
    session = make_workshop(make_user(Role.PRACTITIONER), seats=1)
    buyers = [make_user(), make_user()]
    body = {"service_id": session.service_id, "service_session_id": session.id}
    seats = samples(client, "portal_seat_purchases_total").get((), 0)
    full = (("code", "session_full"),)
    refused = samples(client, "portal_refusals_total").get(full, 0)

    assert api_as(buyers[0]).post("/api/v1/orders", json=body).status_code == 201
    assert api_as(buyers[1]).post("/api/v1/orders", json=body).status_code == 409

    assert samples(client, "portal_seat_purchases_total")[()] - seats == 1
    assert samples(client, "portal_refusals_total")[full] - refused == 1


def test_the_outbox_backlog_is_read_from_its_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    assert list(DatabaseCollector(engine).collect()) == []  # no table yet: no figure
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notifications (status TEXT, created_at TIMESTAMP)"))
        conn.execute(
            text(
                "INSERT INTO notifications VALUES ('pending', '2020-01-01 00:00:00.000000'), "
                "('pending', '2030-01-01 00:00:00.000000'), ('sent', '2019-01-01 00:00:00')"
            )
        )
    figures = {f.name: f.samples[0].value for f in DatabaseCollector(engine).collect()}
    engine.dispose()
    assert figures["portal_outbox_backlog"] == 2
    assert figures["portal_outbox_oldest_pending_seconds"] > 5 * 365 * 86400


class TestMetricsToken:
    @pytest.fixture
    def app_config(self):
        return {"PORTAL_METRICS_TOKEN": "scrape-secret"}

    def test_metrics_need_the_token_when_one_is_set(self, client):
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert samples(client, "portal_http_requests_total", token="scrape-secret")


def test_the_outbox_backlog_is_on_metrics(client):
    """The notification outbox's table exists: every scrape reads its backlog."""
    assert samples(client, "portal_outbox_backlog") == {(): 0.0}
