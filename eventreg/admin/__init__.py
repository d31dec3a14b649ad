"""Administration: organizer accounts, their roles and events, and the audit log."""
