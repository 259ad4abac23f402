"""Reads for gatherings and invitations, with their related rows already joined."""

from django.db.models import Count, Q, QuerySet

from meetings.models import Gathering, GatheringDocument, Invitation

MAX_TOKEN = 64


def invitation_for_token(token: str) -> Invitation | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    return (
        Invitation.objects.select_related(
            "contact", "organization", "gathering", "replaced_by__contact"
        )
        .filter(token=token)
        .first()
    )


def seats_left_for(invitation: Invitation) -> int | None:
    """How many more colleagues the invitee's organisation may register; None: no limit."""
    from meetings.services.capacity import HOLDING, places_free

    gathering = invitation.gathering.specific
    per_org = gathering.seats_per_organisation()
    left = []
    if per_org is not None and invitation.organization_id is not None:
        taken = Invitation.objects.filter(
            HOLDING, gathering=gathering, organization_id=invitation.organization_id
        ).count()
        left.append(per_org - taken)
    free = places_free(gathering)
    if free is not None:
        left.append(free)
    return max(min(left), 0) if left else None


def documents_for(invitation: Invitation) -> list[GatheringDocument]:
    documents = invitation.gathering.documents.all()
    if invitation.status != Invitation.Status.ACCEPTED:
        documents = documents.filter(visibility=GatheringDocument.Visibility.PUBLIC)
    return list(documents)


def invitations_for_board(gathering: Gathering) -> QuerySet[Invitation]:
    return gathering.invitations.select_related("contact", "organization").order_by(
        "organization__name", "contact__family_name", "contact__given_name"
    )


def answer_counts(gathering: Gathering) -> dict[str, int]:
    counts = gathering.invitations.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=Invitation.Status.PENDING)),
        accepted=Count("id", filter=Q(status=Invitation.Status.ACCEPTED)),
        in_person=Count(
            "id", filter=Q(status=Invitation.Status.ACCEPTED, mode=Invitation.Mode.IN_PERSON)
        ),
        online=Count(
            "id", filter=Q(status=Invitation.Status.ACCEPTED, mode=Invitation.Mode.ONLINE)
        ),
        declined=Count("id", filter=Q(status=Invitation.Status.DECLINED)),
        replaced=Count("id", filter=Q(status=Invitation.Status.REPLACED)),
        attended=Count("id", filter=Q(attendance=Invitation.Attendance.ATTENDED)),
    )
    return counts
