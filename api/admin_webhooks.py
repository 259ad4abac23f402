"""Back office for webhooks: subscriptions (created, changed, enabled and disabled through the
services, so the URL guard and the history apply), and deliveries with every attempt, which
coordinators can replay. Imported from :mod:`api.admin`."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from api.models_webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.webhooks import net, services
from api.webhooks.events import CATALOGUE
from crm.admin import ReadOnlyAdminMixin
from crm.exceptions import ApplicationError

Status = WebhookDelivery.Status
STATUS_COLOURS = {
    Status.PENDING: "info",
    Status.IN_FLIGHT: "info",
    Status.DELIVERED: "success",
    Status.RETRY: "warning",
    Status.FAILED: "danger",
}
OUTCOME_COLOURS = {
    WebhookAttempt.Outcome.DELIVERED: "success",
    WebhookAttempt.Outcome.RETRY: "warning",
    WebhookAttempt.Outcome.FAILED: "danger",
    WebhookAttempt.Outcome.GONE: "danger",
}


class WebhookSubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=[
            (name, f"{name} — {description}") for name, (_k, description) in CATALOGUE.items()
        ],
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )

    class Meta:
        model = WebhookSubscription
        fields = ("client", "url", "event_types")

    def clean_url(self):
        url = self.cleaned_data["url"]
        if self.instance.pk is None or url != self.instance.url:
            try:
                net.check_url(url)
            except net.UnsafeURL as exc:
                raise forms.ValidationError(str(exc)) from exc
        return url


class AttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "display_outcome",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
    )
    readonly_fields = fields
    ordering = ["-number"]
    verbose_name_plural = _("attempts")

    def has_add_permission(self, request, obj=None):
        return False

    @display(description=_("outcome"), label=OUTCOME_COLOURS)
    def display_outcome(self, obj):
        return obj.outcome, obj.get_outcome_display()


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SimpleHistoryAdmin, ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = (
        "client",
        "url",
        "display_active",
        "display_event_types",
        "consecutive_failures",
        "disabled_at",
    )
    list_filter = ("active", "client")
    search_fields = ("url", "client__name")
    list_select_related = ("client",)
    actions = ["enable", "disable", "rotate_secret"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("client", "url", "event_types")}),)
        return (
            (None, {"fields": ("client", "url", "event_types", "secret")}),
            (
                _("Health"),
                {
                    "fields": (
                        "display_active",
                        "disabled_at",
                        "disabled_reason",
                        "consecutive_failures",
                        "failing_since",
                        "deliveries_link",
                    )
                },
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "client",
            "secret",
            "display_active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "failing_since",
            "deliveries_link",
        )

    def save_model(self, request, obj, form, change):
        # The form has checked the URL; the services check it again (and record the history).
        data = form.cleaned_data
        if change:
            services.webhook_subscription_update(
                subscription=obj,
                url=data["url"],
                event_types=data["event_types"],
                acting_user=request.user,
            )
        else:
            saved = services.webhook_subscription_create(
                client=data["client"],
                url=data["url"],
                event_types=data["event_types"],
                acting_user=request.user,
            )
            obj.pk = saved.pk
            obj.secret = saved.secret

    @display(description=_("active"), label={True: "success", False: "danger"})
    def display_active(self, obj):
        return obj.active, _("Active") if obj.active else _("Disabled")

    @display(description=_("event types"))
    def display_event_types(self, obj):
        return ", ".join(obj.event_types or [])

    @display(description=_("deliveries"))
    def deliveries_link(self, obj):
        url = reverse("admin:api_webhookdelivery_changelist") + f"?subscription__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Deliveries and attempts"))

    def _each(self, request, queryset, service, done_message, **kwargs):
        done = 0
        for subscription in queryset:
            try:
                service(subscription=subscription, acting_user=request.user, **kwargs)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{subscription}: {exc}")
        if done:
            messages.success(request, done_message(done))

    @admin.action(description=_("Enable (again)"), permissions=["change"])
    def enable(self, request, queryset):
        self._each(
            request,
            queryset,
            services.webhook_subscription_enable,
            lambda n: ngettext("%d subscription enabled.", "%d subscriptions enabled.", n) % n,
        )

    @admin.action(description=_("Disable"), permissions=["change"])
    def disable(self, request, queryset):
        self._each(
            request,
            queryset,
            services.webhook_subscription_disable,
            lambda n: ngettext("%d subscription disabled.", "%d subscriptions disabled.", n) % n,
            reason=str(_("Disabled in the back office by %s") % request.user),
        )

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        self._each(
            request,
            queryset,
            services.webhook_subscription_rotate_secret,
            lambda n: (
                ngettext(
                    "New secret for %d subscription; tell its owner.",
                    "New secrets for %d subscriptions; tell their owners.",
                    n,
                )
                % n
            ),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "created_at",
        "display_status",
        "event_type",
        "display_object",
        "subscription",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("event_type", ChoicesDropdownFilter),
        "subscription__client",
    )
    list_filter_submit = True
    search_fields = ("uuid", "subscription__url", "subscription__client__name")
    search_help_text = _("Delivery id, URL or API client.")
    list_select_related = ("subscription__client",)
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    actions = ["replay"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "display_status",
                    "uuid",
                    "subscription",
                    "event_type",
                    "display_object",
                    "payload",
                    "replay_of",
                )
            },
        ),
        (
            _("Delivery"),
            {
                "fields": (
                    "attempts",
                    "next_attempt_at",
                    "in_flight_since",
                    "last_status_code",
                    "last_error",
                    "response_excerpt",
                    "delivered_at",
                    "created_at",
                )
            },
        ),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    @display(description=_("status"), ordering="status", label=STATUS_COLOURS)
    def display_status(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("object"))
    def display_object(self, obj):
        return f"{obj.object_type} #{obj.object_id}"

    def has_replay_permission(self, request):
        return request.user.has_perm("api.change_webhooksubscription")

    @admin.action(description=_("Replay (send again as a new delivery)"), permissions=["replay"])
    def replay(self, request, queryset):
        done = 0
        for delivery in queryset.select_related("subscription"):
            try:
                services.webhook_delivery_replay(delivery=delivery, acting_user=request.user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{delivery.uuid}: {exc}")
        if done:
            messages.success(
                request,
                ngettext("%d delivery queued again.", "%d deliveries queued again.", done) % done,
            )
