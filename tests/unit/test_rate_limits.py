"""The in-process rate-limit store keeps a hit's cost flat: its clean-up walk over every
key of the last minute runs at most once a second, not after every hit."""

from __future__ import annotations

import threading

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.extensions import MemoryLimitStorage


def test_memory_scheme_is_the_throttled_store():
    assert type(storage_from_string("memory://")) is MemoryLimitStorage


def test_many_callers_start_one_cleanup_a_second(monkeypatch):
    started = []
    real_start = threading.Timer.start

    def counting_start(timer):
        started.append(timer)
        real_start(timer)

    monkeypatch.setattr(threading.Timer, "start", counting_start)
    storage = MemoryLimitStorage()
    limiter = MovingWindowRateLimiter(storage)
    per_minute = RateLimitItemPerMinute(2)
    for caller in range(500):
        assert limiter.hit(per_minute, f"user:{caller}")
    # The one at start-up and at most one for the hits (they take well under a second).
    assert len(started) <= 2


def test_the_limit_still_holds():
    limiter = MovingWindowRateLimiter(MemoryLimitStorage())
    per_minute = RateLimitItemPerMinute(2)
    assert limiter.hit(per_minute, "user:1")
    assert limiter.hit(per_minute, "user:1")
    assert not limiter.hit(per_minute, "user:1")
    assert limiter.hit(per_minute, "user:2")
