"""Time as people say it: phrases ("last week", "in May", "since March") as windows, and the chats' time zones.

- `phrases`: a time phrase of a message as a window (dateparser), and the query without it;
- `zones`: time zones (validation, a chat's zone) and the window a message names, read in its chat's zone.
"""
