"""Invitations and answers: the RSVP engine that AECT meetings and events share.

Seat checks lock the gathering's row, so answers to one gathering are decided one at a time:
two people taking the last seat at the same moment cannot both get it.
"""

import dataclasses
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from api.webhooks.services import emit_on_commit, webhook_emit
from crm.exceptions import ApplicationError
from crm.mail.rendering import format_moment
from meetings.models import Gathering, Invitation, PlusOne
from meetings.models.invitations import new_token
from meetings.services import capacity
from meetings.services.capacity import check_organisation_seat
from meetings.services.common import save
from meetings.services.mail import mail_invitation, mail_invitation_sent
from members.models import Affiliation, Contact, Organization
from members.selectors import contact_with_email
from members.services import affiliation_create, contact_create, normalize_email

Status = Invitation.Status
ANSWERS = ("in_person", "online", "decline")
RSVP_REASON = "RSVP page"


# --- Building the list --------------------------------------------------------------------


@dataclasses.dataclass
class InviteePreview:
    """Who a list selection would invite, who is skipped and who cannot be invited."""

    to_invite: list[tuple[Contact, Organization | None]]
    already_invited: list[tuple[Contact, Organization | None]]
    no_address: list[tuple[Contact, Organization | None]]


def invitees_preview(
    *,
    gathering: Gathering,
    focal_points_of_aect_partners: bool = False,
    kinds: Sequence[str] = (),
    focus_areas: Sequence[str] = (),
    statuses: Sequence[str] = (),
    roles: Sequence[str] = (Affiliation.Role.FOCAL_POINT,),
    contacts: Iterable[Contact] = (),
) -> InviteePreview:
    """The people a selection names: the current holders of ``roles`` (focal points by
    default) in the organisations selected — all active AECT partners, or by kind, focus area
    and status — plus hand-picked contacts (each with their current organisation)."""
    pairs: dict[int, tuple[Contact, Organization | None]] = {}
    if focal_points_of_aect_partners or kinds or focus_areas or statuses:
        organizations = Organization.objects.all()
        if focal_points_of_aect_partners:
            organizations = organizations.filter(
                takes_part_in_aect=True, status=Organization.Status.ACTIVE
            )
        if kinds:
            organizations = organizations.filter(kind__in=kinds)
        if focus_areas:
            organizations = organizations.filter(focus_areas__code__in=focus_areas)
        if statuses:
            organizations = organizations.filter(status__in=statuses)
        affiliations = (
            Affiliation.objects.current()
            .filter(organization__in=organizations.distinct(), role__in=roles)
            .select_related("contact", "organization")
            .order_by("organization__name", "contact__family_name")
        )
        for affiliation in affiliations:
            pairs.setdefault(
                affiliation.contact_id, (affiliation.contact, affiliation.organization)
            )
    picked = [c for c in contacts if c.pk not in pairs]
    if picked:
        current = (
            Affiliation.objects.current()
            .filter(contact__in=picked)
            .select_related("organization")
            .order_by("contact_id", "role", "id")
        )
        first_org: dict[int, Organization] = {}
        for affiliation in current:
            first_org.setdefault(affiliation.contact_id, affiliation.organization)
        for contact in picked:
            pairs[contact.pk] = (contact, first_org.get(contact.pk))
    invited = set(gathering.invitations.values_list("contact_id", flat=True))
    preview = InviteePreview([], [], [])
    for contact_id, pair in pairs.items():
        if contact_id in invited:
            preview.already_invited.append(pair)
        elif not pair[0].email:
            preview.no_address.append(pair)
        else:
            preview.to_invite.append(pair)
    return preview


