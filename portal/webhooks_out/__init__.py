"""Outbound webhooks: the endpoints people register and the delivery of the events
the booking domain writes (portal/booking/events.py) to them.

- `addresses`: where a request may go (HTTPS only, no private or loopback address
  unless a setting allows it), the lookup and the connection pinned to the address
  checked, both bounded by the attempt's deadline;
- `delivery`: the worker's side, claiming due deliveries, signing and sending them,
  recording each attempt, backing off, disabling an endpoint that keeps failing;
- `dispatch`: the worker's sender threads, apart from its queue's, a bounded number per
  endpoint;
- `endpoints`: the owner's operations (register, delete, enable, test ping) and reads;
- `notices`: the one place that tells an owner their endpoint was disabled.
"""
