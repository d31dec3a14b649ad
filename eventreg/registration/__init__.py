"""The public side: events, the registration form, and what a delegate does through their private link."""
