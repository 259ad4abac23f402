"""Every history row says who made the change: a member of staff, an API client (token) or an
invitee through their RSVP link (the invitation); nobody for a task or a command."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiClient
from api.models_webhooks import WebhookSubscription
from api.services import api_client_issue_token
from crm.audit import acting_as
from crm.roles import COORDINATORS, sync_roles
from meetings.models import Invitation
from members.models import Contact, Organization
from tests.factories import (
    ContactFactory,
    EventFactory,
    InvitationFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client():
    client, token = api_client_issue_token(name="sync-bot", scope="write", acting_user=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, api


def test_a_change_through_the_api_is_attributed_to_the_api_client(token_client):
    client, api = token_client
    response = api.post(
        "/api/v1/organizations/",
        {"name": "Token Partner", "kind": "international", "status": "active"},
        format="json",
    )
    assert response.status_code == 201, response.content
    record = Organization.objects.get(pk=response.json()["id"]).history.first()
    assert record.history_api_client == client
    assert record.history_user is None
    assert record.history_invitation is None


def test_an_api_update_and_a_deletion_are_attributed_too(token_client):
    client, api = token_client
    contact = ContactFactory(given_name="Ana")
    response = api.patch(f"/api/v1/contacts/{contact.pk}/", {"given_name": "Anna"}, format="json")
    assert response.status_code == 200, response.content
    assert contact.history.first().history_api_client == client

    subscription = WebhookSubscription.objects.create(
        client=client, url="https://hooks.example.org/x", event_types=[]
    )
    response = api.delete(f"/api/v1/webhooks/{subscription.pk}/")
    assert response.status_code == 204, response.content
    gone = type(subscription).history.filter(id=subscription.pk, history_type="-").get()
    assert gone.history_api_client == client
    assert gone.history_user is None


def test_an_answer_on_the_rsvp_page_is_attributed_to_the_invitation(client):
    invitation = InvitationFactory()
    response = client.post(
        reverse("rsvp:page", args=[invitation.token]), {"action": "answer", "answer": "online"}
    )
    assert response.status_code == 302
    record = Invitation.objects.get(pk=invitation.pk).history.first()
    assert record.history_invitation == invitation
    assert record.history_user is None
    assert record.history_api_client is None


def test_an_event_answer_and_a_substitute_are_attributed_to_the_invitation(client):
    invitation = InvitationFactory(gathering=EventFactory())
    response = client.post(
        reverse("rsvp:page", args=[invitation.token]),
        {
            "action": "substitute",
            "substitute-given_name": "Sam",
            "substitute-family_name": "Stand-in",
            "substitute-email": "sam@example.org",
        },
    )
    assert response.status_code in (200, 302), response.content
    if response.status_code == 302:
        substitute = Contact.objects.get(email="sam@example.org")
        assert substitute.history.first().history_invitation == invitation
    assert Invitation.history.filter(id=invitation.pk, history_invitation=invitation).exists()


def test_an_answer_through_the_rsvp_api_is_attributed_to_the_invitation():
    invitation = InvitationFactory()
    response = APIClient().post(
        f"/api/v1/rsvp/{invitation.token}/", {"answer": "in_person"}, format="json"
    )
    assert response.status_code == 200, response.content
    record = Invitation.objects.get(pk=invitation.pk).history.first()
    assert record.history_invitation == invitation
    assert record.history_api_client is None


def test_a_back_office_change_is_attributed_to_the_user(client):
    sync_roles()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATORS))
    client.force_login(user)
    organization = OrganizationFactory(name="Before")
    url = reverse("admin:members_organization_change", args=[organization.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    # The inline formsets as the page has them, unchanged.
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{management.prefix}-{name}"] = management.initial.get(name, field.initial)
    data.update(name="After", focus_areas=[])
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    record = Organization.objects.get(pk=organization.pk).history.first()
    assert record.name == "After"
    assert record.history_user == user
    assert record.history_api_client is None
    assert record.history_invitation is None


def test_acting_as_names_a_reason_and_nobody_for_tasks():
    organization = OrganizationFactory()
    with acting_as(reason="Nightly clean-up"):
        organization.acronym = "NC"
        organization.save()
    record = organization.history.first()
    assert record.history_change_reason == "Nightly clean-up"
    assert record.history_user is None
    assert record.history_api_client is None
    # Outside the block, nothing lingers.
    organization.acronym = "NC2"
    organization.save()
    assert organization.history.first().history_change_reason is None


def test_deleting_the_api_client_keeps_its_history_rows(token_client):
    client, api = token_client
    api.post(
        "/api/v1/organizations/",
        {"name": "Kept", "kind": "international", "status": "active"},
        format="json",
    )
    records = Organization.history.filter(name="Kept")
    assert {r.history_api_client_id for r in records} == {client.pk}
    ApiClient.objects.filter(pk=client.pk).delete()
    assert {r.history_api_client_id for r in records.all()} == {None}
    assert records.count() >= 1


def _rename_organization(organization_id: int) -> None:
    organization = Organization.objects.get(pk=organization_id)
    organization.acronym = "TASK"
    organization.save()


def test_a_task_leaves_no_user_and_names_itself():
    from crm.celery import app

    task = app.task(name="tests.rename_organization")(_rename_organization)
    organization = OrganizationFactory()
    task.apply(args=[organization.pk]).get()
    record = organization.history.first()
    assert record.acronym == "TASK"
    assert record.history_user is None
    assert record.history_change_reason == "Task tests.rename_organization"
    # Nothing lingers after the task.
    organization.save()
    assert organization.history.first().history_change_reason is None
