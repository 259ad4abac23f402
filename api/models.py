"""API clients (integrations) and their tokens. A token is shown once when issued and stored
only as a SHA-256 hash; it expires, can be revoked and records its last use."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.models import TimeStampedModel

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

    history = HistoricalRecords(excluded_fields=["updated_at", "last_used_at", "token_hash"])

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

    # DRF treats request.auth / request.user duck-typed; an API client is never a staff user.
    is_authenticated = True
