"""The contacts list is built from values() rows (api.serializers.directory.
contact_rows_representation), not through ContactSerializer: every page, in every mode, must
be exactly what ContactSerializer shows for the same contacts — keys, order and formats."""

import datetime
import json

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from api import selectors
from api.serializers.directory import ContactSerializer, contact_rows_representation
from members.models import Contact
from members.privacy.models import ConsentPurpose, ConsentRecord
from members.privacy.services import consent_record
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def serialized(contacts: list[Contact]) -> list[dict]:
    """What ContactSerializer shows for these contacts, as a client receives it."""
    by_pk = {c.pk: c for c in selectors.contact_list().filter(pk__in=[c.pk for c in contacts])}
    data = ContactSerializer([by_pk[c.pk] for c in contacts], many=True).data
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def varied(db) -> list[Contact]:
    """Contacts covering every value the list shows: phones, zones, opt-out, review flag,
    external refs, blank e-mail and salutation, roles current, ended and future, with and
    without dates and acronyms, consent given, withdrawn and recorded twice."""
    today = timezone.localdate()
    shelter = OrganizationFactory(name="Shelter Network", acronym="SN")
    bureau = OrganizationFactory(name="Anti-Trafficking Bureau", acronym="")
    contacts = [
        ContactFactory(
            salutation="Dr",
            phone="+43 1 51436 6664",
            time_zone="Asia/Almaty",
            mail_opt_out_at=timezone.now() - datetime.timedelta(days=3),
            needs_review=True,
            external_ref="hr-1",
            preferred_language="ru",
        ),
        ContactFactory(email="", given_name="Ana", family_name="Ionescu"),
        ContactFactory(time_zone="America/New_York", external_ref="hr-2"),
        ContactFactory(preferred_language="fr"),
    ]
    first, second, third, _fourth = contacts
    AffiliationFactory(contact=first, organization=shelter, role="focal_point")
    AffiliationFactory(
        contact=first,
        organization=bureau,
        role="head",
        job_title="Director",
        start_date=today - datetime.timedelta(days=400),
        end_date=today + datetime.timedelta(days=30),
    )
    AffiliationFactory(  # ended: not shown
        contact=first,
        organization=bureau,
        role="expert",
        end_date=today - datetime.timedelta(days=1),
    )
    AffiliationFactory(  # not started: not shown
        contact=second,
        organization=shelter,
        role="expert",
        start_date=today + datetime.timedelta(days=5),
    )
    AffiliationFactory(contact=third, organization=shelter, role="deputy")
    AffiliationFactory(contact=third, organization=bureau, role="expert")
    method = ConsentRecord.Method.BACK_OFFICE
    consent_record(
        contact=first, purpose=ConsentPurpose.MAIL, given=False, method=method, acting_user=None
    )
    for given in (True, False):  # the latest record counts
        consent_record(
            contact=second,
            purpose=ConsentPurpose.PHOTOGRAPHS,
            given=given,
            method=method,
            acting_user=None,
        )
    consent_record(
        contact=third,
        purpose=ConsentPurpose.PARTICIPANT_LIST,
        given=True,
        method=method,
        acting_user=None,
    )
    return contacts


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?page_size=2&page=2",
        "?ordering=-updated_at",
        "?search=ionescu",
        "?language=ru",
        "?role=focal_point",
        "?sync=1",
        "?sync=1&page_size=2",
    ],
)
def test_the_list_shows_exactly_what_the_serializer_shows(write_api, varied, query):
    response = write_api.get(f"/api/v1/contacts/{query}")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results
    expected = serialized([Contact.objects.get(pk=row["id"]) for row in results])
    assert results == expected
    assert [list(row) for row in results] == [list(row) for row in expected]  # key order


def test_the_varied_contacts_show_their_values(write_api, varied):
    first, second, third, _fourth = varied
    rows = {row["id"]: row for row in write_api.get("/api/v1/contacts/").json()["results"]}

    shown = rows[first.pk]
    assert shown["phone"].startswith("+43 1 ")  # international format, as stored: E.164
    assert shown["phone"].replace(" ", "") == "+431514366664"
    assert shown["time_zone"] == "Asia/Almaty"
    assert shown["mail_opted_out_at"] is not None
    assert [r["role"] for r in shown["current_roles"]] == ["head", "focal_point"]  # by org name
    assert shown["current_roles"][0]["organization"]["acronym"] == ""
    assert shown["consent"]["mail"]["given"] is False
    assert shown["consent"]["mail"]["recorded_at"] is not None
    assert rows[second.pk]["current_roles"] == []
    assert rows[second.pk]["consent"]["photographs"]["given"] is False
    assert rows[second.pk]["consent"]["mail"] == {"given": True, "recorded_at": None}
    assert rows[third.pk]["consent"]["participant_list"]["given"] is True
    assert rows[third.pk]["external_ref"] == "hr-2"


def test_the_sync_cursor_continues_after_a_values_page(write_api, varied):
    first_page = write_api.get("/api/v1/contacts/?sync=1&page_size=2").json()
    rest = write_api.get(first_page["next"]).json()

    seen = [row["id"] for row in first_page["results"] + rest["results"]]
    assert sorted(seen) == sorted(c.pk for c in Contact.objects.all())
    assert len(set(seen)) == len(seen)


def test_an_empty_page_reads_no_roles(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert contact_rows_representation([]) == []


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the embedded roles and consent are PostgreSQL's"
)


@pytest.mark.parametrize("embed", [pytest.param(True, marks=on_postgresql), False])
def test_both_ways_of_reading_roles_and_consent_show_the_same(varied, embed):
    rows = list(selectors.contact_rows(embed=embed).order_by("pk"))

    shown = json.loads(JSONRenderer().render(contact_rows_representation(rows)))
    assert shown == serialized(list(Contact.objects.order_by("pk")))


def test_roles_and_consent_of_a_page_are_one_query_each(varied, django_assert_num_queries):
    rows = list(selectors.contact_rows(embed=False))
    with django_assert_num_queries(2):
        shown = contact_rows_representation(rows)
    assert sum(len(row["current_roles"]) for row in shown) == 4


@on_postgresql
def test_embedded_roles_and_consent_cost_no_query(varied, django_assert_num_queries):
    rows = list(selectors.contact_rows(embed=True))
    with django_assert_num_queries(0):
        shown = contact_rows_representation(rows)
    assert sum(len(row["current_roles"]) for row in shown) == 4
    assert sum(row["consent"]["mail"]["recorded_at"] is not None for row in shown) == 1
