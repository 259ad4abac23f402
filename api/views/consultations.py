from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError

from api import selectors
from api.filters.consultations import ConsultationFilter
from api.permissions import may_see_restricted
from api.serializers.consultations import (
    ConsultationCreateSerializer,
    ConsultationSerializer,
    ConsultationUpdateSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from meetings import services
from meetings.models import Consultation

RESTRICTED = Consultation.Confidentiality.RESTRICTED


@extend_schema_view(
    list=extend_schema(summary="List consultations"),
    retrieve=extend_schema(summary="Get a consultation"),
    create=extend_schema(summary="Record a consultation", request=ConsultationCreateSerializer),
    partial_update=extend_schema(
        summary="Change a consultation", request=ConsultationUpdateSerializer
    ),
)
class ConsultationViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """Bilateral and multi-stakeholder consultations with partners. Restricted ones exist
    only for tokens issued with ``--restricted`` (and coordinators): for everyone else they
    are a 404 and absent from lists, and they cannot be recorded as restricted."""

    permission_model = Consultation
    filterset_class = ConsultationFilter
    search_fields = ["title", "label", "summary"]
    ordering_fields = ["held_on", "title", "updated_at", "created_at"]
    ordering = ["-held_on", "-id"]
    output_serializer_class = ConsultationSerializer
    input_serializer_class = ConsultationCreateSerializer
    update_serializer_class = ConsultationUpdateSerializer

    def get_queryset(self):
        return selectors.consultation_list(restricted=may_see_restricted(self.request))

    def _check_confidentiality(self, data: dict) -> None:
        if data.get("confidentiality") == RESTRICTED and not may_see_restricted(self.request):
            raise ValidationError(
                {"confidentiality": [_("You may not record restricted consultations.")]}
            )

    def perform_create(self, data: dict) -> Consultation:
        self._check_confidentiality(data)
        return services.consultation_create(**data, acting_user=self.acting_user)

    def perform_update(self, instance: Consultation, data: dict) -> Consultation:
        self._check_confidentiality(data)
        return services.consultation_update(
            consultation=instance, **data, acting_user=self.acting_user
        )
