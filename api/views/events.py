from api import selectors
from api.filters.gatherings import EventFilter
from api.serializers.gatherings import EventInputSerializer, EventSerializer, EventUpdateSerializer
from api.views.meetings import GatheringViewSet, gathering_schema
from events import services
from events.models import Event


@gathering_schema("event", EventSerializer, EventInputSerializer, EventUpdateSerializer)
class EventViewSet(GatheringViewSet):
    """The Alliance conference and the office's other events, with the invitations' answers
    counted (``answers``), the agenda and the programme."""

    permission_model = Event
    filterset_class = EventFilter
    output_serializer_class = EventSerializer
    input_serializer_class = EventInputSerializer
    update_serializer_class = EventUpdateSerializer

    def get_queryset(self):
        return selectors.event_list()

    def perform_create(self, data: dict) -> Event:
        return services.event_create(**data, acting_user=self.acting_user)
