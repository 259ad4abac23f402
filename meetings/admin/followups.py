"""Follow-ups in the back office: the list of every action item (from meetings,
consultations, bounced mail or on their own), "My follow-ups" for the coordinator signed in,
and the pieces the consultation form shares (saving follow-ups and showing a service's refusal
on the form).

Follow-ups are created and moved between open, done and cancelled by the services. Follow-ups
of a restricted consultation are hidden, like the consultation, from whoever may not see it.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display

from crm.exceptions import ApplicationError
from meetings import services
from meetings.models import Consultation, FollowUp
from meetings.services.common import save

Status = FollowUp.Status

VIEW_RESTRICTED = "meetings.view_restricted_consultation"
CHANGE_FOLLOWUP = "meetings.change_followup"

STATUS_COLOURS = {Status.OPEN: "info", Status.DONE: "success", Status.CANCELLED: ""}
# What a follow-up form edits besides its status (which moves only through the services).
EDITABLE_FIELDS = ("title", "owner_user", "owner_contact", "organization", "due_date", "notes")
OVERDUE_STYLE = "color: #dc2626; font-weight: 700;"


def may_see_restricted(request) -> bool:
    return request.user.has_perm(VIEW_RESTRICTED)


def office_users() -> QuerySet:
    """Who can own a follow-up or be recorded as present: the office's staff accounts."""
    return get_user_model().objects.filter(is_staff=True).order_by("username")


def visible_followups(request, queryset: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """A follow-up says what was agreed, so it is as confidential as its consultation."""
    if may_see_restricted(request):
        return queryset
    return queryset.exclude(consultation__confidentiality=Consultation.Confidentiality.RESTRICTED)


def is_overdue(followup: FollowUp, today: datetime.date) -> bool:
    return (
        followup.status == Status.OPEN
        and followup.due_date is not None
        and followup.due_date < today
    )


def due_html(followup: FollowUp, today: datetime.date) -> str:
    if followup.due_date is None:
        return "—"
    text = date_format(followup.due_date, "SHORT_DATE_FORMAT")
    if is_overdue(followup, today):
        return format_html(
            '<span class="overdue" style="{}" title="{}">{}</span>',
            OVERDUE_STYLE,
            _("Overdue"),
            text,
        )
    return text


def source_html(followup: FollowUp) -> str:
    """Where the follow-up comes from, linked to that meeting or consultation."""
    if followup.consultation_id:
        url = reverse("admin:meetings_consultation_change", args=[followup.consultation_id])
        return format_html('<a href="{}">{}</a>', url, followup.consultation.title)
    if followup.gathering_id:
        gathering = followup.gathering.specific
        opts = gathering._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[gathering.pk])
        return format_html('<a href="{}">{}</a>', url, gathering.title)
    return followup.get_source_display()


def followup_set_status(*, followup: FollowUp, status: str, acting_user) -> FollowUp:
    """Move a follow-up to ``status`` through the services (done, cancelled, reopened)."""
    if status == followup.status:
        return followup
    if followup.status != Status.OPEN:
        followup = services.followup_reopen(followup=followup, acting_user=acting_user)
    if status == Status.DONE:
        return services.followup_complete(followup=followup, acting_user=acting_user)
    if status == Status.CANCELLED:
        return services.followup_cancel(followup=followup, acting_user=acting_user)
    return followup


def followup_save_edits(*, followup: FollowUp, changed: list[str], acting_user) -> FollowUp:
    """Save what a form changed on an existing follow-up (``followup`` carries the form's
    values): its plain fields validated and recorded in the history as the services do, its
    status moved through the services."""
    wanted = followup.status
    followup.status = FollowUp.objects.values_list("status", flat=True).get(pk=followup.pk)
    if set(changed) - {"status"}:
        # No service edits the plain fields of a follow-up; ``save`` is the services' own
        # validate-and-record step.
        save(followup, acting_user)
    return followup_set_status(followup=followup, status=wanted, acting_user=acting_user)


