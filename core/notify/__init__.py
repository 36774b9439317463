"""Notifications that reach people outside the app: email and SMS, through the outbox.

* :mod:`core.notify.models` — the tenant's channel settings, each user's choices, and the
  outbound messages (the delivery log, one row per message and recipient).
* :mod:`core.notify.channels` — channel types: ``smtp`` (email, aiosmtplib), ``http-sms``
  (a reference HTTP SMS gateway), and any a plugin adds (``tousu_notification_channels``).
* :mod:`core.notify.templates` — the complainant's SMS templates (Chinese, per tenant,
  ``{number}``-style placeholders that can name no one).
* :mod:`core.notify.outbound` — writing messages in the change's transaction, dispatching
  them to the workers, sending with retries, and the failures a tenant admin sees.
* :mod:`core.notify.api` — the HTTP routes.
"""
