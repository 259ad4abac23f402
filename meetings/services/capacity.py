"""Seats, the waiting list and offers of freed places.

Every function here expects the gathering's row to be locked by the caller
(``SELECT … FOR UPDATE``): answers to one gathering are then decided one at a time, so the
capacity holds when many people answer at the same moment.

What counts: accepted invitations and running offers, each with their plus-ones. At a hybrid
gathering the capacity is the room's, so only those attending in person count; online-only
gatherings count everyone. Seats per organisation count people, in any mode.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from api.webhooks.services import emit_on_commit, webhook_emit
from crm.exceptions import ApplicationError
from meetings.models import Gathering, Invitation
from meetings.services.common import save
from meetings.services.mail import mail_invitation

Status = Invitation.Status
HOLDING = Q(status=Status.ACCEPTED) | Q(status=Status.WAITING, offer_expires_at__isnull=False)


def counts_for_capacity(gathering: Gathering, mode: str) -> bool:
    return gathering.format != Gathering.Format.HYBRID or mode != Invitation.Mode.ONLINE


def places_taken(gathering: Gathering, exclude_pk: int | None = None) -> int:
    holding = Invitation.objects.filter(HOLDING, gathering=gathering)
    if gathering.format == Gathering.Format.HYBRID:
        holding = holding.exclude(mode=Invitation.Mode.ONLINE)
    if exclude_pk:
        holding = holding.exclude(pk=exclude_pk)
    totals = holding.aggregate(people=Count("id", distinct=True), guests=Count("plus_ones"))
    return totals["people"] + totals["guests"]


def places_free(gathering: Gathering, exclude_pk: int | None = None) -> int | None:
    """Free places, or None when the gathering has no capacity limit."""
    if gathering.capacity is None:
        return None
    return max(gathering.capacity - places_taken(gathering, exclude_pk), 0)


def check_organisation_seat(
    gathering: Gathering, organization_id: int | None, exclude_pk: int | None
) -> None:
    per_org = gathering.seats_per_organisation()
    if per_org is None or organization_id is None:
        return
    taken = Invitation.objects.filter(HOLDING, gathering=gathering, organization_id=organization_id)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    if taken.count() >= per_org:
        raise ApplicationError(
            ngettext(
                "The %(n)s seat of your organisation is taken.",
                "All %(n)s seats of your organisation are taken.",
                per_org,
            )
            % {"n": per_org},
            field="answer",
        )


def fits(gathering: Gathering, invitation: Invitation, mode: str, guests: int) -> bool:
    if not counts_for_capacity(gathering, mode):
        return True
    free = places_free(gathering, exclude_pk=invitation.pk)
    return free is None or 1 + guests <= free


def waiting_position(invitation: Invitation) -> int | None:
    if invitation.status != Status.WAITING or invitation.waiting_since is None:
        return None
    ahead = Invitation.objects.filter(
        gathering_id=invitation.gathering_id,
        status=Status.WAITING,
        waiting_since__lt=invitation.waiting_since,
    ).count()
    return ahead + 1


def waitlist_fill(gathering: Gathering, now: datetime.datetime | None = None) -> list[Invitation]:
    """Offer freed places to the waiting list in order. A party too large for the places
    free is passed over for now (it keeps its rank for the next place), so places are not left
    empty while someone who fits is waiting. As this runs after every change, nobody waiting
    fits into the free places afterwards — a newcomer who fits may take them."""
    now = now or timezone.now()
    # After the deadline nobody could confirm an offer: places freed then stay free.
    if not gathering.waiting_list or not gathering.answers_open(now):
        return []
    free = places_free(gathering)
    offered = []
    waiting = (
        gathering.invitations.filter(status=Status.WAITING, offer_expires_at__isnull=True)
        .annotate(guests=Count("plus_ones"))
        .select_related("contact")
        .order_by("waiting_since", "pk")
    )
    for invitation in waiting:
        need = 1 + invitation.guests if counts_for_capacity(gathering, invitation.mode) else 0
        if free is not None and need > free:
            continue
        invitation.offer_expires_at = now + datetime.timedelta(hours=gathering.offer_hours)
        invitation.offers_made += 1
        save(invitation, None, reason="Place offered from the waiting list")
        invitation.gathering = gathering
        mail_invitation(
            invitation,
            template="offer",
            key=f"offer:{invitation.pk}:{invitation.offers_made}",
        )
        # Runs from the public RSVP page and the outbox pass too: never fail them for a webhook.
        emit_on_commit("event.waitlist_promoted", invitation)
        offered.append(invitation)
        if free is not None:
            free -= need
    return offered


def offers_expire(now: datetime.datetime | None = None) -> int:
    """Offers not confirmed in time lapse: the person leaves the list (they are told) and the
    place passes to the next. Runs in every outbox pass; returns how many lapsed."""
    from django.db import transaction

    now = now or timezone.now()
    gathering_ids = set(
        Invitation.objects.filter(status=Status.WAITING, offer_expires_at__lte=now).values_list(
            "gathering_id", flat=True
        )
    )
    lapsed = 0
    for gathering_id in gathering_ids:
        with transaction.atomic():
            gathering = Gathering.objects.select_for_update().get(pk=gathering_id).specific
            expired = gathering.invitations.filter(
                status=Status.WAITING, offer_expires_at__lte=now
            ).select_related("contact")
            for invitation in expired:
                invitation.status = Status.DECLINED
                invitation.offer_expires_at = None
                invitation.waiting_since = None
                invitation.plus_ones.all().delete()
                save(invitation, None, reason="Offer expired")
                invitation.gathering = gathering
                mail_invitation(
                    invitation,
                    template="offer_expired",
                    key=f"offer-expired:{invitation.pk}:{invitation.offers_made}",
                )
                lapsed += 1
            waitlist_fill(gathering, now)
    return lapsed


def invitation_admit_over_capacity(
    *, invitation: Invitation, acting_user: AbstractBaseUser | None, reason: str
) -> Invitation:
    """A coordinator's explicit decision to admit someone beyond the capacity; recorded with
    who decided and why."""
    from django.db import transaction

    if not reason.strip():
        raise ApplicationError(_("Say why the capacity is overridden."), field="reason")
    with transaction.atomic():
        gathering = Gathering.objects.select_for_update().get(pk=invitation.gathering_id)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status == Status.REPLACED:
            raise ApplicationError(_("This invitation was passed on to a colleague."))
        invitation.status = Status.ACCEPTED
        invitation.mode = invitation.mode or (
            Invitation.Mode.IN_PERSON if gathering.offers_in_person else Invitation.Mode.ONLINE
        )
        invitation.offer_expires_at = None
        invitation.waiting_since = None
        invitation.admitted_over_capacity = True
        invitation.answered_at = invitation.answered_at or timezone.now()
        invitation.answer_count += 1
        save(invitation, acting_user, reason=f"Admitted over capacity: {reason.strip()}"[:100])
        invitation.gathering = gathering.specific
        mail_invitation(
            invitation,
            template="confirmation",
            key=f"confirmation:{invitation.pk}:{invitation.answer_count}",
        )
        webhook_emit("event.waitlist_promoted", invitation)
    return invitation


def schedule_offer_expiry() -> int:
    """The outbox pass's hook (settings.OUTBOX_SCHEDULERS)."""
    return offers_expire()
