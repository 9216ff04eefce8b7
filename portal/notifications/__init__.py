"""Notifications: the outbox the domain writes to, and the worker side that renders and
delivers what it holds.

`outbox.notify()` is the one thing the domain calls: it adds a row to the caller's
transaction and nothing else. Everything else here runs in the worker. The package
stands below the domain and imports nothing of it; the messages that fall due with time
(portal/reminders.py) read bookings, so they live above it.
"""
