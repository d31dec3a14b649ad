"""The check-in desk: staff find a delegate by the ticket's code (typed or scanned) or by name and check them in.

The blueprint lives in `views.py` (imported by create_app), so the organizer dashboard can import `counts`
without pulling the desk's views in.
"""
