"""An invitee gives and withdraws consent on the RSVP page in a real browser, in Russian and
with JavaScript switched off (the page is plain forms)."""

import pytest
from playwright.sync_api import expect

from members.privacy.models import ConsentRecord
from members.privacy.selectors import consent_current
from tests.factories import InvitationFactory
from tests.privacy import ensure_consent_texts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invitee_gives_and_withdraws_consent_without_javascript_in_russian(
    browser_page, live_server
):
    texts = ensure_consent_texts()
    invitation = InvitationFactory(contact__preferred_language="ru")
    context = browser_page.context.browser.new_context(java_script_enabled=False, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + invitation.rsvp_path + "?lang=ru")
        section = page.locator("section.card", has=page.locator("#consent"))
        expect(section).to_contain_text(texts["participant_list"].text_ru[:40])
        mail_box = section.locator("#id_mail")
        expect(mail_box).to_be_checked()  # mail is allowed until withdrawn
        expect(section.locator("#id_participant_list")).not_to_be_checked()

        section.locator("#id_participant_list").check()
        mail_box.uncheck()
        section.locator('button[value="consent"]').click()

        expect(page.locator(".status.ok")).to_be_visible()
        expect(page.locator("#id_participant_list")).to_be_checked()
        expect(page.locator("#id_mail")).not_to_be_checked()
        current = consent_current(invitation.contact_id)
        assert current["participant_list"].given
        assert not current["mail"].given
        record = ConsentRecord.objects.get(purpose="participant_list")
        assert record.method == ConsentRecord.Method.RSVP
        assert record.language == "ru"
        assert record.invitation_id == invitation.pk
        assert record.text_id == texts["participant_list"].pk

        # Withdraw again: the history keeps both records.
        page.locator("#id_participant_list").uncheck()
        page.locator('button[value="consent"]').click()
        expect(page.locator("#id_participant_list")).not_to_be_checked()
        assert ConsentRecord.objects.filter(purpose="participant_list").count() == 2
        assert not consent_current(invitation.contact_id)["participant_list"].given
    finally:
        context.close()
