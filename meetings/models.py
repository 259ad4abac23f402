"""AECT meetings and consultations: built in a later issue."""
