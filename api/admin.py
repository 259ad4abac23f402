"""Back office for API clients: list, create (the token is shown once, in a message, and never
again), rotate and revoke. Webhooks have their own module (api.admin_webhooks)."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import display

from api.models import ApiClient
from api.services import api_client_issue_token, api_client_revoke


class ApiClientAddForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ["name", "scope", "restricted", "privacy_read", "expires_at", "contact_email"]


@admin.register(ApiClient)
class ApiClientAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = [
        "name",
        "scope",
        "restricted",
        "privacy_read",
        "token_hint",
        "state",
        "expires_at",
        "last_used_at",
    ]
    list_filter = ["scope", "restricted", "privacy_read"]
    search_fields = ["name", "contact_email"]
    readonly_fields = ["token_hint", "last_used_at", "revoked_at", "created_by", "created_at"]
    fields = [
        "name",
        "scope",
        "restricted",
        "privacy_read",
        "expires_at",
        "contact_email",
        "token_hint",
        "revoked_at",
        "last_used_at",
        "created_by",
        "created_at",
    ]
    actions = ["revoke", "rotate"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiClientAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ApiClientAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*self.readonly_fields, "name")

    @display(description=_("state"), label={"usable": "success", "revoked": "danger"})
    def state(self, obj: ApiClient) -> str:
        if obj.revoked_at:
            return "revoked"
        return "usable" if obj.is_usable else "expired"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        expires_at = form.cleaned_data.get("expires_at")
        client, token = api_client_issue_token(
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            restricted=form.cleaned_data["restricted"],
            privacy_read=form.cleaned_data["privacy_read"],
            expires_in=(expires_at - timezone.now()) if expires_at else None,
            contact_email=form.cleaned_data.get("contact_email") or "",
            acting_user=request.user,
        )
        obj.pk = client.pk
        obj.__dict__.update({k: v for k, v in client.__dict__.items() if k != "_state"})
        obj._state.adding = False
        _show_token(request, client, token)

    @admin.action(description=_("Revoke the token"), permissions=["change"])
    def revoke(self, request, queryset):
        for client in queryset:
            api_client_revoke(client=client, acting_user=request.user)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%d token revoked.", "%d tokens revoked.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Issue a new token (the old one stops working)"), permissions=["change"]
    )
    def rotate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Rotate one client at a time."), messages.ERROR)
            return
        client = queryset.get()
        remaining = (
            client.expires_at - timezone.now()
            if client.expires_at and client.expires_at > timezone.now()
            else None
        )
        client, token = api_client_issue_token(
            name=client.name,
            scope=client.scope,
            restricted=client.restricted,
            privacy_read=client.privacy_read,
            expires_in=remaining or (datetime.timedelta(days=365) if client.expires_at else None),
            acting_user=request.user,
        )
        _show_token(request, client, token)


def _show_token(request, client: ApiClient, token: str) -> None:
    messages.warning(
        request,
        format_html(
            "{} <code style='user-select: all'>{}</code>",
            _("Token of “%(name)s” — copy it now, it will not be shown again:")
            % {"name": client.name},
            token,
        ),
    )


from api import admin_webhooks  # noqa: E402, F401 — registers the webhook back office
