import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType

from crm.audit import access_log_record
from crm.models import AccessLogEntry
from members.models import Contact
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_subject_access_entry_names_the_contact_by_reference():
    user = UserFactory()
    contact = ContactFactory()
    entry = access_log_record(
        action=AccessLogEntry.Action.SUBJECT_ACCESS,
        description="Subject-access export (JSON)",
        acting_user=user,
        obj=contact,
    )
    entry.refresh_from_db()
    assert entry.user == user
    assert entry.content_type == ContentType.objects.get_for_model(Contact)
    assert entry.object_id == str(contact.pk)
    assert contact.email not in entry.description


def test_list_export_records_model_and_rows_and_ignores_anonymous():
    entry = access_log_record(
        action=AccessLogEntry.Action.EXPORT,
        description="Contacts (CSV)",
        acting_user=AnonymousUser(),
        model=Contact,
        row_count=12,
    )
    assert entry.user is None
    assert entry.object_id == ""
    assert entry.row_count == 12
    assert AccessLogEntry.objects.get() == entry
