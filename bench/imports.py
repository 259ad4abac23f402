"""Benchmark 4: contacts imported from CSV through the import path the back office uses
(``members.resources.ContactResource`` with django-import-export: validation, history, the
role at an organisation) against ``bulk_create`` of the same rows (contacts and roles)."""

import csv
import io
import os
import time

from bench import common

common.setup()

import tablib  # noqa: E402
from django.db import transaction  # noqa: E402

from members.models import Affiliation, Contact, Organization  # noqa: E402
from members.resources import ContactResource  # noqa: E402

EMAIL_DOMAIN = "import.bench.example.org"
COLUMNS = ["given_name", "family_name", "email", "preferred_language", "organization", "role"]
LANGUAGES = ["en", "fr", "de", "it", "ru", "es"]


def rows_count() -> int:
    return 20 if common.smoke() else int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))


def csv_text(n: int, organizations: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(n):
        writer.writerow(
            [
                f"Given{i}",
                f"Family{i:05d}",
                f"person{i:05d}@{EMAIL_DOMAIN}",
                LANGUAGES[i % len(LANGUAGES)],
                organizations[i % len(organizations)],
                "expert",
            ]
        )
    return out.getvalue()


def clean() -> None:
    Contact.history.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()
    Affiliation.history.filter(contact__email__endswith=f"@{EMAIL_DOMAIN}").delete()
    Contact.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()


def bulk(text: str) -> float:
    started = time.perf_counter()
    rows = list(csv.DictReader(io.StringIO(text)))
    by_name = {o.name.lower(): o.pk for o in Organization.objects.only("pk", "name")}
    with transaction.atomic():
        contacts = Contact.objects.bulk_create(
            [
                Contact(
                    given_name=row["given_name"],
                    family_name=row["family_name"],
                    email=row["email"],
                    preferred_language=row["preferred_language"],
                )
                for row in rows
            ],
            batch_size=2000,
        )
        Affiliation.objects.bulk_create(
            [
                Affiliation(
                    contact_id=contact.pk,
                    organization_id=by_name[row["organization"].lower()],
                    role=row["role"],
                )
                for contact, row in zip(contacts, rows, strict=True)
            ],
            batch_size=2000,
        )
    return time.perf_counter() - started


def imported(text: str) -> tuple[float, int]:
    started = time.perf_counter()
    dataset = tablib.Dataset().load(text, format="csv")
    result = ContactResource().import_data(
        dataset, dry_run=False, use_transactions=True, raise_errors=False
    )
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"The import refused rows: {result.invalid_rows[:3]}")
    return seconds, result.totals.get("new", 0)


def main() -> None:
    n = rows_count()
    organizations = list(
        Organization.objects.filter(status=Organization.Status.ACTIVE)
        .order_by("pk")
        .values_list("name", flat=True)[:200]
    )
    text = csv_text(n, organizations)
    clean()
    bulk_seconds = bulk(text)
    clean()
    import_seconds, _new = imported(text)
    made = Contact.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").count()
    roles = Affiliation.objects.filter(contact__email__endswith=f"@{EMAIL_DOMAIN}").count()
    clean()
    if made != n or roles != n:
        raise SystemExit(f"The import made {made} contacts and {roles} roles of {n}")
    print(f"Import: {n:,} contacts with a role each, from CSV")
    common.table(
        ["path", "seconds", "rows/s", "÷ bulk"],
        [
            ["bulk_create (contacts, roles)", bulk_seconds, n / bulk_seconds, 1.0],
            [
                "ContactResource.import_data",
                import_seconds,
                n / import_seconds,
                import_seconds / bulk_seconds,
            ],
        ],
    )
    ratio = import_seconds / bulk_seconds
    print(
        f"Import: import path = {ratio:.1f}x the bulk_create time (goal ≤ 2: "
        f"{common.goal(ratio <= 2)})"
    )


if __name__ == "__main__":
    main()
