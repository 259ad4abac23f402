"""The parts of the gathering change forms and lists: inlines for the agenda, documents,
reminder rules and action items, and the year filter (shared by meetings and events)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy
from unfold.admin import TabularInline

from meetings.models import AgendaItem, FollowUp, GatheringDocument, ReminderRule


class YearFilter(admin.SimpleListFilter):
    title = gettext_lazy("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = model_admin.model.objects.dates("starts_at", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(starts_at__year=int(value))
        return queryset


class AgendaItemInline(TabularInline):
    model = AgendaItem
    extra = 0
    fields = ("position", "title", "presenter", "organization", "duration_minutes")
    autocomplete_fields = ["organization"]
    ordering = ["position", "id"]
    tab = True


class DocumentInline(TabularInline):
    model = GatheringDocument
    extra = 0
    fields = ("title", "file", "visibility")
    tab = True


class ReminderRuleInline(TabularInline):
    model = ReminderRule
    extra = 0
    fields = (
        "name",
        "anchor",
        "days",
        "local_time",
        "audience",
        "template",
        "extra_text",
        "active",
    )
    tab = True


class ActionItemInline(TabularInline):
    """The meeting's action items: follow-ups whose source is this meeting."""

    model = FollowUp
    fk_name = "gathering"
    extra = 0
    fields = ("title", "owner_user", "due_date", "status", "done_on")
    verbose_name = gettext_lazy("action item")
    verbose_name_plural = gettext_lazy("action items")
    tab = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(source=FollowUp.Source.MEETING)
            .select_related("owner_user")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner_user":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
