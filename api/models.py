"""API clients (integrations) and their tokens. A token is shown once when issued and stored
only as a SHA-256 hash; it expires, can be revoked and records its last use."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.history import AuditedHistory
from crm.models import TimeStampedModel

PRIVACY_READ = "privacy:read"
TOKEN_PREFIX = "acrm_"  # noqa: S105 — a public prefix that makes leaked tokens recognisable


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(TimeStampedModel):
    class Scope(models.TextChoices):
        READ = "read", _("Read (GET only)")
        WRITE = "write", _("Read and write")

    name = models.CharField(_("name"), max_length=100, unique=True)
    scope = models.CharField(_("scope"), max_length=5, choices=Scope.choices, default=Scope.READ)
    restricted = models.BooleanField(
        _("restricted data"),
        default=False,
        help_text=_("May read restricted consultations and export personal data."),
    )
    # The scope "privacy:read": implied by neither "read" nor "write" nor "restricted", and
    # never given by default, because it reads everything held about one person at once.
    privacy_read = models.BooleanField(
        _("subject-access exports (privacy:read)"),
        default=False,
        help_text=_("May read a contact's subject-access export (everything held about them)."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token starts with"), max_length=16, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    contact_email = models.EmailField(
        _("owner's e-mail"), blank=True, help_text=_("Told when its webhooks are disabled.")
    )

    history = AuditedHistory(excluded_fields=["updated_at", "last_used_at", "token_hash"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def new_token() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def set_token(self, token: str) -> None:
        self.token_hash = hash_token(token)
        self.token_hint = token[: len(TOKEN_PREFIX) + 4]

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    @property
    def scopes(self) -> list[str]:
        """The scopes the token carries, as the API documentation names them."""
        scopes = ["read", "write"] if self.can_write else ["read"]
        if self.restricted:
            scopes.append("restricted")
        if self.privacy_read:
            scopes.append(PRIVACY_READ)
        return scopes

    # DRF treats request.auth / request.user duck-typed; an API client is never a staff user.
    is_authenticated = True


class IdempotencyRecord(models.Model):
    """The stored answer to a POST sent with an ``Idempotency-Key`` header (see api.idempotency).

    A key belongs to its caller (an API client or a staff user) and is kept for
    ``API_IDEMPOTENCY_TTL_SECONDS`` (24 h): the same key with the same request replays the
    stored answer; with another request it is refused (422)."""

    key = models.CharField(max_length=255)
    # "client:<id>" or "user:<id>": keys of different callers never meet.
    owner = models.CharField(max_length=40)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="api_idempotency_owner_key"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class Tombstone(models.Model):
    """A row that left the directory, so that integrations syncing a copy can remove it too.

    Written by the ``post_delete`` receivers in :mod:`api.signals` (connected in
    ``ApiConfig.ready``) and listed at ``/api/v1/deletions/``."""

    class Reason(models.TextChoices):
        DELETED = "deleted", _("Deleted")
        ERASED = "erased", _("Erased on request")
        MERGED = "merged", _("Merged into another record")

    object_type = models.CharField(_("object type"), max_length=40, db_index=True)
    object_id = models.BigIntegerField(_("object id"))
    external_ref = models.CharField(_("external reference"), max_length=100, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    # For a merge: the id of the record that absorbed this one.
    replaced_by_id = models.BigIntegerField(_("replaced by"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["deleted_at", "id"]
        verbose_name = _("deletion")
        verbose_name_plural = _("deletions")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.object_type} #{self.object_id} ({self.reason})"


from api.models_webhooks import *  # noqa: E402, F403 — webhook models live in their own module
