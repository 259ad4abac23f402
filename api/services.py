"""Writes of the API layer itself: API clients and their tokens, integration references and the
deletion feed. Directory writes stay in :mod:`members.services`."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, Tombstone
from crm.exceptions import ApplicationError


@transaction.atomic
def api_client_issue_token(
    *,
    name: str,
    scope: str,
    acting_user: AbstractBaseUser | None,
    restricted: bool = False,
    privacy_read: bool = False,
    expires_in: datetime.timedelta | None = None,
    contact_email: str | None = None,
) -> tuple[ApiClient, str]:
    """Create the client ``name`` or rotate its token; returns it with the new plain token.

    The token is not stored, only its hash: this is the one moment it can be shown. Rotating
    replaces the previous token at once, sets the scope and expiry given and lifts a
    revocation. ``privacy_read`` (the scope "privacy:read", subject-access exports) is given
    only when asked for, on every issue: rotating without it takes it away."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the API client a name."), field="name")
    if scope not in ApiClient.Scope.values:
        raise ApplicationError(_("Unknown scope “%s”.") % scope, field="scope")
    client = ApiClient.objects.select_for_update().filter(name=name).first() or ApiClient(
        name=name, created_by=acting_user if getattr(acting_user, "pk", None) else None
    )
    token = ApiClient.new_token()
    client.set_token(token)
    client.scope = scope
    client.restricted = restricted
    client.privacy_read = privacy_read
    client.expires_at = timezone.now() + expires_in if expires_in else None
    client.revoked_at = None
    if contact_email is not None:
        client.contact_email = contact_email
    _save(client, acting_user)
    return client, token


@transaction.atomic
def api_client_revoke(*, client: ApiClient, acting_user: AbstractBaseUser | None) -> ApiClient:
    """Revoke a client's token now (its next request gets 401); rotating issues a new one."""
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        _save(client, acting_user)
    return client


def api_client_touch(*, client: ApiClient, every: datetime.timedelta) -> None:
    """Record that the client was just used, at most once per ``every`` (one UPDATE, no
    history entry), so a busy integration does not write on every request."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at >= every:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def external_ref_assign(
    *, instance: models.Model, external_ref: str | None, acting_user: AbstractBaseUser | None
) -> models.Model:
    """Set an integration's reference on an organisation or contact (unique per model).

    An empty string clears it (stored as NULL, so any number of rows may have none). The
    members services do not list ``external_ref`` among the fields they change, so the API sets
    it here, inside the caller's transaction, with the same validation and history."""
    external_ref = (external_ref or "").strip() or None
    if getattr(instance, "external_ref", None) == external_ref:
        return instance
    model = type(instance)
    if (
        external_ref
        and model._default_manager.filter(external_ref=external_ref)
        .exclude(pk=instance.pk)
        .exists()
    ):
        raise ApplicationError(
            _("Another %(model)s already has the reference “%(ref)s”.")
            % {"model": model._meta.verbose_name, "ref": external_ref},
            field="external_ref",
        )
    instance.external_ref = external_ref
    _save(instance, acting_user)
    return instance


def tombstone_record(
    *,
    object_type: str,
    object_id: int,
    reason: str,
    external_ref: str | None = None,
    replaced_by_id: int | None = None,
) -> Tombstone:
    return Tombstone.objects.create(
        object_type=object_type,
        object_id=object_id,
        reason=reason,
        external_ref=external_ref,
        replaced_by_id=replaced_by_id,
    )


def _save(instance: models.Model, acting_user: AbstractBaseUser | None) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise ApplicationError(
            " ".join(errors),
            field=None if field == "__all__" else field,
            extra={"errors": exc.message_dict},
        ) from exc
    # Simple-history wants a user model instance (or None), never an API client.
    instance._history_user = acting_user if isinstance(acting_user, AbstractBaseUser) else None
    instance.save()
