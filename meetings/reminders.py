"""Placeholder replaced below."""


def schedule_due_reminders() -> int:
    return 0
