"""A write plan: the writes a long command decided while it read its input without the write lock,
kept on disk and applied under the lock in one transaction — so that reading a big (or never-ending)
file blocks no other writer (the writer-serialisation contract of `dvk.ledger.store`)."""

from __future__ import annotations

import marshal
import pickle
import sqlite3
from array import array
from bisect import bisect_left
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from dvk.ledger.bulk import Prepared, bulk_cache, prepare_rows, write_prepared

if TYPE_CHECKING:
    from dvk.ledger.history import Tx


def _dumps(kept: Any) -> bytes:
    """A planned batch as bytes: prepared inserts (tuples of text, numbers, flags and None) through
    marshal, faster than pickle for them; anything else (rows as dicts with dates) pickled."""
    if isinstance(kept, Prepared):
        try:
            return b"M" + marshal.dumps((kept.table_name, kept.params, kept.recorded), 4)
        except ValueError:  # a value marshal does not write (a datetime…): pickle writes it
            pass
    return b"P" + pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(blob: bytes) -> Any:
    """The batch `_dumps` wrote (read back by the process that wrote it, from its private database)."""
    if blob[:1] == b"M":
        return Prepared(*marshal.loads(memoryview(blob)[1:]))
    return pickle.loads(memoryview(blob)[1:])


class WritePlan:
    """The writes an import decided while it read its file, kept on disk until they are applied
    under the write lock: batch by batch, in their order, through the very calls that would have
    made them (`insert_rows`, `Tx.update_many`, `Tx.delete`), so the ledger and its history are what writing
    at once would have left. It is also an index of the rows planned so far, the latest state of
    each: later rows of the file find them there as they would find them in the ledger.

    The batches are pickled into SQLite's private temporary database (a file without a name, gone
    with the connection or the process, even a killed one). In memory:
    a bitmap of the hashes of the keys planned (8 MiB, two bits a key; hash() is fixed for the life of
    the process, which is the plan's), which answers almost every
    lookup ("not planned") at once, and for each batch its keys' hashes, sorted (12 bytes a row),
    searched only when the bitmap says "maybe"; a hit is checked against the row itself.
    """

    _BITS = 1 << 26

    def __init__(self, keys: Mapping[str, Callable[[Mapping], str]],
                 groups: Mapping[str, Callable[[Mapping], str]] | None = None) -> None:
        """`keys`: how a planned row of each table is found again (its key as the planner looks it up);
        `groups`: for the tables looked up by group too (scores by their entry)."""
        self.keys, self.groups = dict(keys), dict(groups or {})
        self.db = sqlite3.connect("", isolation_level=None)  # "": SQLite's private temporary database
        self.db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE log (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, tbl TEXT NOT NULL, rows BLOB NOT NULL);
            BEGIN;
        """)  # one transaction that is never committed: the database is thrown away
        self.n_ops = 0
        self.n_rows = 0
        self._seen = bytearray(self._BITS // 8)
        # per batch (newest last): (seq, sorted key hashes, their rows' positions, the same for groups)
        self._runs: list[tuple[int, array, array, array | None, array | None]] = []
        self._batches: dict[int, list] = {}  # a few unpickled batches, for lookups

    def _mark_all(self, hashes: Iterable[int]) -> None:
        seen, mask = self._seen, self._BITS - 1
        for h in hashes:
            a, b = h & mask, (h >> 32) & mask
            seen[a >> 3] |= 1 << (a & 7)
            seen[b >> 3] |= 1 << (b & 7)

    def _maybe_of(self, hashes: Sequence[int]) -> list[bool]:
        seen, mask = self._seen, self._BITS - 1
        return [bool(seen[(h & mask) >> 3] & (1 << (h & 7))) and bool(seen[((h >> 32) & mask) >> 3] & (1 << ((h >> 32) & 7)))
                for h in hashes]

    def add(self, op: str, table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Plan `op` ("insert" or "update") of complete `rows` of `table_name`, or ("delete") of the rows
        with these natural keys (not indexed: a deleted row is not a planned state to find again)."""
        if not rows:
            return
        self.n_ops += 1
        seq = self.n_ops
        # Inserts are kept prepared (driver tuples and history records, `dvk.ledger.bulk.prepare_rows`):
        # made now, before the lock, and pickled several times faster than the rows' dicts.
        kept: Any = prepare_rows(table_name, rows) if op == "insert" else list(rows)
        self.db.execute("INSERT INTO log VALUES (?, ?, ?, ?)", (seq, op, table_name, _dumps(kept)))
        if op == "delete":
            return
        key, group = self.keys[table_name], self.groups.get(table_name)
        salt = hash(table_name)
        pairs = sorted((hash(key(r)) ^ salt, i) for i, r in enumerate(rows))
        self._mark_all([h for h, _i in pairs])
        groups = None
        if group is not None:
            salt = hash((table_name, None))
            groups = sorted((hash(group(r)) ^ salt, i) for i, r in enumerate(rows))
            self._mark_all([h for h, _i in groups])
        self._runs.append((seq, array("q", [h for h, _ in pairs]), array("i", [i for _, i in pairs]),
                           array("q", [h for h, _ in groups]) if groups else None,
                           array("i", [i for _, i in groups]) if groups else None))
        self.n_rows += len(rows)

    def _batch(self, seq: int) -> list:
        batch = self._batches.get(seq)
        if batch is None:
            if len(self._batches) >= 4:
                self._batches.clear()
            blob = self.db.execute("SELECT rows FROM log WHERE seq = ?", (seq,)).fetchone()[0]
            batch = _loads(blob)
            batch = self._batches[seq] = batch.rows() if isinstance(batch, Prepared) else batch
        return batch

    def _hits(self, h: int, groups: bool) -> Iterator[dict]:
        """The planned rows whose key (or group) hash is `h`, newest first."""
        for seq, hashes, positions, ghashes, gpositions in reversed(self._runs):
            if groups:
                hashes, positions = ghashes, gpositions  # type: ignore[assignment]
                if hashes is None:
                    continue
            at = bisect_left(hashes, h)
            while at < len(hashes) and hashes[at] == h:
                yield self._batch(seq)[positions[at]]
                at += 1

    def get(self, table_name: str, keys: Sequence[str]) -> dict[str, dict]:
        """The latest planned state of the rows of `table_name` with these keys (a copy of each)."""
        if not self.n_rows:
            return {}
        key = self.keys[table_name]
        out: dict[str, dict] = {}
        salt = hash(table_name)
        hashes = [hash(k) ^ salt for k in keys]
        for k, h, maybe in zip(keys, hashes, self._maybe_of(hashes)):
            if not maybe or k in out:
                continue
            for row in self._hits(h, groups=False):
                if key(row) == k:  # the newest state of that row, not another key with the same hash
                    out[k] = dict(row)
                    break
        return out

    def in_groups(self, table_name: str, groups: Sequence[str]) -> list[dict]:
        """The latest planned state of every row of `table_name` in these groups (scores: entries)."""
        if not self.n_rows:
            return []
        key, group = self.keys[table_name], self.groups[table_name]
        out: dict[str, dict] = {}
        salt = hash((table_name, None))
        wanted = list(dict.fromkeys(groups))
        hashes = [hash(g) ^ salt for g in wanted]
        for g, h, maybe in zip(wanted, hashes, self._maybe_of(hashes)):
            if not maybe:
                continue
            for row in self._hits(h, groups=True):
                k = key(row)
                if group(row) == g and k not in out:  # newest first: the first state seen is the latest
                    out[k] = dict(row)
        return list(out.values())

    def batches(self) -> Iterator[tuple[str, str, Any]]:
        """(op, table, rows) of every planned batch, in the order they were planned; the rows of an
        insert prepared (`dvk.ledger.bulk.Prepared`), of an update and a delete as planned."""
        self._batches.clear()
        for seq in range(1, self.n_ops + 1):
            op, table_name, blob = self.db.execute("SELECT op, tbl, rows FROM log WHERE seq = ?", (seq,)).fetchone()
            yield op, table_name, _loads(blob)

    def close(self) -> None:
        self.db.close()

    def apply(self, tx: "Tx", progress: Callable[[int], None] | None = None) -> None:
        """Apply the planned batches in `tx`, in their order, through the calls that would have made them,
        with a bigger page cache; `progress(rows_done)` after each batch."""
        done = 0
        with bulk_cache(tx.conn):
            for op, table_name, rows in self.batches():
                if op == "insert":
                    write_prepared(tx, rows)
                elif op == "update":
                    tx.update_many(table_name, rows)
                else:
                    for key in rows:
                        tx.delete(table_name, key)
                done += len(rows)
                if progress is not None:
                    progress(done)
