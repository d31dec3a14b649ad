"""Organizer accounts: login, logout, API tokens, and the rule that every page needs a login unless marked public."""
