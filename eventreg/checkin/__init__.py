"""The check-in desk: staff find a delegate by the ticket's code (typed or scanned) or by name and check them in."""
