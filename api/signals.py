"""Deletion feed: a ``post_delete`` receiver writes a :class:`api.models.Tombstone` for every
directory row that disappears, however it went (back office, a merge, a cascade, the shell).

This is infrastructure, not domain logic: the services do not know about the feed, and a model
added to ``TRACKED`` is covered without touching them. A contact deleted by
``members.services.contact_merge`` is recognised by the ``ContactMerge`` row the merge writes
just before (same transaction) and tombstoned as ``merged`` with the id of the kept contact. A
service that deletes for another reason (e.g. erasure on request) marks the instance with
``instance._tombstone_reason = Tombstone.Reason.ERASED`` before deleting it."""

from django.db.models.signals import post_delete

from api.models import Tombstone

# model label → object type in the feed (the same names as the API resources' singular).
TRACKED = {
    "members.Organization": "organization",
    "members.Contact": "contact",
    "members.Affiliation": "affiliation",
    "meetings.Meeting": "meeting",
    "events.Event": "event",
    "meetings.Invitation": "invitation",
    "meetings.FollowUp": "follow_up",
    # Not consultations: a tombstone would confirm that a restricted one existed.
}


def _record_tombstone(sender, instance, **kwargs) -> None:
    from api.services import tombstone_record
    from members.models import Contact, ContactMerge

    reason = getattr(instance, "_tombstone_reason", Tombstone.Reason.DELETED)
    replaced_by_id = None
    if sender is Contact and reason == Tombstone.Reason.DELETED:
        merge = (
            ContactMerge.objects.filter(source_id_value=instance.pk)
            .order_by("-merged_at")
            .values_list("target_id", flat=True)
            .first()
        )
        if merge is not None:
            reason, replaced_by_id = Tombstone.Reason.MERGED, merge
    tombstone_record(
        object_type=TRACKED[sender._meta.label],
        object_id=instance.pk,
        reason=reason,
        external_ref=getattr(instance, "external_ref", None),
        replaced_by_id=replaced_by_id,
    )


def connect() -> None:
    from django.apps import apps

    for label in TRACKED:
        post_delete.connect(
            _record_tombstone,
            sender=apps.get_model(label),
            dispatch_uid=f"api.tombstone.{label}",
        )
