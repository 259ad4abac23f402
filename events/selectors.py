"""Reads for events: counts, the waiting list and the balance of who is coming."""

from django.db.models import Count, Q, QuerySet

from events.models import Event
from meetings.models import Invitation
from meetings.services.capacity import places_free

Status = Invitation.Status


def event_counts(event: Event) -> dict[str, int | None]:
    counts = event.invitations.aggregate(
        invited=Count("id", distinct=True),
        accepted=Count("id", filter=Q(status=Status.ACCEPTED), distinct=True),
        declined=Count("id", filter=Q(status=Status.DECLINED), distinct=True),
        waiting=Count("id", filter=Q(status=Status.WAITING), distinct=True),
        offers=Count(
            "id", filter=Q(status=Status.WAITING, offer_expires_at__isnull=False), distinct=True
        ),
        not_answered=Count("id", filter=Q(status=Status.PENDING), distinct=True),
        plus_ones=Count("plus_ones", filter=Q(status=Status.ACCEPTED)),
        checked_in=Count("id", filter=Q(checked_in_at__isnull=False), distinct=True),
    )
    counts["places_left"] = places_free(event)
    return counts


def waiting_list(event: Event) -> QuerySet[Invitation]:
    return (
        event.invitations.filter(status=Status.WAITING)
        .select_related("contact", "organization")
        .annotate(guests=Count("plus_ones"))
        .order_by("waiting_since", "pk")
    )


def balance(event: Event) -> dict[str, list[tuple[str, int]]]:
    """Who is coming, by organisation kind and by country: the conference watches the balance
    of participating States, Partners for Co-operation, IOs and NGOs."""
    accepted = event.invitations.filter(status=Status.ACCEPTED)
    by_kind = accepted.values("organization__kind").annotate(n=Count("id")).order_by("-n")
    by_country = accepted.values("organization__country").annotate(n=Count("id")).order_by("-n")
    return {
        "kind": [(row["organization__kind"] or "", row["n"]) for row in by_kind],
        "country": [(row["organization__country"] or "", row["n"]) for row in by_country],
    }


def participants(event: Event) -> QuerySet[Invitation]:
    return (
        event.invitations.filter(status=Status.ACCEPTED)
        .select_related("contact", "organization")
        .prefetch_related("plus_ones")
        .order_by("contact__family_name", "contact__given_name")
    )
