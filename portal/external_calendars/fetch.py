"""Reading a practitioner's calendar from where it lives: an ICS address over HTTP(S), or
a calendar of a CalDAV account. Nothing here touches the database: a fetch takes what
the last one left (its version tag) and answers what the calendar holds now, or that it
did not change, or why it could not be read (a SyncProblem).

ICS addresses go through the outbound webhooks' guarded connection
(portal/webhooks_out/addresses.py): every address the host resolves to is checked, the
connection goes to the checked address, and one deadline covers lookup, connection and
the whole answer. CalDAV goes through the `caldav` library, whose host is checked the
same way first and whose connections go to the checked address, and which runs on a
thread of its own so its deadline holds too.
"""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import caldav
import niquests
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error as caldav_error

from ..ics import UID_DOMAIN
from ..models import SyncProblem
from ..webhooks_out.addresses import Cutoff, UnsafeURL, connection, parse_url, resolve
from .expand import BusyTime, InvalidCalendarData, busy_times

USER_AGENT = "EstuaryPortal-CalendarSync/1"
# A provider that moved the calendar answers with a redirect (iCloud's published
# calendars hop between its pNN hosts); each hop is checked like the first address.
MAX_REDIRECTS = 3
_CTAG = "{http://calendarserver.org/ns/}getctag"

T = TypeVar("T")


class FetchFailed(Exception):
    def __init__(self, problem: SyncProblem, detail: str):
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    """What a calendar holds in the window, or `unchanged` (then `busy` is empty)."""

    unchanged: bool
    version_tag: str | None
    busy: tuple[BusyTime, ...] = ()
    events_seen: int = 0


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    zone: ZoneInfo


def _not_ours(found: list[BusyTime]) -> list[BusyTime]:
    """The portal's own sessions written into the calendar never block themselves."""
    return [b for b in found if not b.uid.endswith(f"@{UID_DOMAIN}")]


def _read_limited(response: http.client.HTTPResponse, cutoff: Cutoff, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        cutoff.left()
        chunk = response.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchFailed(SyncProblem.TOO_LARGE, f"more than {max_bytes} bytes")
        chunks.append(chunk)


def _get(
    url: str, etag: str | None, cutoff: Cutoff, max_bytes: int
) -> tuple[int, str | None, bytes]:
    """GET `url` (following a few redirects, each checked), within the cutoff: the status,
    the ETag and the body."""
    for _hop in range(MAX_REDIRECTS + 1):
        target = parse_url(url)
        address = resolve(target, cutoff.deadline)
        conn = connection(target, address, cutoff)
        headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        try:
            conn.request("GET", target.path, headers=headers)
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = http_url(response.getheader("Location", ""), base=target.url)
                continue
            if response.status != 200:
                return response.status, None, b""
            body = _read_limited(response, cutoff, max_bytes)
            return 200, response.getheader("ETag"), body
        finally:
            cutoff.disarm()
            conn.close()
    raise FetchFailed(SyncProblem.UNREACHABLE, f"more than {MAX_REDIRECTS} redirects")


def http_url(url: str, base: str | None = None) -> str:
    """webcal:// is what calendar apps publish; it means https:// (webcal over TLS in
    every current provider)."""
    url = url.strip()
    lowered = url.lower()
    for scheme in ("webcals://", "webcal://"):
        if lowered.startswith(scheme):
            return "https://" + url[len(scheme) :]
    return urljoin(base, url) if base else url


def _status_problem(status: int) -> FetchFailed:
    if status in (401, 403):
        return FetchFailed(SyncProblem.WRONG_PASSWORD, f"HTTP {status}")
    if status in (404, 410):
        return FetchFailed(SyncProblem.NOT_FOUND, f"HTTP {status}")
    return FetchFailed(SyncProblem.UNREACHABLE, f"HTTP {status}")


def _busy_from_ics(body: bytes, window: Window) -> list[BusyTime]:
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR"):
        raise FetchFailed(SyncProblem.NOT_A_CALENDAR, "the answer is not iCalendar data")
    try:
        return busy_times(body, window.start, window.end, window.zone)
    except InvalidCalendarData as exc:
        raise FetchFailed(SyncProblem.INVALID_DATA, str(exc)[:300]) from exc


def fetch_ics(
    url: str, etag: str | None, window: Window, *, timeout: float, max_bytes: int
) -> Fetched:
    """One GET of an ICS address, conditional on `etag` when given: an unchanged
    calendar costs one request and no parsing."""
    cutoff = Cutoff(time.monotonic() + timeout)
    try:
        status, new_etag, body = _get(http_url(url), etag, cutoff, max_bytes)
    except FetchFailed:
        raise
    except UnsafeURL as exc:
        raise FetchFailed(SyncProblem.REFUSED_ADDRESS, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - every way a request fails is a problem shown
        if cutoff.fired or time.monotonic() >= cutoff.deadline:
            raise FetchFailed(SyncProblem.TIMEOUT, f"no complete answer in {timeout} s") from exc
        raise FetchFailed(SyncProblem.UNREACHABLE, f"{type(exc).__name__}: {exc}"[:300]) from exc
    if status == 304 and etag:
        return Fetched(unchanged=True, version_tag=etag)
    if status != 200:
        raise _status_problem(status)
    found = _busy_from_ics(body, window)
    return Fetched(False, new_etag, tuple(_not_ours(found)), len(found))


def _before(deadline: float, work: Callable[[], T]) -> T:
    """`work()` on a thread of its own, given up at `deadline` (time.monotonic()): the
    library's own timeout bounds each socket read, not a server that trickles."""
    answer: list = []
    done = threading.Event()

    def run() -> None:
        try:
            answer.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            answer.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="caldav-fetch", daemon=True).start()
    if not done.wait(max(deadline - time.monotonic(), 0)):
        raise TimeoutError("the CalDAV server did not answer in time")
    if isinstance(answer[0], BaseException):
        raise answer[0]
    return answer[0]


class _CTag(ValuedBaseElement):
    tag = _CTAG


def _client(url: str, username: str, password: str, deadline: float) -> caldav.DAVClient:
    """A client for `url` once its host passed the same address check as an ICS fetch
    (here, in the caller's thread: the check reads the app's configuration)."""
    target = parse_url(url)
    address = resolve(target, deadline)
    client = caldav.DAVClient(
        url=target.url,
        username=username,
        password=password,
        timeout=max(1, math.ceil(deadline - time.monotonic())),
        enable_rfc6764=False,
        require_tls=target.scheme == "https",
    )
    if address != target.host:
        # Left alone, the library would look the name up again, and a name that
        # answered a public address to the check could answer a private one now (DNS
        # rebinding): its HTTP session connects to the address checked, under the name
        # (TLS still verifies the name).
        client.session.close()
        client.session = niquests.Session(
            resolver=f"in-memory://default?hosts={target.host}:{address}"
        )
    return client


def _caldav_problem(exc: BaseException, deadline: float) -> FetchFailed:
    if isinstance(exc, FetchFailed):
        return exc
    detail = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, UnsafeURL):
        return FetchFailed(SyncProblem.REFUSED_ADDRESS, str(exc))
    if isinstance(exc, caldav_error.AuthorizationError):
        return FetchFailed(SyncProblem.WRONG_PASSWORD, detail)
    if isinstance(exc, caldav_error.NotFoundError):
        return FetchFailed(SyncProblem.NOT_FOUND, detail)
    if isinstance(exc, TimeoutError) or time.monotonic() >= deadline:
        return FetchFailed(SyncProblem.TIMEOUT, detail)
    if isinstance(exc, (caldav_error.ReportError, caldav_error.PropfindError)):
        return FetchFailed(SyncProblem.NOT_A_CALENDAR, detail)
    if isinstance(exc, InvalidCalendarData):
        return FetchFailed(SyncProblem.INVALID_DATA, detail)
    return FetchFailed(SyncProblem.UNREACHABLE, detail)


