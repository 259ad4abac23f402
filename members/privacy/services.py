"""Writes of consent: publishing a text version and recording a consent given or withdrawn.

:func:`consent_record` is the one write path of a contact's consent. For non-essential mail
it also keeps ``Contact.mail_opt_out_at`` in step (the field the outbox reads to suppress
non-essential mail), so a withdrawal suppresses that mail and a new consent lifts it."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from api.webhooks.services import webhook_emit
from crm.exceptions import ApplicationError
from members.privacy.models import ConsentPurpose, ConsentRecord, ConsentText
from members.privacy.selectors import consent_text_current


def _full_clean(instance: models.Model) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            message = " ".join(str(m) for e in errors for m in e.messages)
            raise ApplicationError(message, field=None if field == "__all__" else field) from exc
        raise ApplicationError(" ".join(exc.messages)) from exc


def _user(acting_user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return acting_user if getattr(acting_user, "pk", None) else None


def _check_purpose(purpose: str) -> None:
    if purpose not in ConsentPurpose.values:
        raise ApplicationError(
            _("Unknown purpose “%(purpose)s”.") % {"purpose": purpose}, field="purpose"
        )


@transaction.atomic
def consent_text_publish(
    *,
    purpose: str,
    text_en: str,
    text_ru: str,
    acting_user: AbstractBaseUser | None,
    published_at=None,
) -> ConsentText:
    """Publish the next version of a purpose's text; records made from now on refer to it."""
    _check_purpose(purpose)
    # Lock the purpose's versions so that two administrators cannot publish the same number.
    list(ConsentText.objects.select_for_update().filter(purpose=purpose).values_list("pk"))
    latest = ConsentText.objects.filter(purpose=purpose).aggregate(n=Max("version"))["n"] or 0
    text = ConsentText(
        purpose=purpose,
        version=latest + 1,
        text_en=text_en.strip(),
        text_ru=text_ru.strip(),
        published_at=published_at or timezone.now(),
    )
    _full_clean(text)
    text._history_user = _user(acting_user)
    text.save()
    return text


@transaction.atomic
def consent_text_update(
    *, text: ConsentText, acting_user: AbstractBaseUser | None, **fields
) -> ConsentText:
    """Correct a version nobody has agreed to yet (a typo before it is used)."""
    if ConsentRecord.objects.filter(text=text).exists():
        raise ApplicationError(
            _("People have agreed to this text: publish a new version instead of changing it.")
        )
    for field in ("text_en", "text_ru", "published_at"):
        if field in fields:
            value = fields[field]
            setattr(text, field, value.strip() if isinstance(value, str) else value)
    _full_clean(text)
    text._history_user = _user(acting_user)
    text.save()
    return text


@transaction.atomic
def consent_record(
    *,
    contact,
    purpose: str,
    given: bool,
    method: str,
    acting_user: AbstractBaseUser | None,
    invitation=None,
    api_client=None,
    text: ConsentText | None = None,
    language: str = "",
    note: str = "",
) -> ConsentRecord:
    """Append a record: ``contact`` gave (``given``) or withdrew consent for ``purpose``.

    ``text`` is the version the person saw (default: the current one); a consent cannot be
    given without a text. A withdrawal refers to the current text too, where there is one.
    ``acting_user`` is None when the person acted themselves (RSVP page, unsubscribe link);
    ``invitation`` and ``api_client`` say through what."""
    from members.models import Contact

    _check_purpose(purpose)
    if text is None:
        text = consent_text_current(purpose)
        if text is None and given:
            raise ApplicationError(
                _("No consent text is published for this purpose yet."), field="purpose"
            )
    elif text.purpose != purpose:
        raise ApplicationError(
            _("This text version belongs to another purpose."), field="text_version"
        )
    # One writer at a time per contact: the mail opt-out below must match the latest record.
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    record = ConsentRecord(
        contact=locked,
        purpose=purpose,
        given=given,
        method=method,
        text=text,
        language=language,
        recorded_by=_user(acting_user),
        invitation=invitation,
        api_client=api_client,
        note=note.strip(),
    )
    _full_clean(record)
    record.save()

    if purpose == ConsentPurpose.MAIL:
        opt_out_at = None if given else (locked.mail_opt_out_at or record.recorded_at)
        if opt_out_at != locked.mail_opt_out_at:
            locked.mail_opt_out_at = opt_out_at
            locked._history_user = _user(acting_user)
            locked._change_reason = str(record.get_method_display())
            locked.save(update_fields=["mail_opt_out_at", "updated_at"])
        # The caller's instance shows the new state too.
        contact.mail_opt_out_at = locked.mail_opt_out_at
        contact.updated_at = locked.updated_at
    webhook_emit("contact.updated", locked)
    return record
