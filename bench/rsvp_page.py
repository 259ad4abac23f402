"""Benchmark 2: the RSVP page ``/rsvp/<token>/`` rendered for an invitation, against a static
body of the same size served through the same middleware (the floor of that stack)."""

from bench import common

common.setup()

from django.test import Client  # noqa: E402

from bench import views  # noqa: E402
from meetings.models import Gathering, Invitation  # noqa: E402


def main() -> None:
    invitation = (
        Invitation.objects.filter(gathering__status=Gathering.Status.OPEN).order_by("pk").first()
        or Invitation.objects.order_by("pk").first()
    )
    if invitation is None:
        raise SystemExit("No invitation: seed the database first (manage.py seed_demo).")
    http = Client()
    url = f"/rsvp/{invitation.token}/"
    page = http.get(url)
    if page.status_code != 200:
        raise SystemExit(f"{url}: {page.status_code}")
    views.set_static_page(page.content)

    def rsvp():
        if http.get(url).status_code != 200:
            raise SystemExit(f"{url} failed")

    def static():
        if http.get("/bench/static/").status_code != 200:
            raise SystemExit("/bench/static/ failed")

    n = common.requests()
    times = common.interleaved_ms({"static page, same size": static, "RSVP page": rsvp}, n)
    floor = common.p50(times["static page, same size"])
    rows = [
        [
            name,
            len(values),
            common.p50(values),
            common.percentile(values, 95),
            common.p50(values) / floor,
        ]
        for name, values in times.items()
    ]
    print(f"RSVP page ({len(page.content):,} bytes, {invitation.gathering}) (ms)")
    common.table(["request", "runs", "p50", "p95", "÷ static p50"], rows)
    ratio = common.p50(times["RSVP page"]) / floor
    print(f"RSVP page: p50 = {ratio:.1f}x the static page of the same size")


if __name__ == "__main__":
    main()
