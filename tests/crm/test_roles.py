"""The roles exist after migrate with exactly their permissions."""

import pytest
from django.contrib.auth.models import Group

from crm.roles import ADMINISTRATORS, COORDINATORS, VIEWERS, sync_roles

pytestmark = pytest.mark.django_db


def _perms(name):
    return set(
        Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename")
    )


def test_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        COORDINATORS,
        VIEWERS,
        ADMINISTRATORS,
    }


def test_coordinators_change_everything_in_the_domain_and_see_restricted():
    perms = _perms(COORDINATORS)
    for wanted in [
        ("members", "change_contact"),
        ("members", "add_organization"),
        ("meetings", "change_invitation"),
        ("meetings", "view_restricted_consultation"),
        ("events", "change_event"),
        ("mail", "view_outgoingmessage"),
    ]:
        assert wanted in perms
    assert ("auth", "add_user") not in perms
    assert ("api", "add_apiclient") not in perms


def test_viewers_only_read_and_never_restricted():
    perms = _perms(VIEWERS)
    assert ("members", "view_contact") in perms
    assert ("meetings", "view_meeting") in perms
    assert all(code.startswith("view_") for _app, code in perms)
    assert ("meetings", "view_restricted_consultation") not in perms


def test_administrators_also_manage_users_and_api_clients():
    perms = _perms(ADMINISTRATORS)
    assert ("auth", "add_user") in perms
    assert ("api", "add_apiclient") in perms
    assert _perms(COORDINATORS) <= perms


def test_sync_is_idempotent_and_repairs_changes():
    group = Group.objects.get(name=VIEWERS)
    group.permissions.clear()
    sync_roles()
    sync_roles()
    assert ("members", "view_contact") in _perms(VIEWERS)
