"""Fault test: the worker is killed with SIGKILL several times while it sends 1,000 messages.
No Message-ID may arrive twice; every message ends sent or unknown (never silently resent)."""

import time

import pytest
from django.db import transaction

from crm.mail import services
from crm.mail.models import OutgoingMessage
from crm.mail.tasks import dispatch_outbox
from tests.factories import ContactFactory
from tests.mail.realparts import SmtpSink, Worker, purge_broker, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
Status = OutgoingMessage.Status
TOTAL = 1000


def test_killed_worker_never_sends_twice_and_loses_nothing(settings, capsys):
    from crm.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OUTBOX_IN_FLIGHT_TIMEOUT = 3
    app.conf.task_always_eager = False
    purge_broker()
    contacts = [ContactFactory() for _ in range(25)]
    with SmtpSink() as sink:
        worker = Worker(sink.port).start()
        try:
            with transaction.atomic():
                for i in range(TOTAL):
                    services.message_create(
                        key=f"fault:{i}",
                        purpose="reminder",
                        subject=f"Message {i}",
                        body_text="Hello",
                        contact=contacts[i % len(contacts)],
                    )
            kills = 0
            for _ in range(4):
                time.sleep(1.5)
                if not OutgoingMessage.objects.filter(status=Status.QUEUED).exists():
                    break
                worker.kill()
                kills += 1
                worker = Worker(sink.port).start()

            # Beat's role after the crashes: surface stale rows, re-enqueue what is still due.
            def settled():
                dispatch_outbox()
                return not OutgoingMessage.objects.filter(
                    status__in=[Status.QUEUED, Status.RETRY, Status.IN_FLIGHT]
                ).exists()

            assert wait_until(settled, timeout=150, interval=2)
        finally:
            worker.stop()
            purge_broker()
    counts = sink.handler.message_ids
    sent = set(
        OutgoingMessage.objects.filter(status=Status.SENT).values_list("message_id", flat=True)
    )
    unknown = set(
        OutgoingMessage.objects.filter(status=Status.UNKNOWN).values_list("message_id", flat=True)
    )
    duplicates = sum(c - 1 for c in counts.values())
    with capsys.disabled():
        print(
            f"\n[SIGKILL x{kills}] total={TOTAL} sent={len(sent)} unknown={len(unknown)} "
            f"received={len(counts)} duplicates={duplicates}"
        )
    assert kills >= 1
    assert duplicates == 0
    assert len(sent) + len(unknown) == TOTAL
    assert sent <= set(counts)  # everything marked sent arrived
    assert set(counts) <= sent | unknown  # whatever arrived is accounted for
