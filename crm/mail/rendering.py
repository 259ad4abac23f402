"""Rendering outgoing mail: per-purpose templates in the recipient's language, and times shown
in the gathering's time zone and, when it differs, in the recipient's own."""

import datetime
import html as html_lib
import zoneinfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def organizer_name() -> str:
    """The organiser named in mail, pages and calendar files: the configured name, or the
    Alliance's name in the language active when it is rendered (lazy)."""
    return settings.CRM_ORGANIZER_NAME or gettext_lazy("Alliance against Trafficking in Persons")


def mail_language(preferred: str | None) -> str:
    """The recipient's language if our mail is complete in it, otherwise English."""
    return preferred if preferred in settings.MAIL_LANGUAGES else "en"


def render_mail(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Render ``<template>_subject.txt``, ``<template>.txt`` and ``<template>.html`` in
    ``language``; returns (subject, text, html)."""
    with translation.override(mail_language(language)):
        context = {**context, "LANGUAGE_CODE": mail_language(language)}
        # A subject is plain text: undo the HTML escaping the template engine applies.
        subject = html_lib.unescape(
            " ".join(render_to_string(f"{template}_subject.txt", context).split())
        )
        text = render_to_string(f"{template}.txt", context).strip() + "\n"
        html = render_to_string(f"{template}.html", context)
    return subject, text, html


def place_name(tz: zoneinfo.ZoneInfo | str) -> str:
    """The place a time zone is named after: Europe/Vienna → Vienna."""
    return str(tz).rsplit("/", 1)[-1].replace("_", " ")


def _date(moment: datetime.datetime) -> str:
    return f"{formats.date_format(moment, 'l')}, {formats.date_format(moment, 'DATE_FORMAT')}"


def _time(moment: datetime.datetime) -> str:
    return formats.time_format(moment, "H:i")


def format_moment(
    moment: datetime.datetime,
    home_tz: zoneinfo.ZoneInfo | str,
    person_tz: zoneinfo.ZoneInfo | str | None = None,
) -> str:
    """A moment in the gathering's time zone and, when it differs that day, the reader's:
    "Tuesday, 12 May 2026, 10:00 Vienna time — 13:00 in your time zone (Asia/Almaty)",
    in the active language."""
    home_tz = zoneinfo.ZoneInfo(str(home_tz))
    here = moment.astimezone(home_tz)
    text = _("%(date)s, %(time)s %(place)s time") % {
        "date": _date(here),
        "time": _time(here),
        "place": place_name(home_tz),
    }
    if person_tz is None:
        return text
    person_tz = zoneinfo.ZoneInfo(str(person_tz))
    there = moment.astimezone(person_tz)
    if there.utcoffset() == here.utcoffset():
        return text
    theirs = _time(there) if there.date() == here.date() else f"{_date(there)}, {_time(there)}"
    return _("%(home)s — %(time)s in your time zone (%(zone)s)") % {
        "home": text,
        "time": theirs,
        "zone": str(person_tz),
    }
