"""The bulk write path (`dvk.ledger.bulk.insert_rows`) leaves exactly what `Tx.insert_many` leaves:
the same rows, the same history changes, the same digest, a hash chain `dvk verify` accepts."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ledger_dump


def _rows(n: int, year: int = 2024) -> list[dict]:
    from dvk.cycle.entries import make_id, match_key

    out = []
    for i in range(n):
        person = "Nguyễn Thị Ánh" if i % 3 == 0 else None
        title = f"Mô hình “Dân vận khéo” số {i} — chăm lo\u00a0đoàn viên"
        out.append({"id": make_id(year, i + 1), "year": year, "seq": i + 1, "unit_code": "BVDK", "title": title,
                    "kind": "exemplar" if person else "model", "subject": "individual" if person else "collective",
                    "person": person, "position": "Điều dưỡng" if person else None, "field": 1 + i % 5,
                    "registered_on": dt.date(year, 2, 1 + i % 28) if i % 7 else None, "late": i % 5 == 0,
                    "sudden": i % 11 == 0, "note": 'ghi chú "ngoặc" \\ và xuống\ndòng' if i % 4 == 0 else None,
                    "match_key": match_key("BVDK", title, person), "org_code": "CDN"})
    return out


def _write(db, rows, fast: bool) -> str:
    from dvk.ledger.bulk import insert_rows as bulk_insert
    from dvk.ledger.stores import open_ledger

    led = open_ledger(db)
    try:
        with led.write(user="u", command="c") as tx:
            tx.insert("meta", {"key": "x", "value": "before"})  # a record made before the bulk rows
            for i in range(0, len(rows), 7):
                chunk = [dict(r) for r in rows[i:i + 7]]
                bulk_insert(tx, "entry", chunk) if fast else tx.insert_many("entry", chunk)
            tx.insert("meta", {"key": "y", "value": "after"})
            digest = tx._digest.hexdigest()
            n = tx.n
    finally:
        led.close()
    return f"{digest}/{n}"


def _tables(db, *names) -> dict:
    con = sqlite3.connect(db)
    try:
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def test_bulk_insert_equals_insert_many(ledger, ledger_copy):
    fast_db, slow_db = ledger_copy(ledger.db, "fast.sqlite"), ledger_copy(ledger.db, "slow.sqlite")
    rows = _rows(40)
    assert _write(fast_db, rows, True) == _write(slow_db, rows, False)
    a, b = _tables(fast_db, "entry", "change", "meta"), _tables(slow_db, "entry", "change", "meta")
    assert a == b and len(a["entry"]) == 40
    for db in (fast_db, slow_db):
        res = ledger("verify", "--db", db)
        assert "toàn vẹn" in res.stdout, res.stdout


def test_imported_ledger_verifies_and_matches_the_slow_path(ledger, tmp_path, monkeypatch, ledger_copy):
    """A whole import through the fast path and through Tx.insert_many: same tables, same changes."""

    head = "Năm,Mã đơn vị,Tên mô hình, điển hình,Lĩnh vực,Ngày đăng ký,Đột xuất\n"
    lines = [f"2024,{u},\"Mô hình {i}\",{1 + i % 5},{1 + i % 28:02d}/02/2024,{'x' if i % 9 == 0 else ''}"
             for i, u in zip(range(30), ["BVDK", "BVNHI", "CDC"] * 10)]
    f = tmp_path / "dk.csv"
    f.write_text(head.replace("Tên mô hình, điển hình", "\"Tên mô hình, điển hình\"") + "\n".join(lines),
                 encoding="utf-8")
    slow = ledger_copy(ledger.db, "slow.sqlite")
    ledger("register", "--from", f)
    from dvk.ledger import plan

    # The slow path gets the rows back from what the plan kept (Prepared.rows: the round trip is tested too).
    monkeypatch.setattr(plan, "write_prepared", lambda tx, prep: tx.insert_many(prep.table_name, prep.rows()))
    ledger("register", "--from", f, "--db", slow)
    a, b = _tables(ledger.db, "entry", "change"), _tables(slow, "entry", "change")
    assert a == b and len(a["entry"]) == 30
    assert "toàn vẹn" in ledger("verify").stdout


def test_canonical_spelling_is_the_history_one():
    from dvk.ledger.history import canonical
    from dvk.ledger.history import canonical_text as _canonical

    for r in _rows(12):
        assert _canonical(r) == canonical(r)
    odd = {"b": 1.5, "a": True, "c": None, "d": "“x” \u00e9 \n \t \\", "e": dt.date(2024, 1, 2)}
    assert _canonical(odd) == canonical(odd)
    assert json.loads(_canonical(odd))["e"] == "2024-01-02"


def _reference_canonical(row) -> str:
    """dvk.ledger.history.canonical as first written: a dict copy with top-level dates made ISO, json.dumps."""
    def iso(v):
        return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v

    return json.dumps({k: iso(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


class _IntSub(int):
    pass


_json_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers().map(_IntSub),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",))), st.sampled_from(["%", "%s", "%%", "\\", '"']),
    st.dates(), st.datetimes(),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json_values, max_size=8))
def test_history_canonical_is_the_reference_spelling(row):
    from dvk.ledger.history import canonical

    assert canonical(row) == _reference_canonical(row)


class _Recorder:
    """A stand-in Tx for bulk_insert: keeps what it would write and record."""

    def __init__(self) -> None:
        self.params: list = []
        self.recorded: list = []
        self.conn = self

    def exec_driver_sql(self, sql, params):
        self.params.extend(params)

    def record_inserted(self, table_name, rows):
        self.recorded.extend(rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: _json_values for k in (
    "id", "year", "seq", "unit_code", "title", "kind", "subject", "person", "position", "field",
    "registered_on", "late", "sudden", "note", "match_key", "org_code")}), min_size=1, max_size=5),
    st.booleans())
def test_bulk_insert_records_the_canonical_json(rows, extra_key):
    """Value by value JSON of complete rows (and the encoder for others) is history.canonical's."""
    from dvk.ledger.bulk import insert_rows as bulk_insert
    from dvk.ledger.history import canonical

    rows = [{**r, "registered_on": r["registered_on"] if isinstance(r["registered_on"], (dt.date, type(None)))
             else dt.date(2024, 1, 2)} for r in rows]
    if extra_key:
        rows[0]["zz"] = "extra"
    tx = _Recorder()
    bulk_insert(tx, "entry", rows)
    assert [data for _key, data in tx.recorded] == [canonical(r) for r in rows]
    assert [key for key, _data in tx.recorded] == [str(r["id"]) for r in rows]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aàáạăằâấđeêếoơờuưứy AĐÊ\t\n\u00a0\u200b\u2060\ufeff\u0301\u0323.,-“”")),
               max_size=30))
def test_clean_fast_equals_clean(text):
    from dvk.intake.cells import clean_fast
    from dvk.text.normalize import clean

    assert clean_fast(text) == clean(text)


def test_a_recorded_state_reads_back_as_json_loads_reads_it():
    """dvk.ledger.history.load_state (verify's replay) reads the canonical spelling through the C scanner and
    anything else exactly as json.loads would: the same dict, or {} for what is not one JSON object."""
    import json

    from dvk.ledger.history import canonical, load_state

    row = {"id": "2024-001", "title": "Chăm lo \"đoàn viên\"", "late": False, "field": 2, "note": None}
    text = canonical(row)
    assert load_state(text) == row == json.loads(text)
    assert load_state(f"  {text}\n") == row  # spaces around: json.loads takes them
    assert load_state(text.encode("utf-8")) == row
    for not_an_object in (None, "", "[1, 2]", "42", "null", f"{text}{text}", text[:-1], "{'a': 1}", b"\xff"):
        assert load_state(not_an_object) == {}, not_an_object
