"""A year's lists kept on disk, not in memory: the rows of the Word lists (`dvk.reports.build.read_year`)
are written to an anonymous temporary file as they are read, and the documents read them back in print
order, one row at a time, as lazy sequences (`Rows`, `Lazy`) that the view models, their cleaning
(`context.sanitize`), the template contexts and the streamed Word render pass along without copying.
So an export's memory hardly grows with the year (issue 11; the README gives the figures).

In memory stay only what orders the rows: one integer per row (its unit's rank, year, sequence number
and place in the file, packed), and an individual's name to sort by.
"""

from __future__ import annotations

import dataclasses
import itertools
import marshal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from dvk.text.normalize import sort_people

_OFFSET_BITS = 40
_SEQ_BITS = 32
_YEAR_BITS = 14


class Spool:
    """Records (tuples of str, int, float, bool, None) in an anonymous temporary file, by offset."""

    def __init__(self) -> None:
        self._fh: Any = None
        self._end = 0
        self._at_end = True  # the file's position is its end (no seek before the next record)

    def add(self, record: tuple) -> int:
        if self._fh is None:
            self._fh = tempfile.TemporaryFile(prefix="dvk-rows-", buffering=1 << 16)
        data = marshal.dumps(record)
        at = self._end
        if not self._at_end:
            self._fh.seek(at)
            self._at_end = True
        self._fh.write(len(data).to_bytes(4, "little") + data)
        self._end = at + 4 + len(data)
        return at

    def get(self, offset: int) -> tuple:
        fh = self._fh
        self._at_end = False
        fh.seek(offset)
        n = int.from_bytes(fh.read(4), "little")
        return marshal.loads(fh.read(n))


class Lazy(Sequence):
    """A sequence made again each time it is read (``make()`` gives its items); its length is counted
    once when asked.  What view models and template contexts hold instead of a list of a year's rows."""

    def __init__(self, make: Callable[[], Iterable], length: int | None = None) -> None:
        self._make = make
        self._len = length

    def __iter__(self) -> Iterator:
        return iter(self._make())

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self._make())
        return self._len

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return list(itertools.islice(self._make(), *i.indices(len(self))))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return next(itertools.islice(self._make(), i, None))

    def map(self, fn: Callable[[Any], Any]) -> "Lazy":
        """The same items through ``fn``, made as they are read."""
        return Lazy(lambda: map(fn, self._make()), self._len)

    def __repr__(self) -> str:
        return f"Lazy(<{len(self)} items>)"


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


class SpooledList:
    """Dataclass rows appended in order, kept in a `Spool`; ``rows()`` reads them back lazily."""

    def __init__(self, cls: type, spool: Spool | None = None) -> None:
        self.cls, self.names = cls, _fields(cls)
        self.spool = spool or Spool()
        self.offsets: list[int] = []

    def append(self, row: Any) -> None:
        self.offsets.append(self.spool.add(tuple(getattr(row, n) for n in self.names)))

    def __len__(self) -> int:
        return len(self.offsets)

    def __iter__(self) -> Iterator:
        return iter(self.rows())

    def rows(self) -> Lazy:
        spool, cls, offsets = self.spool, self.cls, self.offsets
        return Lazy(lambda: (cls(*spool.get(o)) for o in offsets), len(offsets))


class SpooledRows:
    """`build.OrderedRows` on disk: rows with what the official order needs (unit rank, year, sequence
    number; an individual's name) and, for each row, an ``extra`` value read back with `extras`."""

    def __init__(self, cls: type, spool: Spool | None = None) -> None:
        self.cls, self.names = cls, _fields(cls)
        self.spool = spool or Spool()
        self.collectives: list[int] = []
        self.individuals: list[tuple[int, str]] = []

    def add(self, e: Mapping, rank: int, row: Any, extra: Any = None) -> None:
        at = self.spool.add((*(getattr(row, n) for n in self.names), extra))
        year = e["year"] - 1900  # a ledger's years are 4-digit (dvk.rules.check_year)
        if not (0 <= year < 1 << _YEAR_BITS and 0 <= e["seq"] < 1 << _SEQ_BITS):
            raise ValueError(f"entry {e.get('id')}: year or sequence number out of range")
        key = ((((rank << _YEAR_BITS) | year) << _SEQ_BITS | e["seq"]) << _OFFSET_BITS) | at
        if e["subject"] == "individual":
            self.individuals.append((key, e.get("person") or ""))
        else:
            self.collectives.append(key)

    def __len__(self) -> int:
        return len(self.collectives) + len(self.individuals)

    def _row(self, key: int) -> Any:
        return self.cls(*self.spool.get(key & ((1 << _OFFSET_BITS) - 1))[:-1])

    def _rows(self, keys: list[int]) -> Lazy:
        row = self._row
        return Lazy(lambda: map(row, keys), len(keys))

    @staticmethod
    def _key(key: int) -> tuple[int, int, int]:
        """(rank, year, seq) of a packed key."""
        k = key >> _OFFSET_BITS
        return (k >> (_SEQ_BITS + _YEAR_BITS), 1900 + ((k >> _SEQ_BITS) & ((1 << _YEAR_BITS) - 1)),
                k & ((1 << _SEQ_BITS) - 1))

    def _ordered(self, by_year: bool) -> tuple[list[int], list[int]]:
        if by_year:
            coll = sorted(self.collectives, key=lambda k: (self._key(k)[1], k))
        else:
            coll = sorted(self.collectives)
        ind = [k for k, _ in sort_people(sorted(self.individuals), key=lambda p: p[1])]
        return coll, ind

    def ordered(self, *, by_year: bool = False) -> tuple[Lazy, Lazy]:
        """The collectives in unit order (then registration order) and the individuals by given name,
        middle names, family name (Vietnamese collation); with ``by_year`` collectives go year by year."""
        coll, ind = self._ordered(by_year)
        return self._rows(coll), self._rows(ind)

    def flat(self) -> Lazy:
        coll, ind = self._ordered(False)
        keys = coll + ind
        return self._rows(keys)

    def collective_items(self) -> Iterator[tuple[tuple, Any]]:
        """(key, row) of each collective, in the order added (the key: rank, year, sequence)."""
        for k in self.collectives:
            yield self._key(k), self._row(k)

    def individual_items(self) -> Iterator[tuple[tuple, str, Any]]:
        for k, person in self.individuals:
            yield self._key(k), person, self._row(k)

    def extras(self) -> Iterator[tuple[Any, Any]]:
        """(row, extra) of every row, in the order added."""
        keys = itertools.chain(self.collectives, (k for k, _ in self.individuals))
        for k in sorted(keys, key=lambda k: k & ((1 << _OFFSET_BITS) - 1)):
            rec = self.spool.get(k & ((1 << _OFFSET_BITS) - 1))
            yield self.cls(*rec[:-1]), rec[-1]
