"""``Idempotency-Key`` on POST: retrying a request gives the first answer, and creates nothing
twice.

The whole request runs in one transaction with the :class:`api.models.IdempotencyRecord` of
its answer, so either both the change and its record are committed, or neither. The key is
scoped to the caller (API client or staff user). Within ``API_IDEMPOTENCY_TTL_SECONDS``:

- same key, same method, path and body (JSON compared after parsing) → the stored status
  and body again, with ``Idempotent-Replayed: true``;
- same key, another request → 422 ``idempotency_key_reused``;
- two requests with one key at the same time → one wins, the other gets 409 ``conflict``
  (retry it: it is then replayed).

Answers of 5xx are not stored (the transaction rolls back), so such a request can be retried
with its key. Used through :class:`api.views.base.ApiViewSet`; any POST of a subclass is
covered, including workflow ``@action`` s.
"""

import datetime
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.authentication import api_client_of
from api.exceptions import Conflict, IdempotencyKeyReused
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
# Response headers worth replaying.
KEPT_HEADERS = ("ETag", "Location")


def ttl() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "API_IDEMPOTENCY_TTL_SECONDS", 24 * 3600))


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        payload = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + payload).hexdigest()


def owner_of(request: Request) -> str | None:
    client = api_client_of(request)
    if client is not None:
        return f"client:{client.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


class IdempotencyMixin:
    """For APIView/ViewSet subclasses: makes every POST idempotent when the caller sends the
    header (the header stays optional)."""

    def dispatch(self, request, *args, **kwargs):
        key = request.META.get(META_KEY, "").strip()
        if request.method != "POST" or not key:
            return super().dispatch(request, *args, **kwargs)
        # Read the body now (Django caches it), before DRF's parsers consume the stream.
        self._idempotency = {
            "key": key,
            "hash": request_fingerprint(request.method, request.path, request.body),
        }
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                self._idempotency_store(response)
        except _ConcurrentUse:
            response = self.finalize_response(
                self.request, self.handle_exception(Conflict(_CONCURRENT)), *args, **kwargs
            )
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        state = getattr(self, "_idempotency", None)
        if state is None:
            return
        if len(state["key"]) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [_("At most 255 characters.")]})
        owner = owner_of(request)
        record = (
            IdempotencyRecord.objects.filter(owner=owner, key=state["key"])
            .filter(created_at__gt=timezone.now() - ttl())
            .first()
        )
        if record is None:
            state["owner"] = owner  # from here on, the answer is stored
            return
        if record.request_hash != state["hash"]:
            raise IdempotencyKeyReused()
        raise _Replay(record)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            self._idempotency = None  # nothing to store
            response = Response(record.response_body, status=record.response_status)
            for name, value in (record.response_headers or {}).items():
                response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def _idempotency_store(self, response) -> None:
        state = getattr(self, "_idempotency", None)
        if not state or "owner" not in state or response.status_code >= 500:
            return
        body = getattr(response, "data", None)
        body = json.loads(json.dumps(body, cls=JSONEncoder)) if body is not None else None
        IdempotencyRecord.objects.filter(created_at__lte=timezone.now() - ttl()).delete()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    key=state["key"],
                    owner=state["owner"],
                    method="POST",
                    path=self.request.path[:500],
                    request_hash=state["hash"],
                    response_status=response.status_code,
                    response_body=body,
                    response_headers={h: response[h] for h in KEPT_HEADERS if h in response},
                )
        except IntegrityError:
            # Another request with this key committed first; undo everything this one did.
            raise _ConcurrentUse() from None


_CONCURRENT = _("Another request with this Idempotency-Key is being processed; retry in a moment.")


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        super().__init__()
        self.record = record


class _ConcurrentUse(Exception):
    pass
