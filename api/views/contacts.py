from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from api import selectors
from api.authentication import api_client_of
from api.filters.directory import ContactFilter
from api.serializers.directory import (
    ConsentInputSerializer,
    ContactInputSerializer,
    ContactSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from api.views.upsert import ExternalRefUpsertMixin
from crm.exceptions import ApplicationError
from members import services
from members.models import ConsentRecord, ConsentText, Contact
from members.privacy.services import consent_record


@extend_schema_view(
    list=extend_schema(summary="List contacts"),
    retrieve=extend_schema(summary="Get a contact"),
    create=extend_schema(summary="Create a contact", request=ContactInputSerializer),
    partial_update=extend_schema(summary="Change a contact", request=ContactInputSerializer),
    upsert=extend_schema(
        summary="Create or update a contact by your reference",
        request=ContactInputSerializer,
        responses={200: ContactSerializer, 201: ContactSerializer},
    ),
)
class ContactViewSet(
    ExternalRefUpsertMixin, ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet
):
    """People at member organisations, with the roles they hold today (``current_roles``).

    An e-mail address belongs to one contact only: creating a second contact with it is a 400
    naming the existing one."""

    permission_model = Contact
    action_permissions = {"upsert": ["add", "change"], "consent": ["change"]}
    filterset_class = ContactFilter
    search_fields = ["given_name", "family_name", "email"]
    ordering_fields = ["family_name", "given_name", "updated_at", "created_at"]
    ordering = ["family_name", "given_name", "id"]
    output_serializer_class = ContactSerializer
    input_serializer_class = ContactInputSerializer

    def get_queryset(self):
        return selectors.contact_list()

    def perform_create(self, data: dict) -> Contact:
        return services.contact_create(**data, acting_user=self.acting_user)

    def perform_update(self, instance: Contact, data: dict) -> Contact:
        return self.update_with_ref(
            instance,
            data,
            lambda contact, **fields: services.contact_update(
                contact=contact, **fields, acting_user=self.acting_user
            ),
        )

    @extend_schema(
        summary="Record consent given or withdrawn",
        description="Appends a consent record (method “api”, attributed to your client) for "
        "one purpose: non-essential mail, shared participant lists or photographs. Records "
        "are never changed; the contact's ``consent`` shows the latest per purpose. "
        "Withdrawing mail consent stops non-essential mail at once.",
        request=ConsentInputSerializer,
        responses=ContactSerializer,
    )
    @action(detail=True, methods=["post"])
    def consent(self, request, *args, **kwargs):
        data = self.validated_input(ConsentInputSerializer)
        contact = self.get_object()
        text = None
        if "text_version" in data:
            text = ConsentText.objects.filter(
                purpose=data["purpose"], version=data["text_version"]
            ).first()
            if text is None:
                raise ApplicationError(
                    _("There is no such version of this purpose's text."), field="text_version"
                )
        consent_record(
            contact=contact,
            purpose=data["purpose"],
            given=data["given"],
            method=ConsentRecord.Method.API,
            text=text,
            language=data.get("language", ""),
            note=data.get("note", ""),
            api_client=api_client_of(request),
            acting_user=self.acting_user,
        )
        return self.object_response(self.fresh(contact))
