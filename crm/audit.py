"""The audit trail: who acted (for the history of every domain model) and the access log of
personal data (exports, subject-access exports, erasures).

Attribution. ``history_user`` names a member of staff (simple-history takes it from the
request or from ``instance._history_user``). An API client calling with its token is found on
the request (DRF puts the authenticated client on the Django request too, which simple-history's
middleware keeps for the duration of the request), so every API view is covered without opting
in. Everyone else acts inside :func:`acting_as`: the RSVP page and the RSVP API name the
invitation; every Celery task names itself as the reason (``task_started``), commands may
name one. A ``pre_create_historical_record`` receiver
copies that onto each history row as it is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import capfirst
from simple_history.models import HistoricalRecords

from crm.models import AccessLogEntry, HistoricalAttribution

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from api.models import ApiClient
    from meetings.models import Invitation


@dataclass(frozen=True)
class Acting:
    api_client: ApiClient | None = None
    invitation: Invitation | None = None
    reason: str = ""


_acting: ContextVar[Acting | None] = ContextVar("crm_audit_acting", default=None)


@contextlib.contextmanager
def acting_as(
    *,
    api_client: ApiClient | None = None,
    invitation: Invitation | None = None,
    reason: str = "",
) -> Iterator[Acting]:
    """Every history row written inside is attributed to ``api_client`` or ``invitation``;
    ``reason`` becomes the change reason of rows that have none (a task, a command)."""
    acting = Acting(api_client=api_client, invitation=invitation, reason=reason)
    token = _acting.set(acting)
    try:
        yield acting
    finally:
        _acting.reset(token)


def current_acting() -> Acting | None:
    return _acting.get()


_task_tokens: dict[str, Any] = {}


def task_started(task_id: str | None = None, task=None, **_kwargs: Any) -> None:
    """Celery ``task_prerun``: the rows a task writes without a reason of their own say which
    task wrote them (a task has no user). Whoever acted already (an eager task inside a
    request) stays named."""
    if task_id is None or task is None:
        return
    outer = _acting.get() or Acting()
    acting = Acting(
        api_client=outer.api_client,
        invitation=outer.invitation,
        reason=outer.reason or f"Task {task.name}",
    )
    _task_tokens[task_id] = _acting.set(acting)


def task_finished(task_id: str | None = None, **_kwargs: Any) -> None:
    """Celery ``task_postrun``."""
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        _acting.reset(token)


def _api_client_of_request() -> ApiClient | None:
    from api.models import ApiClient

    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if isinstance(user, ApiClient) else None


def attribute_historical_record(sender, history_instance, instance, **_kwargs: Any) -> None:
    """``pre_create_historical_record``: name the API client or invitation acting."""
    if not isinstance(history_instance, HistoricalAttribution):
        return
    acting = _acting.get() or Acting()
    api_client = acting.api_client or _api_client_of_request()
    invitation = acting.invitation
    deleted = history_instance.history_type == "-"
    # The row of a deletion may not point at the very row being deleted.
    if api_client is not None and not (deleted and instance == api_client):
        history_instance.history_api_client_id = api_client.pk
    if invitation is not None and not (deleted and instance == invitation):
        history_instance.history_invitation_id = invitation.pk
    if acting.reason and not history_instance.history_change_reason:
        history_instance.history_change_reason = acting.reason[:100]


def access_log_record(
    *,
    action: str,
    description: str,
    acting_user: AbstractBaseUser | AnonymousUser | None = None,
    api_client: ApiClient | None = None,
    obj: models.Model | None = None,
    model: type[models.Model] | None = None,
    row_count: int | None = None,
) -> AccessLogEntry:
    """Append one entry. ``obj`` names the one object concerned (a contact for a
    subject-access export); ``model`` the kind of rows of a list export. ``description`` must
    not contain personal data (see :class:`AccessLogEntry`)."""
    user = acting_user if acting_user is not None and acting_user.is_authenticated else None
    content_type = None
    object_id = ""
    if obj is not None:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        object_id = str(obj.pk)
    elif model is not None:
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    entry = AccessLogEntry(
        action=action,
        description=description[:300],
        user=user,
        api_client=api_client,
        content_type=content_type,
        object_id=object_id,
        row_count=row_count,
    )
    entry.full_clean()
    entry.save()
    return entry


def access_log_export(
    *,
    what: str | Promise,
    file_format: str,
    params: dict | None = None,
    acting_user: AbstractBaseUser | AnonymousUser | None,
    model: type[models.Model] | None = None,
    row_count: int | None = None,
) -> AccessLogEntry:
    """Record a list export: ``what`` (a lazy text, with ``params`` to fill in) names the list
    ("Contacts", "Participant list of AECT 52"), never a person; written in the site's
    language whatever the language of the exporter's page."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(what) % params if params else str(what)
        description = f"{capfirst(text)} ({file_format.upper()})"
    return access_log_record(
        action=AccessLogEntry.Action.EXPORT,
        description=description,
        acting_user=acting_user,
        model=model,
        row_count=row_count,
    )
