from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from crm.admin import ReadOnlyAdminMixin
from crm.exceptions import ApplicationError
from crm.mail import services
from crm.mail.models import OutgoingMessage

Status = OutgoingMessage.Status
COLOURS = {
    Status.QUEUED: "info",
    Status.IN_FLIGHT: "info",
    Status.SENT: "success",
    Status.RETRY: "warning",
    Status.FAILED: "danger",
    Status.UNKNOWN: "danger",
    Status.SUPPRESSED: "",
}


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "created_at",
        "display_status",
        "purpose",
        "to_email",
        "subject",
        "attempts",
        "sent_at",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("purpose", ChoicesDropdownFilter),
        "essential",
    )
    list_filter_submit = True
    search_fields = ("to_email", "subject", "contact__family_name", "message_id")
    search_help_text = _("Recipient address or name, subject or Message-ID.")
    list_select_related = ("contact",)
    list_before_template = "mail/admin/status_counts.html"
    actions = ["resend"]
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("display_status", "purpose", "essential", "to_email", "contact")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "message_id",
                    "attempts",
                    "last_error",
                    "next_attempt_at",
                    "in_flight_since",
                    "sent_at",
                    "resent_from",
                    "key",
                )
            },
        ),
        (_("Message"), {"fields": ("language", "subject", "body_text", "rendered_html")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    def changelist_view(self, request, extra_context=None):
        counts = dict(
            OutgoingMessage.objects.values_list("status").annotate(n=Count("id")).order_by()
        )
        extra_context = {
            **(extra_context or {}),
            "status_counts": [
                (value, label, counts.get(value, 0)) for value, label in Status.choices
            ],
        }
        return super().changelist_view(request, extra_context)

    @display(description=_("status"), ordering="status", label=COLOURS)
    def display_status(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("HTML"))
    def rendered_html(self, obj):
        if not obj.body_html:
            return "—"
        # Shown in a sandboxed frame: the message's HTML never runs in the back office.
        return format_html(
            '<iframe sandbox srcdoc="{}" style="width:100%;min-height:24rem;border:1px solid '
            '#e5e7eb;border-radius:.5rem;background:#fff"></iframe>',
            obj.body_html,
        )

    @admin.action(description=_("Resend failed or unknown messages"), permissions=["view"])
    def resend(self, request, queryset):
        done = 0
        for message in queryset:
            try:
                services.message_resend(message=message, acting_user=request.user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{message.to_email}: {exc}")
        if done:
            messages.success(
                request,
                ngettext("%d message queued again.", "%d messages queued again.", done) % done,
            )