@transaction.atomic
def invitations_create(
    *,
    gathering: Gathering,
    invitees: Iterable[tuple[Contact, Organization | None]],
    acting_user: AbstractBaseUser | None,
) -> list[Invitation]:
    """Invite people; those already invited are skipped. On an open gathering the invitations
    are sent at once, on a draft when it opens."""
    if gathering.status in (Gathering.Status.HELD, Gathering.Status.CANCELLED):
        raise ApplicationError(
            _("“%(title)s” is %(status)s; nobody can be invited any more.")
            % {"title": gathering.title, "status": gathering.get_status_display()}
        )
    invited = set(gathering.invitations.values_list("contact_id", flat=True))
    created = []
    for contact, organization in invitees:
        if contact.pk in invited or not contact.email:
            continue
        invitation = Invitation(
            gathering=gathering,
            contact=contact,
            organization=organization,
            invited_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        save(invitation, acting_user)
        invited.add(contact.pk)
        created.append(invitation)
    if gathering.status == Gathering.Status.OPEN:
        invitations_send(gathering=gathering, acting_user=acting_user, invitations=created)
    return created


def invitations_send(
    *,
    gathering: Gathering,
    acting_user: AbstractBaseUser | None,
    invitations: Iterable[Invitation] | None = None,
) -> int:
    """Put the invitation e-mail of every unsent, unanswered invitation in the outbox."""
    if invitations is None:
        invitations = gathering.invitations.filter(
            sent_at__isnull=True, status=Status.PENDING
        ).select_related("contact")
    count = 0
    for invitation in invitations:
        invitation.gathering = gathering
        if mail_invitation_sent(invitation) is not None:
            count += 1
    return count


# --- Answers ------------------------------------------------------------------------------


def _lock_gathering(invitation: Invitation) -> tuple[Gathering, Invitation]:
    gathering = Gathering.objects.select_for_update().get(pk=invitation.gathering_id).specific
    fresh = Invitation.objects.select_for_update().select_related("contact").get(pk=invitation.pk)
    fresh.gathering = gathering
    return gathering, fresh


def _check_can_answer(gathering: Gathering, invitation: Invitation, by_coordinator: bool) -> None:
    if gathering.status == Gathering.Status.CANCELLED:
        raise ApplicationError(_("This gathering has been cancelled."))
    if invitation.status == Status.REPLACED:
        raise ApplicationError(
            _("You named a colleague to come instead; their invitation is theirs to answer.")
        )
    if by_coordinator:
        if gathering.status == Gathering.Status.HELD:
            raise ApplicationError(_("This gathering has been held; record attendance instead."))
        return
    if not gathering.answers_open(timezone.now()):
        raise ApplicationError(
            _("Answers are no longer taken: the deadline was %(deadline)s.")
            % {"deadline": format_moment(gathering.rsvp_deadline, gathering.time_zone)},
        )


@transaction.atomic
def invitation_respond(
    *,
    invitation: Invitation,
    answer: str,
    dietary: str = "",
    accessibility: str = "",
    other_needs: str = "",
    note: str = "",
    plus_ones: Sequence[dict] | None = None,
    acting_user: AbstractBaseUser | None = None,
    by_coordinator: bool = False,
) -> Invitation:
    """Record an answer: attend in person, attend online, or decline; with needs, a note and,
    where the gathering allows, plus-ones (``[{"name": …, "email": …}]``; None keeps them).

    An acceptance beyond the capacity joins the waiting list where the gathering keeps one,
    and is refused otherwise. Answering "attend" while a freed place is offered confirms it.
    A decline frees the place for the waiting list. It can be changed until the deadline
    (coordinators may record one later). Each answer is confirmed by e-mail with the
    calendar file."""
    if answer not in ANSWERS:
        raise ApplicationError(_("Choose whether you will attend."), field="answer")
    gathering, invitation = _lock_gathering(invitation)
    _check_can_answer(gathering, invitation, by_coordinator)
    if answer == "online" and not gathering.offers_online:
        raise ApplicationError(_("This gathering cannot be attended online."), field="answer")
    if answer == "in_person" and not gathering.offers_in_person:
        raise ApplicationError(_("This gathering takes place online only."), field="answer")
    guests = _clean_plus_ones(gathering, plus_ones) if answer != "decline" else []
    n_guests = len(guests) if guests is not None else invitation.plus_ones.count()

    if answer == "decline":
        status = Status.DECLINED
    else:
        if invitation.status not in (Status.ACCEPTED, Status.WAITING):
            check_organisation_seat(gathering, invitation.organization_id, invitation.pk)
        if capacity.fits(gathering, invitation, answer, n_guests):
            status = Status.ACCEPTED
        elif invitation.status == Status.ACCEPTED or invitation.offer_running:
            free = capacity.places_free(gathering, exclude_pk=invitation.pk) or 0
            raise ApplicationError(
                ngettext(
                    "There is room for %(n)s person including you; bring fewer guests.",
                    "There is room for %(n)s people including you; bring fewer guests.",
                    free,
                )
                % {"n": free},
                field="plus_ones",
            )
        elif gathering.waiting_list:
            status = Status.WAITING
        else:
            raise ApplicationError(_("Sorry, every seat is taken."), field="answer")

    if status == Status.WAITING:
        invitation.waiting_since = invitation.waiting_since or timezone.now()
    else:
        invitation.waiting_since = None
        invitation.offer_expires_at = None
    invitation.status = status
    invitation.mode = "" if answer == "decline" else answer
    invitation.dietary = dietary.strip()
    invitation.accessibility = accessibility.strip()
    invitation.other_needs = other_needs.strip()
    invitation.note = note.strip()
    invitation.answered_at = timezone.now()
    invitation.answer_count += 1
    save(invitation, acting_user, reason="" if by_coordinator else RSVP_REASON)
    if answer == "decline":
        invitation.plus_ones.all().delete()
    elif guests is not None:
        _replace_plus_ones(invitation, guests)
    mail_invitation(
        invitation,
        template="confirmation",
        key=f"confirmation:{invitation.pk}:{invitation.answer_count}",
        waiting_position=capacity.waiting_position(invitation),
    )
    capacity.waitlist_fill(gathering)
    # The public RSVP page must not depend on webhooks: record the event after the commit.
    emit = webhook_emit if by_coordinator else emit_on_commit
    emit("invitation.answered", invitation)
    return invitation


def _clean_plus_ones(gathering: Gathering, plus_ones: Sequence[dict] | None) -> list[dict] | None:
    if plus_ones is None:
        return None
    cleaned = []
    for guest in plus_ones:
        name = (guest.get("name") or "").strip()
        email = normalize_email(guest.get("email") or "")
        if name:
            cleaned.append({"name": name[:200], "email": email})
        elif email:
            raise ApplicationError(_("Give the name of each guest."), field="plus_ones")
    if len(cleaned) > gathering.max_plus_ones:
        if gathering.max_plus_ones == 0:
            message = _("This gathering does not allow guests.")
        else:
            message = ngettext(
                "You may bring at most %(n)s guest.",
                "You may bring at most %(n)s guests.",
                gathering.max_plus_ones,
            ) % {"n": gathering.max_plus_ones}
        raise ApplicationError(message, field="plus_ones")
    return cleaned


def _replace_plus_ones(invitation: Invitation, guests: list[dict]) -> None:
    current = [(p.name, p.email) for p in invitation.plus_ones.all()]
    if current == [(g["name"], g["email"]) for g in guests]:
        return
    invitation.plus_ones.all().delete()
    PlusOne.objects.bulk_create(
        PlusOne(invitation=invitation, name=g["name"], email=g["email"]) for g in guests
    )


def _contact_for(
    *,
    organization: Organization | None,
    given_name: str,
    family_name: str,
    email: str,
    language: str,
    acting_user: AbstractBaseUser | None,
) -> Contact:
    """An existing contact with this address, or a new one flagged for a coordinator's review
    (an invitee typed it; the directory should not fill with unchecked entries)."""
    email = normalize_email(email)
    if not email:
        raise ApplicationError(_("Enter your colleague's e-mail address."), field="email")
    existing = contact_with_email(email)
    if existing is not None:
        return existing
    if not given_name.strip() or not family_name.strip():
        raise ApplicationError(_("Enter your colleague's given and family name."), field="name")
    contact = contact_create(
        given_name=given_name,
        family_name=family_name,
        email=email,
        preferred_language=language,
        needs_review=True,
        acting_user=acting_user,
    )
    if organization is not None:
        affiliation_create(
            contact=contact,
            organization=organization,
            role=Affiliation.Role.OTHER,
            acting_user=acting_user,
            start_date=timezone.localdate(),
        )
    return contact


@transaction.atomic
def invitation_add_colleague(
    *,
    invitation: Invitation,
    email: str,
    given_name: str = "",
    family_name: str = "",
    mode: str = Invitation.Mode.IN_PERSON,
    acting_user: AbstractBaseUser | None = None,
    by_coordinator: bool = False,
) -> Invitation:
    """An invitee who accepted registers a colleague of their organisation, within the seats
    allotted. The colleague is registered as attending and gets their own link."""
    gathering, invitation = _lock_gathering(invitation)
    _check_can_answer(gathering, invitation, by_coordinator)
    if not gathering.allows_colleagues():
        raise ApplicationError(_("Colleagues cannot be registered for this gathering."))
    if invitation.status != Status.ACCEPTED:
        raise ApplicationError(_("Accept the invitation first, then add colleagues."))
    if mode == Invitation.Mode.ONLINE and not gathering.offers_online:
        raise ApplicationError(_("This gathering cannot be attended online."), field="mode")
    if mode == Invitation.Mode.IN_PERSON and not gathering.offers_in_person:
        mode = Invitation.Mode.ONLINE
    contact = _contact_for(
        organization=invitation.organization,
        given_name=given_name,
        family_name=family_name,
        email=email,
        language=invitation.contact.preferred_language,
        acting_user=acting_user,
    )
    if Invitation.objects.filter(gathering=gathering, contact=contact).exists():
        raise ApplicationError(
            _("%(name)s is already invited and can answer through their own link.")
            % {"name": contact.full_name},
            field="email",
        )
    check_organisation_seat(gathering, invitation.organization_id, exclude_pk=None)
    probe = Invitation(gathering=gathering)
    if not capacity.fits(gathering, probe, mode, 0):
        raise ApplicationError(_("Sorry, every seat is taken."), field="email")
    now = timezone.now()
    colleague = Invitation(
        gathering=gathering,
        contact=contact,
        organization=invitation.organization,
        status=Status.ACCEPTED,
        mode=mode,
        invited_via=invitation,
        invited_by=invitation.invited_by,
        answered_at=now,
        answer_count=1,
        sent_at=now,
    )
    save(colleague, acting_user, reason="" if by_coordinator else RSVP_REASON)
    mail_invitation(
        colleague,
        template="colleague_registered",
        key=f"colleague:{colleague.pk}",
        registered_by=invitation.contact,
    )
    return colleague


@transaction.atomic
def invitation_substitute(
    *,
    invitation: Invitation,
    email: str,
    given_name: str = "",
    family_name: str = "",
    acting_user: AbstractBaseUser | None = None,
    by_coordinator: bool = False,
) -> Invitation:
    """The invitee cannot come and names a colleague: the colleague gets an invitation of
    their own, and this one becomes "replaced". Returns the colleague's invitation."""
    gathering, invitation = _lock_gathering(invitation)
    _check_can_answer(gathering, invitation, by_coordinator)
    if not gathering.allows_substitutes() and not by_coordinator:
        raise ApplicationError(_("This invitation is personal and cannot be passed on."))
    contact = _contact_for(
        organization=invitation.organization,
        given_name=given_name,
        family_name=family_name,
        email=email,
        language=invitation.contact.preferred_language,
        acting_user=acting_user,
    )
    if contact.pk == invitation.contact_id:
        raise ApplicationError(_("Name a colleague, not yourself."), field="email")
    if Invitation.objects.filter(gathering=gathering, contact=contact).exists():
        raise ApplicationError(
            _("%(name)s is already invited and can answer through their own link.")
            % {"name": contact.full_name},
            field="email",
        )
    substitute = Invitation(
        gathering=gathering,
        contact=contact,
        organization=invitation.organization,
        invited_via=invitation,
        invited_by=invitation.invited_by,
    )
    save(substitute, acting_user, reason="" if by_coordinator else RSVP_REASON)
    invitation.status = Status.REPLACED
    invitation.mode = ""
    invitation.waiting_since = None
    invitation.offer_expires_at = None
    invitation.replaced_by = substitute
    invitation.answered_at = timezone.now()
    invitation.answer_count += 1
    save(invitation, acting_user, reason="" if by_coordinator else RSVP_REASON)
    invitation.plus_ones.all().delete()  # their guests came with them
    mail_invitation_sent(substitute)
    mail_invitation(
        invitation,
        template="confirmation",
        key=f"confirmation:{invitation.pk}:{invitation.answer_count}",
    )
    capacity.waitlist_fill(gathering)  # a place they held is free again
    return substitute


@transaction.atomic
def invitation_reissue_token(
    *, invitation: Invitation, acting_user: AbstractBaseUser | None, send: bool = True
) -> Invitation:
    """Revoke the personal link and issue a new one (mailed to the invitee)."""
    Invitation.objects.select_for_update().filter(pk=invitation.pk).order_by().first()
    invitation.token = new_token()
    invitation.token_issued_at = timezone.now()
    save(invitation, acting_user, reason="New personal link issued")
    if send:
        mail_invitation(invitation, template="rsvp_link", key=f"link:{invitation.token[:16]}")
    return invitation


def invitation_send_link(*, email: str) -> int:
    """Mail, on request ("send me my link again"), the links of this address's invitations
    to gatherings still to come. At most once a day per invitation; the caller answers the
    same whatever this finds, so the form does not reveal who is invited."""
    email = normalize_email(email)
    if not email:
        return 0
    today = timezone.localdate().isoformat()
    invitations = (
        Invitation.objects.filter(contact__email=email, gathering__ends_at__gt=timezone.now())
        .exclude(status=Status.REPLACED)
        .exclude(gathering__status__in=[Gathering.Status.DRAFT, Gathering.Status.CANCELLED])
        .select_related("contact", "gathering")
    )
    count = 0
    with transaction.atomic():
        for invitation in invitations:
            key = f"link:{invitation.token[:16]}:{today}"
            if mail_invitation(invitation, template="rsvp_link", key=key):
                count += 1
    return count


# --- The coordinator's side ---------------------------------------------------------------


@transaction.atomic
def invitations_remind(
    *,
    gathering: Gathering,
    invitations: Iterable[Invitation],
    acting_user: AbstractBaseUser | None,
) -> int:
    """Remind the chosen people who have not answered yet, now. Once a day at most each;
    only while answers are taken, and only people whose invitation was sent."""
    if not gathering.answers_open(timezone.now()):
        raise ApplicationError(
            _("Answers to “%(title)s” are not being taken; nobody can be reminded now.")
            % {"title": gathering.title}
        )
    today = timezone.localdate().isoformat()
    count = 0
    for invitation in invitations:
        if (
            invitation.status != Status.PENDING
            or invitation.gathering_id != gathering.pk
            or invitation.sent_at is None
        ):
            continue
        invitation.gathering = gathering
        message = mail_invitation(
            invitation,
            template="reminder",
            key=f"remind:{invitation.pk}:{today}",
            essential=False,
        )
        if message is not None:
            count += 1
    return count


@transaction.atomic
def invitations_record_attendance(
    *,
    gathering: Gathering,
    attendance: dict[int, str],
    acting_user: AbstractBaseUser | None,
) -> int:
    """Record who came: ``{invitation id: "attended" | "absent" | "unknown"}``."""
    if gathering.starts_at > timezone.now():
        raise ApplicationError(_("Attendance can be recorded once the gathering has started."))
    valid = set(Invitation.Attendance.values)
    changed = 0
    for invitation in gathering.invitations.filter(pk__in=list(attendance)):
        value = attendance[invitation.pk]
        if value not in valid:
            raise ApplicationError(_("Unknown attendance value: %s") % value, field="attendance")
        if invitation.attendance != value:
            invitation.attendance = value
            save(invitation, acting_user, reason="Attendance recorded")
            webhook_emit("invitation.attendance_recorded", invitation)
            changed += 1
    return changed
