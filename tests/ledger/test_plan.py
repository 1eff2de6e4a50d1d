"""The write plan keeps every batch exactly as planned (dvk.ledger.plan): prepared inserts through marshal,
anything marshal cannot write, and updates, through pickle."""

from __future__ import annotations

import datetime as dt

from dvk.ledger.bulk import Prepared
from dvk.ledger.plan import WritePlan, _dumps, _loads


def test_a_prepared_batch_comes_back_as_it_was_planned():
    params = [("2024-001", 2024, 1, "BVDK", "Chăm lo đoàn viên", None, True, False)]
    recorded = [("2024-001", '{"id":"2024-001","title":"Chăm lo đoàn viên"}')]
    blob = _dumps(Prepared("entry", params, recorded))
    assert blob[:1] == b"M"
    back = _loads(blob)
    assert isinstance(back, Prepared)
    assert (back.table_name, back.params, back.recorded) == ("entry", params, recorded)


def test_a_value_marshal_cannot_write_is_pickled_and_comes_back_the_same():
    at = dt.datetime(2024, 3, 5, 8, 30)
    blob = _dumps(Prepared("history", [(1, at)], [("1", "{}")]))
    assert blob[:1] == b"P"
    back = _loads(blob)
    assert back.params == [(1, at)] and back.recorded == [("1", "{}")]
    rows = [{"id": "2024-001", "registered_on": dt.date(2024, 3, 5)}]
    assert _loads(_dumps(rows)) == rows


def test_planned_rows_are_found_again_and_applied_in_order():
    plan = WritePlan({"entry": lambda r: r["id"]})
    try:
        plan.add("update", "entry", [{"id": "2024-001", "late": False, "registered_on": dt.date(2024, 3, 5)}])
        plan.add("update", "entry", [{"id": "2024-001", "late": True, "registered_on": dt.date(2024, 3, 5)}])
        assert plan.get("entry", ["2024-001", "2024-002"]) == {
            "2024-001": {"id": "2024-001", "late": True, "registered_on": dt.date(2024, 3, 5)}}
        assert [(op, t, [r["late"] for r in rows]) for op, t, rows in plan.batches()] == [
            ("update", "entry", [False]), ("update", "entry", [True])]
    finally:
        plan.close()
