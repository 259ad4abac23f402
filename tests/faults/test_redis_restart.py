"""Fault test: the broker dies (SIGKILL) in the middle of a run and comes back empty.

The tasks waiting in Redis are lost with it; the rows are not, because the database is the
schedule: the outbox pass enqueues every row still due, and the sender's claim keeps anything
from being sent twice. The test runs its own ``redis-server`` on a free port, never the shared
one."""

import os
import shutil
import time

import pytest
from django.db import transaction

from crm.mail import services
from crm.mail.models import OutgoingMessage
from crm.mail.tasks import dispatch_outbox
from tests.factories import ContactFactory
from tests.mail.realparts import RedisServer, SlowSmtpSink, celery_worker, use_broker, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
Status = OutgoingMessage.Status
TOTAL = 300
OPEN = [Status.QUEUED, Status.RETRY, Status.IN_FLIGHT]


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is required (REQUIRE_SERVICES=1) but not installed")
        pytest.skip("redis-server not installed")
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture
def own_broker(settings, redis_server):
    """This process enqueues to the test's own Redis, like the worker."""
    from crm.celery import app

    eager = app.conf.task_always_eager
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    use_broker(redis_server.url)
    yield redis_server
    use_broker(None)
    app.conf.task_always_eager = eager


def _count(*statuses) -> int:
    return OutgoingMessage.objects.filter(status__in=statuses).count()


def test_redis_restart_loses_nothing_and_sends_nothing_twice(
    own_broker, settings, tmp_path, capsys
):
    redis = own_broker
    settings.OUTBOX_IN_FLIGHT_TIMEOUT = 10
    contacts = [ContactFactory() for _ in range(25)]
    # 20 ms per message in the sink: the run lasts a few seconds, long enough to break it.
    with SlowSmtpSink(delay=0.02) as sink:
        worker = celery_worker(sink.port, tmp_path / "worker.log", broker_url=redis.url).start()
        try:
            with transaction.atomic():  # one task per message, enqueued on commit
                for i in range(TOTAL):
                    services.message_create(
                        key=f"redis-restart:{i}",
                        purpose="reminder",
                        subject=f"Message {i}",
                        body_text="Hello",
                        contact=contacts[i % len(contacts)],
                    )
            assert redis.client().llen("celery") > 0  # the test's own broker, not the shared one
            assert wait_until(lambda: _count(Status.SENT) >= 50, timeout=60, interval=0.1), (
                worker.output()[-3000:]
            )

            redis.kill()
            sent_at_kill = _count(Status.SENT)
            time.sleep(1)
            redis.start()  # same port, empty: every task that waited in it is gone
            queued_after_restart = redis.client().llen("celery")
            still_due = _count(Status.QUEUED, Status.RETRY)

            # Beat's role: the next passes find the rows still due in the database. The
            # supervisor's role (compose: restart: unless-stopped): a worker that the lost
            # connection killed — kombu sometimes gives up with an AttributeError while it
            # tears the dead connection down — is started again.
            restarts = 0

            def settled():
                nonlocal worker, restarts
                if not worker.running():
                    restarts += 1
                    worker = celery_worker(
                        sink.port, tmp_path / f"worker{restarts}.log", broker_url=redis.url
                    ).start()
                dispatch_outbox()
                return not OutgoingMessage.objects.filter(status__in=OPEN).exists()

            done = wait_until(settled, timeout=180, interval=2)
        finally:
            worker.stop()
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
            f"\n[Redis SIGKILL + empty restart] total={TOTAL} sent-before-kill={sent_at_kill} "
            f"due-after-restart={still_due} tasks-in-redis-after-restart={queued_after_restart} "
            f"sent={len(sent)} unknown={len(unknown)} received={len(counts)} "
            f"duplicates={duplicates} worker-restarts={restarts}"
        )
    assert done, worker.output()[-3000:]
    assert sent_at_kill < TOTAL, "Redis must die in the middle of the run"
    assert still_due > 0
    assert queued_after_restart == 0
    assert duplicates == 0
    assert len(sent) + len(unknown) == TOTAL
    assert sent <= set(counts)  # everything marked sent arrived
    assert set(counts) <= sent | unknown  # whatever arrived is accounted for
