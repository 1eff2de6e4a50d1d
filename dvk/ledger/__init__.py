"""Storage (sổ): the only code that knows SQLite.

- `sqlite` — `Ledger`: opening a ledger file (WAL, `synchronous=FULL`, busy timeout), read and
  write transactions (`BEGIN IMMEDIATE`: one writer at a time), the schema check and upgrade;
- `history` — `Tx`: every write recorded (each changed row's full new state, hash-chained);
- `verify` — `dvk verify` and the cheap check before every write; `schema` — the expected schema;
- `backup`, `restore` — consistent copies and checked restores; `settings` — the ledger's settings;
- `paths` — where the ledger is, what may be opened, who writes; `failures` — errors in Vietnamese;
- `migrations/` — Alembic, append-only.
"""
