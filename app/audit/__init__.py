"""Audit log: who did what to which object, when and from where. Append-only (docs/audit.md)."""
