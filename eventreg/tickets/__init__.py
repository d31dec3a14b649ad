"""The ticket: the check-in code and its QR image, the calendar entry, the ticket in a mail, and its pages."""
