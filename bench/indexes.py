"""Benchmark 5: ``EXPLAIN`` of the SQL behind each documented filter and ordering of
``/api/v1/contacts/`` and ``/api/v1/invitations/`` (docs/api.md): the real requests are made,
their queries captured and explained. A sequential scan of the contacts or invitations table
in a page query is a missing index. Count queries (``count`` of page mode) are explained too
and shown, but a count over most of a table may rightly read all of it."""

import datetime
import json

from bench import common

common.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.api_list import client, deep_cursor  # noqa: E402
from events.models import Event  # noqa: E402
from meetings.models import Invitation, Meeting  # noqa: E402
from members.models import Affiliation, Contact  # noqa: E402

TABLES = {"members_contact", "meetings_invitation"}


def seq_scans(plan: dict) -> set[str]:
    found = set()
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in TABLES:
        found.add(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found |= seq_scans(child)
    return found


def explain(sql: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (value,) = cursor.fetchone()
    plan = value if isinstance(value, list) else json.loads(value)
    return seq_scans(plan[0]["Plan"])


def cases() -> dict[str, str]:
    contact = Contact.objects.filter(email__startswith="scale").order_by("pk").first()
    affiliation = Affiliation.objects.filter(contact=contact).first()
    meeting = Meeting.objects.filter(invitations__isnull=False).order_by("-pk").first()
    event = Event.objects.filter(invitations__isnull=False).order_by("pk").first()
    invitation = Invitation.objects.filter(gathering=meeting).order_by("pk").first()
    since = (timezone.now() - datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    fragment = contact.family_name[:4]
    org = affiliation.organization_id
    out = {}
    c = "/api/v1/contacts/?page_size=50"
    out["contacts (default order)"] = c
    for field in ["family_name", "given_name", "updated_at", "created_at"]:
        out[f"contacts ordering={field}"] = f"{c}&ordering={field}"
        out[f"contacts ordering=-{field}"] = f"{c}&ordering=-{field}"
    out["contacts organization"] = f"{c}&organization={org}"
    out["contacts role"] = f"{c}&role=focal_point"
    out["contacts organization+role"] = f"{c}&organization={org}&role=expert"
    out["contacts language"] = f"{c}&language=de"
    out["contacts external_ref"] = f"{c}&external_ref=partner-17"
    out["contacts updated_since"] = f"{c}&updated_since={since}"
    out["contacts search"] = f"{c}&search={fragment}"
    out["contacts sync"] = f"{c}&sync=1"
    out["contacts sync, deep cursor"] = f"{c}&cursor={deep_cursor(Contact.objects.count() // 2)}"
    i = "/api/v1/invitations/?page_size=50"
    out["invitations (default order)"] = i
    for field in ["answered_at", "updated_at", "created_at", "waiting_since", "id"]:
        out[f"invitations ordering={field}"] = f"{i}&ordering={field}"
        out[f"invitations ordering=-{field}"] = f"{i}&ordering=-{field}"
    out["invitations meeting"] = f"{i}&meeting={meeting.pk}"
    if event is not None:
        out["invitations event"] = f"{i}&event={event.pk}"
    out["invitations status"] = f"{i}&status=accepted"
    out["invitations mode"] = f"{i}&mode=online"
    out["invitations organization"] = f"{i}&organization={invitation.organization_id or org}"
    out["invitations contact"] = f"{i}&contact={invitation.contact_id}"
    out["invitations attendance"] = f"{i}&attendance=attended"
    out["invitations updated_since"] = f"{i}&updated_since={since}"
    out["invitations search"] = f"{i}&search={fragment}"
    out["invitations meeting+search"] = f"{i}&meeting={meeting.pk}&search={fragment}"
    out["invitations sync"] = f"{i}&sync=1"
    return out


def main() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_contact, meetings_invitation, members_affiliation")
    http = client()
    rows = []
    bad = []
    for name, url in cases().items():
        with CaptureQueriesContext(connection) as captured:
            response = http.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        page_scans, count_scans = set(), set()
        for query in captured.captured_queries:
            sql = query["sql"]
            if not any(table in sql for table in TABLES) or "api_apiclient" in sql:
                continue
            is_count = sql.lstrip().upper().startswith("SELECT COUNT(")
            (count_scans if is_count else page_scans).update(explain(sql))
        if page_scans:
            bad.append(name)
        rows.append(
            [
                name,
                ", ".join(sorted(page_scans)) or "none",
                ", ".join(sorted(count_scans)) or "none",
            ]
        )
    print(
        f"Indexes: {Contact.objects.count():,} contacts, {Invitation.objects.count():,} "
        "invitations — sequential scans of those tables in the plans"
    )
    common.table(["request", "page query", "count query"], rows)
    if bad:
        print("seq scans in page queries: " + "; ".join(bad))
    print(
        f"Indexes: {len(rows) - len(bad)} of {len(rows)} documented filters and orderings "
        f"without a sequential scan ({common.goal(not bad)})"
    )


if __name__ == "__main__":
    main()
