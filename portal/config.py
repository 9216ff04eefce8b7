"""Configuration read from the environment, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def load_or_create_secret_key(instance_path: str) -> str:
    """A per-install secret kept in the instance folder, so no key ever lives in the code."""
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting together must agree on one key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def build_config(instance_path: str) -> dict:
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "portal.db")
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        # None until create_app: it refuses a shared database without one (portal/ops/checks.py)
        # and otherwise keeps a generated one in the instance folder.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No pool_pre_ping: it costs a round trip on every request; configure_engine pings
        # only a connection in doubt (database.ping_idle_connections, #19).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "LIVEKIT_URL": os.environ.get("LIVEKIT_URL", ""),
        "LIVEKIT_API_KEY": os.environ.get("LIVEKIT_API_KEY", ""),
        "LIVEKIT_API_SECRET": os.environ.get("LIVEKIT_API_SECRET", ""),
        # The video room opens, and "Join" shows, this many minutes before a session starts.
        "PORTAL_JOIN_MINUTES_BEFORE": _env_int("PORTAL_JOIN_MINUTES_BEFORE", 10),
        # A join token only has to outlive the click on "Join"; LiveKit refreshes it after.
        "PORTAL_JOIN_TOKEN_TTL_MINUTES": _env_int("PORTAL_JOIN_TOKEN_TTL_MINUTES", 15),
        # How long an unpaid order keeps its seats.
        "PORTAL_HOLD_MINUTES": _env_int("PORTAL_HOLD_MINUTES", 15),
        # How long a seat offered to the next client on a waitlist stays held for them.
        "PORTAL_WAITLIST_OFFER_MINUTES": _env_int("PORTAL_WAITLIST_OFFER_MINUTES", 120),
        # The payment provider new orders use (see portal/booking/payment_providers.py).
        # Stripe's secret key switches card payments on: new orders then go to Stripe.
        "PORTAL_PAYMENT_PROVIDER": os.environ.get("PORTAL_PAYMENT_PROVIDER")
        or ("stripe" if os.environ.get("STRIPE_SECRET_KEY") else "manual"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        # The signing secret of the webhook endpoint (/webhooks/stripe) in Stripe's dashboard.
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # Another address for Stripe's API (a local test server); empty: Stripe's own.
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        # Stripe Connect: each practitioner connects their own Stripe account, and their
        # orders are charged on it (direct charges), less the installation's fee below.
        "PORTAL_STRIPE_CONNECT": _env_bool("PORTAL_STRIPE_CONNECT", False),
        # The installation's cut of each payment on a connected account, in percent.
        "PORTAL_STRIPE_APPLICATION_FEE_PERCENT": os.environ.get(
            "PORTAL_STRIPE_APPLICATION_FEE_PERCENT", "0"
        ),
        # SQLite waits this long for the write lock before giving up.
        "PORTAL_SQLITE_BUSY_TIMEOUT_MS": _env_int("PORTAL_SQLITE_BUSY_TIMEOUT_MS", 30_000),
        # Attendance: total room time that counts as attended (1 = any join), how long
        # after its end a session without room_finished is completed by mark-attendance,
        # and the slack before a join is "late" or a leave "early".
        "PORTAL_ATTENDANCE_MIN_SECONDS": _env_int("PORTAL_ATTENDANCE_MIN_SECONDS", 1),
        "PORTAL_ATTENDANCE_GRACE_MINUTES": _env_int("PORTAL_ATTENDANCE_GRACE_MINUTES", 60),
        "PORTAL_ATTENDANCE_SLACK_MINUTES": _env_int("PORTAL_ATTENDANCE_SLACK_MINUTES", 5),
        # A room finishing this close to its session's end (or later) completes the session;
        # one finishing sooner (a camera check before the start, everyone dropping) leaves
        # it running, as LiveKit opens the room again when someone comes back.
        "PORTAL_ROOM_FINISH_GRACE_MINUTES": _env_int("PORTAL_ROOM_FINISH_GRACE_MINUTES", 15),
        # Applied LiveKit event ids are kept this many days, then pruned by
        # prune-room-events. LiveKit retries a failed delivery for minutes, not days, so
        # 30 days is ample: it also covers a webhook outage and leaves time to look into one.
        "PORTAL_ROOM_EVENT_RETENTION_DAYS": _env_int("PORTAL_ROOM_EVENT_RETENTION_DAYS", 30),
        # A room event more than this many hours before a session's start or after its end
        # belongs to another occasion (a stale room of the same name, a clock far off):
        # it neither moves the session nor counts as attendance.
        "PORTAL_ROOM_EVENT_MARGIN_HOURS": _env_int("PORTAL_ROOM_EVENT_MARGIN_HOURS", 12),
        # Links in messages point here (the worker has no request to take a host from).
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000"),
        # Flask-Mail's settings. Without MAIL_SERVER nothing is sent: each message is kept
        # in PORTAL_MAIL_OUTBOX_DIR and shown to staff on the outbox page.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "Estuary Portal <portal@estuary.invalid>"
        ),
        # Practitioners' photos, resized by the portal: outside the web root, served by a route.
        "PORTAL_MEDIA_DIR": os.environ.get("PORTAL_MEDIA_DIR", str(Path(instance_path) / "media")),
        "PORTAL_PHOTO_MAX_BYTES": _env_int("PORTAL_PHOTO_MAX_BYTES", 5 * 1024 * 1024),
        # Data exports (GDPR art. 15/20) wait here, outside the web root, until downloaded
        # once through the emailed link, which works this many seconds.
        "PORTAL_EXPORT_DIR": os.environ.get(
            "PORTAL_EXPORT_DIR", str(Path(instance_path) / "exports")
        ),
        "PORTAL_EXPORT_LINK_MAX_AGE": _env_int("PORTAL_EXPORT_LINK_MAX_AGE", 7 * 86_400),
        # Days between asking to delete an account and its erasure: the owner may cancel.
        "PORTAL_ERASURE_GRACE_DAYS": _env_int("PORTAL_ERASURE_GRACE_DAYS", 14),
        # Session notes and client records are deleted this many years after the client's
        # last session with that practitioner (0 keeps them).
        "PORTAL_RETENTION_NOTES_YEARS": _env_int("PORTAL_RETENTION_NOTES_YEARS", 0),
        # An intake form's file answers (all of one submit together), stored encrypted.
        "PORTAL_INTAKE_UPLOAD_MAX_BYTES": _env_int(
            "PORTAL_INTAKE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024
        ),
        # How long an emailed intake link works (the reminder sends a fresh one).
        "PORTAL_INTAKE_LINK_MAX_AGE": _env_int("PORTAL_INTAKE_LINK_MAX_AGE", 14 * 24 * 3600),
        "PORTAL_MAIL_OUTBOX_DIR": os.environ.get(
            "PORTAL_MAIL_OUTBOX_DIR", str(Path(instance_path) / "outbox")
        ),
        # The worker's queue: an SQLite file by default (no server to run); Redis or
        # PostgreSQL when several workers on several machines share one queue.
        "PORTAL_WORKER_QUEUE_URL": os.environ.get("PORTAL_WORKER_QUEUE_URL")
        or os.environ.get("REDIS_URL")
        or "sqlite:///" + str(Path(instance_path) / "worker-queue.db"),
        "PORTAL_WORKER_THREADS": _env_int("PORTAL_WORKER_THREADS", 2),
        # Messages one worker claims at a time, and how long it may hold them before
        # another worker takes them over (a worker that died holds them no longer).
        "PORTAL_WORKER_BATCH": _env_int("PORTAL_WORKER_BATCH", 50),
        "PORTAL_WORKER_LEASE_SECONDS": _env_int("PORTAL_WORKER_LEASE_SECONDS", 300),
        # A failed delivery is retried after 30 s, 1 min, 2 min... and given up after
        # this many tries (staff can resend it from the outbox page).
        "PORTAL_WORKER_RETRY_SECONDS": _env_int("PORTAL_WORKER_RETRY_SECONDS", 30),
        "PORTAL_WORKER_MAX_ATTEMPTS": _env_int("PORTAL_WORKER_MAX_ATTEMPTS", 8),
        # Clients hear this many days ahead that paid credits they have not used expire.
        "PORTAL_CREDITS_EXPIRING_DAYS": _env_int("PORTAL_CREDITS_EXPIRING_DAYS", 7),
        # Every worker and instance must count in one place, or each grants the whole limit.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI")
        or os.environ.get("REDIS_URL")
        or "memory://",
        # A moving window: a fixed one lets twice the limit through around its boundary
        # (ten sign-in tries at 12:00:59 and ten more at 12:01:00).
        "RATELIMIT_STRATEGY": "moving-window",
        # Keeps this portal's counters apart from other users of the same Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "portal"),
        # The limits keep working (per process) while Redis is away, rather than every
        # request failing with it.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Reverse proxies in front of the portal whose X-Forwarded-For/-Proto are to be
        # believed (0: none, so no client can pick its own address for the limits).
        "PORTAL_TRUSTED_PROXIES": _env_int("PORTAL_TRUSTED_PROXIES", 0),
        # "json": one JSON object per log line (production); "text": a line for people;
        # empty: logging left as Python and Flask set it up (development, tests).
        "PORTAL_LOG_FORMAT": os.environ.get("PORTAL_LOG_FORMAT", ""),
        "PORTAL_LOG_LEVEL": os.environ.get("PORTAL_LOG_LEVEL", "INFO"),
        # Where `flask build-static` wrote the content-hashed, compressed static files;
        # empty serves portal/static as it is (development).
        "PORTAL_STATIC_BUILD_DIR": os.environ.get("PORTAL_STATIC_BUILD_DIR", ""),
        # When set, GET /metrics needs "Authorization: Bearer <this>".
        "PORTAL_METRICS_TOKEN": os.environ.get("PORTAL_METRICS_TOKEN", ""),
        # How many processes serve this instance (gunicorn.conf.py sets it from its worker
        # count): with more than one, in-memory rate limits are refused at start-up.
        "PORTAL_WORKERS": _env_int("PORTAL_WORKERS", 1),
        # Lifetimes of the links in account emails, in seconds: a verification or an
        # email change (2 days), a password reset (1 hour), an invitation (7 days), and the
        # "not you? put this address back" link sent to the old address (7 days).
        "PORTAL_VERIFY_EMAIL_MAX_AGE": _env_int("PORTAL_VERIFY_EMAIL_MAX_AGE", 2 * 86_400),
        "PORTAL_PASSWORD_RESET_MAX_AGE": _env_int("PORTAL_PASSWORD_RESET_MAX_AGE", 3_600),
        "PORTAL_INVITATION_MAX_AGE": _env_int("PORTAL_INVITATION_MAX_AGE", 7 * 86_400),
        "PORTAL_EMAIL_RESTORE_MAX_AGE": _env_int("PORTAL_EMAIL_RESTORE_MAX_AGE", 7 * 86_400),
        "RATELIMIT_HEADERS_ENABLED": True,
        "PORTAL_LOGIN_RATE_LIMIT": os.environ.get("PORTAL_LOGIN_RATE_LIMIT", "10 per minute"),
        # Per submitted address (the account), whatever the sender's IP: spreading guesses
        # over many machines gains little. Above the per-IP limit, so one guesser at the
        # IP limit does not also lock the owner out from elsewhere.
        "PORTAL_LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get(
            "PORTAL_LOGIN_ACCOUNT_RATE_LIMIT", "20 per minute; 100 per hour"
        ),
        # Sign-up and password reset send email: per IP, and per submitted address so
        # no one can fill a stranger's inbox.
        "PORTAL_SIGNUP_RATE_LIMIT": os.environ.get("PORTAL_SIGNUP_RATE_LIMIT", "5 per minute"),
        "PORTAL_SIGNUP_ACCOUNT_RATE_LIMIT": os.environ.get(
            "PORTAL_SIGNUP_ACCOUNT_RATE_LIMIT", "3 per hour"
        ),
        "PORTAL_RESET_RATE_LIMIT": os.environ.get("PORTAL_RESET_RATE_LIMIT", "5 per minute"),
        "PORTAL_RESET_ACCOUNT_RATE_LIMIT": os.environ.get(
            "PORTAL_RESET_ACCOUNT_RATE_LIMIT", "3 per hour"
        ),
        # Per signed-in user: the current-password field is as good a guessing oracle as sign-in.
        "PORTAL_PASSWORD_CHANGE_RATE_LIMIT": os.environ.get(
            "PORTAL_PASSWORD_CHANGE_RATE_LIMIT", "5 per minute; 20 per hour"
        ),
        # Per token's user (or per address without a valid token): well above what an
        # integration sends, low enough to stop token guessing and runaway scripts.
        "PORTAL_API_RATE_LIMIT": os.environ.get("PORTAL_API_RATE_LIMIT", "300 per minute"),
        # No form, API body or LiveKit event comes near 1 MiB; bigger bodies are refused (413)
        # before anything reads them into memory.
        # A practitioner's own calendars (#22): how often each is read, one read's whole
        # budget (lookup, connection, answer), the largest ICS file read, and how many
        # calendars the worker reads at once (threads of their own, apart from its queue).
        "PORTAL_CALENDAR_REFRESH_MINUTES": _env_int("PORTAL_CALENDAR_REFRESH_MINUTES", 10),
        "PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS": _env_int(
            "PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS", 20
        ),
        "PORTAL_CALENDAR_MAX_BYTES": _env_int("PORTAL_CALENDAR_MAX_BYTES", 10 * 1024 * 1024),
        "PORTAL_CALENDAR_THREADS": _env_int("PORTAL_CALENDAR_THREADS", 4),
        # A CalDAV calendar read longer ago than this is asked live at booking, within
        # the timeout (portal/external_calendars/live.py).
        "PORTAL_CALENDAR_LIVE_CHECK_SECONDS": _env_int("PORTAL_CALENDAR_LIVE_CHECK_SECONDS", 300),
        "PORTAL_CALENDAR_LIVE_CHECK_TIMEOUT_SECONDS": _env_int(
            "PORTAL_CALENDAR_LIVE_CHECK_TIMEOUT_SECONDS", 3
        ),
        # Fernet keys, newest first, for secrets at rest (portal/crypto.py).
        "PORTAL_ENCRYPTION_KEYS": os.environ.get("PORTAL_ENCRYPTION_KEYS", ""),
        # Empty: Werkzeug's default (scrypt). Only tests set a cheap one, through create_app's
        # config (never the environment, so no deployment can weaken it by accident).
        "PORTAL_PASSWORD_HASH_METHOD": "",
        "MAX_CONTENT_LENGTH": _env_int("PORTAL_MAX_CONTENT_LENGTH", 1024 * 1024),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Flask-Login's own default, said here because a sign-in lasts as long as its
        # remember-me cookie: older sign-ins are refused and pruned (accounts/sign_ins.py).
        "REMEMBER_COOKIE_DURATION": timedelta(days=365),
        "WTF_CSRF_TIME_LIMIT": None,
        # Outbound webhooks. Private, loopback and other non-public addresses are refused
        # (a webhook must not become a way into the portal's own network) unless this
        # allows them, as tests and a receiver on the same machine need; plain http://
        # likewise.
        "PORTAL_WEBHOOKS_ALLOW_PRIVATE": _env_bool("PORTAL_WEBHOOKS_ALLOW_PRIVATE", False),
        "PORTAL_WEBHOOKS_ALLOW_HTTP": _env_bool("PORTAL_WEBHOOKS_ALLOW_HTTP", False),
        # One attempt's whole budget: lookup, connect, request and the complete answer.
        "PORTAL_WEBHOOKS_TIMEOUT_SECONDS": _env_int("PORTAL_WEBHOOKS_TIMEOUT_SECONDS", 10),
        # The first retry's wait, doubled after each failure, for this many hours after
        # the event; an endpoint failing that long is disabled.
        "PORTAL_WEBHOOKS_RETRY_SECONDS": _env_int("PORTAL_WEBHOOKS_RETRY_SECONDS", 30),
        "PORTAL_WEBHOOKS_RETRY_HOURS": _env_int("PORTAL_WEBHOOKS_RETRY_HOURS", 24),
        "PORTAL_WEBHOOKS_DISABLE_AFTER_HOURS": _env_int("PORTAL_WEBHOOKS_DISABLE_AFTER_HOURS", 24),
        # A delivery run claims this many rows at a time, for this long: a batch's sends
        # must fit in the lease (timeout x batch is the worst case; the run stops handing
        # out rows when a third of the lease is left).
        "PORTAL_WEBHOOKS_BATCH": _env_int("PORTAL_WEBHOOKS_BATCH", 20),
        "PORTAL_WEBHOOKS_LEASE_SECONDS": _env_int("PORTAL_WEBHOOKS_LEASE_SECONDS", 300),
        # The worker's webhook senders, apart from its queue threads (so a receiver that
        # never answers delays no email), and how many of them may send to one endpoint.
        "PORTAL_WEBHOOKS_THREADS": _env_int("PORTAL_WEBHOOKS_THREADS", 4),
        "PORTAL_WEBHOOKS_PER_ENDPOINT": _env_int("PORTAL_WEBHOOKS_PER_ENDPOINT", 1),
    }
