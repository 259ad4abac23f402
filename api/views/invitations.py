from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from api import selectors
from api.filters.gatherings import InvitationFilter
from api.serializers.invitations import (
    AnswerSerializer,
    AttendanceSerializer,
    InvitationSerializer,
    PromoteSerializer,
)
from api.views.base import ApiViewSet, ListMixin, RetrieveMixin
from meetings import services
from meetings.models import Invitation


@extend_schema_view(
    list=extend_schema(summary="List invitations (of meetings and events)"),
    retrieve=extend_schema(summary="Get an invitation"),
)
class InvitationViewSet(ListMixin, RetrieveMixin, ApiViewSet):
    """Invitations to meetings and events, with the answers. Filter by ``meeting`` or
    ``event`` (their ids). Each embeds the contact's and the organisation's names and the
    guests (``plus_ones``). The personal RSVP link is never shown: it is the invitee's key."""

    permission_model = Invitation
    action_permissions = {
        "respond": ["change"],
        "record_attendance": ["change"],
        "promote": ["change"],
    }
    filterset_class = InvitationFilter
    search_fields = ["contact__given_name", "contact__family_name", "organization__name"]
    ordering_fields = ["answered_at", "updated_at", "created_at", "waiting_since", "id"]
    ordering = ["gathering_id", "id"]
    output_serializer_class = InvitationSerializer

    def get_queryset(self):
        return selectors.invitation_list()

    def _target(self) -> Invitation:
        # Not locked here: the services lock the gathering first, then the invitation (the
        # order every answer takes); locking the invitation first could deadlock with them.
        invitation = self.get_object()
        self.check_precondition(invitation)
        return invitation

    @extend_schema(
        summary="Record an answer for the invitee",
        description="Recorded by the office (as a coordinator would in the back office): "
        "it is taken after the deadline and while answers are closed, but not for a "
        "cancelled gathering, a held one (record attendance instead) or a replaced "
        "invitation (409). Seats are checked as on the RSVP page: beyond the capacity the "
        "acceptance joins the waiting list where there is one, else it is refused (400). "
        "The invitee is sent the confirmation.",
        request=AnswerSerializer,
        responses=InvitationSerializer,
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, *args, **kwargs):
        data = self.validated_input(AnswerSerializer)
        invitation = services.invitation_respond(
            invitation=self._target(),
            **data,
            acting_user=self.acting_user,
            by_coordinator=True,
        )
        return self.object_response(invitation)

    @extend_schema(
        summary="Record whether the invitee came",
        description="Once the gathering has started (else 409).",
        request=AttendanceSerializer,
        responses=InvitationSerializer,
    )
    @action(detail=True, methods=["post"], url_path="record-attendance")
    def record_attendance(self, request, *args, **kwargs):
        data = self.validated_input(AttendanceSerializer)
        invitation = self._target()
        services.invitations_record_attendance(
            gathering=invitation.gathering,
            attendance={invitation.pk: data["attendance"]},
            acting_user=self.acting_user,
        )
        return self.object_response(invitation)

    @extend_schema(
        summary="Admit over the capacity (e.g. from the waiting list)",
        description="A decision of the office, recorded with its reason: the invitation is "
        "accepted even though every place is taken. A replaced invitation is a 409.",
        request=PromoteSerializer,
        responses=InvitationSerializer,
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, *args, **kwargs):
        data = self.validated_input(PromoteSerializer)
        invitation = services.invitation_admit_over_capacity(
            invitation=self._target(), reason=data["reason"], acting_user=self.acting_user
        )
        return self.object_response(invitation)
