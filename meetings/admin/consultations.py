"""Consultations in the back office: the list, and the change form with the partners, people
and topics, the follow-ups agreed and the attachments.

Everything is saved through the services: a bilateral consultation with more than one partner
is refused by ``consultation_create``/``consultation_update`` and the refusal appears on the
organisations field. Restricted consultations (and their follow-ups) are invisible to whoever
lacks ``meetings.view_restricted_consultation``: not in the list, their pages answer as if
they did not exist, and such a user cannot mark a consultation restricted.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from meetings import services
from meetings.admin.followups import (
    EDITABLE_FIELDS,
    HiddenRestrictedHistoryMixin,
    ServiceRefusalMixin,
    followup_save_edits,
    followup_set_status,
    may_see_restricted,
    office_users,
)
from meetings.models import Consultation, ConsultationAttachment, FollowUp

Confidentiality = Consultation.Confidentiality

CONFIDENTIALITY_COLOURS = {Confidentiality.NORMAL: "", Confidentiality.RESTRICTED: "danger"}
M2M_FIELDS = ("organizations", "contacts", "staff", "topics")
FIELDS = (
    "kind",
    "held_on",
    "channel",
    "title",
    "label",
    "summary",
    "outcomes",
    "confidentiality",
)


class YearFilter(admin.SimpleListFilter):
    title = gettext_lazy("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = model_admin.get_queryset(request).dates("held_on", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(held_on__year=int(value))
        return queryset


class ConsultationAdminForm(forms.ModelForm):
    class Meta:
        model = Consultation
        fields = (*FIELDS, *M2M_FIELDS)


class FollowUpInline(TabularInline):
    """The follow-ups agreed in the consultation; created and moved between open, done and
    cancelled through the services (see ``ConsultationAdmin.save_formset``)."""

    model = FollowUp
    fk_name = "consultation"
    extra = 0
    can_delete = False
    fields = ("title", "owner_user", "owner_contact", "organization", "due_date", "status")
    autocomplete_fields = ("owner_contact", "organization")
    verbose_name = gettext_lazy("follow-up")
    verbose_name_plural = gettext_lazy("follow-ups")
    tab = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner_user", "owner_contact", "organization")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner_user":
            kwargs["queryset"] = office_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AttachmentInline(TabularInline):
    model = ConsultationAttachment
    extra = 0
    fields = ("title", "file")
    tab = True


@admin.register(Consultation)
class ConsultationAdmin(
    HiddenRestrictedHistoryMixin, ServiceRefusalMixin, SimpleHistoryAdmin, ModelAdmin
):
    form = ConsultationAdminForm
    list_display = (
        "held_on",
        "title",
        "kind",
        "channel",
        "display_organizations",
        "label",
        "display_confidentiality",
        "display_open_followups",
    )
    list_display_links = ("held_on", "title")
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        ("confidentiality", ChoicesDropdownFilter),
        ("topics", RelatedDropdownFilter),
        YearFilter,
        ("organizations", AutocompleteSelectFilter),
    )
    list_filter_submit = True
    search_fields = (
        "title",
        "summary",
        "label",
        "organizations__name",
        "organizations__acronym",
    )
    search_help_text = gettext_lazy(
        "Title, summary, survey or campaign, or a partner's name or acronym."
    )
    list_per_page = 50
    autocomplete_fields = ("organizations", "contacts")
    readonly_fields = ("created_by", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {"fields": ("title", ("kind", "channel"), "held_on", "label", "confidentiality")},
        ),
        (
            gettext_lazy("Who took part"),
            {
                "fields": ("organizations", "contacts", "staff"),
                "description": gettext_lazy(
                    "A bilateral consultation is with exactly one partner organisation."
                ),
            },
        ),
        (gettext_lazy("What was said"), {"fields": ("topics", "summary", "outcomes")}),
        (
            gettext_lazy("Record"),
            {"fields": ("created_by", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )
    inlines = [FollowUpInline, AttachmentInline]
    history_list_display = ["confidentiality"]

    def get_queryset(self, request):
        # A subquery rather than a join: searching by partner joins the organisations, which
        # would multiply a joined count.
        open_followups = (
            FollowUp.objects.filter(consultation=OuterRef("pk"), status=FollowUp.Status.OPEN)
            .order_by()
            .values("consultation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        queryset = (
            super()
            .get_queryset(request)
            .annotate(n_open_followups=Coalesce(Subquery(open_followups), 0))
            .prefetch_related("organizations")
        )
        if not may_see_restricted(request):
            queryset = queryset.exclude(confidentiality=Confidentiality.RESTRICTED)
        return queryset

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "confidentiality" and not may_see_restricted(request):
            kwargs["choices"] = [(Confidentiality.NORMAL, Confidentiality.NORMAL.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = office_users()
            kwargs["widget"] = UnfoldAdminCheckboxSelectMultipleWidget
        elif db_field.name == "topics":
            kwargs["widget"] = UnfoldAdminCheckboxSelectMultipleWidget
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- List columns ---------------------------------------------------------------------

    @display(description=gettext_lazy("organisations"))
    def display_organizations(self, obj):
        return (
            format_html_join(", ", "{}", ((o.acronym or o.name,) for o in obj.organizations.all()))
            or "—"
        )

    @display(
        description=gettext_lazy("confidentiality"),
        ordering="confidentiality",
        label=CONFIDENTIALITY_COLOURS,
    )
    def display_confidentiality(self, obj):
        return obj.confidentiality, obj.get_confidentiality_display()

    @display(description=gettext_lazy("open follow-ups"), ordering="n_open_followups")
    def display_open_followups(self, obj):
        return obj.n_open_followups

    # --- Saving through the services ------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in FIELDS if name in data}
        related = {name: list(data[name]) for name in M2M_FIELDS if name in data}
        if change:
            services.consultation_update(
                consultation=obj, acting_user=request.user, **related, **fields
            )
        else:
            created = services.consultation_create(acting_user=request.user, **related, **fields)
            obj.__dict__.update(created.__dict__)

    def save_related(self, request, form, formsets, change):
        # The partners, people, staff and topics were set by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not FollowUp:
            return super().save_formset(request, form, formset, change)
        consultation = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if not inline.has_changed() or not inline.cleaned_data:
                continue
            if inline.instance.pk is None:
                data = {
                    name: inline.cleaned_data[name]
                    for name in EDITABLE_FIELDS
                    if name in inline.cleaned_data
                }
                followup = services.followup_create(
                    acting_user=request.user, consultation=consultation, **data
                )
                followup_set_status(
                    followup=followup,
                    status=inline.cleaned_data["status"],
                    acting_user=request.user,
                )
                formset.new_objects.append(followup)
            else:
                followup = followup_save_edits(
                    followup=inline.instance, changed=inline.changed_data, acting_user=request.user
                )
                formset.changed_objects.append((followup, inline.changed_data))
        return None
