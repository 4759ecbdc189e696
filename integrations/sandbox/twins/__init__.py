"""Twins of outside parties. Each module has `blueprint` (mounted at /<name>) and `reset()`."""

from integrations.sandbox.twins import department

TWINS = {"department": department}
