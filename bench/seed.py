"""Seed the benchmark database once: ``python -m bench.seed`` migrates, then runs
``seed_demo --scale $BENCH_SCALE`` unless the database already holds that many benchmark
contacts and their invitations; then VACUUM ANALYZE, so plans see the real sizes. The smoke run
(``BENCH_SMOKE=1``) seeds only the generated organisations, contacts and invitations."""

import time

from bench import common

common.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from meetings.demo import seed_scale_invitations  # noqa: E402
from meetings.models import Invitation  # noqa: E402
from members.demo import seed_scale  # noqa: E402
from members.models import Contact, Organization  # noqa: E402


def seeded(scale: int) -> bool:
    contacts = Contact.objects.filter(
        email__startswith="scale", email__endswith="@bench.example.org"
    ).count()
    invitations = Invitation.objects.filter(gathering__meeting__series="BENCH").count()
    return contacts >= scale and invitations >= scale // 20 * 20


def main() -> None:
    scale = common.scale()
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    if seeded(scale):
        print(f"Benchmark data already at scale {scale:,}: nothing to seed.")
        return
    if common.smoke():
        if not Organization.objects.exists():
            Organization.objects.create(name="Smoke partner", kind="ngo", status="active")
        seed_scale(contacts=scale)
        seed_scale_invitations(per_meeting=scale // 20)
    else:
        call_command("seed_demo", scale=scale)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"Seeded scale {scale:,} in {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main()
