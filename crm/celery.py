"""The Celery app. Broker and options come from Django settings (``CELERY_*``)."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from crm.logging import add_filter_to_handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules that are not an app's tasks.py.
app.autodiscover_tasks(["api.webhooks"])


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_data(logger: logging.Logger, **_kwargs) -> None:
    """A worker replaces the root logger's handlers with its own (and gives task loggers
    theirs): give each the personal-data filter that settings.LOGGING gives Django's."""
    add_filter_to_handlers(logger)
