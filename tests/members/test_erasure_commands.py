"""`erasures_export` and `erasures_reapply`: erasures made after a backup survive a restore."""

import io

import pytest
from django.core.management import CommandError, call_command

from members.erasure import contact_erase
from members.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_an_erasure_lost_by_a_restore_is_made_again(tmp_path):
    kept = ContactFactory(given_name="Kept", family_name="Person")
    gone = ContactFactory(given_name="Zofia", family_name="Quellbrunn", email="zq@example.org")
    contact_erase(contact=gone, acting_user=None, reason="request by e-mail")
    listing = tmp_path / "erasures.txt"
    _run("erasures_export", "--output", str(listing))
    text = listing.read_text()
    assert text.startswith(f"{gone.pk} ")
    assert str(kept.pk) + " " not in text
    assert "Quellbrunn" not in text
    assert "zq@example.org" not in text

    # The restore brings the person back as they were before the erasure.
    Contact.objects.filter(pk=gone.pk).update(
        given_name="Zofia", family_name="Quellbrunn", email="zq@example.org", erased_at=None
    )
    assert "1 would be erased" in _run("erasures_reapply", str(listing), "--dry-run")
    assert Contact.objects.get(pk=gone.pk).erased_at is None

    assert _run("erasures_reapply", str(listing)).startswith("1 erased again, 0 already")
    restored = Contact.objects.get(pk=gone.pk)
    assert restored.erased_at is not None
    assert restored.email == ""
    assert "Quellbrunn" not in restored.full_name
    assert Contact.objects.get(pk=kept.pk).family_name == "Person"
    # Twice is harmless.
    assert _run("erasures_reapply", str(listing)).startswith("0 erased again, 1 already")


def test_since_limits_the_export_and_must_have_an_offset(tmp_path):
    contact_erase(contact=ContactFactory(), acting_user=None, reason="request")
    assert _run("erasures_export", "--since", "2999-01-01T00:00:00+00:00") == ""
    assert _run("erasures_export", "--since", "2000-01-01T00:00:00+00:00").count("\n") == 1
    with pytest.raises(CommandError, match="offset"):
        _run("erasures_export", "--since", "2026-12-03")


def test_a_bad_file_erases_nothing_and_names_its_lines(tmp_path):
    contact = ContactFactory()
    listing = tmp_path / "erasures.txt"
    listing.write_text(f"{contact.pk} 2026-12-03T10:00:00+00:00\nnot a line\n\n12 yesterday\n")
    with pytest.raises(CommandError) as error:
        _run("erasures_reapply", str(listing))
    assert "line 2" in str(error.value)
    assert "line 4" in str(error.value)
    assert "line 1" not in str(error.value)
    assert Contact.objects.get(pk=contact.pk).erased_at is None
    with pytest.raises(CommandError, match="Cannot read"):
        _run("erasures_reapply", str(tmp_path / "missing.txt"))


def test_contacts_absent_from_the_restored_database_are_skipped(tmp_path):
    listing = tmp_path / "erasures.txt"
    listing.write_text("987654 2026-12-03T10:00:00+00:00\n")
    assert _run("erasures_reapply", str(listing)).startswith("0 erased again, 0 already")
    assert "1 not in this database" in _run("erasures_reapply", str(listing))


def test_the_list_can_come_from_standard_input():
    contact = ContactFactory()
    out = io.StringIO()
    call_command(
        "erasures_reapply",
        "-",
        stdin=io.StringIO(f"{contact.pk} 2026-12-03T10:00:00+00:00\n"),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert out.getvalue().startswith("1 erased again")
    assert Contact.objects.get(pk=contact.pk).erased_at is not None
