from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from api import selectors
from api.filters import MAX_ID
from api.filters.gatherings import MeetingFilter
from api.serializers.gatherings import (
    GatheringCancelSerializer,
    MeetingInputSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from meetings import services
from meetings.models import Gathering, Meeting

LIFE_CYCLE = (
    "The life cycle is draft → open (invitations sent) → closed (no more answers) → held, or "
    "cancelled; a step the gathering's status does not allow is a 409 naming it."
)


class GatheringViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """What meetings and events share: the life-cycle steps, each a POST that calls the
    service and answers with the fresh object."""

    action_permissions = {
        "open": ["change"],
        "close": ["change"],
        "mark_held": ["change"],
        "cancel": ["change"],
    }
    search_fields = ["title", "venue"]
    ordering_fields = ["starts_at", "rsvp_deadline", "title", "updated_at", "created_at"]
    ordering = ["-starts_at", "-id"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # The id is the parent link to the gathering: unlike an AutoField, a lookup by an id
        # beyond the database's range is not turned into "no rows" by Django.
        if int(kwargs.get("pk", 0)) > MAX_ID:
            raise NotFound()

    def perform_update(self, instance: Gathering, data: dict) -> Gathering:
        # A partial change is checked against the times it leaves unchanged (400, naming the
        # field, rather than the model's 409 without one).
        merged = {
            name: data.get(name, getattr(instance, name))
            for name in ("starts_at", "ends_at", "rsvp_deadline")
        }
        serializer = self.get_input_serializer(instance=instance, data={}, partial=True)
        serializer.validate(merged)
        return services.gathering_update(gathering=instance, **data, acting_user=self.acting_user)

    def _step(self, service, **kwargs):
        with transaction.atomic():
            gathering = self.locked_object()
            gathering = service(gathering=gathering, acting_user=self.acting_user, **kwargs)
        return self.object_response(gathering)

    @action(detail=True, methods=["post"])
    def open(self, request, *args, **kwargs):
        return self._step(services.gathering_open)

    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        return self._step(services.gathering_close)

    @action(detail=True, methods=["post"], url_path="mark-held")
    def mark_held(self, request, *args, **kwargs):
        return self._step(services.gathering_mark_held)

    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        data = self.validated_input(GatheringCancelSerializer)
        return self._step(services.gathering_cancel, reason=data.get("reason", ""))


def gathering_schema(noun: str, output, create_input, update_input):
    return extend_schema_view(
        list=extend_schema(summary=f"List {noun}s"),
        retrieve=extend_schema(summary=f"Get a {noun}"),
        create=extend_schema(
            summary=f"Create a {noun} (as a draft)",
            description="Invitations are sent when it is opened (`open`).",
            request=create_input,
        ),
        partial_update=extend_schema(
            summary=f"Change a {noun}",
            description="A change of time or place of an open or closed gathering is sent to "
            "everyone who accepted, with an updated calendar entry.",
            request=update_input,
        ),
        open=extend_schema(
            summary=f"Open the {noun}: send the invitations",
            description=LIFE_CYCLE,
            request=None,
            responses=output,
        ),
        close=extend_schema(
            summary=f"Close the {noun} to answers",
            description=LIFE_CYCLE,
            request=None,
            responses=output,
        ),
        mark_held=extend_schema(
            summary=f"Mark the {noun} as held (once it has started)",
            description=LIFE_CYCLE,
            request=None,
            responses=output,
        ),
        cancel=extend_schema(
            summary=f"Cancel the {noun}",
            description="Everyone invited is told, with `reason` in the message. " + LIFE_CYCLE,
            request=GatheringCancelSerializer,
            responses=output,
        ),
    )


@gathering_schema("meeting", MeetingSerializer, MeetingInputSerializer, MeetingUpdateSerializer)
class MeetingViewSet(GatheringViewSet):
    """AECT meetings, with the invitations' answers counted (``answers``) and the agenda."""

    permission_model = Meeting
    filterset_class = MeetingFilter
    output_serializer_class = MeetingSerializer
    input_serializer_class = MeetingInputSerializer
    update_serializer_class = MeetingUpdateSerializer

    def get_queryset(self):
        return selectors.meeting_list()

    def perform_create(self, data: dict) -> Meeting:
        return services.meeting_create(**data, acting_user=self.acting_user)
