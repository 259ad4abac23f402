"""Benchmark-only views: the floor (one hand-written SQL query, orjson) and the naive variant
(nested ModelSerializers, no select_related) of ``GET /api/v1/contacts/``, and a static page
served through the same stack as the RSVP page."""

import orjson
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import generics, permissions, serializers

from api.pagination import PageNumberPagination
from members.models import Affiliation, Contact, Organization

FLOOR_SQL = """
SELECT c.id, c.salutation, c.given_name, c.family_name, c.email, c.phone,
       c.preferred_language, c.time_zone, c.mail_opt_out_at, c.needs_review, c.external_ref,
       c.created_at, c.updated_at,
       COALESCE((
           SELECT json_agg(json_build_object(
                      'affiliation_id', a.id,
                      'organization', json_build_object(
                          'id', o.id, 'name', o.name, 'acronym', o.acronym),
                      'role', a.role, 'job_title', a.job_title,
                      'start_date', a.start_date, 'end_date', a.end_date)
                  ORDER BY o.name, a.role, a.id)
           FROM members_affiliation a JOIN members_organization o ON o.id = a.organization_id
           WHERE a.contact_id = c.id
             AND (a.start_date IS NULL OR a.start_date <= %(today)s)
             AND (a.end_date IS NULL OR a.end_date > %(today)s)
       ), '[]'::json) AS current_roles,
       (
           SELECT json_object_agg(
                      latest.purpose,
                      json_build_object('given', latest.given, 'recorded_at', latest.recorded_at))
           FROM (
               SELECT DISTINCT ON (r.purpose) r.purpose, r.given, r.recorded_at
               FROM members_consentrecord r
               WHERE r.contact_id = c.id
               ORDER BY r.purpose, r.recorded_at DESC, r.id DESC
           ) latest
       ) AS consent,
       (SELECT count(*) FROM members_contact) AS total
FROM members_contact c
ORDER BY c.family_name, c.given_name, c.id
LIMIT %(limit)s OFFSET %(offset)s
"""
COLUMNS = [
    "id",
    "salutation",
    "given_name",
    "family_name",
    "email",
    "phone",
    "preferred_language",
    "time_zone",
    "mail_opted_out_at",
    "needs_review",
    "external_ref",
    "created_at",
    "updated_at",
    "current_roles",
    "consent",
]
# A purpose without a record: its default (members.privacy.models.DEFAULTS).
CONSENT_DEFAULTS = {"mail": True, "participant_list": False, "photographs": False}


def floor_contacts(request):
    """The same page, fields and envelope as the API list — roles and consent included — in
    one query, without a framework; no authentication (that is the API's cost above the
    floor). bench/api_list.py checks that it answers what the API answers."""
    size = min(int(request.GET.get("page_size", 50)), 200)
    page = max(int(request.GET.get("page", 1)), 1)
    with connection.cursor() as cursor:
        cursor.execute(
            FLOOR_SQL, {"today": timezone.localdate(), "limit": size, "offset": (page - 1) * size}
        )
        rows = cursor.fetchall()
    total = rows[0][-1] if rows else 0
    results = []
    for row in rows:
        item = dict(zip(COLUMNS, row[:-1], strict=True))
        item["full_name"] = f"{item['given_name']} {item['family_name']}".strip()
        recorded = item["consent"] or {}
        item["consent"] = {
            purpose: recorded.get(purpose) or {"given": given, "recorded_at": None}
            for purpose, given in CONSENT_DEFAULTS.items()
        }
        results.append(item)
    body = {"count": total, "next": None, "previous": None, "cursor": None, "results": results}
    return HttpResponse(orjson.dumps(body), content_type="application/json")


class NaiveOrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "acronym"]


class NaiveRoleSerializer(serializers.ModelSerializer):
    affiliation_id = serializers.IntegerField(source="id")
    organization = NaiveOrganizationSerializer()

    class Meta:
        model = Affiliation
        fields = ["affiliation_id", "organization", "role", "job_title", "start_date", "end_date"]


class NaiveContactSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField()
    phone = serializers.CharField()
    time_zone = serializers.CharField()
    mail_opted_out_at = serializers.DateTimeField(source="mail_opt_out_at")
    current_roles = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "salutation",
            "given_name",
            "family_name",
            "full_name",
            "email",
            "phone",
            "preferred_language",
            "time_zone",
            "mail_opted_out_at",
            "needs_review",
            "external_ref",
            "current_roles",
            "created_at",
            "updated_at",
        ]

    def get_current_roles(self, contact):
        roles = contact.affiliations.current().order_by("organization__name", "role", "id")
        return NaiveRoleSerializer(roles, many=True).data


class NaiveContactList(generics.ListAPIView):
    """What many projects ship: the project's authentication, permissions and pagination, a
    nested ModelSerializer and no select_related / prefetch_related."""

    queryset = Contact.objects.order_by("family_name", "given_name", "id")
    serializer_class = NaiveContactSerializer
    pagination_class = PageNumberPagination
    permission_classes = [permissions.IsAuthenticated]


_STATIC: dict[str, bytes] = {}


def set_static_page(content: bytes) -> None:
    _STATIC["page"] = content


def static_page(request):
    """A prepared body of the RSVP page's size, through the same middleware."""
    return HttpResponse(_STATIC.get("page", b""), content_type="text/html; charset=utf-8")
