"""One organisation's timeline: everything that happened with it, newest first.

The selector reads a fixed number of queries whatever the length of the history — one per
source (at most ``limit`` rows each, with their related rows joined) — and merges them in
Python. The newest ``limit`` entries of the merged list are always among the newest ``limit``
rows of each source, so nothing is missed by capping each query. Entries are plain values
(``TimelineEntry``), so the back office and the API render the same list.
"""

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Iterator

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Exists, Min, OuterRef, Q
from django.db.models.functions import Coalesce, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from meetings.models import Consultation, FocalPointSuccession, FollowUp, Invitation
from members.models import Affiliation, Contact, MembershipChange, Organization

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
VIEW_RESTRICTED = "meetings.view_restricted_consultation"
BOUNCE_TYPES = (
    DeliveryEvent.Type.BOUNCED,
    DeliveryEvent.Type.REJECTED,
    DeliveryEvent.Type.COMPLAINED,
)


class Kind(models.TextChoices):
    MEMBERSHIP = "membership", gettext_lazy("Membership")
    INVITATION = "invitation", gettext_lazy("Invitations")
    ANSWER = "answer", gettext_lazy("Answers")
    ATTENDANCE = "attendance", gettext_lazy("Attendance")
    CONSULTATION = "consultation", gettext_lazy("Consultations")
    FOLLOW_UP = "follow_up", gettext_lazy("Follow-ups")
    MAIL = "mail", gettext_lazy("Mail sent")
    BOUNCE = "bounce", gettext_lazy("Bounces and holds")
    SUCCESSION = "succession", gettext_lazy("Focal-point hand-overs")


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened. ``when`` is aware; for what is known only to the day (a
    membership change, a consultation, a due date) it is the start of that day in the current
    time zone and ``all_day`` is set. ``url`` is the back-office page of the record, or ""."""

    when: datetime.datetime
    kind: str
    title: str
    detail: str = ""
    url: str = ""
    all_day: bool = False

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)


def _day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _admin_url(model: type[models.Model], pk: int | None) -> str:
    """The record's change page, or "" where the model has no page in the back office."""
    if pk is None:
        return ""
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def _name(contact: Contact | None) -> str:
    return contact.full_name if contact is not None else "—"


DAY = "timeline_day"


def _on_day(moment: str) -> dict:
    """The annotation ``_affiliated_then`` compares with: the local day of ``moment``."""
    return {DAY: TruncDate(moment)}


def _affiliated_then(organization: Organization, **contact: object) -> Exists:
    """Whether the contact (given as lookups against the outer row) worked at the
    organisation on the outer row's day (annotated by ``_on_day``): mail to someone who has
    since moved on belongs to the timeline of where they were then."""
    day = OuterRef(DAY)
    return Exists(
        Affiliation.objects.filter(organization=organization, **contact).filter(
            Q(start_date__isnull=True) | Q(start_date__lte=day),
            Q(end_date__isnull=True) | Q(end_date__gte=day),
        )
    )


# --- Sources: one query each ------------------------------------------------------------------

Source = Callable[[Organization, int, AbstractBaseUser | AnonymousUser | None], Iterable]


