"""Reads from the member directory, with the joins callers need already applied."""

import unicodedata
from difflib import SequenceMatcher

from django.db.models import Prefetch, QuerySet

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
