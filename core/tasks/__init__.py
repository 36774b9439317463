"""Background work's records: the outbox, in-app notifications, webhooks and their relay.

The dramatiq actors and the loops that run them are :mod:`core.jobs`."""
