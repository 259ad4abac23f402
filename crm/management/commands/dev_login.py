import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from crm.roles import COORDINATORS, sync_roles

USERNAME = "coordinator"


class Command(BaseCommand):
    help = (
        "Development only: make sure a coordinator login exists and print it. The password "
        "is random, chosen once per checkout and kept in var/dev_login.txt."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("dev_login is for development only (DJANGO_DEBUG is off).")
        path = settings.VAR_DIR / "dev_login.txt"
        password = path.read_text().strip() if path.exists() else secrets.token_urlsafe(9)
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=USERNAME, defaults={"is_staff": True, "email": "coordinator@example.org"}
        )
        if created or not user.check_password(password):
            user.set_password(password)
        user.is_staff = True
        user.is_active = True
        user.save()
        sync_roles()
        user.groups.add(Group.objects.get(name=COORDINATORS))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password)
        url = "http://127.0.0.1:8000/admin/"
        self.stdout.write(
            self.style.SUCCESS(f"Coordinator login: {USERNAME} / {password}  →  {url}")
        )
