"""Benchmark 1: ``GET /api/v1/contacts/?page_size=50`` (organisations and roles embedded)
through the whole Django stack — middleware, bearer-token authentication, permissions,
throttling, filters, pagination, rendering — against the floor (one hand-written SQL query and
orjson) and the naive variant (nested ModelSerializers, no select_related); then a filtered,
searched and ordered request, and a sync page deep in the list against the first one."""

import datetime

from bench import common

common.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from api.models import ApiClient  # noqa: E402
from api.pagination import encode_cursor  # noqa: E402
from api.services import api_client_issue_token  # noqa: E402
from members.models import Contact  # noqa: E402


def client() -> Client:
    ApiClient.objects.filter(name="benchmark").delete()
    _client, token = api_client_issue_token(name="benchmark", scope="read", acting_user=None)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def get(http: Client, url: str):
    def call():
        response = http.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        return response

    return call


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def comparable(value, key: str = ""):
    """A row of the floor or of the API with what only formatting tells apart made equal:
    moments as datetimes (the API shows them in Vienna time, PostgreSQL's JSON in UTC) and
    phone numbers without their spaces (the API shows the international format)."""
    if isinstance(value, dict):
        return {k: comparable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str) and key.endswith("_at"):
        return datetime.datetime.fromisoformat(value)
    if isinstance(value, str) and key == "phone":
        return value.replace(" ", "")
    return value


def deep_cursor(rows_before: int) -> str:
    row = (
        Contact.objects.order_by("updated_at", "pk")
        .values_list("updated_at", "pk")[rows_before - 1 : rows_before]
        .get()
    )
    return encode_cursor(*row)


def main() -> None:
    common.vacuum("members_contact", "members_affiliation", "members_consentrecord")
    http = client()
    n = common.requests()
    total = Contact.objects.count()
    deep = min(90_000, total - 100) if not common.smoke() else total // 2
    fragment = (
        Contact.objects.order_by("pk").values_list("family_name", flat=True)[total // 3][:3]
    ).lower()
    urls = {
        "floor (1 SQL, orjson)": "/bench/floor/contacts/?page_size=50",
        "ours": "/api/v1/contacts/?page_size=50",
        "naive (nested, no joins)": "/bench/naive/contacts/?page_size=50",
        "ours filtered+searched+ordered": (
            f"/api/v1/contacts/?page_size=50&language=de&search={fragment}&ordering=-updated_at"
        ),
        "ours sync, first page": "/api/v1/contacts/?sync=1&page_size=50",
        f"ours sync, after {deep:,} rows": (
            f"/api/v1/contacts/?page_size=50&cursor={deep_cursor(deep)}"
        ),
    }
    calls = {name: get(http, url) for name, url in urls.items()}

    ours = calls["ours"]().json()["results"]
    floor = calls["floor (1 SQL, orjson)"]().json()["results"]
    naive = calls["naive (nested, no joins)"]().json()["results"]
    same_page = [c["id"] for c in ours] == [c["id"] for c in floor] == [c["id"] for c in naive]
    if not (same_page and [comparable(c) for c in ours] == [comparable(c) for c in floor]):
        raise SystemExit("The floor and our pages differ: the comparison would be unfair.")

    counts = {name: queries(fn) for name, fn in calls.items()}
    # The naive variant is an order of magnitude slower: fewer rounds of it keep the run short.
    slow = {"naive (nested, no joins)": calls.pop("naive (nested, no joins)")}
    times = common.interleaved_ms(calls, n)
    times.update(common.interleaved_ms(slow, max(n // 4, 5), warmup=2))

    floor_p50 = common.p50(times["floor (1 SQL, orjson)"])
    rows = []
    for name in urls:
        values = times[name]
        rows.append(
            [
                name,
                len(values),
                counts[name],
                common.p50(values),
                common.percentile(values, 95),
                common.p50(values) / floor_p50,
            ]
        )
    print(f"API list, {total:,} contacts, page_size=50 (ms; medians of interleaved runs)")
    common.table(["request", "runs", "queries", "p50", "p95", "÷ floor p50"], rows)
    ours_p50 = common.p50(times["ours"])
    naive_ratio = common.p50(times["naive (nested, no joins)"]) / ours_p50
    deep_ratio = common.p50(times[f"ours sync, after {deep:,} rows"]) / common.p50(
        times["ours sync, first page"]
    )
    print(
        f"API list: ours p50 = {ours_p50 / floor_p50:.2f}x floor (goal ≤ 1.5: "
        f"{common.goal(ours_p50 / floor_p50 <= 1.5)}); naive ÷ ours = {naive_ratio:.1f}x "
        f"(goal ≥ 3: {common.goal(naive_ratio >= 3)}); deep sync page ÷ first = "
        f"{deep_ratio:.2f}x (goal ≈ 1: {common.goal(deep_ratio <= 1.2)})"
    )


if __name__ == "__main__":
    main()
