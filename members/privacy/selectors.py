"""Reads of consent: the current text per purpose, a contact's current consent and history,
and querysets annotated with the current consent so that lists cost no extra query per row."""

from dataclasses import dataclass

from django.db.models import BooleanField, DateTimeField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.privacy.models import DEFAULTS, ConsentPurpose, ConsentRecord, ConsentText


def consent_text_current(purpose: str) -> ConsentText | None:
    """The version shown to people now: the latest one already published."""
    return (
        ConsentText.objects.filter(purpose=purpose, published_at__lte=timezone.now())
        .order_by("-version")
        .first()
    )


def consent_texts_current() -> dict[str, ConsentText]:
    texts = ConsentText.objects.filter(published_at__lte=timezone.now()).order_by(
        "purpose", "-version"
    )
    current: dict[str, ConsentText] = {}
    for text in texts:
        current.setdefault(text.purpose, text)
    return current


def consent_annotation_name(purpose: str) -> str:
    return f"consent_{purpose}"


def with_consent(
    queryset: QuerySet, contact_field: str = "pk", *, with_dates: bool = False
) -> QuerySet:
    """Annotate each row with ``consent_<purpose>`` (True/False) for every purpose: the latest
    record of the contact (``contact_field`` names it: ``"pk"`` on contacts,
    ``"contact_id"`` on invitations), or the purpose's default when there is none. With
    ``with_dates`` also ``consent_<purpose>_at``: when that record was made (None: default).
    Subqueries in the same SELECT: a list costs no extra query."""
    annotations = {}
    for purpose in ConsentPurpose.values:
        latest = ConsentRecord.objects.filter(
            contact_id=OuterRef(contact_field), purpose=purpose
        ).order_by("-recorded_at", "-id")
        name = consent_annotation_name(purpose)
        annotations[name] = Coalesce(
            Subquery(latest.values("given")[:1], output_field=BooleanField()),
            Value(DEFAULTS[purpose]),
        )
        if with_dates:
            annotations[f"{name}_at"] = Subquery(
                latest.values("recorded_at")[:1], output_field=DateTimeField()
            )
    return queryset.annotate(**annotations)


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    given: bool
    record: ConsentRecord | None  # None: nothing recorded, the default applies

    @property
    def is_default(self) -> bool:
        return self.record is None

    @property
    def label(self) -> str:
        return str(ConsentPurpose(self.purpose).label)


def consent_history(contact_id: int) -> QuerySet[ConsentRecord]:
    """Every record of one contact, newest first, with what the display needs joined. The
    subject-access export's "consent" section (together with :func:`consent_current`)."""
    return ConsentRecord.objects.filter(contact_id=contact_id).select_related(
        "text", "recorded_by", "invitation__gathering", "api_client"
    )


def consent_current(contact_id: int) -> dict[str, ConsentState]:
    """The current consent of one contact per purpose (in the order of the purposes)."""
    latest: dict[str, ConsentRecord] = {}
    for record in consent_history(contact_id):
        latest.setdefault(record.purpose, record)
    return {
        purpose: ConsentState(
            purpose=purpose,
            given=latest[purpose].given if purpose in latest else DEFAULTS[purpose],
            record=latest.get(purpose),
        )
        for purpose in ConsentPurpose.values
    }
