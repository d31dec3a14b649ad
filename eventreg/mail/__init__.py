"""All outgoing mail: queued in the outbox with the change it reports, sent later by the worker."""
