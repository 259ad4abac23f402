"""Reads from the member directory, with the joins callers need already applied."""

import datetime
import unicodedata
from difflib import SequenceMatcher

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from members.models import Affiliation, Contact, MembershipChange, Organization

NAME_SIMILARITY_THRESHOLD = 0.85


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.prefetch_related("focus_areas")


def organization_detail(pk: int) -> Organization:
    return Organization.objects.prefetch_related(
        "focus_areas",
        Prefetch("affiliations", queryset=Affiliation.objects.select_related("contact")),
        Prefetch(
            "membership_changes",
            queryset=MembershipChange.objects.select_related("changed_by"),
        ),
    ).get(pk=pk)


def contact_list() -> QuerySet[Contact]:
    return Contact.objects.prefetch_related(
        Prefetch("affiliations", queryset=Affiliation.objects.select_related("organization"))
    )


def contact_with_email(email: str) -> Contact | None:
    if not email:
        return None
    return Contact.objects.filter(email__iexact=email.strip()).first()


def current_focal_point(
    organization: Organization, exclude_pk: int | None = None
) -> Affiliation | None:
    qs = (
        Affiliation.objects.current()
        .filter(organization=organization, role=Affiliation.Role.FOCAL_POINT)
        .select_related("contact")
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def active_organizations_without_focal_point() -> QuerySet[Organization]:
    with_focal_point = Affiliation.objects.current().filter(role=Affiliation.Role.FOCAL_POINT)
    return Organization.objects.filter(status=Organization.Status.ACTIVE).exclude(
        pk__in=with_focal_point.values("organization_id")
    )


def _name_key(given_name: str, family_name: str) -> str:
    text = unicodedata.normalize("NFKD", f"{given_name} {family_name}".casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def contact_possible_duplicates(
    *, given_name: str, family_name: str, organization_ids: list[int], exclude_pk: int | None = None
) -> list[Contact]:
    """Contacts of the same organisations whose names are nearly identical (accents, case,
    a typo), to flag them before a second record of one person is kept."""
    if not organization_ids:
        return []
    key = _name_key(given_name, family_name)
    candidates = (
        Contact.objects.filter(affiliations__organization_id__in=organization_ids)
        .exclude(pk=exclude_pk)
        .distinct()
    )
    return [
        c
        for c in candidates
        if SequenceMatcher(None, key, _name_key(c.given_name, c.family_name)).ratio()
        >= NAME_SIMILARITY_THRESHOLD
    ]


def contact_erasure_candidates(
    *, years: int | None = None, now: datetime.datetime | None = None
) -> QuerySet[Contact]:
    """Contacts a coordinator may want to erase (retention): not erased, no current
    affiliation, and no activity for ``years`` (``RETENTION_INACTIVE_CONTACT_YEARS``): no
    edit of the contact or its roles, no invitation created or answered, no consultation
    held with them, no follow-up they own changed, no mail to them."""
    from crm.mail.models import OutgoingMessage
    from meetings.models import Consultation, FollowUp, Invitation

    years = settings.RETENTION_INACTIVE_CONTACT_YEARS if years is None else years
    now = now or timezone.now()
    since = now - datetime.timedelta(days=round(365.25 * years))
    today = timezone.localdate(now)
    current = Affiliation.objects.current(on=today).filter(contact=OuterRef("pk"))
    recent_role = Affiliation.objects.filter(contact=OuterRef("pk"), updated_at__gte=since)
    recent_invitation = Invitation.objects.filter(contact=OuterRef("pk")).filter(
        Q(created_at__gte=since) | Q(answered_at__gte=since) | Q(updated_at__gte=since)
    )
    recent_consultation = Consultation.objects.filter(
        contacts=OuterRef("pk"), held_on__gte=since.date()
    )
    recent_followup = FollowUp.objects.filter(owner_contact=OuterRef("pk"), updated_at__gte=since)
    recent_mail = OutgoingMessage.objects.filter(contact=OuterRef("pk"), created_at__gte=since)
    return (
        Contact.objects.filter(erased_at__isnull=True, updated_at__lt=since)
        .exclude(Exists(current))
        .exclude(Exists(recent_role))
        .exclude(Exists(recent_invitation))
        .exclude(Exists(recent_consultation))
        .exclude(Exists(recent_followup))
        .exclude(Exists(recent_mail))
    )
