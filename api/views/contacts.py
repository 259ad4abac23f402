from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer

from api import selectors
from api.authentication import api_client_of
from api.filters.directory import ContactFilter
from api.permissions import ApiAccess, PrivacyReadScope, may_see_restricted
from api.serializers.directory import (
    ConsentInputSerializer,
    ContactInputSerializer,
    ContactSerializer,
    contact_rows_representation,
)
from api.serializers.subject_access import SubjectAccessSerializer
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from api.views.upsert import ExternalRefUpsertMixin
from crm.exceptions import ApplicationError
from members import services
from members.models import ConsentRecord, ConsentText, Contact
from members.privacy.services import consent_record
from members.subject_access import subject_access_filename
from members.subject_access.services import HTML, JSON, subject_access_produce


class SubjectAccessHTMLRenderer(BaseRenderer):
    """Chooses the readable page (``?format=html`` or ``Accept: text/html``); the view
    renders it. Errors are answered in JSON whatever was asked for."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


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

    def list(self, request, *args, **kwargs):
        # A page is built from values() rows, not model instances and DRF fields: the same
        # answer as ContactSerializer at a fraction of the cost (docs/performance.md).
        rows = self.paginate_queryset(self.filter_queryset(selectors.contact_rows()))
        return self.get_paginated_response(contact_rows_representation(rows))

    @extend_schema(
        summary="Export everything held about a contact (subject access)",
        description=(
            "The contact's subject-access export: directory data, affiliations, invitations "
            "and answers, attendance, consultations, follow-ups, mail sent to them, delivery "
            "reports, merges, focal-point hand-overs and the history of all of these, as one "
            "JSON document (or the readable page with `?format=html` or `Accept: text/html`, "
            "in `?language=en|ru`, else the contact's language). Needs a token with the scope "
            "`privacy:read` (not implied by any other scope), or a staff session with "
            "`members.export_subject_access`. Every export is recorded in the access log."
        ),
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=[JSON, HTML], description="Default: json."
            ),
            OpenApiParameter(
                "language",
                OpenApiTypes.STR,
                description="Language of the HTML page (en, ru); ignored for JSON.",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(SubjectAccessSerializer),
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The page."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="subject-access",
        permission_classes=[ApiAccess, PrivacyReadScope],
        renderer_classes=[JSONRenderer, SubjectAccessHTMLRenderer],
        filter_backends=[],
        pagination_class=None,
    )
    def subject_access(self, request, *args, **kwargs):
        contact = self.get_object()
        output = HTML if isinstance(request.accepted_renderer, SubjectAccessHTMLRenderer) else JSON
        content = subject_access_produce(
            contact=contact,
            output=output,
            channel="API",
            include_restricted=may_see_restricted(request),
            acting_user=self.acting_user,
            api_client=api_client_of(request),
            language=request.query_params.get("language"),
        )
        if output == HTML:
            return HttpResponse(content, content_type="text/html; charset=utf-8")
        response = HttpResponse(content, content_type="application/json")
        filename = subject_access_filename(contact, "json")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "exception", False) and isinstance(
            getattr(request, "accepted_renderer", None), SubjectAccessHTMLRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

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
