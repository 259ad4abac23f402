from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from crm.admin import ReadOnlyAdminMixin
from crm.exceptions import ApplicationError
from crm.mail import services
from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage

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

    def has_resend_permission(self, request) -> bool:
        # The list is read-only for everyone; resending is a coordinator's decision.
        return request.user.has_perm("mail.change_outgoingmessage")

    @admin.action(description=_("Resend failed or unknown messages"), permissions=["resend"])
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


EVENT_COLOURS = {
    DeliveryEvent.Type.DELIVERED: "success",
    DeliveryEvent.Type.DEFERRED: "warning",
    DeliveryEvent.Type.BOUNCED: "danger",
    DeliveryEvent.Type.REJECTED: "danger",
    DeliveryEvent.Type.FAILED: "danger",
    DeliveryEvent.Type.COMPLAINED: "danger",
}


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "occurred_at",
        "display_type",
        "recipient",
        "description",
        "display_message",
        "esp",
    )
    list_filter = (("event_type", ChoicesDropdownFilter), "esp")
    list_filter_submit = True
    search_fields = ("recipient", "esp_message_id", "description")
    search_help_text = _("Recipient address, Message-ID or description.")
    list_select_related = ("message",)
    date_hierarchy = "occurred_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "display_type",
                    "recipient",
                    "occurred_at",
                    "display_message",
                    "esp_message_id",
                )
            },
        ),
        (
            _("Provider's report"),
            {
                "fields": (
                    "esp",
                    "event_id",
                    "reject_reason",
                    "description",
                    "mta_response",
                    "raw",
                    "created_at",
                )
            },
        ),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    @display(
        description=pgettext_lazy("delivery", "event"), ordering="event_type", label=EVENT_COLOURS
    )
    def display_type(self, obj):
        return obj.event_type, obj.get_event_type_display()

    @display(description=_("outgoing message"))
    def display_message(self, obj):
        if obj.message_id is None:
            return _("not one of ours")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:mail_outgoingmessage_change", args=[obj.message_id]),
            obj.message.subject,
        )


class HoldActiveFilter(admin.SimpleListFilter):
    title = _("on hold")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", _("On hold")), ("no", _("Released")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(AddressHold)
class AddressHoldAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "email",
        "display_state",
        "reason",
        "bounce_count",
        "held_since",
        "contact",
        "released_at",
        "released_by",
    )
    list_filter = (HoldActiveFilter, ("reason", ChoicesDropdownFilter))
    list_filter_submit = True
    search_fields = ("email", "contact__family_name", "contact__given_name")
    search_help_text = _("Address or contact name.")
    list_select_related = ("contact", "released_by")
    actions = ["release"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "email",
                    "display_state",
                    "reason",
                    "detail",
                    "bounce_count",
                    "held_since",
                    "contact",
                )
            },
        ),
        (_("Release"), {"fields": ("released_at", "released_by")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    @display(
        description=_("state"),
        ordering="released_at",
        label={"held": "danger", "released": "success"},
    )
    def display_state(self, obj):
        if obj.is_active:
            return "held", _("On hold")
        return "released", _("Released")

    def has_release_permission(self, request) -> bool:
        return request.user.has_perm("mail.change_addresshold")

    @admin.action(
        description=_("Release: send mail to these addresses again"), permissions=["release"]
    )
    def release(self, request, queryset):
        done = 0
        for hold in queryset.filter(released_at__isnull=True):
            try:
                services.address_hold_release(email=hold.email, acting_user=request.user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{hold.email}: {exc}")
        if done:
            messages.success(
                request,
                ngettext("%d address released.", "%d addresses released.", done) % done,
            )
        else:
            messages.warning(request, _("None of the selected addresses was on hold."))
