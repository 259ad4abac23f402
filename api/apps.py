from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self) -> None:
        # Tombstones for the deletion feed (/api/v1/deletions/); see api.signals.
        from api import signals

        signals.connect()
