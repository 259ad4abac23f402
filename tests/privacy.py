"""Consent texts for tests. The data migration seeds version 1 of each purpose, but a
transactional test (the browser tests) empties the tables afterwards, so tests that need the
texts ask for them here."""

from members.privacy.models import ConsentPurpose, ConsentText


def ensure_consent_texts() -> dict[str, ConsentText]:
    texts = {}
    for purpose in ConsentPurpose.values:
        text = ConsentText.objects.filter(purpose=purpose).order_by("-version").first()
        if text is None:
            text = ConsentText.objects.create(
                purpose=purpose,
                version=1,
                text_en=f"I agree ({purpose}).",
                text_ru=f"Я согласен ({purpose}).",
            )
        texts[purpose] = text
    return texts
