"""The one password policy: sign-up, reset, invitation, password change and create-user
all ask `password_problem` and refuse what it names.

The common-password list is zxcvbn's (30,000 passwords from real leaks), read from the
installed package: no network call, ever.
"""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 200
# Fewer different characters than this is a pattern, not a password ("abababab12").
MIN_DISTINCT = 4


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def _repeats_a_unit(password: str) -> bool:
    """ "abcabcabca": the whole is one short piece over and over."""
    size = len(password)
    return any(
        all(password[i] == password[i - period] for i in range(period, size))
        for period in range(1, size // 2 + 1)
    )


# Runs a person types without thinking: digits (0 follows 9), letters, keyboard rows.
_RUNS = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _is_a_run(password: str) -> bool:
    """A stretch of one of the runs, either way: "1234567890", "abcdefghij", "0987654321"."""
    return any(password in run * 3 or password in run[::-1] * 3 for run in _RUNS)


def password_problem(password: str) -> str | None:
    """What is wrong with the password, in words for the person choosing it; None if fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.strip().lower()
    if len(set(lowered)) < MIN_DISTINCT or _repeats_a_unit(lowered) or _is_a_run(lowered):
        return "This password is too repetitive: choose one that is harder to guess."
    if lowered in _common_passwords():
        return "This password is one of the most common ones: choose another."
    return None