class ServiceRefusalMixin:
    """A service's refusal (``ApplicationError``) raised while the change form saves is shown
    on the form like any validation error, on the field it names.

    The admin validates the form and then saves; a service refusing at that point rolls the
    whole save back (the admin's transaction). The same POST is then validated again with the
    refusal attached to its field, so the coordinator sees the form they filled in, with the
    message where it belongs, and nothing was saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            if request.method != "POST" or getattr(request, "service_refusal", None):
                raise
            request.service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                data = super().clean()
                field = refusal.field if refusal.field in self.fields else None
                self.add_error(field, refusal.message)
                return data

        return RefusedForm


class HiddenRestrictedHistoryMixin:
    """The history pages of a record hidden by ``get_queryset`` behave like its change page:
    a redirect with "does not exist", never a page that confirms it exists."""

    def _hidden(self, request, object_id) -> bool:
        return self.get_object(request, unquote(object_id)) is None

    def history_view(self, request, object_id, extra_context=None):
        if self._hidden(request, object_id):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if self._hidden(request, object_id):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        overdue = Q(status=Status.OPEN, due_date__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class OfficeOwnerFilter(RelatedDropdownFilter):
    """Owners to choose from: the office's staff accounts, not every user."""

    def field_choices(self, field, request, model_admin):
        return field.get_choices(
            include_blank=False, limit_choices_to={"is_staff": True}, ordering=("username",)
        )


class FollowUpAdminForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = (*EDITABLE_FIELDS, "status", "gathering", "consultation")


