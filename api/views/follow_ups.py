from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from api import selectors
from api.filters.consultations import FollowUpFilter
from api.permissions import may_see_restricted
from api.serializers.consultations import (
    FollowUpCancelSerializer,
    FollowUpCompleteSerializer,
    FollowUpCreateSerializer,
    FollowUpSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin
from meetings import services
from meetings.models import FollowUp


@extend_schema_view(
    list=extend_schema(summary="List follow-ups"),
    retrieve=extend_schema(summary="Get a follow-up"),
    create=extend_schema(summary="Open a follow-up", request=FollowUpCreateSerializer),
)
class FollowUpViewSet(ListMixin, RetrieveMixin, CreateMixin, ApiViewSet):
    """Action items: who does what next, from meetings, consultations or on their own.
    Follow-ups of restricted consultations are seen only by those who may see those."""

    permission_model = FollowUp
    action_permissions = {"close": ["change"], "cancel": ["change"]}
    filterset_class = FollowUpFilter
    search_fields = ["title", "notes"]
    ordering_fields = ["due_date", "updated_at", "created_at", "id"]
    ordering = ["due_date", "id"]
    output_serializer_class = FollowUpSerializer
    input_serializer_class = FollowUpCreateSerializer

    def get_queryset(self):
        return selectors.followup_list(restricted=may_see_restricted(self.request))

    def get_input_serializer(self, *args, **kwargs):
        kwargs.setdefault("context", self.get_serializer_context())
        restricted = may_see_restricted(self.request)
        return FollowUpCreateSerializer(
            *args, consultations=selectors.consultation_list(restricted=restricted), **kwargs
        )

    def perform_create(self, data: dict) -> FollowUp:
        return services.followup_create(**data, acting_user=self.acting_user)

    def _step(self, service, **kwargs):
        with transaction.atomic():
            followup = self.locked_object()
            followup = service(followup=followup, acting_user=self.acting_user, **kwargs)
        return self.object_response(followup)

    @extend_schema(
        summary="Close a follow-up as done",
        description="Only an open follow-up (else 409).",
        request=FollowUpCompleteSerializer,
        responses=FollowUpSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        data = self.validated_input(FollowUpCompleteSerializer)
        return self._step(services.followup_complete, on=data.get("on"))

    @extend_schema(
        summary="Cancel a follow-up",
        description="Only an open follow-up (else 409); `reason` is added to the notes.",
        request=FollowUpCancelSerializer,
        responses=FollowUpSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        data = self.validated_input(FollowUpCancelSerializer)
        return self._step(services.followup_cancel, reason=data.get("reason", ""))
