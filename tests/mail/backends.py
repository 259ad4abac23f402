"""A mail backend for tests whose answers are scripted: each send takes the next outcome."""

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend


class ScriptedBackend(EmailBackend):
    outcomes: list = []  # exceptions to raise, or None to deliver; empty list: deliver
    opened = 0

    def open(self):
        ScriptedBackend.opened += 1
        return True

    def send_messages(self, messages):
        outcome = ScriptedBackend.outcomes.pop(0) if ScriptedBackend.outcomes else None
        if outcome is not None:
            raise outcome
        return super().send_messages(messages)


def reset(outcomes=()):
    ScriptedBackend.outcomes = list(outcomes)
    ScriptedBackend.opened = 0
    mail.outbox = []
