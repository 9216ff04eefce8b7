"""A practitioner's own calendars (ICS subscriptions, CalDAV accounts): their busy times
block the portal's slots, and the portal's sessions are written into them."""