def _membership(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    changes = (
        MembershipChange.objects.filter(organization=organization)
        .select_related("changed_by")
        .order_by("-effective_date", "-id")[:limit]
    )
    for change in changes:
        to = change.get_to_status_display()
        if change.from_status:
            title = _("Membership: %(from)s → %(to)s") % {
                "from": change.get_from_status_display(),
                "to": to,
            }
        else:
            title = _("Added to the directory as %(status)s") % {"status": to.lower()}
        by = change.changed_by.get_username() if change.changed_by else ""
        detail = " — ".join(part for part in (change.reason, by) if part)
        yield TimelineEntry(
            _day(change.effective_date),
            Kind.MEMBERSHIP,
            title,
            detail,
            _admin_url(MembershipChange, change.pk),
            all_day=True,
        )


def _invitation_rows(organization: Organization):
    return Invitation.objects.filter(organization=organization).select_related(
        "gathering", "contact"
    )


def _invitations_sent(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    invitations = (
        _invitation_rows(organization)
        .filter(sent_at__isnull=False)
        .only(
            "sent_at",
            "gathering__title",
            "contact__given_name",
            "contact__family_name",
        )
        .order_by("-sent_at", "-id")[:limit]
    )
    for invitation in invitations:
        yield TimelineEntry(
            invitation.sent_at,
            Kind.INVITATION,
            _("Invitation to %(gathering)s sent to %(name)s")
            % {"gathering": invitation.gathering.title, "name": _name(invitation.contact)},
            "",
            _admin_url(Invitation, invitation.pk),
        )


def _answer_title(row) -> str:
    values = {"name": _name(row.contact), "gathering": row.gathering.title if row.gathering else ""}
    status = row.status
    if status == Invitation.Status.ACCEPTED:
        mode = Invitation.Mode(row.mode).label.lower() if row.mode else ""
        values["mode"] = mode
        if mode:
            return _("%(name)s accepted %(gathering)s (%(mode)s)") % values
        return _("%(name)s accepted %(gathering)s") % values
    if status == Invitation.Status.DECLINED:
        return _("%(name)s declined %(gathering)s") % values
    if status == Invitation.Status.REPLACED:
        substitute = row.replaced_by.contact if row.replaced_by else None
        values["substitute"] = _name(substitute)
        return _("%(name)s passed the invitation to %(gathering)s to %(substitute)s") % values
    if status == Invitation.Status.WAITING:
        return _("%(name)s is on the waiting list for %(gathering)s") % values
    return _("%(name)s answered the invitation to %(gathering)s") % values


def _answers(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    """Every answer given, changed answers included, from the invitations' history: an answer
    raises ``answer_count``, so the first history row of each (invitation, count) pair is the
    answer as it was given."""
    historical = Invitation.history.model
    first_rows = (
        historical.objects.filter(organization_id=organization.pk, answered_at__isnull=False)
        .order_by()
        .values("id", "answer_count")
        .annotate(first=Min("history_id"))
        .values("first")
    )
    rows = (
        historical.objects.filter(history_id__in=first_rows)
        .select_related("gathering", "contact", "replaced_by__contact")
        .order_by("-answered_at", "-history_id")[:limit]
    )
    for row in rows:
        yield TimelineEntry(
            row.answered_at,
            Kind.ANSWER,
            _answer_title(row),
            _("Changed answer") if row.answer_count > 1 else "",
            _admin_url(Invitation, row.id),
        )


def _attendance(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    invitations = (
        _invitation_rows(organization)
        .filter(
            attendance__in=[Invitation.Attendance.ATTENDED, Invitation.Attendance.ABSENT],
        )
        .only(
            "attendance",
            "gathering__title",
            "gathering__starts_at",
            "contact__given_name",
            "contact__family_name",
        )
        .order_by("-gathering__starts_at", "-id")[:limit]
    )
    for invitation in invitations:
        values = {"name": _name(invitation.contact), "gathering": invitation.gathering.title}
        if invitation.attendance == Invitation.Attendance.ATTENDED:
            title = _("%(name)s attended %(gathering)s") % values
        else:
            title = _("%(name)s was absent from %(gathering)s") % values
        yield TimelineEntry(
            invitation.gathering.starts_at,
            Kind.ATTENDANCE,
            title,
            "",
            _admin_url(Invitation, invitation.pk),
        )


def may_see_restricted(user) -> bool:
    return bool(user is not None and user.has_perm(VIEW_RESTRICTED))


def _consultations(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    consultations = Consultation.objects.filter(organizations=organization)
    if not may_see_restricted(user):
        consultations = consultations.exclude(
            confidentiality=Consultation.Confidentiality.RESTRICTED
        )
    consultations = consultations.only(
        "title", "held_on", "kind", "channel", "confidentiality"
    ).order_by("-held_on", "-id")[:limit]
    for consultation in consultations:
        parts = [consultation.get_kind_display(), consultation.get_channel_display()]
        if consultation.confidentiality == Consultation.Confidentiality.RESTRICTED:
            parts.append(consultation.get_confidentiality_display())
        yield TimelineEntry(
            _day(consultation.held_on),
            Kind.CONSULTATION,
            _("Consultation: %(title)s") % {"title": consultation.title},
            " · ".join(str(p) for p in parts),
            _admin_url(Consultation, consultation.pk),
            all_day=True,
        )


def _followup_rows(organization: Organization, user):
    followups = FollowUp.objects.filter(organization=organization)
    if not may_see_restricted(user):
        # A follow-up says what was agreed, so it is as confidential as its consultation.
        followups = followups.exclude(
            consultation__confidentiality=Consultation.Confidentiality.RESTRICTED
        )
    return followups.select_related("owner_user", "owner_contact")


def _owner(followup: FollowUp) -> str:
    if followup.owner_contact is not None:
        return followup.owner_contact.full_name
    if followup.owner_user is not None:
        return followup.owner_user.get_username()
    return ""


def _followups(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    """Three moments of a follow-up: opened, due (once the day has come, while it is open)
    and done; a query for each, so each is capped on its own date."""
    rows = _followup_rows(organization, user)
    today = timezone.localdate()
    for followup in rows.order_by("-created_at", "-id")[:limit]:
        detail = _owner(followup)
        if followup.due_date:
            on = date_format(followup.due_date, "SHORT_DATE_FORMAT")
            due = _("due %(date)s") % {"date": on}
            detail = f"{detail} · {due}" if detail else due
        yield TimelineEntry(
            followup.created_at,
            Kind.FOLLOW_UP,
            _("Follow-up opened: %(title)s") % {"title": followup.title},
            detail,
            _admin_url(FollowUp, followup.pk),
        )
    due_rows = rows.filter(status=FollowUp.Status.OPEN, due_date__lte=today).order_by(
        "-due_date", "-id"
    )
    for followup in due_rows[:limit]:
        yield TimelineEntry(
            _day(followup.due_date),
            Kind.FOLLOW_UP,
            _("Follow-up due: %(title)s") % {"title": followup.title},
            _("Overdue") if followup.due_date < today else _owner(followup),
            _admin_url(FollowUp, followup.pk),
            all_day=True,
        )
    done_rows = rows.filter(status=FollowUp.Status.DONE, done_on__isnull=False).order_by(
        "-done_on", "-id"
    )
    for followup in done_rows[:limit]:
        yield TimelineEntry(
            _day(followup.done_on),
            Kind.FOLLOW_UP,
            _("Follow-up done: %(title)s") % {"title": followup.title},
            _owner(followup),
            _admin_url(FollowUp, followup.pk),
            all_day=True,
        )


def _mail(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    messages = (
        OutgoingMessage.objects.filter(
            status=OutgoingMessage.Status.SENT,
            sent_at__isnull=False,
            contact__in=Affiliation.objects.filter(organization=organization).values("contact_id"),
        )
        .annotate(**_on_day("sent_at"))
        .filter(_affiliated_then(organization, contact_id=OuterRef("contact_id")))
        .select_related("contact")
        .only(
            "subject",
            "purpose",
            "sent_at",
            "to_email",
            "contact__given_name",
            "contact__family_name",
        )
        .order_by("-sent_at", "-id")[:limit]
    )
    for message in messages:
        yield TimelineEntry(
            message.sent_at,
            Kind.MAIL,
            _("E-mail to %(name)s: %(subject)s")
            % {"name": _name(message.contact), "subject": message.subject},
            f"{message.get_purpose_display()} · {message.to_email}",
            _admin_url(OutgoingMessage, message.pk),
        )


def _bounces(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    """Bounces, rejections and complaints of the people who worked there at the time, by the
    message's contact or, for a report about a message that is not ours, by the address; and
    the holds put on their addresses (and released)."""
    events = (
        DeliveryEvent.objects.filter(event_type__in=BOUNCE_TYPES)
        .annotate(**_on_day("occurred_at"))
        .filter(
            _affiliated_then(organization, contact_id=OuterRef("message__contact"))
            | _affiliated_then(organization, contact__email__iexact=OuterRef("recipient"))
        )
        .only("event_type", "recipient", "description", "mta_response", "occurred_at")
        .order_by("-occurred_at", "-id")[:limit]
    )
    for event in events:
        values = {"email": event.recipient}
        if event.event_type == DeliveryEvent.Type.COMPLAINED:
            title = _("Mail to %(email)s was marked as spam") % values
        elif event.event_type == DeliveryEvent.Type.REJECTED:
            title = _("Mail to %(email)s was rejected by the provider") % values
        else:
            title = _("Mail to %(email)s bounced") % values
        yield TimelineEntry(
            event.occurred_at,
            Kind.BOUNCE,
            title,
            (event.description or event.mta_response)[:200],
            _admin_url(DeliveryEvent, event.pk),
        )
    holds = (
        AddressHold.objects.annotate(**_on_day("held_since"))
        .filter(
            _affiliated_then(organization, contact_id=OuterRef("contact_id"))
            | _affiliated_then(organization, contact__email__iexact=OuterRef("email"))
        )
        .select_related("released_by")
        .order_by(Coalesce("released_at", "held_since").desc(), "-id")[:limit]
    )
    for hold in holds:
        url = _admin_url(AddressHold, hold.pk)
        yield TimelineEntry(
            hold.held_since,
            Kind.BOUNCE,
            _("No more mail to %(email)s: %(reason)s")
            % {"email": hold.email, "reason": hold.get_reason_display().lower()},
            hold.detail[:200],
            url,
        )
        if hold.released_at:
            by = hold.released_by.get_username() if hold.released_by else ""
            yield TimelineEntry(
                hold.released_at,
                Kind.BOUNCE,
                _("Mail to %(email)s resumed (hold released)") % {"email": hold.email},
                by,
                url,
            )


def _successions(organization: Organization, limit: int, user) -> Iterator[TimelineEntry]:
    records = (
        FocalPointSuccession.objects.filter(organization=organization)
        .select_related("departing", "successor", "acted_by")
        .order_by("-created_at", "-id")[:limit]
    )
    for record in records:
        moved = ngettext(
            "%(n)d invitation moved",
            "%(n)d invitations moved",
            record.invitations_moved,
        ) % {"n": record.invitations_moved}
        followups = ngettext(
            "%(n)d follow-up moved",
            "%(n)d follow-ups moved",
            record.followups_moved,
        ) % {"n": record.followups_moved}
        parts = [
            _("from %(date)s") % {"date": date_format(record.end_date, "SHORT_DATE_FORMAT")},
            moved,
            followups,
        ]
        if record.acted_by:
            parts.append(record.acted_by.get_username())
        parts.extend(record.remarks)
        if record.notes:
            parts.append(record.notes)
        yield TimelineEntry(
            record.created_at,
            Kind.SUCCESSION,
            _("Focal point handed over: %(from)s → %(to)s")
            % {"from": _name(record.departing), "to": _name(record.successor)},
            " · ".join(parts),
            _admin_url(Contact, record.successor_id),
        )


SOURCES: dict[str, Source] = {
    Kind.MEMBERSHIP: _membership,
    Kind.INVITATION: _invitations_sent,
    Kind.ANSWER: _answers,
    Kind.ATTENDANCE: _attendance,
    Kind.CONSULTATION: _consultations,
    Kind.FOLLOW_UP: _followups,
    Kind.MAIL: _mail,
    Kind.BOUNCE: _bounces,
    Kind.SUCCESSION: _successions,
}


def organization_timeline(
    organization: Organization,
    *,
    kinds: Iterable[str] | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[TimelineEntry]:
    """The organisation's newest ``limit`` entries (at most ``MAX_LIMIT``), newest first, of
    the ``kinds`` asked for (``Kind`` values; all when None or empty; unknown ones ignored).

    ``user`` decides what is confidential: restricted consultations, and the follow-ups
    agreed in them, appear only for a user with ``meetings.view_restricted_consultation``;
    without a user they are left out. At most 12 queries, whatever the history's length."""
    wanted = {str(k) for k in kinds or ()} & set(Kind.values) or set(Kind.values)
    limit = max(1, min(int(limit), MAX_LIMIT))
    entries: list[TimelineEntry] = []
    for kind, source in SOURCES.items():
        if kind in wanted:
            entries.extend(source(organization, limit, user))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]
