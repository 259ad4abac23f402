"""Reminders about follow-ups, run by every outbox pass: to the owner when a follow-up is due
in three days, and once when it is overdue. Each is keyed by the follow-up and its due date, so
moving the date earns a new reminder and nothing is sent twice."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from crm.mail.rendering import organizer_name, render_mail
from crm.mail.services import message_create
from meetings.models import FollowUp

DUE_SOON = datetime.timedelta(days=3)


def _recipient(followup: FollowUp) -> tuple[str, str]:
    """The office member who owns (or answers for) the follow-up: their address and name."""
    user = followup.owner_user
    if user is None or not user.email or not user.is_active:
        return "", ""
    return user.email, user.get_full_name() or user.username


def schedule_followup_reminders(now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = (
        FollowUp.objects.filter(
            status=FollowUp.Status.OPEN,
            due_date__isnull=False,
            due_date__lte=today + DUE_SOON,
            owner_user__isnull=False,
        )
        .select_related("owner_user", "owner_contact", "organization", "gathering")
        .order_by("due_date", "pk")
    )
    created = 0
    for followup in due:
        overdue = followup.due_date < today
        kind = "overdue" if overdue else "soon"
        key = f"followup:{followup.pk}:{followup.due_date.isoformat()}:{kind}"
        email, name = _recipient(followup)
        if not email or OutgoingMessage.objects.filter(key=key).exists():
            continue
        context = {
            "followup": followup,
            "overdue": overdue,
            "name": name,
            "site_url": settings.CRM_SITE_URL.rstrip("/"),
            "organizer_name": organizer_name(),
        }
        subject, text, html = render_mail(
            "meetings/mail/followup_due", context, settings.LANGUAGE_CODE
        )
        with transaction.atomic():
            _message, new = message_create(
                key=key,
                purpose=OutgoingMessage.Purpose.FOLLOW_UP,
                essential=True,
                to_email=email,
                about=followup,
                language=settings.LANGUAGE_CODE,
                subject=subject,
                body_text=text,
                body_html=html,
            )
        created += int(new)
    return created
