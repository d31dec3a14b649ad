"""Documents a ceremony prints: name badges, certificates of attendance, and the one PDF engine and document jobs
that render them (visa letters, in visas/, use the same engine)."""
