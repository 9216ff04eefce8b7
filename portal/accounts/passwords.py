"""The one password policy: sign-up, reset, invitation, password change and create-user
all ask `password_problem` and refuse what it names.

Cheap rules first (length, repetition, the 30,000 most common passwords), then zxcvbn's
estimate of how many guesses the password takes, told the person's own name and address
and the site's name: "Summer2024!" or "Nia1990nia" is not on any list but falls to the
first hours of a guessing run. Everything is read from the installed package: no network
call, ever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from flask_babel import gettext, lazy_gettext
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 200
# Fewer different characters than this is a pattern, not a password ("abababab12").
MIN_DISTINCT = 4
# zxcvbn's scale: 3 is "safely unguessable" (about 10^8 guesses and more), 2 falls to an
# offline attack on a leaked hash.
MIN_SCORE = 3
# zxcvbn refuses longer input, and its matching grows with length; a password this long
# that scores well on its first part is strong.
SCORED_LENGTH = 72
# Words an attacker tries on this site's users whoever they are.
SITE_WORDS = ("estuary", "portal", "booking", "wellness")

# zxcvbn's advice in its own words, marked here so it is translated like the rest.
_ADVICE = {
    text: lazy_gettext(text)
    for text in (
        "Add another word or two. Uncommon words are better.",
        "Capitalization doesn't help very much.",
        "Reversed words aren't much harder to guess.",
        "Predictable substitutions like '@' instead of 'a' don't help very much.",
        "Use a few words, avoid common phrases.",
        "No need for symbols, digits, or uppercase letters.",
        "Straight rows of keys are easy to guess.",
        "Short keyboard patterns are easy to guess.",
        "This is a top-10 common password.",
        "This is similar to a commonly used password.",
        "A word by itself is easy to guess.",
        "All-uppercase is almost as easy to guess as all-lowercase.",
        "Use a longer keyboard pattern with more turns.",
        'Repeats like "aaa" are easy to guess.',
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".',
        "This is a top-100 common password.",
        "This is a very common password.",
        "Names and surnames by themselves are easy to guess.",
        "Common names and surnames are easy to guess.",
        "Avoid repeated words and characters.",
        'Sequences like "abc" or "6543" are easy to guess.',
        "Avoid sequences.",
        "Recent years are easy to guess.",
        "Dates are often easy to guess.",
        "Avoid recent years.",
        "Avoid years that are associated with you.",
        "Avoid dates and years that are associated with you.",
    )
}


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


def personal_words(name: str = "", email: str = "") -> list[str]:
    """What a guesser knows of this person: their name's words, the address and its parts."""
    words = [*name.lower().split(), email.lower()]
    local, _, domain = email.lower().partition("@")
    words += re.split(r"[^a-z0-9]+", local) + domain.split(".")
    return [word for word in words if len(word) > 2]


def _translated(text: str) -> str:
    return str(_ADVICE.get(text, text))


def _guessable(password: str, user_inputs: Iterable[str]) -> str | None:
    result = zxcvbn(
        password[:SCORED_LENGTH], user_inputs=[*SITE_WORDS, *user_inputs], max_length=SCORED_LENGTH
    )
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    advice = [feedback["warning"], *feedback["suggestions"]]
    told = " ".join(_translated(text) for text in advice if text)
    message = gettext("This password is too easy to guess: choose a longer or less usual one.")
    return f"{message} {told}" if told else message


def password_problem(password: str, *, name: str = "", email: str = "") -> str | None:
    """What is wrong with the password, in words for the person choosing it; None if fine.
    `name` and `email` are the account's: a password made of them is easy to guess."""
    if len(password) < MIN_LENGTH:
        return gettext("Use at least %(count)s characters.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return gettext("Use at most %(count)s characters.", count=MAX_LENGTH)
    lowered = password.strip().lower()
    if len(set(lowered)) < MIN_DISTINCT or _repeats_a_unit(lowered) or _is_a_run(lowered):
        return gettext("This password is too repetitive: choose one that is harder to guess.")
    if lowered in _common_passwords():
        return gettext("This password is one of the most common ones: choose another.")
    return _guessable(password, personal_words(name, email))
