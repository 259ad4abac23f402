from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors
from api.authentication import api_client_of
from api.conditional import etag_for
from api.models_webhooks import WebhookSubscription
from api.permissions import ApiAccess
from api.serializers.webhooks import (
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionInputSerializer,
    WebhookSubscriptionSerializer,
)
from api.views.base import ApiViewSet, CreateMixin, ListMixin, RetrieveMixin, UpdateMixin
from api.webhooks import services


class ApiClientsOnly(permissions.BasePermission):
    message = _("Webhook subscriptions belong to API clients: use an API token.")

    def has_permission(self, request: Request, view) -> bool:
        return api_client_of(request) is not None


@extend_schema_view(
    list=extend_schema(summary="List your webhook subscriptions"),
    retrieve=extend_schema(summary="Get one of your webhook subscriptions"),
    create=extend_schema(
        summary="Subscribe to webhook events",
        description="The answer carries the signing `secret`, shown only this once.",
        request=WebhookSubscriptionInputSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a webhook subscription", request=WebhookSubscriptionInputSerializer
    ),
    destroy=extend_schema(summary="Delete a webhook subscription", responses={204: None}),
)
class WebhookSubscriptionViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """The calling API client's own webhook subscriptions (other clients' are a 404; staff
    sessions have none). URLs must be https on a public address."""

    permission_classes = [ApiAccess, ApiClientsOnly]
    permission_model = WebhookSubscription
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["id"]
    output_serializer_class = WebhookSubscriptionSerializer
    input_serializer_class = WebhookSubscriptionInputSerializer

    def get_queryset(self):
        return selectors.webhook_subscription_list(client=api_client_of(self.request))

    def perform_create(self, data: dict) -> WebhookSubscription:
        return services.webhook_subscription_create(
            client=api_client_of(self.request), **data, acting_user=self.acting_user
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = self.validated_input()
        with transaction.atomic():
            subscription = self.perform_create(data)
        body = WebhookSubscriptionCreatedSerializer(self.fresh(subscription)).data
        response = Response(
            body,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(f"{subscription.pk}/")},
        )
        response["ETag"] = etag_for(WebhookSubscriptionSerializer(self.fresh(subscription)).data)
        return response

    def perform_update(self, instance: WebhookSubscription, data: dict) -> WebhookSubscription:
        return services.webhook_subscription_update(
            subscription=instance, **data, acting_user=self.acting_user
        )

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            subscription = self.locked_object()
            # Deliveries and their attempts go with it (no service: nothing else to decide).
            # The client is not a user: the history records no user (as the services do).
            subscription._history_user = self.acting_user
            subscription.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
