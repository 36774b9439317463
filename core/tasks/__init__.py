"""Background work: the outbox, notifications, webhooks and the dramatiq actors."""