@admin.register(FollowUp)
class FollowUpAdmin(
    HiddenRestrictedHistoryMixin, ServiceRefusalMixin, SimpleHistoryAdmin, ModelAdmin
):
    form = FollowUpAdminForm
    list_display = (
        "title",
        "owner_user",
        "owner_contact",
        "organization",
        "display_source",
        "display_due",
        "display_status",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("source", ChoicesDropdownFilter),
        ("owner_user", OfficeOwnerFilter),
        OverdueFilter,
    )
    list_filter_submit = True
    list_select_related = (
        "owner_user",
        "owner_contact",
        "organization",
        "consultation",
        "gathering__meeting",
        "gathering__event",
    )
    search_fields = ("title", "notes", "organization__name", "organization__acronym")
    search_help_text = gettext_lazy("What, notes, or the organisation's name or acronym.")
    list_per_page = 50
    autocomplete_fields = ("owner_contact", "organization", "consultation")
    readonly_fields = ("source", "done_on", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "status", "due_date", "notes")}),
        (
            gettext_lazy("Who"),
            {
                "fields": ("owner_user", "owner_contact", "organization"),
                "description": gettext_lazy(
                    "A follow-up owned by someone at a partner needs an office member "
                    "responsible for it."
                ),
            },
        ),
        (gettext_lazy("Where it comes from"), {"fields": ("source", "gathering", "consultation")}),
        (
            gettext_lazy("Record"),
            {"fields": ("done_on", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )
    actions = ["mark_done", "cancel"]
    actions_list = ["my_followups"]
    history_list_display = ["status", "due_date"]

    def get_queryset(self, request):
        return visible_followups(request, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # Where a follow-up comes from does not change once it is recorded.
        return (*self.readonly_fields, "gathering", "consultation")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner_user":
            kwargs["queryset"] = office_users()
        elif db_field.name == "consultation" and not may_see_restricted(request):
            kwargs["queryset"] = Consultation.objects.exclude(
                confidentiality=Consultation.Confidentiality.RESTRICTED
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- List columns ---------------------------------------------------------------------

    @display(description=gettext_lazy("from"), ordering="source")
    def display_source(self, obj):
        return source_html(obj)

    @display(description=gettext_lazy("due"), ordering="due_date")
    def display_due(self, obj):
        return due_html(obj, timezone.localdate())

    @display(description=gettext_lazy("status"), ordering="status", label=STATUS_COLOURS)
    def display_status(self, obj):
        return obj.status, obj.get_status_display()

    # --- Saving through the services ------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            saved = followup_save_edits(
                followup=obj, changed=form.changed_data, acting_user=request.user
            )
        else:
            data = {
                name: form.cleaned_data[name]
                for name in EDITABLE_FIELDS
                if name in form.cleaned_data
            }
            consultation = form.cleaned_data.get("consultation")
            gathering = form.cleaned_data.get("gathering")
            source = FollowUp.Source.OTHER
            if consultation is not None:
                source = FollowUp.Source.CONSULTATION
            elif gathering is not None:
                source = FollowUp.Source.MEETING
            saved = services.followup_create(
                acting_user=request.user,
                consultation=consultation,
                gathering=gathering,
                source=source,
                **data,
            )
            saved = followup_set_status(
                followup=saved, status=form.cleaned_data["status"], acting_user=request.user
            )
        obj.__dict__.update(saved.__dict__)

    def save_related(self, request, form, formsets, change):
        # The follow-up has no many-to-many fields; everything was saved in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # --- Bulk actions ---------------------------------------------------------------------

    def _apply(self, request, queryset, perform, done_message) -> None:
        done = 0
        for followup in queryset:
            try:
                perform(followup)
            except ApplicationError as exc:
                messages.error(request, f"{followup.title}: {exc}")
            else:
                done += 1
        if done:
            messages.success(request, done_message(done))

    @admin.action(description=gettext_lazy("Mark done"), permissions=["change"])
    def mark_done(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda f: services.followup_complete(followup=f, acting_user=request.user),
            lambda n: (
                ngettext("%(n)d follow-up marked done.", "%(n)d follow-ups marked done.", n)
                % {"n": n}
            ),
        )

    @admin.action(description=gettext_lazy("Cancel"), permissions=["change"])
    def cancel(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda f: services.followup_cancel(followup=f, acting_user=request.user),
            lambda n: (
                ngettext("%(n)d follow-up cancelled.", "%(n)d follow-ups cancelled.", n) % {"n": n}
            ),
        )

    # --- My follow-ups --------------------------------------------------------------------

    def my_open_followups(self, request) -> QuerySet[FollowUp]:
        return (
            self.get_queryset(request)
            .filter(owner_user=request.user, status=Status.OPEN)
            .select_related(
                "owner_contact",
                "organization",
                "consultation",
                "gathering__meeting",
                "gathering__event",
            )
            .order_by(*FollowUp._meta.ordering)
        )

    @action(
        description=gettext_lazy("My follow-ups"),
        url_path="mine",
        icon="assignment_ind",
        permissions=["view"],
    )
    def my_followups(self, request):
        """The signed-in coordinator's open follow-ups, the earliest due first. POST marks
        one done (a link never changes anything)."""
        mine_url = reverse("admin:meetings_followup_my_followups")
        if request.method == "POST":
            if not request.user.has_perm(CHANGE_FOLLOWUP):
                raise PermissionDenied
            pk = request.POST.get("done", "")
            followup = get_object_or_404(
                self.my_open_followups(request), pk=int(pk) if pk.isdigit() else None
            )
            try:
                services.followup_complete(followup=followup, acting_user=request.user)
            except ApplicationError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("“%(title)s” is done.") % {"title": followup.title})
            return HttpResponseRedirect(mine_url)
        today = timezone.localdate()
        rows = [
            {
                "followup": f,
                "overdue": is_overdue(f, today),
                "due": due_html(f, today),
                "source": source_html(f),
                "change_url": reverse("admin:meetings_followup_change", args=[f.pk]),
            }
            for f in self.my_open_followups(request)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("My follow-ups"),
            "rows": rows,
            "overdue_count": sum(row["overdue"] for row in rows),
            "can_change": request.user.has_perm(CHANGE_FOLLOWUP),
            "list_url": reverse("admin:meetings_followup_changelist"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "meetings/admin/followups/mine.html", context)
