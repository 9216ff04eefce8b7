"""Outbound webhooks: the endpoints people register and the delivery of the events
the booking domain writes (portal/booking/events.py) to them.

- `addresses`: where a request may go (HTTPS only, no private or loopback address
  unless a setting allows it) and the connection pinned to the address checked;
- `delivery`: the worker's side, claiming due deliveries, signing and sending them,
  recording each attempt, backing off, disabling an endpoint that keeps failing;
- `endpoints`: the owner's operations (register, delete, enable, test ping) and reads;
- `notices`: the one place that tells an owner their endpoint was disabled.
"""
