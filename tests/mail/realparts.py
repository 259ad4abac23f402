"""Real parts for mail tests: an SMTP sink (aiosmtpd, in a thread) that records every message,
and a Celery worker in a subprocess on the test database and the real broker."""

import email
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


class RecordingHandler:
    def __init__(self):
        self.lock = threading.Lock()
        self.message_ids: Counter[str] = Counter()
        self.temporary_failures = 0  # answer 451 to this many DATA commands
        self.permanent_for: set[str] = set()  # recipients answered with 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.permanent_for:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return "451 4.3.0 Try again later"
            parsed = email.message_from_bytes(envelope.content)
            self.message_ids[parsed["Message-ID"]] += 1
        return "250 Message accepted"


class SmtpSink:
    def __init__(self):
        self.handler = RecordingHandler()
        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it started
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A crm worker`` in its own process group, so it can be killed whole."""

    def __init__(self, smtp_port: int, concurrency: int = 2, extra_env: dict | None = None):
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "OUTBOX_RETRY_BASE_SECONDS": "1",
            **(extra_env or {}),
        }
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "crm",
                "worker",
                "-l",
                "warning",
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def purge_broker() -> None:
    from crm.celery import app

    app.control.purge()


# --- Parts for the fault tests (two beats, Redis restart) ----------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SlowRecordingHandler(RecordingHandler):
    """Takes ``delay`` seconds to accept each message (without blocking other sessions), so
    that a run lasts long enough to break something in the middle of it."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


class SlowSmtpSink(SmtpSink):
    def __init__(self, delay: float):
        super().__init__()
        self.handler = SlowRecordingHandler(delay)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)


# Runs the celery command line after applying settings overrides given as JSON in
# TEST_SETTINGS_OVERRIDES: a test-only scheduler is configured in the worker this way, without
# the project's settings knowing about tests. Pool processes are forked and inherit them.
CELERY_WITH_OVERRIDES = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
import django
from django.conf import settings
django.setup()
for name, value in json.loads(os.environ.get("TEST_SETTINGS_OVERRIDES", "{}")).items():
    setattr(settings, name, value)
from celery.__main__ import main
sys.argv[0] = "celery"
sys.exit(main())
"""


class CeleryProcess:
    """``celery -A crm <args>`` in its own process group, with its output in ``log`` and the
    given settings overrides."""

    def __init__(
        self,
        args: list[str],
        *,
        log: Path,
        broker_url: str | None = None,
        extra_env: dict | None = None,
        overrides: dict | None = None,
    ):
        self.args = args
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
            "OUTBOX_RETRY_BASE_SECONDS": "1",
            "TEST_SETTINGS_OVERRIDES": json.dumps(overrides or {}),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryProcess":
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CELERY_WITH_OVERRIDES, "-A", "crm", *self.args],
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def celery_worker(smtp_port: int, log: Path, concurrency: int = 2, **kwargs) -> CeleryProcess:
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", **kwargs.pop("extra_env", {})}
    args = ["worker", "-l", "warning", "--concurrency", str(concurrency)]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return CeleryProcess(args, log=log, extra_env=env, **kwargs)


def celery_beat(log: Path, pidfile: Path, interval_seconds: int = 1, **kwargs) -> CeleryProcess:
    """A real ``celery beat`` with the project's scheduler (django-celery-beat, on the test
    database) and the outbox pass every ``interval_seconds``."""
    env = {"OUTBOX_DISPATCH_INTERVAL_SECONDS": str(interval_seconds)}
    args = ["beat", "-l", "info", "--scheduler", settings.CELERY_BEAT_SCHEDULER]
    args += ["--pidfile", str(pidfile), "--max-interval", "1"]
    return CeleryProcess(args, log=log, extra_env=env, **kwargs)


class RedisServer:
    """A throw-away ``redis-server`` on its own port (never the shared one), without
    persistence: killed and started again, it comes back empty, as a broker that lost its
    data would."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.ping, timeout=10, interval=0.1):
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        return self

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def use_broker(url: str | None) -> None:
    """Point this (the test) process's Celery app at another broker, or back (``None``).
    ``app.conf.broker_url`` would not do: Celery prefers the CELERY_BROKER_URL environment
    variable to it, but not to the read and write URLs. The connection pools are per app."""
    from crm.celery import app

    app.conf.broker_read_url = url
    app.conf.broker_write_url = url
    app._pool = None
    app.amqp._producer_pool = None
