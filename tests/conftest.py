"""Shared fixtures and the service gates: a test marked ``postgres``, ``redis`` or ``browser``
is skipped where that service is missing, unless REQUIRE_SERVICES=1 makes it a failure."""

import os
import shutil
import socket
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection

from tests.factories import UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _redis_reachable() -> bool:
    url = settings.CELERY_BROKER_URL or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if not url.startswith("redis://"):
        return False
    host_port = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=1):
            return True
    except OSError:
        return False


def _browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def _gate(item: pytest.Item, marker: str, available, what: str) -> None:
    if item.get_closest_marker(marker) is None or available():
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


def pytest_runtest_setup(item: pytest.Item) -> None:
    _gate(item, "postgres", lambda: connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    _gate(item, "redis", _redis_reachable, "Redis (CELERY_BROKER_URL)")
    _gate(item, "browser", _browser_available, "Chromium with Playwright")


@pytest.fixture(autouse=True)
def _tasks_in_process(settings):
    """Run Celery tasks in-process, as the embedded default does, whatever CELERY_BROKER_URL
    the run has; tests of a real worker turn this off with their own fixture (it runs after
    this one)."""
    from crm.celery import app

    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def coordinator(db):
    """A staff user in the Coordinators group, with the directory's permissions."""
    user = UserFactory(is_staff=True, username="coord")
    group, _ = Group.objects.get_or_create(name="Coordinators")
    group.permissions.set(Permission.objects.filter(content_type__app_label="members"))
    user.groups.add(group)
    return user


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client
