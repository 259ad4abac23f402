from django.core.management.base import BaseCommand

from crm.mail import services
from crm.mail.tasks import run_schedulers, send_messages


class Command(BaseCommand):
    help = (
        "Run one scheduling-and-sending pass by hand: create due reminders and digests, mark "
        "stale messages unknown, then send every due one."
    )

    def handle(self, *args, **options):
        scheduled = run_schedulers()
        unknown = services.mark_stale_unknown()
        ids = services.due_ids(limit=100_000)
        totals = {"sent": 0, "retry": 0, "failed": 0}
        for start in range(0, len(ids), 50):
            for key, value in send_messages(ids[start : start + 50]).items():
                totals[key] += value
        self.stdout.write(
            f"Scheduled {scheduled}. Due: {len(ids)}; sent {totals['sent']}, "
            f"awaiting retry {totals['retry']}, "
            f"failed {totals['failed']}; newly unknown {unknown}."
        )
