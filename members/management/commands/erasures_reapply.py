import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from members.erasure import contact_erase
from members.models import Contact


def _parse(path: str, stdin) -> list[tuple[int, str]]:
    """The lines of an `erasures_export` file ("-": standard input); every bad line is
    reported, by number."""
    entries, errors = [], []
    try:
        if path == "-":
            lines = stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit() or parse_datetime(parts[1]) is None:
            errors.append(f"line {number}: expected '<contact id> <ISO time>', got {line!r}")
            continue
        entries.append((int(parts[0]), parts[1]))
    if errors:
        raise CommandError("Nothing was erased. Fix the file first:\n" + "\n".join(errors))
    return entries


class Command(BaseCommand):
    stealth_options = ("stdin",)  # tests pass the list as a file object
    help = (
        "After restoring a backup: erase again every contact listed by `erasures_export` "
        "(made before the restore, or the nightly copy). Contacts already erased or absent "
        "from the restored database are skipped; safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="The output of `erasures_export`; - reads it from standard input."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be erased.")

    def handle(self, *args, file, dry_run=False, **options):
        entries = _parse(file, options.get("stdin") or sys.stdin)
        ids = [pk for pk, _when in entries]
        present = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "erased_at"))
        to_erase = [(pk, when) for pk, when in entries if pk in present and present[pk] is None]
        already = sum(1 for pk in ids if present.get(pk) is not None)
        missing = sum(1 for pk in ids if pk not in present)
        if not dry_run:
            for pk, when in tqdm(to_erase, desc="Erasing", unit="contact", file=self.stderr):
                with transaction.atomic():
                    contact_erase(
                        contact=Contact.objects.get(pk=pk),
                        acting_user=None,
                        reason=f"Erasure of {when} re-applied after restoring a backup",
                    )
        verb = "would be erased" if dry_run else "erased again"
        self.stdout.write(
            f"{len(to_erase)} {verb}, {already} already erased, {missing} not in this database."
        )
