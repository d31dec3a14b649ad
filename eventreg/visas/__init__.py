"""Visa invitation letters: what a consulate needs (passport data sealed at rest), the organizers' queue, numbered
letters on the event's letterhead, their verification page, and their delivery to the delegate."""
