"""Invitations: the organizers' guest list, its import, the invitees' personal links and the reminders."""
