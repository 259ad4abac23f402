"""Consent records: give, withdraw, the latest wins, the text version, the mail opt-out kept
in step, versioned texts that are never edited once agreed to, and the migrated opt-outs."""

import datetime

import pytest
from django.apps import apps
from django.utils import timezone

from crm.exceptions import ApplicationError
from crm.mail import services as mail_services
from crm.mail.models import OutgoingMessage
from members import services as member_services
from members.models import Contact
from members.privacy import selectors, services
from members.privacy.models import ConsentPurpose, ConsentRecord, ConsentText
from tests.factories import ContactFactory, UserFactory
from tests.privacy import ensure_consent_texts

pytestmark = pytest.mark.django_db

MAIL = ConsentPurpose.MAIL
LIST = ConsentPurpose.PARTICIPANT_LIST
PHOTOS = ConsentPurpose.PHOTOGRAPHS
Method = ConsentRecord.Method


@pytest.fixture
def texts():
    return ensure_consent_texts()


def _record(contact, purpose, given, **kwargs):
    kwargs.setdefault("method", Method.IN_PERSON)
    kwargs.setdefault("acting_user", None)
    return services.consent_record(contact=contact, purpose=purpose, given=given, **kwargs)


def test_defaults_without_records_mail_allowed_list_and_photos_not_given(texts):
    contact = ContactFactory()
    current = selectors.consent_current(contact.pk)
    assert {p: s.given for p, s in current.items()} == {MAIL: True, LIST: False, PHOTOS: False}
    assert all(state.is_default for state in current.values())


def test_give_then_withdraw_the_latest_wins_and_the_history_keeps_both(texts):
    contact = ContactFactory()
    user = UserFactory()
    given = _record(contact, PHOTOS, True, acting_user=user, note="signed at AECT")
    withdrawn = _record(contact, PHOTOS, False, method=Method.BACK_OFFICE, acting_user=user)

    state = selectors.consent_current(contact.pk)[PHOTOS]
    assert state.given is False
    assert state.record == withdrawn
    assert list(selectors.consent_history(contact.pk)) == [withdrawn, given]
    assert given.recorded_by == user
    assert given.text == texts[PHOTOS]
    assert given.note == "signed at AECT"


def test_a_record_refers_to_the_current_text_version(texts):
    contact = ContactFactory()
    first = _record(contact, LIST, True)
    v2 = services.consent_text_publish(
        purpose=LIST, text_en="New wording", text_ru="Новый текст", acting_user=None
    )
    second = _record(contact, LIST, True)
    assert first.text == texts[LIST]
    assert v2.version == texts[LIST].version + 1
    assert second.text == v2
    assert selectors.consent_text_current(LIST) == v2


def test_a_text_of_another_purpose_is_refused(texts):
    with pytest.raises(ApplicationError) as exc:
        _record(ContactFactory(), MAIL, True, text=texts[PHOTOS])
    assert exc.value.field == "text_version"


def test_an_unknown_purpose_is_refused_with_its_field(texts):
    with pytest.raises(ApplicationError) as exc:
        _record(ContactFactory(), "newsletter", True)
    assert exc.value.field == "purpose"
    assert not ConsentRecord.objects.exists()


def test_consent_cannot_be_given_without_a_published_text():
    ConsentText.objects.filter(purpose=PHOTOS).delete()
    with pytest.raises(ApplicationError):
        _record(ContactFactory(), PHOTOS, True)


def test_a_text_agreed_to_is_not_edited_but_an_unused_one_may_be(texts):
    _record(ContactFactory(), PHOTOS, True)
    with pytest.raises(ApplicationError):
        services.consent_text_update(text=texts[PHOTOS], text_en="Changed", acting_user=None)
    draft = services.consent_text_publish(
        purpose=PHOTOS, text_en="Typo", text_ru="Опечатка", acting_user=None
    )
    fixed = services.consent_text_update(text=draft, text_en="Fixed", acting_user=None)
    assert fixed.text_en == "Fixed"
    assert fixed.history.count() == 2  # created, changed


def test_the_text_is_shown_in_russian_and_falls_back_to_english(texts):
    text = texts[MAIL]
    assert text.text_for("ru") == text.text_ru
    assert text.text_for("de") == text.text_en


