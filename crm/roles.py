"""The three roles of the back office and the API, as Django groups with permissions.

- **Coordinators**: full use of the directory, meetings, events, consultations (restricted ones
  too), follow-ups, the outbox and exports, subject-access exports included
  (``members.export_subject_access``, one of the members app's permissions).
- **Viewers**: read the directory, meetings and events; no restricted consultations, no
  changes, no subject-access exports (only ``view_`` permissions).
- **Administrators**: what coordinators do, plus users, groups, API clients and the records of
  failed sign-ins (django-axes: lockouts, sign-in log); they publish the consent texts
  (coordinators and viewers read them).

The groups are brought up to date after every ``migrate`` (permissions only exist once their
models are migrated, so a data migration cannot assign them on a fresh database). Only the
permissions listed here are managed; the group membership of users is left alone.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

COORDINATORS = "Coordinators"
VIEWERS = "Viewers"
ADMINISTRATORS = "Administrators"

DOMAIN_APPS = ["members", "meetings", "events", "mail"]
RESTRICTED = ("meetings", "view_restricted_consultation")
# Erasing a contact's personal data (members.erasure): coordinators and administrators.
ERASE = ("members", "erase_contact")
# The wording people agree to is the administrators' to publish.
CONSENT_TEXT_WRITES = Q(
    content_type__app_label="members",
    codename__in=["add_consenttext", "change_consenttext", "delete_consenttext"],
)


def _coordinator_permissions() -> Q:
    return (
        (Q(content_type__app_label__in=DOMAIN_APPS) & ~CONSENT_TEXT_WRITES)
        | Q(content_type__app_label="django_celery_beat", codename__startswith="view_")
        # The access log and the activity of all records are read by coordinators; nobody
        # edits them.
        | Q(content_type__app_label="crm", codename__in=["view_accesslogentry", "view_activity"])
        # Named although DOMAIN_APPS covers it: everything held about one person, at once.
        | Q(content_type__app_label="members", codename="export_subject_access")
        # Already part of the members app; named so that the grant is explicit.
        | Q(content_type__app_label=ERASE[0], codename=ERASE[1])
    )


def _viewer_permissions() -> Q:
    return Q(content_type__app_label__in=DOMAIN_APPS, codename__startswith="view_") & ~Q(
        content_type__app_label=RESTRICTED[0], codename=RESTRICTED[1]
    )


def _administrator_permissions() -> Q:
    return (
        _coordinator_permissions()
        | Q(content_type__app_label__in=["auth", "api", "axes"])
        | CONSENT_TEXT_WRITES
    )


ROLES = {
    COORDINATORS: _coordinator_permissions,
    VIEWERS: _viewer_permissions,
    ADMINISTRATORS: _administrator_permissions,
}


def sync_roles(**_kwargs) -> None:
    """Create the role groups and give them exactly their permissions (idempotent)."""
    for name, permissions in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(permissions()))
