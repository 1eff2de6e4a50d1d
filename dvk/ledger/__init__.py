"""Storage (sổ): the only code that knows SQLite and PostgreSQL.

- `sqlite` — `Ledger`: opening a ledger file (WAL, `synchronous=FULL`, busy timeout), read and
  write transactions (`BEGIN IMMEDIATE`: one writer at a time), the schema check and upgrade;
- `history` — `Tx`: every write recorded (each changed row's full new state, hash-chained);
- `verify` — `dvk verify` and the cheap check before every write; `schema` — the expected schema;
- `backup`, `restore` — consistent copies and checked restores; `settings` — the ledger's settings;
- `paths` — where the ledger is, what may be opened, who writes; `failures` — errors in Vietnamese;
- `migrations/` — Alembic, append-only;
- `postgres` — `PgLedger`, the PostgreSQL store; `stores` — which store a location names, `open_ledger`,
  `copy_ledger`; `copy` — moving a ledger with its history; `pg_schema`, `roles` — the server's schema
  check, its logins and row-level security.
"""
