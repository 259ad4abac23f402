import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "EMAIL_URL"))
    }
    clean.update(env, CRM_VAR_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "crm.example.org"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 60}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_secret_or_hosts(tmp_path, env, missing):
    done = _manage("check", tmp_path=tmp_path, DJANGO_DEBUG="off", **env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert f"set {missing} " in lines[0]


def test_production_settings_pass_the_deploy_check(tmp_path):
    done = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.urandom(32).hex() + "-Zq!",
        DJANGO_ALLOWED_HOSTS="crm.example.org",
        # With everything this deployment can set: a rotation in progress, behind a proxy.
        DJANGO_SECRET_KEY_FALLBACKS=os.urandom(32).hex() + "-Xy!," + os.urandom(32).hex() + "!",
        DJANGO_NUM_PROXIES="1",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_hardening_settings_come_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.SECRET_KEY_FALLBACKS, s.AXES_IPWARE_META_PRECEDENCE_ORDER,"
        " s.AXES_IPWARE_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'], s.SESSION_COOKIE_AGE,"
        " s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), sep='|')"
    )
    done = _manage(
        "shell",
        "-c",
        code,
        tmp_path=tmp_path,
        DJANGO_SECRET_KEY_FALLBACKS="old-one,older-one",
        DJANGO_NUM_PROXIES="1",
        DJANGO_SESSION_COOKIE_AGE="1800",
        AXES_FAILURE_LIMIT="3",
        AXES_COOLOFF_MINUTES="15",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].split("|") == [
        "['old-one', 'older-one']",
        "['HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR']",
        "0",
        "1",
        "1800",
        "3",
        "900.0",
    ]
    # Without a proxy only REMOTE_ADDR counts: X-Forwarded-For would be the client's say-so.
    done = _manage("shell", "-c", code, tmp_path=tmp_path)
    assert done.stdout.strip().splitlines()[-1].split("|")[:4] == [
        "[]",
        "['REMOTE_ADDR']",
        "None",
        "0",
    ]


def test_development_default_needs_no_configuration(tmp_path):
    done = _manage("check", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    # The development key is random per checkout and kept out of git under var/.
    key = (tmp_path / "dev_secret_key").read_text()
    assert len(key) >= 50


def test_embedded_defaults(tmp_path):
    """With no variable set: SQLite under var/, tasks in-process, e-mail to files."""
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'],"
        " s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.EMAIL_FILE_PATH, s.DEBUG)"
    )
    done = _manage("shell", "-c", code, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    engine, name, eager, backend, mail_path, debug = done.stdout.strip().splitlines()[-1].split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "db.sqlite3")
    assert eager == "True"
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert mail_path == str(tmp_path / "mail")
    assert debug == "True"


def test_celery_is_configured_for_safe_delivery():
    from crm.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit > 0
