"""Consent per purpose: versioned consent texts and the append-only record of what each
contact agreed to or withdrew (issue 8 §3). Models, services and selectors live here; the
models are imported by ``members.models`` so that they belong to the ``members`` app."""
