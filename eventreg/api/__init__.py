"""The read-only JSON API under /api/v1, for scripts holding an organizer's API token."""
