"""Subject-access export: everything held about one contact, as one JSON file and a readable
page (issue 8 §3). See :mod:`members.subject_access.registry` for the structure and how to
add a section, :mod:`members.subject_access.sections` for what is in it."""

from members.subject_access import sections as _sections  # noqa: F401 — registers them
from members.subject_access.registry import (
    SCHEMA_VERSION,
    SECTIONS,
    ExportContext,
    Section,
    register,
    subject_access_export,
    subject_access_filename,
    subject_access_json,
)

__all__ = [
    "SCHEMA_VERSION",
    "SECTIONS",
    "ExportContext",
    "Section",
    "register",
    "subject_access_export",
    "subject_access_filename",
    "subject_access_json",
]
