"""Static checks of docker-compose.yml, Dockerfile, .dockerignore and .env.example.

Docker is not needed: the files are read and parsed, nothing is built or started.
"""

import json
import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_IMAGE = "alliance-crm:latest"
APP_SERVICES = ("migrate", "web", "worker", "beat")
SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# ${VAR}, ${VAR:-default}, ${VAR:?error}; not $${VAR}, which compose passes on as a literal $.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


@cache
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def argv(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def healthcheck_command(name: str) -> str:
    test = service(name)["healthcheck"]["test"]
    return " ".join(test[1:]) if isinstance(test, list) else test


@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        current += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            keyword, _, arguments = current.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            current = ""
    return instructions


def dockerfile(keyword: str) -> list[str]:
    return [
        arguments for instruction, arguments in dockerfile_instructions() if instruction == keyword
    ]


def dockerfile_cmd() -> list[str]:
    return json.loads(dockerfile("CMD")[-1])


def env_example_variables(*, include_commented: bool) -> set[str]:
    prefix = r"^#?\s*" if include_commented else r"^"
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(prefix + r"([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


# --- docker-compose.yml ---------------------------------------------------------------------


def test_compose_defines_the_whole_stack():
    assert "version" not in compose()
    assert {"migrate", "web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(
        compose()["services"]
    )


def test_app_services_run_one_image_with_one_configuration():
    web = service("web")
    for name in APP_SERVICES:
        assert service(name)["image"] == APP_IMAGE, name
        assert service(name)["environment"] == web["environment"], name
        assert service(name).get("env_file") == web.get("env_file"), name


def test_image_is_built_once_by_a_service_every_app_service_waits_for():
    # Several services building the same tag race each other ("image ... already exists").
    builders = [name for name, spec in compose()["services"].items() if "build" in spec]
    assert builders == ["migrate"]
    assert (ROOT / service("migrate")["build"]["dockerfile"]).is_file()
    for name in ("web", "worker", "beat"):
        migrate = service(name)["depends_on"]["migrate"]
        assert migrate["condition"] == "service_completed_successfully", name


def test_migrate_applies_migrations_once_and_exits():
    assert argv(service("migrate")["command"]) == ["python", "manage.py", "migrate", "--noinput"]
    assert service("migrate")["restart"] == "no"


def test_web_runs_gunicorn_exactly_like_the_image_cmd():
    command = argv(service("web")["command"])
    assert command[:2] == ["gunicorn", "crm.wsgi:application"]
    assert "0.0.0.0:8000" in command
    assert command == dockerfile_cmd()


def test_worker_runs_a_celery_worker():
    assert argv(service("worker")["command"])[:4] == ["celery", "-A", "crm", "worker"]


def test_beat_runs_celery_beat_with_the_database_scheduler():
    command = argv(service("beat")["command"])
    assert command[:4] == ["celery", "-A", "crm", "beat"]
    assert command[command.index("--scheduler") + 1] == SCHEDULER


def test_beat_is_never_scaled():
    beat = service("beat")
    assert beat["deploy"]["replicas"] == 1
    assert beat.get("scale", 1) == 1


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_wait_for_healthy_postgres_and_redis(name):
    depends_on = service(name)["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_redis_persists_the_queue_and_never_evicts_it():
    command = " ".join(argv(service("redis")["command"]))
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert service("redis")["image"].startswith("redis:7")


def test_postgres_and_redis_keep_data_in_named_volumes():
    volumes = compose()["volumes"]
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        (volume,) = [v for v in service(name)["volumes"] if v.endswith(":" + mount)]
        assert volume.split(":")[0] in volumes, name
    assert service("postgres")["image"] == "postgres:16"


def test_healthchecks_probe_each_service_for_real():
    assert "pg_isready" in healthcheck_command("postgres")
    assert "redis-cli ping" in healthcheck_command("redis")
    assert "http://127.0.0.1:8000/healthz" in healthcheck_command("web")
    # $$ survives into the container as a literal $ for the shell; a single $ would be
    # interpolated (to nothing) by compose.
    assert "inspect ping -d celery@$$HOSTNAME" in healthcheck_command("worker")


@pytest.mark.parametrize("name", ["migrate", "beat"])
def test_services_without_http_do_not_inherit_the_image_healthcheck(name):
    assert service(name)["healthcheck"] == {"disable": True}


def test_no_literal_secrets_in_compose():
    app_env = service("web")["environment"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", app_env["DJANGO_SECRET_KEY"])
    password = service("postgres")["environment"]["POSTGRES_PASSWORD"]
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", password)
    assert ":${POSTGRES_PASSWORD:?" in app_env["DATABASE_URL"]


def test_compose_runs_with_debug_off():
    assert service("web")["environment"]["DJANGO_DEBUG"].lower() in {"false", "off", "0", "no"}


# --- Dockerfile and .dockerignore -----------------------------------------------------------


def test_dockerfile_uses_python_311_slim():
    assert dockerfile("FROM")[-1].split()[0] == "python:3.11-slim"


def test_dockerfile_runs_as_a_non_root_user():
    user = dockerfile("USER")[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_healthcheck_probes_healthz():
    (healthcheck,) = dockerfile("HEALTHCHECK")
    assert "urllib" in healthcheck
    assert "http://127.0.0.1:8000/healthz" in healthcheck


def test_dockerfile_serves_gunicorn_on_port_8000():
    assert dockerfile_cmd()[:2] == ["gunicorn", "crm.wsgi:application"]
    assert "8000" in dockerfile("EXPOSE")


def test_dockerfile_installs_without_dev_extras_and_collects_static():
    runs = " ".join(dockerfile("RUN"))
    assert "pip install" in runs
    assert "[dev]" not in runs
    assert "manage.py collectstatic --noinput" in runs


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    # crm/settings.py reads a .env next to manage.py: one copied into the image would be used.
    assert {".env", ".venv", "var", ".git", "**/__pycache__"} <= ignored


# --- .env.example ---------------------------------------------------------------------------


def test_every_compose_variable_is_documented_in_env_example():
    used = set(COMPOSE_VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    assert used, "docker-compose.yml interpolates nothing"
    assert used <= env_example_variables(include_commented=True)


def test_variables_compose_requires_are_set_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):\?", text))
    assert required == {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"}
    assert required <= env_example_variables(include_commented=False)


def test_env_example_leaves_service_wiring_commented_out():
    # Django reads .env outside containers too; these would point it at container host names.
    wiring = {"DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_DEBUG"}
    assert not wiring & env_example_variables(include_commented=False)


def test_env_example_documents_every_variable_the_settings_read():
    settings = (ROOT / "crm" / "settings.py").read_text()
    # env.str("NAME", ...), env.bool("NAME", ...), environ.Env().str("NAME", ...), ...
    read = set(re.findall(r"\b(?:env|Env\(\))\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", settings))
    assert "DJANGO_SECRET_KEY" in read
    assert read <= env_example_variables(include_commented=True)
