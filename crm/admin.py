from crm.audit import access_log_export


class AccessLoggedExportMixin:
    """For a django-import-export admin: every file exported is an entry of the access log
    (who, which model, how many rows)."""

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        access_log_export(
            what=self.model._meta.verbose_name_plural,
            file_format=file_format.get_extension(),
            acting_user=request.user,
            model=self.model,
            row_count=queryset.count(),
        )
        return data


class ReadOnlyAdminMixin:
    """For records that are written only by services (history, the outbox): the back office
    may look, never add, edit or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Periodic tasks (django-celery-beat) ---------------------------------------------------
# Its admin offers enable / disable / toggle / run on the list without asking for any
# permission, so anyone who may *see* the schedule could stop the outbox pass. Here those
# actions need the change permission (Administrators, by crm.roles, have only view rights).

from django.contrib import admin  # noqa: E402
from django_celery_beat import admin as beat_admin  # noqa: E402
from django_celery_beat.models import PeriodicTask  # noqa: E402

SCHEDULE_ACTIONS = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            for name in SCHEDULE_ACTIONS:
                actions.pop(name, None)
        return actions


if admin.site.is_registered(PeriodicTask):
    admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)


# --- The access log ------------------------------------------------------------------------
# Append-only (crm.audit.access_log_record): read by coordinators and administrators, changed
# by nobody.

from unfold.admin import ModelAdmin  # noqa: E402
from unfold.contrib.filters.admin import (  # noqa: E402
    ChoicesDropdownFilter,
    RangeDateFilter,
    RelatedDropdownFilter,
)

from crm.models import AccessLogEntry  # noqa: E402


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("created_at", "action", "user", "api_client", "description", "row_count")
    list_filter = (
        ("action", ChoicesDropdownFilter),
        ("user", RelatedDropdownFilter),
        ("api_client", RelatedDropdownFilter),
        ("created_at", RangeDateFilter),
    )
    list_filter_submit = True
    search_fields = ("description",)
    date_hierarchy = "created_at"
    list_select_related = ("user", "api_client", "content_type")
    fields = (
        "created_at",
        "action",
        "user",
        "api_client",
        "description",
        "content_type",
        "object_id",
        "row_count",
    )
    readonly_fields = fields

    def get_actions(self, request):
        # Nothing to delete, ever: not even the built-in bulk deletion.
        return {}


# --- Failed sign-ins (django-axes) ---------------------------------------------------------
# Administrators only (crm.roles): who is locked out, and recent sign-ins. Deleting an attempt
# lifts that lockout, as `manage.py axes_reset_username` does. The log of failures is not kept
# (AXES_ENABLE_ACCESS_FAILURE_LOG is off), so its page is not offered.

from axes import admin as axes_admin  # noqa: E402
from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # noqa: E402
from unfold.admin import ModelAdmin  # noqa: E402


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin, ModelAdmin):
    # axes' "clean up expired attempts" is left out: axes already removes expired attempts
    # whenever it checks a sign-in.
    actions = []


class AccessLogAdmin(axes_admin.AccessLogAdmin, ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return False


for _model, _admin_class in ((AccessAttempt, AccessAttemptAdmin), (AccessLog, AccessLogAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
if admin.site.is_registered(AccessFailureLog):
    admin.site.unregister(AccessFailureLog)
