"""Querysets of the API resources, with the joins their serializers need, so that a list costs
the same number of queries at any page size. The directory's own selectors are reused where
they exist; these can move to ``members.selectors`` when that module is next changed."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    Field,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.models import ApiClient, Tombstone
from api.models_webhooks import WebhookSubscription
from events.models import Event
from meetings.models import Consultation, FollowUp, Invitation, Meeting, PlusOne
from members import selectors as member_selectors
from members.models import Affiliation, Contact, FocusArea, Organization
from members.privacy.models import ConsentRecord
from members.privacy.selectors import with_consent


def organization_list() -> QuerySet[Organization]:
    return member_selectors.organization_list()


def contact_list() -> QuerySet[Contact]:
    # The current consent per purpose is annotated (ContactSerializer.consent).
    return with_consent(Contact.objects.all(), with_dates=True).prefetch_related(
        Prefetch(
            "affiliations",
            queryset=Affiliation.objects.select_related("organization")
            # What ``current_roles`` shows: not every organisation's description and history.
            .only(
                "id",
                "contact_id",
                "role",
                "job_title",
                "start_date",
                "end_date",
                "organization__id",
                "organization__name",
                "organization__acronym",
            )
            .order_by("organization__name", "role", "id"),
            # A list, not a queryset per contact: Django builds a related manager's queryset
            # for every instance otherwise, a third of a page's time (bench/api_list.py).
            to_attr="prefetched_affiliations",
        )
    )


# What a contacts list page reads: ContactSerializer's fields, as values
# (api.serializers.directory.contact_rows_representation).
CONTACT_ROW_FIELDS = (
    "id",
    "salutation",
    "given_name",
    "family_name",
    "email",
    "phone",
    "preferred_language",
    "time_zone",
    "mail_opt_out_at",
    "needs_review",
    "external_ref",
    "created_at",
    "updated_at",
)


# On PostgreSQL a contacts page reads its roles and consent in the page's own query, as JSON
# already in the answer's shape (what api.serializers.directory.contact_rows_representation
# shows); elsewhere (SQLite, the embedded default) in one query each per page.
_CONTACT = Contact._meta.db_table
# Table names from the models, values bound as parameters: nothing from a request.
_ROLES_JSON = f"""
COALESCE((
    SELECT json_agg(json_build_object(
               'affiliation_id', a.id,
               'organization', json_build_object('id', o.id, 'name', o.name, 'acronym', o.acronym),
               'role', a.role, 'job_title', a.job_title,
               'start_date', a.start_date, 'end_date', a.end_date)
           ORDER BY o.name, a.role, a.id)
    FROM {Affiliation._meta.db_table} a JOIN {Organization._meta.db_table} o
      ON o.id = a.organization_id
    WHERE a.contact_id = {_CONTACT}.id
      AND (a.start_date IS NULL OR a.start_date <= %s)
      AND (a.end_date IS NULL OR a.end_date > %s)
), '[]'::json)"""  # noqa: S608
_CONSENT_JSON = f"""(
    SELECT json_object_agg(latest.purpose, json_build_object(
               'given', latest.given, 'recorded_at', latest.recorded_at))
    FROM (
        SELECT DISTINCT ON (r.purpose) r.purpose, r.given, r.recorded_at
        FROM {ConsentRecord._meta.db_table} r
        WHERE r.contact_id = {_CONTACT}.id
        ORDER BY r.purpose, r.recorded_at DESC, r.id DESC
    ) latest
)"""  # noqa: S608


def contact_rows(*, embed: bool | None = None) -> QuerySet:
    """The contacts list as ``values()`` rows, for
    :func:`api.serializers.directory.contact_rows_representation`: a page of them costs no
    model instance, which was most of the list's time (bench/api_list.py). Filters, search
    and ordering apply to it as to :func:`contact_list`. With ``embed`` (the default on
    PostgreSQL) each row also carries ``roles_json`` and ``consent_json``, so that a page is
    one query; without, the representation reads them in one query each."""
    rows = Contact.objects.values(*CONTACT_ROW_FIELDS)
    if embed is None:
        embed = connection.vendor == "postgresql"
    if embed:
        today = timezone.localdate()
        # psycopg decodes ``json`` columns itself: a plain Field adds no converter.
        rows = rows.annotate(
            roles_json=RawSQL(_ROLES_JSON, [today, today], output_field=Field()),  # noqa: S611
            consent_json=RawSQL(_CONSENT_JSON, [], output_field=Field()),  # noqa: S611
        )
    return rows


def latest_consent_rows(contact_ids: list[int]) -> QuerySet:
    """The consent records of these contacts, each contact's and purpose's latest first (the
    one that counts, as in :func:`members.privacy.selectors.with_consent`): one query for a
    page, on the index ``members_consent_latest_idx``, instead of six subqueries per row."""
    return (
        ConsentRecord.objects.filter(contact_id__in=contact_ids)
        .order_by("contact_id", "purpose", "-recorded_at", "-id")
        .values_list("contact_id", "purpose", "given", "recorded_at")
    )


def current_role_rows(contact_ids: list[int]) -> QuerySet:
    """The roles held today by these contacts, with their organisation, in the order
    ``current_roles`` lists them: one query for a whole page."""
    return (
        Affiliation.objects.current()
        .filter(contact_id__in=contact_ids)
        .order_by("organization__name", "role", "id")
        .values(
            "id",
            "contact_id",
            "role",
            "job_title",
            "start_date",
            "end_date",
            "organization_id",
            "organization__name",
            "organization__acronym",
        )
    )


def affiliation_list() -> QuerySet[Affiliation]:
    return Affiliation.objects.select_related("contact", "organization")


def tombstone_list() -> QuerySet[Tombstone]:
    return Tombstone.objects.all()


# --- Gatherings, invitations, consultations, follow-ups, webhooks ---------------------------

# The answer counts every meeting and event embeds: name → the invitations it counts.
ANSWER_COUNTS: dict[str, Q] = {
    "invited": Q(),
    "pending": Q(status=Invitation.Status.PENDING),
    "accepted": Q(status=Invitation.Status.ACCEPTED),
    "in_person": Q(status=Invitation.Status.ACCEPTED, mode=Invitation.Mode.IN_PERSON),
    "online": Q(status=Invitation.Status.ACCEPTED, mode=Invitation.Mode.ONLINE),
    "declined": Q(status=Invitation.Status.DECLINED),
    "waiting": Q(status=Invitation.Status.WAITING),
    "replaced": Q(status=Invitation.Status.REPLACED),
    "attended": Q(attendance=Invitation.Attendance.ATTENDED),
}


def _answer_count(condition: Q) -> Subquery:
    # A correlated subquery per count rather than JOIN + GROUP BY: the row can still be
    # locked (``SELECT … FOR UPDATE`` refuses GROUP BY) and other joins do not multiply it.
    counted = (
        Invitation.objects.filter(condition, gathering_id=OuterRef("pk"))
        .order_by()
        .values("gathering_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_answer_counts(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        **{f"count_{name}": _answer_count(condition) for name, condition in ANSWER_COUNTS.items()}
    )


def meeting_list() -> QuerySet[Meeting]:
    return _with_answer_counts(Meeting.objects.all()).prefetch_related("agenda_items")


def event_list() -> QuerySet[Event]:
    return _with_answer_counts(Event.objects.all()).prefetch_related("agenda_items", "sessions")


def invitation_list() -> QuerySet[Invitation]:
    return (
        Invitation.objects.select_related("contact", "organization")
        .annotate(is_meeting=Exists(Meeting.objects.filter(pk=OuterRef("gathering_id"))))
        .prefetch_related(Prefetch("plus_ones", queryset=PlusOne.objects.order_by("id")))
    )


def consultation_list(*, restricted: bool) -> QuerySet[Consultation]:
    """Consultations the caller may see: restricted ones only with ``restricted``."""
    queryset = Consultation.objects.prefetch_related(
        Prefetch("organizations", queryset=Organization.objects.order_by("name", "id")),
        Prefetch("contacts", queryset=Contact.objects.order_by("family_name", "id")),
        Prefetch("topics", queryset=FocusArea.objects.order_by("code")),
        Prefetch("staff", queryset=get_user_model().objects.order_by("id")),
    )
    if not restricted:
        queryset = queryset.exclude(confidentiality=Consultation.Confidentiality.RESTRICTED)
    return queryset


def followup_list(*, restricted: bool) -> QuerySet[FollowUp]:
    """Follow-ups the caller may see: those of a restricted consultation only with
    ``restricted`` (their notes often repeat what was said)."""
    queryset = FollowUp.objects.select_related("owner_user", "owner_contact", "organization")
    if not restricted:
        queryset = queryset.exclude(
            consultation__confidentiality=Consultation.Confidentiality.RESTRICTED
        )
    return queryset


def webhook_subscription_list(*, client: ApiClient | None) -> QuerySet[WebhookSubscription]:
    """An API client's own subscriptions (none for anyone else)."""
    if client is None:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(client=client)
