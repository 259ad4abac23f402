import time

from django.core.management.base import BaseCommand, CommandError

from crm.mail import services
from crm.mail.tasks import run_schedulers, send_messages


class Command(BaseCommand):
    help = (
        "Run one scheduling-and-sending pass by hand: create due reminders and digests, mark "
        "stale messages unknown, then send every due one. With --every N, repeat every N "
        "seconds: beat's job in the embedded default (make run starts it)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Repeat the pass every SECONDS until stopped; report only passes that did "
            "something.",
        )

    def handle(self, *args, **options):
        every = options["every"]
        if every < 0:
            raise CommandError("--every must be a number of seconds (0 for a single pass).")
        if not every:
            self.stdout.write(self.one_pass())
            return
        self.stdout.write(f"Sending due mail every {every} s (Ctrl-C stops).")
        try:
            while True:
                summary = self.one_pass()
                if not summary.startswith("Scheduled 0. Due: 0;"):
                    self.stdout.write(summary)
                time.sleep(every)
        except KeyboardInterrupt:
            return

    def one_pass(self) -> str:
        scheduled = run_schedulers()
        unknown = services.mark_stale_unknown()
        ids = services.due_ids(limit=100_000)
        totals = {"sent": 0, "retry": 0, "failed": 0}
        for start in range(0, len(ids), 50):
            for key, value in send_messages(ids[start : start + 50]).items():
                totals[key] += value
        return (
            f"Scheduled {scheduled}. Due: {len(ids)}; sent {totals['sent']}, "
            f"awaiting retry {totals['retry']}, "
            f"failed {totals['failed']}; newly unknown {unknown}."
        )
