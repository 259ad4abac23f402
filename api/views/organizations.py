from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from api import selectors
from api.filters.directory import OrganizationFilter
from api.serializers.directory import (
    OrganizationCreateSerializer,
    OrganizationSerializer,
    OrganizationStatusChangeSerializer,
    OrganizationUpdateSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from api.views.upsert import ExternalRefUpsertMixin
from members import services
from members.models import Organization


@extend_schema_view(
    list=extend_schema(summary="List organisations"),
    retrieve=extend_schema(summary="Get an organisation"),
    create=extend_schema(summary="Create an organisation", request=OrganizationCreateSerializer),
    partial_update=extend_schema(
        summary="Change an organisation", request=OrganizationUpdateSerializer
    ),
    upsert=extend_schema(
        summary="Create or update an organisation by your reference",
        request=OrganizationCreateSerializer,
        responses={200: OrganizationSerializer, 201: OrganizationSerializer},
    ),
)
class OrganizationViewSet(
    ExternalRefUpsertMixin, ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet
):
    """Alliance member and partner organisations."""

    permission_model = Organization
    action_permissions = {"change_status": ["change"], "upsert": ["add", "change"]}
    filterset_class = OrganizationFilter
    search_fields = ["name", "acronym"]
    ordering_fields = ["name", "updated_at", "created_at"]
    ordering = ["name", "id"]
    output_serializer_class = OrganizationSerializer
    input_serializer_class = OrganizationCreateSerializer
    update_serializer_class = OrganizationUpdateSerializer

    def get_queryset(self):
        return selectors.organization_list()

    def perform_create(self, data: dict) -> Organization:
        return services.organization_create(**data, acting_user=self.acting_user)

    def perform_update(self, instance: Organization, data: dict) -> Organization:
        return self.update_with_ref(
            instance,
            data,
            lambda organization, **fields: services.organization_update(
                organization=organization, **fields, acting_user=self.acting_user
            ),
        )

    @extend_schema(
        summary="Change the membership status",
        description="Moves the organisation along prospective → invited → active → "
        "suspended / withdrawn (the allowed steps are in the 409/400 message) and records the "
        "step in its history. Returns the organisation.",
        request=OrganizationStatusChangeSerializer,
        responses=OrganizationSerializer,
    )
    @action(detail=True, methods=["post"], url_path="change-status")
    def change_status(self, request, *args, **kwargs):
        data = self.validated_input(OrganizationStatusChangeSerializer)
        with transaction.atomic():
            organization = self.locked_object()
            organization = services.organization_change_status(
                organization=organization, **data, acting_user=self.acting_user
            )
        return self.object_response(organization)