# --- Mail ----------------------------------------------------------------------------------


def _reminder(contact, key):
    message, _created = mail_services.message_create(
        key=key, purpose="reminder", subject="Hi", body_text="Text", contact=contact
    )
    return message


def test_withdrawing_mail_consent_suppresses_non_essential_mail_and_giving_lifts_it(texts):
    contact = ContactFactory()
    _record(contact, MAIL, False, method=Method.EMAIL)
    contact.refresh_from_db()
    assert contact.has_opted_out
    assert _reminder(contact, "r1").status == OutgoingMessage.Status.SUPPRESSED

    _record(contact, MAIL, True, method=Method.RSVP)
    contact.refresh_from_db()
    assert not contact.has_opted_out
    assert _reminder(contact, "r2").status == OutgoingMessage.Status.QUEUED


def test_the_opt_out_service_writes_a_consent_record(texts):
    contact = ContactFactory()
    user = UserFactory()
    member_services.contact_set_mail_opt_out(contact=contact, opted_out=True, acting_user=user)
    record = ConsentRecord.objects.get(contact=contact)
    assert (record.purpose, record.given, record.method) == (MAIL, False, Method.BACK_OFFICE)
    assert record.recorded_by == user
    assert contact.has_opted_out  # the caller's instance is up to date
    assert Contact.objects.get(pk=contact.pk).mail_opt_out_at == contact.mail_opt_out_at


def test_other_purposes_leave_mail_alone(texts):
    contact = ContactFactory()
    _record(contact, PHOTOS, False)
    contact.refresh_from_db()
    assert not contact.has_opted_out


# --- Lists without N+1 -----------------------------------------------------------------------


def test_with_consent_annotates_a_list_in_one_query(texts, django_assert_num_queries):
    given, withdrawn, nothing = ContactFactory(), ContactFactory(), ContactFactory()
    _record(given, LIST, False)
    _record(given, LIST, True)
    _record(withdrawn, LIST, True)
    _record(withdrawn, LIST, False)
    _record(withdrawn, MAIL, False)
    with django_assert_num_queries(1):
        rows = {
            c.pk: (c.consent_mail, c.consent_participant_list, c.consent_photographs)
            for c in selectors.with_consent(Contact.objects.all())
        }
    assert rows[given.pk] == (True, True, False)
    assert rows[withdrawn.pk] == (False, False, False)
    assert rows[nothing.pk] == (True, False, False)


# --- The data migration ----------------------------------------------------------------------


def test_migration_turns_existing_opt_outs_into_withdrawals():
    from importlib import import_module

    migration = import_module("members.migrations.0009_consent_records")
    opted_out_at = timezone.now() - datetime.timedelta(days=30)
    contact = ContactFactory(mail_opt_out_at=opted_out_at)
    ContactFactory()
    ConsentText.objects.all().delete()

    migration.seed_texts_and_migrate_opt_outs(apps, None)

    record = ConsentRecord.objects.get()
    assert (record.contact, record.purpose, record.given) == (contact, MAIL, False)
    assert record.recorded_at == opted_out_at
    assert record.method == Method.IMPORT
    assert set(ConsentText.objects.values_list("purpose", "version")) == {
        (p, 1) for p in ConsentPurpose.values
    }
    assert all(t.text_en and t.text_ru for t in ConsentText.objects.all())


def test_a_merge_moves_the_records_and_keeps_the_more_protective_mail_choice(texts):
    target, source = ContactFactory(), ContactFactory()
    _record(source, PHOTOS, True)
    member_services.contact_set_mail_opt_out(contact=source, opted_out=True, acting_user=None)
    _record(target, MAIL, True, method=Method.RSVP)  # later than the duplicate's opt-out

    merged = member_services.contact_merge(source=source, target=target, acting_user=None)

    current = selectors.consent_current(merged.pk)
    assert current[PHOTOS].given  # moved from the duplicate
    assert not current[MAIL].given
    assert merged.has_opted_out
    # Three moved or kept, and the withdrawal that states the kept opt-out.
    assert ConsentRecord.objects.filter(contact=merged).count() == 4
