"""Pagination of every list, in two modes with one response envelope::

    {"count": 120, "next": "<url>", "previous": null, "cursor": null, "results": [...]}

- **Pages** (default): ``?page=N&page_size=M``; ``page_size`` is capped at
  ``API_MAX_PAGE_SIZE`` (200); the list's ``ordering`` applies.
- **Sync** (``?sync=1``, then follow ``next``, or resume later with ``?cursor=<cursor>``):
  keyset pagination ordered by ``(updated_at, id)`` — every row comes after the last one
  seen, so pages never skip or repeat a row while others are inserted or changed; a row
  changed after it was read comes again later, with its new ``updated_at``. ``count`` and
  ``previous`` are null; ``cursor`` is the position after the last row of this page (or the
  position given, when the page is empty): store it and send it next time to get only what
  changed since. ``next`` is null on the last page for now. ``ordering`` is ignored.

A view picks the mode through :class:`api.views.base.ApiViewSet.paginator`; a resource whose
"last changed" field is not ``updated_at`` sets ``sync_field`` on its view (deletions use
``deleted_at``).
"""

import base64
import binascii
import datetime
import json
from collections import OrderedDict

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

SYNC_PARAM = "sync"
CURSOR_PARAM = "cursor"


def envelope_schema(schema: dict) -> dict:
    """The OpenAPI schema of the envelope shared by both modes."""
    return {
        "type": "object",
        "required": ["count", "next", "previous", "cursor", "results"],
        "properties": {
            "count": {
                "type": "integer",
                "nullable": True,
                "description": "Number of matching rows (page mode); null in sync mode.",
            },
            "next": {"type": "string", "format": "uri", "nullable": True},
            "previous": {"type": "string", "format": "uri", "nullable": True},
            "cursor": {
                "type": "string",
                "nullable": True,
                "description": "Sync mode: the position after this page; send it back as "
                "`cursor` to continue or, later, to get only what changed since.",
            },
            "results": schema,
        },
    }


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"

    @property
    def page_size(self) -> int:
        return getattr(settings, "API_PAGE_SIZE", 50)

    @property
    def max_page_size(self) -> int:
        return getattr(settings, "API_MAX_PAGE_SIZE", 200)

    def get_paginated_response(self, data) -> Response:
        return Response(
            OrderedDict(
                count=self.page.paginator.count,
                next=self.get_next_link(),
                previous=self.get_previous_link(),
                cursor=None,
                results=data,
            )
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return envelope_schema(schema)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                param["description"] = (
                    f"Rows per page (default {self.page_size}, at most {self.max_page_size})."
                )
            elif param["name"] == self.page_query_param:
                param["schema"] = {"type": "integer", "minimum": 1}
        return [
            *params,
            {
                "name": SYNC_PARAM,
                "required": False,
                "in": "query",
                "description": "1: sync mode — keyset pages ordered by (updated_at, id), "
                "stable while data changes (see docs/api.md).",
                "schema": {"type": "boolean"},
            },
            {
                "name": CURSOR_PARAM,
                "required": False,
                "in": "query",
                "description": "Sync mode: continue after this position (from `cursor` or "
                "`next` of a previous answer).",
                "schema": {"type": "string"},
            },
        ]


class SyncCursorPagination(pagination.BasePagination):
    """Keyset pagination on ``(<sync_field>, id)``; see the module docstring."""

    def __init__(self, field: str = "updated_at"):
        self.field = field

    @property
    def page_size(self) -> int:
        return getattr(settings, "API_PAGE_SIZE", 50)

    @property
    def max_page_size(self) -> int:
        return getattr(settings, "API_MAX_PAGE_SIZE", 200)

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None) -> list:
        self.request = request
        size = PageNumberPagination().get_page_size(request) or self.page_size
        self.position = decode_cursor(request.query_params.get(CURSOR_PARAM))
        queryset = queryset.order_by(self.field, "pk")
        if self.position is not None:
            moment, pk = self.position
            # The redundant ``>=`` is the index condition: without it PostgreSQL reads the
            # (field, id) index from the start and filters, so a page deep in the feed
            # costs as many rows as precede it (bench/api_list.py).
            queryset = queryset.filter(**{f"{self.field}__gte": moment}).filter(
                Q(**{f"{self.field}__gt": moment}) | Q(**{self.field: moment, "pk__gt": pk})
            )
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        self.rows = rows[:size]
        if self.rows:
            last = self.rows[-1]
            if isinstance(last, dict):  # a values() page (api.selectors.contact_rows)
                self.position = (last[self.field], last["id"])
            else:
                self.position = (getattr(last, self.field), last.pk)
        return self.rows

    def cursor(self) -> str | None:
        return encode_cursor(*self.position) if self.position else None

    def get_paginated_response(self, data) -> Response:
        next_url = None
        if self.has_next:
            url = remove_query_param(self.request.build_absolute_uri(), "page")
            next_url = replace_query_param(url, CURSOR_PARAM, self.cursor())
        return Response(
            OrderedDict(
                count=None, next=next_url, previous=None, cursor=self.cursor(), results=data
            )
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return envelope_schema(schema)


def encode_cursor(moment: datetime.datetime, pk: int) -> str:
    raw = json.dumps([moment.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime.datetime, int] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        moment_text, pk = json.loads(raw)
        moment = parse_datetime(moment_text)
        if moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC)
        if (
            moment is None
            or moment.tzinfo is None
            or not isinstance(pk, int)
            or not 0 <= pk < 2**63
        ):
            raise ValueError
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({CURSOR_PARAM: [_("This cursor is not valid.")]}) from None
    return moment, pk


def wants_sync(request: Request) -> bool:
    flag = request.query_params.get(SYNC_PARAM, "").lower()
    return flag in ("1", "true", "yes") or bool(request.query_params.get(CURSOR_PARAM))
