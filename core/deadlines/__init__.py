"""Deadlines: working-day calendars, per-step clocks, pauses, extensions, escalation."""
