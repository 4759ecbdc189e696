"""Re-encrypting personal data with the active PII key, after a new key was added (`flask keys rotate`)."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import unit_of_work
from app.extensions import db
from app.security import pii


def encrypted_columns():
    """(table, primary key column, encrypted column) for every EncryptedText column of every model."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, pii.EncryptedText):
                yield table, next(iter(table.primary_key.columns)), column


def rotate(batch: int = 500) -> dict[str, int]:
    """Re-encrypt every value not under the active key; returns how many per column. Safe to rerun."""
    active = pii._keys().active_kid
    done: dict[str, int] = {}
    for table, pk, column in encrypted_columns():
        raw = sa.type_coerce(column, sa.Text)  # the stored "kid:..." text, not decrypted
        count = 0
        while True:
            with unit_of_work() as session:
                rows = session.execute(
                    sa.select(pk, raw).where(raw.is_not(None), ~raw.startswith(f"{active}:")).limit(batch)
                ).all()
                for key, stored in rows:
                    # The column's type encrypts what it is given with the active key.
                    session.execute(sa.update(table).where(pk == key).values({column.name: pii.decrypt(stored)}))
            count += len(rows)
            if len(rows) < batch:
                break
        done[f"{table.name}.{column.name}"] = count
    return done
