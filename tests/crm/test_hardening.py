"""Production hardening (issue 8 §4): the Content-Security-Policy on every kind of page,
lockout after failed sign-ins, password rules, idle sessions, secret-key rotation and
personal data kept out of the logs."""

from __future__ import annotations

import datetime
import io
import logging

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.logging import PersonalDataFilter
from crm.roles import COORDINATORS, sync_roles
from tests.factories import ContactFactory, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests.factories.UserFactory


@pytest.fixture
def staff(db):
    sync_roles()
    user = UserFactory(username="hardening-coordinator", is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATORS))
    return user


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# --- Content-Security-Policy ------------------------------------------------------------------


def _page_urls(staff) -> dict[str, tuple[str, bool]]:
    """Every kind of page, with whether it is a back-office page."""
    contact = ContactFactory()
    invitation = InvitationFactory()
    unsubscribe = signing.dumps({"c": contact.pk}, salt="mail.unsubscribe")
    return {
        "admin index": (reverse("admin:index"), True),
        "contact list": (reverse("admin:members_contact_changelist"), True),
        "contact change form": (reverse("admin:members_contact_change", args=[contact.pk]), True),
        "reports dashboard": (reverse("reports:dashboard"), True),
        "rsvp page": (invitation.rsvp_path, False),
        "unsubscribe page": (reverse("mail:unsubscribe", args=[unsubscribe]), False),
        "browsable api": ("/api/v1/contacts/", False),
        "swagger ui": (reverse("api:docs"), False),
        "swagger init script": (reverse("api:docs") + "?script=", False),
    }


def test_every_kind_of_page_has_the_policy(client, staff):
    pages = _page_urls(staff).items()
    login = client.get(reverse("admin:login"))
    assert "'unsafe-eval'" in _directives(login)["script-src"]
    assert "'unsafe-inline'" not in _directives(login)["script-src"]
    client.force_login(staff)
    for name, (url, back_office) in pages:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, (name, url, response.status_code)
        directives = _directives(response)
        assert directives["default-src"] == ["'self'"], name
        assert directives["object-src"] == ["'none'"], name
        assert directives["frame-ancestors"] == ["'none'"], name
        scripts = directives["script-src"]
        assert scripts[0] == "'self'", name
        assert "'unsafe-inline'" not in scripts, name
        # Unfold's Alpine.js needs eval; nothing outside the back office gets it.
        assert ("'unsafe-eval'" in scripts) is back_office, (name, scripts)
        assert not any(s.startswith(("http:", "https:", "*")) for s in scripts), name


