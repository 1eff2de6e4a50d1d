"""The storage seam: what the cycle, bulk intake and the documents need from a ledger.

`dvk.ledger.sqlite.Ledger` implements it on one SQLite file; a PostgreSQL store implements the same
contract without the cycle, intake or documents changing. Everything above this seam talks to
SQLAlchemy Core tables (`dvk.ledger.history.table`) over the connection a transaction hands out, and
to this protocol — never to a driver, a dialect, a PRAGMA or the file system of the ledger.

## The writer-serialisation contract

The hash chain of the history and entry numbering rely on it (a store that breaks it breaks both):

1. **One writer at a time.** At most one write transaction (`Store.write`) is open on a ledger at any
   moment, across every process and machine using it. A second writer waits (bounded: then a
   `LedgerError` "đang bận") until the first commits or rolls back.
2. **A writer sees every earlier write.** Once a write transaction has begun, everything committed
   before it is visible to it, and nothing committed by another writer can appear during it. So the
   next entry number of a year (`max(seq) + 1`), a duplicate's match key and the hash of the previous
   history record are read and used under the same lock, and two writers can never hand out the same
   entry id or chain two records to the same predecessor.
3. **All or nothing.** A write transaction commits whole — its rows, its history record and every
   change of it — or leaves the ledger as it was (crash, kill, error, Ctrl-C).
4. **Readers never wait and never see half.** A read transaction (`Store.read`) sees one consistent
   committed state for its whole length and neither blocks a writer nor is blocked by one.
5. **Checked before written.** Before a write transaction hands out its `Tx`, the store checks what
   every command relies on (`dvk.ledger.verify.check_before_write`) and refuses a ledger changed behind
   dvk's back.

SQLite meets it with WAL, `BEGIN IMMEDIATE` (the database's single write lock, taken at the start) and
a busy timeout; PostgreSQL (`dvk.ledger.postgres`) with a transaction-level advisory lock taken first in
every write transaction (`pg_advisory_xact_lock`) under READ COMMITTED, and a REPEATABLE READ READ ONLY
snapshot per read transaction.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dvk.ledger.history import Tx


@runtime_checkable
class Store(Protocol):
    """A ledger that holds the cycle's tables and their history (see the module's contract)."""

    #: The ledger as it is named in messages ("/home/thu-ky/dvk.sqlite").
    shown: str

    def read(self) -> contextlib.AbstractContextManager["Connection"]:
        """A read transaction: one consistent snapshot for the whole block (contract 4)."""

    def write(self, *, user: str, command: str,
              summary: str = "") -> contextlib.AbstractContextManager["Tx"]:
        """A write transaction recorded as one history record by `user` for `command` (contract 1–3, 5).

        The `Tx` writes rows one by one (`insert`, `update`, `upsert`, `delete`) or in bulk
        (`insert_many`, `update_many`, `insert_rows` — the bulk path of intake), each change recorded
        with the row's full new state and hash-chained."""

    def setting(self, key: str, default: str | None = None) -> str | None:
        """A ledger setting (`meta`), or `default`."""

    def schema_version(self) -> str | None:
        """The migration revision the ledger is at."""

    def integrity_errors(self) -> list[str]:
        """What the database's own integrity check finds (empty: sound)."""

    def backup_before(self, reason: str, keep: int | None = None) -> Path:
        """An automatic, consistent backup (before recognizing, migrating, overwriting), rotated."""

    def backup_to(self, dest: Path) -> Path:
        """A consistent copy to `dest` (a file or a folder) made while other commands may write."""

    def close(self) -> None:
        """Release the ledger (connections, locks)."""

