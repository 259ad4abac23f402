"""The base of every API resource. Subclass :class:`ApiViewSet` with the mixins you need::

    class ThingViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
        permission_model = Thing                   # model permissions for staff sessions
        filterset_class = ThingFilter              # subclass of api.filters.ApiFilterSet
        search_fields = ["name"]
        ordering_fields = ["name", "updated_at"]
        ordering = ["name"]
        output_serializer_class = ThingSerializer  # what every answer shows
        input_serializer_class = ThingInputSerializer

        def get_queryset(self):                    # a selector, scoped to the caller
            return selectors.thing_list()

        def perform_create(self, data):            # call the domain service, return the row
            return services.thing_create(**data, acting_user=self.acting_user)

        def perform_update(self, instance, data):
            return services.thing_update(thing=instance, **data, acting_user=self.acting_user)

What you get: token/session authentication and permissions (api.permissions), the one error
shape (api.exceptions), both pagination modes (api.pagination), ``Idempotency-Key`` on every
POST (api.idempotency), ETags / ``If-Match`` / ``If-None-Match`` on objects
(api.conditional), throttling (api.throttling) and all of it in the OpenAPI schema
(api.schema). Answers to writes are the fresh object, re-read through ``get_queryset()`` so
they show exactly what a GET would. Workflow steps are ``@action(detail=True,
methods=["post"])`` that call a service and return ``self.object_response(obj)``; map their
permission in ``action_permissions`` (``{"end": ["change"]}``).
"""

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import acting_user_of
from api.conditional import check_if_match, etag_for, if_none_match_hits
from api.idempotency import IdempotencyMixin
from api.pagination import SyncCursorPagination, wants_sync


class ApiViewSet(IdempotencyMixin, viewsets.GenericViewSet):
    # Ids are integers: anything else in their place is a 404 (JSON, from api.urls).
    lookup_value_regex = r"[0-9]+"
    permission_model = None
    action_permissions: dict[str, list[str]] = {}
    output_serializer_class = None
    input_serializer_class = None
    # Input serializer used by PATCH/PUT when it differs from the creation one.
    update_serializer_class = None
    # The "last changed" field of sync mode (``?sync=1``).
    sync_field = "updated_at"
    filter_backends = [
        filters.SearchFilter,
        filters.OrderingFilter,
        DjangoFilterBackend,
    ]

    # --- plumbing -----------------------------------------------------------------------

    @property
    def acting_user(self):
        return acting_user_of(self.request)

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            if self.pagination_class is None:
                self._paginator = None
            elif getattr(self, "request", None) is not None and wants_sync(self.request):
                self._paginator = SyncCursorPagination(self.sync_field)
            else:
                self._paginator = self.pagination_class()
        return self._paginator

    def get_serializer_class(self):
        return self.output_serializer_class

    def get_input_serializer(self, *args, **kwargs):
        serializer_class = self.input_serializer_class
        if kwargs.get("instance") is not None and self.update_serializer_class is not None:
            serializer_class = self.update_serializer_class
        kwargs.setdefault("context", self.get_serializer_context())
        return serializer_class(*args, **kwargs)

    def validated_input(self, serializer_class=None, *, instance=None, partial=False) -> dict:
        if serializer_class is not None:
            serializer = serializer_class(
                data=self.request.data, partial=partial, context=self.get_serializer_context()
            )
        else:
            serializer = self.get_input_serializer(
                instance=instance, data=self.request.data, partial=partial
            )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def fresh(self, instance):
        """The object re-read through the view's selector (joins and all)."""
        return self.get_queryset().get(pk=instance.pk)

    def object_response(self, instance, status_code: int = status.HTTP_200_OK, headers=None):
        data = self.get_serializer(self.fresh(instance)).data
        response = Response(data, status=status_code, headers=headers)
        response["ETag"] = etag_for(data)
        return response

    def current_etag(self, instance) -> str:
        return etag_for(self.get_serializer(instance).data)

    def check_precondition(self, instance) -> None:
        """412 unless ``If-Match`` (when sent) matches the object's current ETag."""
        check_if_match(self.request, self.current_etag(instance))

    def locked_object(self, **lookup):
        """``get_object()`` for a write, inside the caller's transaction: the row is locked
        (so two writers with the same ``If-Match`` cannot both pass), 404 if the caller cannot
        see it, 412 on a stale ``If-Match``."""
        if not lookup:
            lookup = {"pk": self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        queryset = self.get_queryset().select_for_update(of=("self",))
        instance = get_object_or_404(queryset, **lookup)
        self.check_object_permissions(self.request, instance)
        self.check_precondition(instance)
        return instance


class ListMixin:
    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class RetrieveMixin:
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        data = self.get_serializer(self.get_object()).data
        etag = etag_for(data)
        if if_none_match_hits(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})


class CreateMixin:
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = self.validated_input()
        with transaction.atomic():
            instance = self.perform_create(data)
        return self.object_response(
            instance,
            status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(f"{instance.pk}/")},
        )

    def perform_create(self, data: dict):
        raise NotImplementedError


class UpdateMixin:
    """PATCH (partial) only: a PUT that must list every field is a trap for integrations
    when fields are added; upserts use ``PUT .../by-ref/<ref>/`` instead."""

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            instance = self.locked_object()
            data = self.validated_input(instance=instance, partial=True)
            instance = self.perform_update(instance, data)
        return self.object_response(instance)

    def perform_update(self, instance, data: dict):
        raise NotImplementedError
