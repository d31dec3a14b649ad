"""Messages to delegates: organizers write to the delegates they see on the attendee list, in each delegate's
language, and set reminders that go out some days before the event; every mail goes through the outbox."""
