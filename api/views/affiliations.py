from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from api import selectors
from api.filters.directory import AffiliationFilter
from api.serializers.directory import (
    AffiliationCreateSerializer,
    AffiliationEndSerializer,
    AffiliationSerializer,
    AffiliationUpdateSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from members import services
from members.models import Affiliation


@extend_schema_view(
    list=extend_schema(summary="List affiliations (roles of contacts at organisations)"),
    retrieve=extend_schema(summary="Get an affiliation"),
    create=extend_schema(summary="Give a contact a role", request=AffiliationCreateSerializer),
    partial_update=extend_schema(
        summary="Change an affiliation", request=AffiliationUpdateSerializer
    ),
)
class AffiliationViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """A contact's role at an organisation, with dates. An organisation has at most one
    current focal point: naming a second is a 400 on ``role`` until the first role ends."""

    permission_model = Affiliation
    action_permissions = {"end": ["change"]}
    filterset_class = AffiliationFilter
    ordering_fields = ["start_date", "end_date", "updated_at", "created_at"]
    ordering = ["organization__name", "role", "id"]
    output_serializer_class = AffiliationSerializer
    input_serializer_class = AffiliationCreateSerializer
    update_serializer_class = AffiliationUpdateSerializer

    def get_queryset(self):
        return selectors.affiliation_list()

    def perform_create(self, data: dict) -> Affiliation:
        return services.affiliation_create(**data, acting_user=self.acting_user)

    def perform_update(self, instance: Affiliation, data: dict) -> Affiliation:
        return services.affiliation_update(
            affiliation=instance, **data, acting_user=self.acting_user
        )

    @extend_schema(
        summary="End a role",
        description="Sets the end date (default today). Returns the affiliation.",
        request=AffiliationEndSerializer,
        responses=AffiliationSerializer,
    )
    @action(detail=True, methods=["post"])
    def end(self, request, *args, **kwargs):
        data = self.validated_input(AffiliationEndSerializer)
        with transaction.atomic():
            affiliation = self.locked_object()
            affiliation = services.affiliation_end(
                affiliation=affiliation, **data, acting_user=self.acting_user
            )
        return self.object_response(affiliation)
