"""Composing the e-mails of the RSVP engine. Each logical message has its outbox key, so
calling these twice (a replayed task, a double click, two schedulers) creates one row."""

from django.conf import settings
from django.utils import timezone

from crm.calendar import ics_attachment
from crm.mail.models import OutgoingMessage
from crm.mail.rendering import organizer_name, render_mail
from crm.mail.services import message_create
from meetings.models import Invitation

Purpose = OutgoingMessage.Purpose

TEMPLATES = {
    "invitation": Purpose.INVITATION,
    "reminder": Purpose.REMINDER,
    "see_you_tomorrow": Purpose.REMINDER,
    "note": Purpose.REMINDER,
    "confirmation": Purpose.CONFIRMATION,
    "update": Purpose.UPDATE,
    "cancellation": Purpose.CANCELLATION,
    "rsvp_link": Purpose.OTHER,
    "colleague_registered": Purpose.CONFIRMATION,
    "offer": Purpose.OTHER,
    "offer_expired": Purpose.OTHER,
}
WITH_CALENDAR = {"invitation", "confirmation", "update", "cancellation", "colleague_registered"}


def _agenda_and_programme(gathering) -> tuple[list, list]:
    """Read once per gathering object: mailing a whole list reuses the same instance, so this
    is two queries for the list, not two per invitation."""
    cached = getattr(gathering, "_mail_agenda", None)
    if cached is None:
        programme = list(gathering.sessions.all()) if hasattr(gathering, "sessions") else []
        cached = gathering._mail_agenda = (list(gathering.agenda_items.all()), programme)
    return cached


def invitation_context(invitation: Invitation, **extra) -> dict:
    gathering = invitation.gathering.specific
    agenda, programme = _agenda_and_programme(gathering)
    return {
        "invitation": invitation,
        "gathering": gathering,
        "contact": invitation.contact,
        "rsvp_url": invitation.rsvp_url,
        "agenda": agenda,
        "programme": programme,
        "show_online_link": bool(
            gathering.online_link
            and invitation.status == Invitation.Status.ACCEPTED
            and invitation.mode == Invitation.Mode.ONLINE
        ),
        "coordinator_email": settings.CRM_COORDINATOR_EMAIL,
        "organizer_name": organizer_name(),
        **extra,
    }


def mail_invitation(
    invitation: Invitation,
    *,
    template: str,
    key: str,
    essential: bool = True,
    extra_text: str = "",
    **context,
) -> OutgoingMessage | None:
    """Render ``template`` for the invitee in their language and put it in the outbox.
    Returns None for a contact without an address (they are listed as not invitable)."""
    contact = invitation.contact
    if not contact.email:
        return None
    language = contact.preferred_language
    ctx = invitation_context(invitation, extra_text=extra_text, **context)
    subject, text, html = render_mail(f"meetings/mail/{template}", ctx, language)
    attachments = [ics_attachment(invitation)] if template in WITH_CALENDAR else []
    message, _created = message_create(
        key=key,
        purpose=TEMPLATES[template],
        essential=essential,
        contact=contact,
        about=invitation,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=attachments,
    )
    return message


def mail_invitation_sent(invitation: Invitation) -> OutgoingMessage | None:
    message = mail_invitation(invitation, template="invitation", key=f"invitation:{invitation.pk}")
    if message is not None and invitation.sent_at is None:
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
        invitation.sent_at = timezone.now()
    return message
