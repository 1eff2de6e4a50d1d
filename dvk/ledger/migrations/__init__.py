"""Alembic migrations of the ledger schema (append-only: a released one is never edited).

`SCHEMA_HEAD` names the newest revision so opening an up-to-date ledger needs no Alembic
import; `tests/ledger/test_migrations.py` checks it against Alembic's own head.
"""

SCHEMA_HEAD = "0008"

# A data migration that inserts rows leaves, under this key of the connection's `info`, a list of
# (table name, [(row key, canonical JSON of the row), …]) — or (table name, rows, "update") for rows it
# changed, each with its full new state; `Ledger._migrate` records them in the history record of the
# upgrade (`Tx.record_inserted`), so `dvk verify` holds after it.
MIGRATION_ROWS = "dvk.migration_rows"
