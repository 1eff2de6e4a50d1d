"""Alembic migrations of the ledger schema (append-only: a released one is never edited).

`SCHEMA_HEAD` names the newest revision so opening an up-to-date ledger needs no Alembic
import; `tests/test_migrations.py` checks it against Alembic's own head.
"""

SCHEMA_HEAD = "0002"
