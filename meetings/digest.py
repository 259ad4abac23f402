"""The weekly digest for each coordinator: what needs attention this week.

Sent on Monday morning (office time) to every active staff member of the Coordinators group.
The key names the ISO week, so each coordinator gets one digest a week whatever the number of
scheduler passes or beat processes.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from crm.mail.rendering import organizer_name, render_mail
from crm.mail.services import message_create
from meetings.models import FollowUp, Gathering, Invitation

COORDINATORS_GROUP = "Coordinators"
DIGEST_WEEKDAY = 0  # Monday
DIGEST_TIME = datetime.time(8, 0)
LOOKAHEAD = datetime.timedelta(days=21)
MAX_LISTED = 25


def digest_context(now: datetime.datetime, user=None) -> dict:
    today = timezone.localdate(now)
    deadlines = list(
        Gathering.objects.filter(
            status=Gathering.Status.OPEN,
            rsvp_deadline__gte=now,
            rsvp_deadline__lte=now + LOOKAHEAD,
        )
        .annotate(
            invited=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
            not_answered=Count(
                "invitations",
                filter=Q(
                    invitations__sent_at__isnull=False,
                    invitations__status=Invitation.Status.PENDING,
                ),
            ),
            accepted=Count("invitations", filter=Q(invitations__status=Invitation.Status.ACCEPTED)),
        )
        .order_by("rsvp_deadline")
    )
    silent = list(
        Invitation.objects.filter(
            gathering__in=deadlines, status=Invitation.Status.PENDING, sent_at__isnull=False
        )
        .select_related("contact", "organization", "gathering")
        .order_by("gathering__rsvp_deadline", "organization__name")[:MAX_LISTED]
    )
    week_ago = now - datetime.timedelta(days=7)
    problem_mail = OutgoingMessage.objects.filter(
        status__in=[OutgoingMessage.Status.FAILED, OutgoingMessage.Status.UNKNOWN],
        updated_at__gte=week_ago,
    ).order_by("-updated_at")
    overdue = FollowUp.objects.filter(status=FollowUp.Status.OPEN, due_date__lt=today)
    if user is not None:
        overdue = overdue.filter(Q(owner_user=user) | Q(owner_user__isnull=True))
    overdue = overdue.select_related("organization", "owner_contact").order_by("due_date")
    return {
        "today": today,
        "deadlines": deadlines,
        "silent": silent,
        "problem_mail_count": problem_mail.count(),
        "problem_mail": list(problem_mail[:MAX_LISTED]),
        "overdue": list(overdue[:MAX_LISTED]),
        "overdue_count": overdue.count(),
        "site_url": settings.CRM_SITE_URL.rstrip("/"),
        "organizer_name": organizer_name(),
    }


def digest_is_due(now: datetime.datetime) -> tuple[bool, str]:
    """Due from Monday 08:00 office time for the rest of that ISO week; returns the week."""
    local = timezone.localtime(now)
    year, week, weekday = local.isocalendar()
    monday = local.date() - datetime.timedelta(days=weekday - 1)
    start = timezone.make_aware(datetime.datetime.combine(monday, DIGEST_TIME))
    return local >= start, f"{year}-W{week:02d}"


def coordinators():
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=COORDINATORS_GROUP)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def schedule_weekly_digest(now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    due, week = digest_is_due(now)
    if not due:
        return 0
    created = 0
    for user in coordinators():
        key = f"digest:{user.pk}:{week}"
        if OutgoingMessage.objects.filter(key=key).exists():
            continue
        context = {**digest_context(now, user), "user": user, "week": week}
        subject, text, html = render_mail("meetings/mail/digest", context, settings.LANGUAGE_CODE)
        with transaction.atomic():
            _message, new = message_create(
                key=key,
                purpose=OutgoingMessage.Purpose.DIGEST,
                essential=True,
                to_email=user.email,
                language=settings.LANGUAGE_CODE,
                subject=subject,
                body_text=text,
                body_html=html,
            )
        created += int(new)
    return created
