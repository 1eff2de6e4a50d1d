"""A year's lists on disk (`dvk.reports.spool`, issue 11): read back in exactly the order and with exactly
the rows the in-memory lists give, as often as a document reads them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dvk.reports.build import OrderedRows, YearRows
from dvk.reports.models import ListRow, NotRecognizedRow
from dvk.reports.spool import Lazy, Spool, SpooledList

_NAMES = st.sampled_from(["Nguyễn Văn An", "Trần Thị Ánh", "Lê Bình", "Đỗ Thị Mai", "", "An", "Phạm Văn Ân"])
_ENTRY = st.tuples(st.integers(0, 30), st.sampled_from([2021, 2024, 2026]), st.booleans(), _NAMES,
                   st.text(max_size=20))


@settings(max_examples=60, deadline=None)
@given(st.lists(_ENTRY, max_size=40, ), st.booleans())
def test_rows_on_disk_are_the_rows_in_memory_in_the_same_order(entries, by_year):
    memory, disk = OrderedRows(), YearRows(ListRow, Spool())
    for seq, (rank, year, person, name, title) in enumerate(entries, 1):
        e = {"year": year, "seq": seq * 7, "subject": "individual" if person else "collective", "person": name}
        row = ListRow(title=title, subject_text=name, unit=f"Đơn vị {rank}", code=f"{year}-{seq:03d}", score="9,5")
        memory.add(e, rank, row)
        disk.add(e, rank, row, f"U{rank}")
    assert len(disk) == len(memory)
    for a, b in zip(memory.groups(by_year=by_year), disk.groups(by_year=by_year)):
        assert a.heading == b.heading and list(a.rows) == list(b.rows) == list(b.rows)  # read twice
        assert isinstance(b.rows, Lazy) and len(b.rows) == len(a.rows)
        if a.rows:
            assert b.rows[0] == a.rows[0] and b.rows[-1] == a.rows[-1]
    assert list(disk.flat()) == memory.flat()
    assert list(disk.collective_items()) == memory.collectives
    assert list(disk.individual_items()) == memory.individuals
    extras = list(disk.extras())
    assert sorted(r.code for r, _ in extras) == sorted(r.code for r in memory.flat())
    assert all(extra == r.unit.replace("Đơn vị ", "U") for r, extra in extras)


def test_a_spooled_list_reads_back_in_order_between_writes():
    spool = Spool()
    rows = SpooledList(NotRecognizedRow, spool)
    other = SpooledList(NotRecognizedRow, spool)
    for i in range(2500):
        rows.append(NotRecognizedRow(code=f"2024-{i:04d}", title="Mô hình “Dân vận khéo” " * (i % 5),
                                     reasons="Chưa có báo cáo thành tích."))
        if i % 1000 == 0:  # reading in the middle of writing leaves the next write where it belongs
            assert list(rows)[-1].code == f"2024-{i:04d}"
            other.append(NotRecognizedRow(code=f"X{i}", title="khác"))
    assert [r.code for r in rows] == [f"2024-{i:04d}" for i in range(2500)]
    assert [r.code for r in other] == ["X0", "X1000", "X2000"]
    lazy = rows.rows()
    assert len(lazy) == 2500 and lazy[1234].code == "2024-1234" and lazy[-1].code == "2024-2499"
    assert [r.code for r in lazy[10:13]] == ["2024-0010", "2024-0011", "2024-0012"]
    assert lazy.map(lambda r: r.code)[5] == "2024-0005"
