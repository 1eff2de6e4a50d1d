"""Who runs what against which ledger (RunContext), passed explicitly to what opens a ledger or
writes — never through the process's environment or a module global — so a script, the demo, a test
or a server can work on two ledgers for two users in one process without one leaking into the other.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dvk.ledger.history import Tx
    from dvk.ledger.sqlite import Ledger


@dataclass(frozen=True)
class RunContext:
    """One caller's run: the ledger (a path; None: $DVK_DB, then the per-user data directory), the
    user recorded in the history, and the command recorded with each write ("dvk register …")."""

    ledger: str | os.PathLike | None
    user: str
    command: str = "dvk"
    org: str | None = None  # the organisation the run works for (`--org`); None: the ledger's only one

    @property
    def path(self) -> "Path | str":
        """Where the ledger is: a file's Path, or a PostgreSQL URL (`dvk.ledger.stores`)."""
        from dvk.ledger.stores import resolve_location

        return resolve_location(self.ledger)

    def with_command(self, command: str) -> "RunContext":
        return replace(self, command=command)

    def open(self, *, create: bool = False) -> "Ledger":
        from dvk.ledger.stores import open_ledger

        led = open_ledger(self.path, create=create)
        if self.org is not None:
            try:
                self.choose(led)
            except BaseException:
                led.close()
                raise
        return led

    def choose(self, led: "Ledger") -> None:
        """Make this run's organisation (checked: it must be in the ledger) the one `led` works for."""
        from dvk.cycle.orgs import choose

        with led.read() as conn:
            choose(conn, self.org)

    @contextlib.contextmanager
    def reading(self) -> Iterator["Connection"]:
        """The ledger open for one read snapshot."""
        with self.open() as led, led.read() as conn:
            yield conn

    @contextlib.contextmanager
    def writing(self, summary: str = "") -> Iterator["Tx"]:
        """The ledger open for one write transaction recorded under this run's user and command."""
        with self.open() as led, led.write(user=self.user, command=self.command, summary=summary) as tx:
            yield tx
