from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _signs_in(client, password: str) -> bool:
    # Through the login form, not client.login(): django-axes' backend needs the request.
    response = client.post(
        reverse("admin:login"), {"username": "coordinator", "password": password}
    )
    return response.status_code == 302


def test_dev_login_prints_a_working_coordinator_login(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # pytest-django turns it off; the command is for development
    out = StringIO()
    call_command("dev_login", stdout=out)
    password = (tmp_path / "dev_login.txt").read_text()
    assert f"coordinator / {password}" in out.getvalue()
    assert _signs_in(client, password)
    for name in (
        "admin:members_organization_changelist",
        "admin:members_contact_changelist",
        "admin:mail_outgoingmessage_changelist",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    # Running it again keeps the same password.
    call_command("dev_login", stdout=StringIO())
    assert _signs_in(client, password)


def test_dev_login_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("dev_login", stdout=StringIO())
