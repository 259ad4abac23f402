from drf_spectacular.utils import extend_schema, extend_schema_view

from api import selectors
from api.filters.directory import ContactFilter
from api.serializers.directory import ContactInputSerializer, ContactSerializer
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from api.views.upsert import ExternalRefUpsertMixin
from members import services
from members.models import Contact


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
    action_permissions = {"upsert": ["add", "change"]}
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