def fetch_caldav(
    url: str,
    username: str,
    password: str,
    ctag: str | None,
    window: Window,
    *,
    timeout: float,
) -> Fetched:
    """The events of one CalDAV calendar in the window (a time-range REPORT, expanded
    here so every server's recurrence quirks are read by one expander), skipped when
    its CTag says nothing changed since `ctag`."""
    deadline = time.monotonic() + timeout

    def work() -> Fetched:
        calendar = client.calendar(url=url)
        new_ctag = calendar.get_properties([_CTag()]).get(_CTAG)
        if ctag and new_ctag == ctag:
            return Fetched(unchanged=True, version_tag=ctag)
        found: list[BusyTime] = []
        for item in calendar.search(start=window.start, end=window.end, event=True, expand=False):
            found.extend(busy_times(item.data, window.start, window.end, window.zone))
        return Fetched(False, new_ctag, tuple(_not_ours(sorted(set(found)))), len(found))

    client: caldav.DAVClient | None = None
    try:
        client = _client(url, username, password, deadline)
        return _before(deadline, work)
    except Exception as exc:  # noqa: BLE001 - every failure is a problem the practitioner sees
        raise _caldav_problem(exc, deadline) from exc
    finally:
        # Its HTTP session keeps a connection open until closed (or collected, with a
        # ResourceWarning, whenever that happens to be).
        if client is not None:
            client.close()


@dataclass(frozen=True)
class FoundCalendar:
    url: str
    name: str


def discover_caldav(
    url: str, username: str, password: str, *, timeout: float
) -> list[FoundCalendar]:
    """The account's calendars that hold events, for the practitioner to choose from."""
    deadline = time.monotonic() + timeout

    def work() -> list[FoundCalendar]:
        principal = client.principal()
        found = []
        for calendar in principal.calendars():
            name = calendar.get_properties([dav.DisplayName()]).get("{DAV:}displayname")
            found.append(FoundCalendar(str(calendar.url), str(name or calendar.url)))
        return found

    client: caldav.DAVClient | None = None
    try:
        client = _client(url, username, password, deadline)
        return _before(deadline, work)
    except Exception as exc:  # noqa: BLE001 - every failure is a problem the practitioner sees
        raise _caldav_problem(exc, deadline) from exc
    finally:
        # Its HTTP session keeps a connection open until closed (or collected, with a
        # ResourceWarning, whenever that happens to be).
        if client is not None:
            client.close()
