"""The outbox with a real Celery worker on Redis and PostgreSQL and a real SMTP sink."""

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


@pytest.fixture
def eager_off(settings):
    from crm.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    purge_broker()
    yield
    purge_broker()


def _queue(n, prefix):
    contacts = [ContactFactory() for _ in range(min(n, 20))]
    with transaction.atomic():
        for i in range(n):
            services.message_create(
                key=f"{prefix}:{i}",
                purpose="reminder",
                subject=f"Message {i}",
                body_text="Hello",
                contact=contacts[i % len(contacts)],
            )


def _open():
    return OutgoingMessage.objects.filter(
        status__in=[Status.QUEUED, Status.RETRY, Status.IN_FLIGHT]
    ).exists()


def test_200_messages_are_delivered_each_once(eager_off, capsys):
    with SmtpSink() as sink:
        worker = Worker(sink.port).start()
        try:
            _queue(200, "worker")
            assert wait_until(lambda: not _open(), timeout=90)
        finally:
            worker.stop()
    counts = sink.handler.message_ids
    with capsys.disabled():
        print(
            f"\n[worker] sent={OutgoingMessage.objects.filter(status=Status.SENT).count()} "
            f"received={len(counts)} duplicates={sum(c - 1 for c in counts.values())}"
        )
    assert OutgoingMessage.objects.filter(status=Status.SENT).count() == 200
    assert len(counts) == 200
    assert max(counts.values()) == 1
    assert set(counts) == set(OutgoingMessage.objects.values_list("message_id", flat=True))


def test_temporary_refusals_arrive_later_once_and_permanent_ones_fail(eager_off, capsys):
    with SmtpSink() as sink:
        sink.handler.temporary_failures = 10
        rejected = ContactFactory(email="nobody@example.org")
        sink.handler.permanent_for = {"nobody@example.org"}
        worker = Worker(sink.port).start()
        try:
            _queue(30, "flaky")
            services.message_create(
                key="flaky:rejected",
                purpose="reminder",
                subject="x",
                body_text="x",
                contact=rejected,
            )

            # Beat's role: pick up the retries once due (backoff base is 1 s in the worker;
            # the pass runs here, with the same database).
            def settled():
                dispatch_outbox.delay()
                return not _open()

            assert wait_until(settled, timeout=90, interval=1.5)
        finally:
            worker.stop()
    counts = sink.handler.message_ids
    retried = OutgoingMessage.objects.filter(attempts__gt=1, status=Status.SENT).count()
    with capsys.disabled():
        print(
            f"\n[4xx/5xx] sent={len(counts)} retried-then-sent={retried} "
            f"duplicates={sum(c - 1 for c in counts.values())}"
        )
    assert len(counts) == 30
    assert max(counts.values()) == 1
    assert retried >= 1
    failed = OutgoingMessage.objects.get(key="flaky:rejected")
    assert failed.status == Status.FAILED
    assert failed.attempts == 1
    assert "550" in failed.last_error