def test_swagger_ui_page_has_no_inline_script_and_serves_assets_itself(client, staff):
    client.force_login(staff)
    html = client.get(reverse("api:docs")).content.decode()
    assert "<script>" not in html
    assert "cdn.jsdelivr.net" not in html
    assert f"{settings.STATIC_URL}drf_spectacular_sidecar/swagger-ui-dist/" in html
    script = client.get(reverse("api:docs") + "?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_a_nonce_is_in_the_header_only_when_a_template_used_it(rf):
    from django.http import HttpResponse

    from crm.csp import CSPMiddleware

    middleware = CSPMiddleware(lambda request: HttpResponse())
    request = rf.get("/rsvp/x/")
    middleware.process_request(request)
    nonce = str(request.csp_nonce)
    response = middleware.process_response(request, HttpResponse())
    assert f"'nonce-{nonce}'" in _directives(response)["script-src"]


# --- Failed sign-ins (django-axes) ------------------------------------------------------------


def _sign_in(client, username, password, ip="198.51.100.7", **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


def test_five_wrong_passwords_lock_out_even_the_right_one(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, staff.username, "wrong").status_code == 200  # the form again
    assert _sign_in(client, staff.username, "wrong").status_code == 429  # the fifth locks
    refused = _sign_in(client, staff.username, PASSWORD)
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "Sign-in temporarily blocked" in text
    assert "after 5 failed sign-in attempts" in text
    assert "try again in 60 minutes" in text
    assert "ask an administrator" in text
    assert "unfold/css/styles.css" in text  # in the back office's layout
    assert "_auth_user_id" not in client.session
    # The lockout is per username and address: the same person elsewhere may sign in.
    assert _sign_in(client, staff.username, PASSWORD, ip="203.0.113.20").status_code == 302


def test_signing_in_on_the_login_page_itself_lands_on_the_back_office(client, staff):
    # Unfold's form has no "next" field; Django's default would be /accounts/profile/ (404).
    response = _sign_in(client, staff.username, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert client.get(response.url).status_code == 200


def test_the_lockout_ends_after_the_cool_off(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, staff.username, "wrong")
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        assert _sign_in(client, staff.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, staff.username, "wrong")
    assert _sign_in(client, staff.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, staff.username, "wrong")
    assert _sign_in(client, staff.username, PASSWORD).status_code == 302


def test_behind_a_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(client, staff, settings):
    # DJANGO_NUM_PROXIES=1: what crm/settings.py derives for one reverse proxy.
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = 0
    proxy = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The attacker varies the part of the header they control; the proxy appends the
        # real address.
        forged = f"192.0.2.{n}, 198.51.100.7"
        _sign_in(client, staff.username, "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=forged)
    refused = _sign_in(
        client, staff.username, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7"
    )
    assert refused.status_code == 429
    other = _sign_in(client, staff.username, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert other.status_code == 302


# --- Passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["password1", "12345678901", "Short1!", "hardening-coordinator"])
def test_weak_passwords_are_refused(staff, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=staff)
    validate_password("Vienna rain over the Danube 2026", user=staff)


def test_the_admin_user_form_refuses_a_weak_password(db):
    form_class = admin.site._registry[get_user_model()].add_form
    form = form_class(
        data={
            "username": "newcomer",
            "password1": "password123",
            "password2": "password123",
            "usable_password": "true",
        }
    )
    assert not form.is_valid()
    assert "password2" in form.errors


# --- Sessions -----------------------------------------------------------------------------------


def test_the_session_ends_after_an_hour_without_activity(client, staff):
    assert settings.SESSION_COOKIE_AGE == 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST is False  # crm.sessions does it, once a minute
    start = timezone.now()
    index = reverse("admin:index")
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(staff)
        assert client.get(index).status_code == 200
        # Activity keeps it alive, well past an hour in total.
        for _ in range(3):
            traveller.shift(datetime.timedelta(minutes=50))
            assert client.get(index).status_code == 200
        traveller.shift(datetime.timedelta(minutes=61))
        response = client.get(index)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_activity_rewrites_the_session_at_most_once_a_minute(
    client, staff, django_assert_max_num_queries
):
    index = reverse("admin:index")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.force_login(staff)
        client.get(index)
        with django_assert_max_num_queries(50) as quiet:
            client.get(index)
        traveller.shift(datetime.timedelta(seconds=61))
        with django_assert_max_num_queries(50) as touched:
            client.get(index)
    writes = lambda queries: [  # noqa: E731
        q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]
    ]
    assert writes(quiet.captured_queries) == []
    assert len(writes(touched.captured_queries)) == 1


def test_anonymous_visitors_and_api_tokens_get_no_session(client):
    from api.services import api_client_issue_token

    _client, token = api_client_issue_token(name="no-session", scope="read", acting_user=None)
    response = client.get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert settings.SESSION_COOKIE_NAME not in client.get(reverse("admin:login")).cookies


# --- Secret-key rotation ----------------------------------------------------------------------


def test_a_link_signed_with_the_previous_key_works_after_rotation(client, settings):
    contact = ContactFactory()
    settings.SECRET_KEY = "old-key-" + "x" * 50
    url = reverse(
        "mail:unsubscribe", args=[signing.dumps({"c": contact.pk}, salt="mail.unsubscribe")]
    )
    settings.SECRET_KEY = "new-key-" + "y" * 50
    settings.SECRET_KEY_FALLBACKS = []
    assert client.get(url).status_code == 400  # rotated without a fallback: the link is dead
    settings.SECRET_KEY_FALLBACKS = ["old-key-" + "x" * 50]
    assert client.get(url).status_code == 200
    # RSVP links are random tokens kept in the database: no key is involved.
    invitation = InvitationFactory()
    assert client.get(invitation.rsvp_path).status_code == 200


# --- Personal data in logs ----------------------------------------------------------------------


@pytest.fixture
def log_output():
    """What the configured root handler (settings.LOGGING) writes, captured from it."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "settings.LOGGING gives the root logger a stream handler"
    handler = handlers[0]
    assert any(isinstance(f, PersonalDataFilter) for f in handler.filters)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_every_configured_handler_masks_personal_data():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "personal_data" in handler.get("filters", []), name
    for name, logger in settings.LOGGING["loggers"].items():
        assert logger["handlers"] == [], name
        assert logger["propagate"], name


def test_logs_hold_neither_names_nor_email_addresses(log_output):
    contact = ContactFactory(
        given_name="Aigerim", family_name="Nurlanova", email="aigerim.n@example.kz"
    )
    logger = logging.getLogger("members.services")
    logger.warning("Mail to %s for %s failed", contact.email, contact)
    logger.warning("Contact %(who)s wrote from %(email)s", {"who": contact, "email": contact.email})
    logger.warning("Bounce", extra={"email": contact.email, "contact": contact})
    try:
        raise ValueError(f"SMTP 550 <{contact.email}> mailbox unavailable")
    except ValueError:
        logger.exception("Sending to %s failed", contact.email)
    logging.getLogger("django.request").warning("Not Found: /unsubscribe/%s", contact.email)

    output = log_output.getvalue()
    assert f"contact #{contact.pk}" in output
    assert "[email]" in output
    assert "SMTP 550 <[email]> mailbox unavailable" in output  # the traceback, masked
    for secret in ("aigerim", "Aigerim", "Nurlanova", "example.kz"):
        assert secret not in output, output


def test_extra_personal_fields_are_removed():
    record = logging.makeLogRecord(
        {"msg": "Imported", "given_name": "Aigerim", "family_name": "Nurlanova", "row": 7}
    )
    PersonalDataFilter().filter(record)
    assert record.given_name == record.family_name == "[removed]"
    assert record.row == 7


def test_a_celery_worker_handler_gets_the_filter():
    from celery.signals import after_setup_logger, after_setup_task_logger

    for signal in (after_setup_logger, after_setup_task_logger):
        logger = logging.getLogger(f"test.celery.{signal.name}")
        handler = logging.StreamHandler(io.StringIO())
        logger.addHandler(handler)
        try:
            signal.send(
                sender=None,
                logger=logger,
                loglevel=logging.INFO,
                logfile=None,
                format="",
                colorize=False,
            )
            assert any(isinstance(f, PersonalDataFilter) for f in handler.filters)
            logger.warning("Task failed for %s", "someone@example.org")
            assert "someone@example.org" not in handler.stream.getvalue()
        finally:
            logger.removeHandler(handler)
