"""Background jobs: the dramatiq actors (:mod:`core.jobs.worker`), where they run — the
embedded loop of ``tousu serve`` and ``tousu scheduler`` (:mod:`core.jobs.runtime`) — and
the deadline sweep as they run it, with its consequences in other areas
(:mod:`core.jobs.sweep`).

A composition area (``docs/architecture.md``): it wires together work that belongs to
tasks (outbox relay, webhooks), notify (email/SMS), deadlines (the sweep) and penalties
(breach proposals), so none of those imports it.
"""
