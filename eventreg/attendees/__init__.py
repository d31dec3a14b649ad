"""The attendee list: search, filters, one registration's details and history, and the organizer's actions."""
