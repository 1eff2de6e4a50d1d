"""Alembic migrations of the ledger schema (append-only: a released one is never edited).

`SCHEMA_HEAD` names the newest revision so opening an up-to-date ledger needs no Alembic
import; `tests/ledger/test_migrations.py` checks it against Alembic's own head.
"""

from __future__ import annotations

SCHEMA_HEAD = "0008"

# A data migration that inserts rows leaves, under this key of the connection's `info`, a list of
# (table name, [(row key, canonical JSON of the row), …]) — or (table name, rows, "update") for rows it
# changed, each with its full new state; `Ledger._migrate` records them in the history record of the
# upgrade (`Tx.record_inserted`), so `dvk verify` holds after it.
MIGRATION_ROWS = "dvk.migration_rows"


def refuse_newer(current: str | None, shown: str) -> None:
    """Refuse, changing nothing, a ledger at a revision this dvk does not know (made by a newer dvk).
    Alembic is imported only for a ledger that is not at the head."""
    if current is None or current == SCHEMA_HEAD:
        return
    from dvk.errors import LedgerError
    from dvk.ledger.migrations.runner import known_revisions

    if current not in known_revisions():
        raise LedgerError(
            f"Sổ “{shown}” được tạo bởi phiên bản dvk mới hơn (lược đồ {current}, phiên bản này "
            f"chỉ biết đến {SCHEMA_HEAD}). Hãy cập nhật dvk; sổ không bị thay đổi."
        )
