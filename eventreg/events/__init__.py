"""Events: the rules of an event's fields, creating and changing events, and telling delegates of a change."""
