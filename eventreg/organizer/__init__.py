"""The organizer side: events and their dashboards."""
