"""The Alliance conference and other events: built in a later issue."""
