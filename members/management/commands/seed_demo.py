import contextlib
import logging
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from events.demo import seed_events
from meetings.demo import seed_meetings, seed_scale_invitations
from meetings.demo_consultations import PLAN as CONSULTATIONS_PLAN
from meetings.demo_consultations import seed_consultations
from members.demo import seed_directory, seed_scale
from members.models import Contact, Organization
from members.selectors import active_organizations_without_focal_point


@contextlib.contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Create fictional demo data: about 40 organisations and 250 contacts. Safe to run "
        "again: nothing is added twice. --scale N tops the directory up to N generated "
        "contacts (and N/100 organisations, invitations to 20 meetings) for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="also generate N benchmark contacts (bulk inserts, with a progress bar)",
        )
        parser.add_argument(
            "--no-input", action="store_true", help="accepted for symmetry; never prompts"
        )

    def handle(self, *args, scale: int, verbosity: int, **options):
        show = verbosity > 0
        started = time.monotonic()
        with tqdm(
            total=40,
            desc="Organisations",
            unit="org",
            file=self.stderr._out,
            disable=not show,
            leave=False,
        ) as bar:
            report = seed_directory(progress=lambda _name: bar.update(1))
        if show:
            if report.organizations_created or report.contacts_created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo data: {report.organizations_created} organisations, "
                        f"{report.contacts_created} contacts, "
                        f"{report.affiliations_created} roles added."
                    )
                )
            else:
                self.stdout.write("Demo data already present: nothing added.")
        # The demo meetings invite the directory's focal points, so they come after it (and
        # before --scale: the benchmark contacts are experts, never invited).
        with (
            tqdm(
                total=2,
                desc="Meetings",
                unit="meeting",
                file=self.stderr._out,
                disable=not show,
                leave=False,
            ) as bar,
            _quiet("celery.app.trace"),  # one "Task succeeded" line per e-mail sent eagerly
        ):
            meetings = seed_meetings(progress=lambda _label: bar.update(1))
        if show:
            if meetings.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo meetings: {', '.join(meetings.created)} added, "
                        f"{meetings.invitations} invitations, {meetings.emails} e-mails "
                        f"in the outbox, {meetings.follow_ups} action items."
                    )
                )
            else:
                self.stdout.write("Demo meetings already present: nothing added.")
        # The demo events invite the heads and focal points of the active partners and a few
        # guests, so they too come before --scale.
        with (
            tqdm(
                total=3,
                desc="Events",
                unit="event",
                file=self.stderr._out,
                disable=not show,
                leave=False,
            ) as bar,
            _quiet("celery.app.trace"),
        ):
            events = seed_events(progress=lambda _label: bar.update(1))
        if show:
            if events.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo events: {', '.join(events.created)} added, "
                        f"{events.invitations} invitations, {events.emails} e-mails "
                        f"in the outbox, {events.waiting} on the waiting list."
                    )
                )
            else:
                self.stdout.write("Demo events already present: nothing added.")
        # The demo consultations are with the active partners and their focal points.
        with tqdm(
            total=len(CONSULTATIONS_PLAN),
            desc="Consultations",
            unit="consultation",
            file=self.stderr._out,
            disable=not show,
            leave=False,
        ) as bar:
            consultations = seed_consultations(progress=lambda _title: bar.update(1))
        if show:
            if consultations.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo consultations: {len(consultations.created)} added "
                        f"({consultations.restricted} restricted), "
                        f"{consultations.follow_ups} follow-ups, {consultations.open} open, "
                        f"{consultations.overdue} overdue."
                    )
                )
            else:
                self.stdout.write("Demo consultations already present: nothing added.")
        if scale:
            if scale < 0:
                raise CommandError("--scale must be positive")
            with tqdm(
                total=scale,
                desc="Benchmark contacts",
                unit="contact",
                file=self.stderr._out,
                disable=not show,
                unit_scale=True,
            ) as bar:
                bar.update(Contact.objects.filter(email__endswith="@bench.example.org").count())
                added = seed_scale(contacts=scale, progress=bar.update)
            if show:
                self.stdout.write(f"Benchmark contacts: {added} added.")
            with tqdm(
                total=scale,
                desc="Benchmark invitations",
                unit="invitation",
                file=self.stderr._out,
                disable=not show,
                unit_scale=True,
            ) as bar:
                invited = seed_scale_invitations(per_meeting=scale // 20, progress=bar.update)
            if show:
                self.stdout.write(
                    f"Benchmark invitations (20 meetings, series BENCH): {invited} added."
                )
        missing = active_organizations_without_focal_point().count()
        if show:
            self.stdout.write(
                f"Directory: {Organization.objects.count()} organisations, "
                f"{Contact.objects.count()} contacts; active without a focal point: {missing}. "
                f"({time.monotonic() - started:.1f} s)"
            )
