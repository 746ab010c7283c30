"""Reminders: when a chat's "remind me…" falls due in its timezone, and the scheduler that has
the adapters deliver each one once, whichever bot process claims it."""
