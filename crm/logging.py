"""Keeps personal data out of the logs (issue 8 §4).

``PersonalDataFilter`` is attached to every handler in ``settings.LOGGING`` and, in a Celery
worker, to the handlers Celery sets up itself (``crm.celery``). It rewrites each record before it
is formatted:

- e-mail addresses are replaced by ``[email]`` wherever they appear: in the message, in its
  arguments, in the text of an exception or stack trace, and in string values passed as
  ``extra``;
- a contact (``members.Contact``) or a user passed as an argument or ``extra`` is replaced by
  ``contact #<id>`` / ``user #<id>``, so its ``str()`` (the person's name) is never written;
- values of ``extra`` keys that are known personal fields (``email``, ``given_name``,
  ``family_name``, ``phone`` …) are replaced by ``[removed]``.

Names written into a message's text by hand cannot be recognised; log ids, never names.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Deliberately broad (anything@host.tld): a false positive in a log line costs nothing.
EMAIL_RE = re.compile(r"[\w.!#$%&*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
EMAIL_MASK = "[email]"
REMOVED = "[removed]"

# ``extra`` keys whose values are personal data, whatever their type.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "to_email",
        "recipient",
        "given_name",
        "family_name",
        "full_name",
        "first_name",
        "last_name",
        "phone",
        "mobile",
        "address",
        "username",
    }
)

# Model instances logged as "<label> #<id>" instead of their str() (which is a name).
PERSONAL_MODELS = {"members.contact": "contact", "auth.user": "user"}

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_text(text: str) -> str:
    return EMAIL_RE.sub(EMAIL_MASK, text)


def _personal_label(value: Any) -> str | None:
    meta = getattr(value, "_meta", None)
    label = getattr(meta, "label_lower", None)
    if label in PERSONAL_MODELS:
        return f"{PERSONAL_MODELS[label]} #{value.pk}"
    return None


def scrub(value: Any) -> Any:
    """The value with e-mail addresses masked and personal records replaced by their id."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    label = _personal_label(value)
    if label is not None:
        return label
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(scrub(v) for v in value)
    # Anything else (an exception, a model, a lazy string) is formatted with %s or %r later;
    # format it now, so that what ends in the log has been masked.
    text = str(value)
    masked = mask_text(text)
    return masked if masked != text else value


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record (see the module docstring); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._scrub(record)
        except Exception:  # a log line is never lost to the filter
            record.msg, record.args = mask_text(str(record.msg)), ()
        return True

    def _scrub(self, record: logging.LogRecord) -> None:
        record.msg = scrub(record.msg)
        if isinstance(record.args, dict):
            record.args = scrub(record.args)
        elif record.args:
            record.args = tuple(scrub(arg) for arg in record.args)
        if record.exc_info and not record.exc_text:
            # Formatted here, once; Formatter.format then uses exc_text as it is.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        for key in set(record.__dict__) - _STANDARD_ATTRS:
            value = record.__dict__[key]
            record.__dict__[key] = REMOVED if key in PERSONAL_FIELDS else scrub(value)


def add_filter_to_handlers(logger: logging.Logger) -> None:
    """Attach a PersonalDataFilter to every handler of ``logger`` that has none yet."""
    for handler in logger.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
