from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Alliance CRM")

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun
        from django.db.models.signals import post_migrate
        from simple_history.signals import pre_create_historical_record

        from crm.audit import attribute_historical_record, task_finished, task_started
        from crm.roles import sync_roles

        # After every migrate: the groups follow the permissions of the models as they are.
        post_migrate.connect(sync_roles, dispatch_uid="crm.roles.sync_roles")
        # Every history row names who acted besides a member of staff (crm.audit).
        pre_create_historical_record.connect(
            attribute_historical_record, dispatch_uid="crm.audit.attribute_historical_record"
        )
        task_prerun.connect(task_started, dispatch_uid="crm.audit.task_started", weak=False)
        task_postrun.connect(task_finished, dispatch_uid="crm.audit.task_finished", weak=False)
        # Signing in marks the session as seen (crm.sessions): registered with the module.
        import crm.sessions  # noqa: F401
