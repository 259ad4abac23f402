"""Fault test: two beats run at once (a second ``celery beat`` started by mistake, or an old
one that never stopped). Both send the outbox pass every second; the pass runs the schedulers,
which find messages becoming due while a real worker sends them. No row and no message may
exist twice: the outbox key makes a second scheduler find the row the first one created, and
the sender's claim makes a second enqueue of a row find nothing to send."""

import json
import os
import time
from collections import Counter

import pytest
from django.conf import settings

from crm.mail import services
from crm.mail.models import OutgoingMessage
from tests.mail.realparts import SmtpSink, celery_beat, celery_worker, purge_broker, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
Status = OutgoingMessage.Status
TOTAL = 300
RATE = 40  # messages becoming due per second: the wave lasts 7.5 seconds


def schedule_wave() -> int:
    """A scheduler like the reminder one, configured in the worker by the test: the first
    ``RATE * elapsed`` of ``TOTAL`` messages are due, and each pass creates the due ones not yet
    in the outbox. Each pass appends one line to a journal, to show passes overlapping."""
    wave = settings.TWO_BEATS_WAVE
    began = time.time()
    due = max(0, min(wave["total"], int((began - wave["start"]) * wave["rate"])))
    keys = {f"two-beats:{i}" for i in range(due)}
    # What a real scheduler does: one query for what exists, then create the rest. Between the
    # two, the other beat's pass may create the same rows: that is the race under test.
    missing = keys - set(OutgoingMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    created = 0
    for i in sorted(int(key.rsplit(":", 1)[1]) for key in missing):
        _message, new = services.message_create(
            key=f"two-beats:{i}",
            purpose="reminder",
            subject=f"Reminder {i}",
            body_text="See you in Vienna.",
            to_email=f"person{i % 30}@example.org",
        )
        created += new
    line = {"pid": os.getpid(), "began": began, "ended": time.time(), "created": created}
    with open(wave["journal"], "a") as journal:  # one short write: appends do not interleave
        journal.write(json.dumps(line) + "\n")
    return created


def _overlapping(passes: list[dict]) -> int:
    """How many passes ran while another pass was running."""
    return sum(
        any(o is not p and o["began"] < p["ended"] and p["began"] < o["ended"] for o in passes)
        for p in passes
    )


def test_two_beats_create_and_send_each_message_once(tmp_path, capsys):
    purge_broker()
    journal = tmp_path / "passes.jsonl"
    journal.touch()
    wave = {"start": time.time() + 6, "rate": RATE, "total": TOTAL, "journal": str(journal)}
    overrides = {
        "OUTBOX_SCHEDULERS": ["tests.faults.test_two_beats.schedule_wave"],
        "TWO_BEATS_WAVE": wave,
    }
    beats = []
    with SmtpSink() as sink:
        worker = celery_worker(
            sink.port, tmp_path / "worker.log", concurrency=4, overrides=overrides
        ).start()
        try:
            for name in ("a", "b"):
                beats.append(
                    celery_beat(
                        tmp_path / f"beat-{name}.log", tmp_path / f"beat-{name}.pid"
                    ).start()
                )
                time.sleep(1.5)  # both beats sync the schedule table on start; not in a race

            def settled():
                return (
                    OutgoingMessage.objects.count() == TOTAL
                    and not OutgoingMessage.objects.exclude(status=Status.SENT).exists()
                )

            done = wait_until(settled, timeout=120, interval=1)
            time.sleep(2)  # let both beats fire a few more passes over the finished wave
        finally:
            for beat in beats:
                beat.stop()
            worker.stop()
            purge_broker()

    passes = [json.loads(line) for line in journal.read_text().splitlines()]
    fired = [beat.output().count("Sending due task dispatch-outbox") for beat in beats]
    counts = sink.handler.message_ids
    rows = Counter(OutgoingMessage.objects.values_list("key", flat=True))
    sent = OutgoingMessage.objects.filter(status=Status.SENT).count()
    duplicates = sum(c - 1 for c in counts.values())
    with capsys.disabled():
        print(
            f"\n[two beats] passes sent by beat a={fired[0]} b={fired[1]}; scheduler passes="
            f"{len(passes)} overlapping={_overlapping(passes)} "
            f"created={sum(p['created'] for p in passes)}; total={TOTAL} rows={len(rows)} "
            f"sent={sent} received={len(counts)} duplicates={duplicates}"
        )
    assert done, worker.output()[-3000:]
    assert all(n >= 3 for n in fired), "both beats must have sent the pass repeatedly"
    assert "Scheduler tests.faults" not in worker.output()  # no scheduler pass failed
    assert len(rows) == TOTAL
    assert max(rows.values()) == 1
    assert sum(p["created"] for p in passes) == TOTAL  # each row created by exactly one pass
    assert sent == TOTAL
    assert duplicates == 0
    assert set(counts) == set(OutgoingMessage.objects.values_list("message_id", flat=True))
