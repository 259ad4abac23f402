"""``python manage.py issue_api_token <client-name> --scope read|write [--restricted]
[--privacy-read] [--expires-days N]``: create the API client, or rotate its token, and print
the token as the last line of the output (shown once; only its hash is stored)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from api.models import ApiClient
from api.services import api_client_issue_token
from crm.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create an API client or rotate its token; prints the token as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The client's name (e.g. 'website').")
        parser.add_argument("--scope", choices=ApiClient.Scope.values, default="read")
        parser.add_argument(
            "--restricted",
            action="store_true",
            help="May also read restricted consultations and export personal data.",
        )
        parser.add_argument(
            "--privacy-read",
            action="store_true",
            help="Scope privacy:read: may read subject-access exports (everything held about "
            "one person). Not implied by any other option.",
        )
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Days until the token expires."
        )
        parser.add_argument("--contact-email", default=None, help="Told when webhooks fail.")

    def handle(self, *args, name: str, scope: str, restricted: bool, expires_days, **options):
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        existed = ApiClient.objects.filter(name=name.strip()).exists()
        try:
            client, token = api_client_issue_token(
                name=name,
                scope=scope,
                restricted=restricted,
                privacy_read=options.get("privacy_read", False),
                expires_in=datetime.timedelta(days=expires_days) if expires_days else None,
                contact_email=options.get("contact_email"),
                acting_user=None,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Rotated the token of" if existed else "Created"
        expiry = client.expires_at.isoformat() if client.expires_at else "never"
        self.stdout.write(
            f"{verb} API client “{client.name}” (scope {client.scope}"
            f"{', restricted' if client.restricted else ''}"
            f"{', privacy:read' if client.privacy_read else ''}; expires {expiry})."
        )
        self.stdout.write("Send it as 'Authorization: Bearer <token>'. It is shown only once:")
        self.stdout.write(token)
