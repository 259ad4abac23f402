import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from members.models import Contact


class Command(BaseCommand):
    help = (
        "Write the ids of erased contacts, with when they were erased, one per line "
        "('<id> <ISO time>'): no personal data. Keep it beside each backup; after a restore, "
        "`erasures_reapply` erases them again (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", metavar="ISO-TIME", help="Only erasures after this time (with offset)."
        )
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args, since=None, output=None, **options):
        erased = Contact.objects.filter(erased_at__isnull=False)
        if since:
            moment = parse_datetime(since)
            if moment is None or moment.tzinfo is None:
                raise CommandError(
                    f"--since {since!r} is not a time with an offset, "
                    "e.g. 2026-12-03T02:30:00+00:00."
                )
            erased = erased.filter(erased_at__gt=moment)
        lines = [
            f"{pk} {erased_at.astimezone(datetime.UTC).isoformat()}\n"
            for pk, erased_at in erased.order_by("erased_at", "pk").values_list("pk", "erased_at")
        ]
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.writelines(lines)
            self.stderr.write(f"{len(lines)} erased contact(s) written to {output}.")
        else:
            self.stdout.write("".join(lines), ending="")
