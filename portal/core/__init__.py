"""The kernel below every package that writes: the unit of work (transactions), the
typed domain errors (errors) and the SQL that SQLite and PostgreSQL spell differently
(sql).

Booking, accounts, notifications, webhooks, profiles, tokens and feeds all stand on
it; it imports nothing of theirs (tests/unit/test_package_layering.py checks it).
"""
