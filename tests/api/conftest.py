"""Callers of the REST API: API clients of every kind and staff sessions, and a fresh cache
(the rate limits count in it) for every test."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.services import api_client_issue_token
from crm.roles import COORDINATORS, VIEWERS, sync_roles
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def issue(name: str, scope: str = "write", **kwargs) -> str:
    _client, token = api_client_issue_token(name=name, scope=scope, acting_user=None, **kwargs)
    return token


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def roles(db):
    sync_roles()


def _staff(username: str, group: str) -> APIClient:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def write_api(db) -> APIClient:
    return bearer(issue("integration-write", "write"))


@pytest.fixture
def read_api(db) -> APIClient:
    return bearer(issue("integration-read", "read"))


@pytest.fixture
def callers(db, roles) -> dict[str, APIClient]:
    """Every kind of caller of the permission matrix, by name."""
    expired = issue("expired", "write")
    revoked_client, revoked = api_client_issue_token(
        name="revoked", scope="write", acting_user=None
    )
    revoked_client.revoked_at = timezone.now()
    revoked_client.save()
    from api.models import ApiClient

    ApiClient.objects.filter(name="expired").update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    return {
        "anonymous": APIClient(),
        "viewer": _staff("viewer", VIEWERS),
        "coordinator": _staff("coordinator-api", COORDINATORS),
        "read_token": bearer(issue("reader", "read")),
        "write_token": bearer(issue("writer", "write")),
        "restricted_token": bearer(issue("restricted", "write", restricted=True)),
        "expired_token": bearer(expired),
        "revoked_token": bearer(revoked),
    }
