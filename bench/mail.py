"""Benchmark 3: outbox messages sent by a real Celery worker (Redis broker) to an aiosmtpd sink
on loopback — claim, build, send and record each row as in production — against a bare
``smtplib`` loop sending the same messages, prebuilt, over one connection to the same sink.
Reports the worker's peak memory (the high-water RSS of its processes)."""

import os
import smtplib
import time
from pathlib import Path

from bench import common

common.setup()

from django.conf import settings  # noqa: E402
from django.core.mail import get_connection  # noqa: E402

from crm.mail import tasks  # noqa: E402
from crm.mail.models import OutgoingMessage  # noqa: E402
from tests.mail.realparts import SmtpSink, Worker, purge_broker, wait_until  # noqa: E402

KEY_PREFIX = "bench-mail-"
BODY = (
    "Dear colleague,\n\nYou are invited to the benchmark meeting of the Alliance Expert "
    "Co-ordination Team. Please answer through your personal link before the deadline.\n\n"
) * 8


def messages_count() -> int:
    return 50 if common.smoke() else int(os.environ.get("BENCH_MAILS", "5000"))


def create_rows(n: int, run: str) -> list[int]:
    OutgoingMessage.objects.filter(key__startswith=KEY_PREFIX).delete()
    rows = [
        OutgoingMessage(
            key=f"{KEY_PREFIX}{run}-{i}",
            purpose=OutgoingMessage.Purpose.OTHER,
            essential=True,
            to_email=f"bench{i:05d}@bench.example.org",
            subject=f"Benchmark message {i}",
            body_text=BODY,
            message_id=OutgoingMessage.message_id_for(f"{KEY_PREFIX}{run}-{i}"),
        )
        for i in range(n)
    ]
    return [row.pk for row in OutgoingMessage.objects.bulk_create(rows, batch_size=1000)]


def sent(ids: list[int]) -> int:
    """How many of ``ids`` (one ``create_rows`` run, or the warm-up row) are sent. A range, not
    ``pk__in``: compiling and sending an ``IN`` of 5,000 parameters every 0.1 s took 60 ms of
    this process's CPU each time, holding the GIL that the sink's thread needs to answer the
    worker — the poll itself slowed the worker down. Every benchmark row in the range is one
    of ``ids``: ``create_rows`` deletes the others first and the warm-up row comes after."""
    return OutgoingMessage.objects.filter(
        pk__gte=min(ids),
        pk__lte=max(ids),
        key__startswith=KEY_PREFIX,
        status=OutgoingMessage.Status.SENT,
    ).count()


def peak_rss_mb(group: int) -> tuple[float, float]:
    """(largest, sum) of VmHWM over the processes of the worker's process group."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            continue
    return (max(peaks, default=0.0), sum(peaks))


def bare(port: int, payloads: list[tuple[str, list[str], bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipients, body in payloads:
            smtp.sendmail(sender, recipients, body)
    return time.perf_counter() - started


def main() -> None:
    n = messages_count()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        raise SystemExit("Set CELERY_BROKER_URL=redis://… (a real broker and worker are measured)")
    settings.CELERY_BROKER_URL = broker
    with SmtpSink() as sink:
        # The floor: the same messages, built beforehand, over one connection.
        ids = create_rows(n, "bare")
        connection = get_connection()
        payloads = []
        for row in OutgoingMessage.objects.filter(pk__in=ids).order_by("pk"):
            email = tasks.build_email(row, connection)
            body = email.message().as_bytes(linesep="\r\n")  # as Django's SMTP backend
            payloads.append((email.from_email, email.recipients(), body))
        bare_seconds = bare(sink.port, payloads)

        ids = create_rows(n, "worker")
        purge_broker()
        worker = Worker(sink.port, concurrency=int(os.environ.get("BENCH_CONCURRENCY", "2")))
        worker.env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        worker.start()
        try:
            # Warm up: the worker is up and has sent one message before the clock starts.
            warm = create_warmup()
            tasks.send_messages.delay(warm)
            if not wait_until(lambda: sent(warm) == 1, timeout=60):
                raise SystemExit("The worker did not send the warm-up message within 60 s.")
            started = time.perf_counter()
            for start in range(0, len(ids), tasks.BATCH):
                tasks.send_messages.delay(ids[start : start + tasks.BATCH])
            if not wait_until(lambda: sent(ids) == n, timeout=600, interval=0.1):
                raise SystemExit(f"Only {sent(ids)} of {n} messages were sent within 600 s.")
            worker_seconds = time.perf_counter() - started
            largest, total = peak_rss_mb(worker.process.pid)
        finally:
            worker.stop()
        received = sum(sink.handler.message_ids.values())
    OutgoingMessage.objects.filter(key__startswith=KEY_PREFIX).delete()

    bare_rate = n / bare_seconds
    worker_rate = n / worker_seconds
    print(
        f"Mail: {n:,} messages to an aiosmtpd sink on loopback "
        f"(worker concurrency {worker.concurrency}, {tasks.BATCH} per task)"
    )
    common.table(
        ["path", "seconds", "messages/s", "÷ bare"],
        [
            ["bare smtplib, one connection", bare_seconds, bare_rate, 1.0],
            ["outbox → Celery worker → SMTP", worker_seconds, worker_rate, worker_rate / bare_rate],
        ],
    )
    print(
        f"worker peak memory: {largest:.0f} MB in its largest process, {total:.0f} MB over "
        f"all its processes; the sink received {received:,} messages (bare + worker + 1)"
    )
    ratio = worker_rate / bare_rate
    print(
        f"Mail: worker throughput = {ratio:.0%} of bare smtplib "
        f"(goal ≥ 80%: {common.goal(ratio >= 0.8)})"
    )


def create_warmup() -> list[int]:
    row = OutgoingMessage.objects.create(
        key=f"{KEY_PREFIX}warm-up",
        purpose=OutgoingMessage.Purpose.OTHER,
        essential=True,
        to_email="warm-up@bench.example.org",
        subject="Warm-up",
        body_text=BODY,
        message_id=OutgoingMessage.message_id_for(f"{KEY_PREFIX}warm-up"),
    )
    return [row.pk]


if __name__ == "__main__":
    main()
