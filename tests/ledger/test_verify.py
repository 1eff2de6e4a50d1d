"""`dvk verify`: the hash chain and the state replayed from the history, against edits made
behind dvk's back with the sqlite3 module (the way someone would with the sqlite3 shell)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from conftest import ASPECTS, FULL, Dvk
from safety_support import build_entry_ledger, build_odd_keys_ledger, cached_ledger

pytestmark = pytest.mark.sqlite_only("edits made behind dvk's back with the sqlite3 module on the file")


@pytest.fixture
def entry(dvk, tmp_path_factory):
    """(dvk, entry id) on a copy of a ledger with three units and one complete 2024 entry."""
    return dvk, cached_ledger(tmp_path_factory, dvk.db)["eid"]


def sql(db, *statements, params=()):
    con = sqlite3.connect(db)
    try:
        for s in statements:
            con.execute(s, params)
        con.commit()
    finally:
        con.close()


def verify_fails(dvk) -> tuple[str, dict]:
    res = dvk.fails("verify")
    data = json.loads(dvk("verify", "--json", ok=False).stdout)
    assert data["ok"] is False and data["n_problems"] >= 1
    return res.stderr, data


def _build_cycle(db):
    """Every kind of write: units, entries of two kinds, report, confirmation, a refusal, scores of two
    members (one sheet replaced), a decision, its revocation and a second decision, a profile change and
    a setting."""
    info = build_entry_ledger(db)
    d, eid = Dvk(db), info["eid"]
    e2 = d("register", "--year", "2024", "--unit", "BVNHI", "--title", "Điển hình tận tụy", "--field", "5",
           "--exemplar", "--individual", "Nguyễn Văn An", "--position", "Điều dưỡng", "--date", "12/02/2024"
           ).stdout.strip()
    d("report", e2, *ASPECTS)
    d("confirm", e2, "--reject", "--reason", "Chưa đủ minh chứng", "--by", "Bí thư Lê Văn Cường")
    d("score", eid, "--member", "Trần Thị Bích", *FULL)
    d("score", eid, "--member", "Trần Thị Bích", *[f.replace("=9", "=10") for f in FULL])
    d("recognize", "--year", "2024", "--number", "3")
    d("recognize", "--revoke", "--year", "2024", "--reason", "Sai số")
    d("recognize", "--year", "2024", "--number", "4")
    d("org", "set", "--from-year", "2026", "--signer", "Nguyễn Thị Mai")
    d("--db", str(db), "settings", "set", "backup_keep", "4")
    return {"eid": eid, "e2": e2}


@pytest.fixture
def cycle(dvk, tmp_path_factory):
    info = cached_ledger(tmp_path_factory, dvk.db, "cycle", _build_cycle)
    return dvk, info["eid"], info["e2"]


def test_every_command_leaves_a_ledger_that_verifies(cycle):
    d, _, _ = cycle
    res = d("verify")
    assert res.stdout.startswith("Sổ toàn vẹn:")
    assert "bản ghi lịch sử nối liền" in res.stdout and "Mã kiểm tra cuối: #" in res.stdout
    data = json.loads(d("verify", "--json").stdout)
    assert data["ok"] is True and data["problems"] == [] and data["records"] >= 15
    assert data["rows"] > 20 and len(data["head_hash"]) == 64


def test_a_score_changed_with_sqlite_is_named_with_its_criterion(entry):
    ledger, full_entry = entry
    sql(ledger.db, "UPDATE score SET marks = replace(marks, '\"G2\":9', '\"G2\":10')")
    err, data = verify_fails(ledger)
    assert f"Điểm {full_entry} / Nguyễn Văn An / G2: lịch sử ghi 9, sổ hiện ghi 10 — bị sửa ngoài dvk" in err
    assert "chỗ không khớp với lịch sử" in err
    [p] = data["problems"]
    assert p["kind"] == "differs" and p["table"] == "score" and p["column"] == "marks.G2"
    assert (p["expected"], p["found"]) == (9, 10) and p["key"] == f"{full_entry}|Nguyễn Văn An"


@pytest.mark.parametrize(
    "statements,expected",
    [
        (["UPDATE entry SET title = 'Mô hình khác'"],
         "Mô hình, điển hình {eid} / tên: lịch sử ghi “Chăm lo đoàn viên khó khăn”, sổ hiện ghi “Mô hình khác”"),
        (["UPDATE entry SET late = 1"], "Mô hình, điển hình {eid} / đăng ký muộn: lịch sử ghi không, sổ hiện ghi có"),
        (["UPDATE entry SET registered_on = '2024-02-01'"],
         "Mô hình, điển hình {eid} / ngày đăng ký: lịch sử ghi 10/02/2024, sổ hiện ghi 01/02/2024"),
        (["UPDATE entry SET registered_on = 'ngày 30/02'"],
         "Mô hình, điển hình {eid} / ngày đăng ký: lịch sử ghi 10/02/2024, sổ hiện ghi “ngày 30/02”"),
        (["UPDATE confirmation SET rejected = 1, reason = 'x'"], "Xác nhận của cấp ủy cho {eid} / không xác nhận"),
        (["DELETE FROM report"], "Báo cáo thành tích của {eid}: lịch sử ghi có dòng này nhưng sổ không còn — bị xóa"),
        (["INSERT INTO unit VALUES ('MA', 'Đơn vị ma', NULL, 9, 'CDN')"],
         "Đơn vị MA: sổ có dòng này nhưng lịch sử không ghi — bị thêm ngoài dvk"),
        (["UPDATE meta SET value = '99' WHERE key = 'backup_keep'"],
         "Cài đặt backup_keep / giá trị: lịch sử ghi “10”, sổ hiện ghi “99”"),
        (["UPDATE unit SET committee = NULL WHERE code = 'BVDK'"], "Đơn vị BVDK / cấp ủy: lịch sử ghi “Đảng ủy"),
    ],
    ids=["title", "bool", "date", "bad-date", "confirmation", "deleted-row", "extra-row", "setting", "null"],
)
def test_each_kind_of_edit_is_reported(entry, statements, expected):
    ledger, full_entry = entry
    sql(ledger.db, *statements)
    err, _ = verify_fails(ledger)
    assert expected.format(eid=full_entry) in err


def test_extra_and_missing_rows_of_a_composite_key(entry):
    ledger, full_entry = entry
    sql(ledger.db, "INSERT INTO score (entry_id, member, marks) VALUES (?, 'Người lạ', '{}')", params=(full_entry,))
    sql(ledger.db, "DELETE FROM score WHERE member = 'Nguyễn Văn An'")
    err, data = verify_fails(ledger)
    assert f"Điểm {full_entry} / Người lạ: sổ có dòng này" in err
    assert f"Điểm {full_entry} / Nguyễn Văn An: lịch sử ghi có dòng này nhưng sổ không còn" in err
    assert sorted(p["kind"] for p in data["problems"]) == ["extra", "missing"]


def test_a_decision_changed_behind_dvk(cycle):
    d, eid, _ = cycle
    sql(d.db, "UPDATE decision SET number = 9 WHERE revoked = 0",
        "UPDATE outcome SET recognized = 0")
    err, _ = verify_fails(d)
    assert "Quyết định #2 / số quyết định: lịch sử ghi 4, sổ hiện ghi 9" in err
    assert f"Kết quả công nhận của {eid} theo quyết định #2 / được công nhận: lịch sử ghi có, sổ hiện ghi không" in err


@pytest.mark.parametrize(
    "statements,expected",
    [
        (["UPDATE history SET user = 'kẻ gian' WHERE id = 3"],
         "Bản ghi lịch sử #3 ({when}, kẻ gian, “dvk units add"),
        (["UPDATE change SET data = replace(data, 'Chăm lo', 'Chăm sóc') WHERE op = 'insert' AND table_name = 'entry'"],
         "mã kiểm tra không khớp với nội dung"),
        (["DELETE FROM change WHERE history_id = 2"], "Bản ghi lịch sử #2 ("),
        (["DELETE FROM history WHERE id = 4"], "Thiếu bản ghi lịch sử #4 (trước Bản ghi lịch sử #5"),
        (["DELETE FROM history WHERE id IN (3, 4)"], "Thiếu bản ghi lịch sử #3–#4"),
        (["UPDATE history SET prev_hash = hash WHERE id = 2"], "Bản ghi lịch sử #2 ("),
        (["UPDATE change SET history_id = 'sau' WHERE history_id = (SELECT max(id) FROM history)"],
         "thay đổi thuộc bản ghi lịch sử #sau không tồn tại"),
    ],
    ids=["record-field", "change-data", "deleted-changes", "deleted-record", "deleted-records", "relinked",
         "record-id-as-text"],
)
def test_history_edits_break_the_chain(entry, statements, expected):
    ledger, full_entry = entry
    sql(ledger.db, "PRAGMA foreign_keys = OFF", *statements)
    err, data = verify_fails(ledger)
    import datetime as dt

    con = sqlite3.connect(ledger.db)
    at = con.execute("SELECT at FROM history WHERE id = 3").fetchone()
    con.close()
    when = dt.datetime.fromisoformat(at[0]).astimezone().strftime("%d/%m/%Y %H:%M") if at else ""
    assert expected.format(when=when) in err
    assert any(p["kind"] == "chain" for p in data["problems"])


@pytest.mark.parametrize("table", ["confirmation", "change", "history"])
def test_a_dropped_table_is_reported(entry, table):
    ledger, _ = entry
    sql(ledger.db, "PRAGMA foreign_keys = OFF", f'DROP TABLE "{table}"')
    err, data = verify_fails(ledger)
    assert f"Bảng “{table}”" in err and "không còn trong sổ" in err


def test_changes_of_a_deleted_record_are_orphans(entry):
    ledger, full_entry = entry
    con = sqlite3.connect(ledger.db)
    last = con.execute("SELECT max(id) FROM history").fetchone()[0]
    con.close()
    sql(ledger.db, "PRAGMA foreign_keys = OFF", f"DELETE FROM history WHERE id = {last}")
    err, _ = verify_fails(ledger)
    assert f"thay đổi thuộc bản ghi lịch sử #{last} không tồn tại" in err


def test_rewriting_one_record_consistently_still_breaks_the_link_to_the_next(entry):
    """Someone who edits a score, its recorded change and that record's hash is caught by the next record
    (the last record has no next one: that is what the printed "mã kiểm tra cuối" anchors)."""
    ledger, full_entry = entry
    from dvk.ledger.history import change_line, record_hash

    ledger("units", "add", "MOI", "Công đoàn mới")
    con = sqlite3.connect(ledger.db)
    hid, seq, key, data = con.execute(
        "SELECT history_id, seq, row_key, data FROM change WHERE table_name = 'score'").fetchone()
    data2 = data.replace('\\"G2\\":9', '\\"G2\\":10')
    assert data2 != data
    con.execute("UPDATE score SET marks = replace(marks, '\"G2\":9', '\"G2\":10')")
    con.execute("UPDATE change SET data = ? WHERE history_id = ? AND seq = ?", (data2, hid, seq))
    h = dict(zip(["id", "at", "user", "command", "summary", "n_changes", "prev_hash"], con.execute(
        "SELECT id, at, user, command, summary, n_changes, prev_hash FROM history WHERE id = ?", (hid,)).fetchone()))
    import hashlib

    digest = hashlib.sha256()
    for s, t, k, op, dd in con.execute("SELECT seq, table_name, row_key, op, data FROM change "
                                       "WHERE history_id = ? ORDER BY seq", (hid,)):
        digest.update(change_line(s, t, k, op, dd))
    con.execute("UPDATE history SET hash = ? WHERE id = ?", (record_hash(h["prev_hash"], h, digest.hexdigest()), hid))
    con.commit()
    con.close()
    err, data = verify_fails(ledger)
    assert f"Bản ghi lịch sử #{hid + 1} (" in err and f"không nối với bản ghi trước (#{hid})" in err
    assert len(data["problems"]) == 1


def test_problems_are_listed_all_at_once_and_capped(entry):
    ledger, full_entry = entry
    from dvk.ledger import findings as v

    rows = [(f"X{i:05d}", f"Đơn vị lạ {i}", None, 100 + i, "CDN") for i in range(v.MAX_KEPT + 50)]
    con = sqlite3.connect(ledger.db)
    con.executemany("INSERT INTO unit VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    data = json.loads(ledger("verify", "--json", ok=False).stdout)
    assert data["n_problems"] == v.MAX_KEPT + 50 and len(data["problems"]) == v.MAX_KEPT
    err = ledger.fails("verify").stderr
    assert "Đơn vị X00000: sổ có dòng này" in err and "Sổ có 1.050 chỗ không khớp" in err


def test_verify_reads_only(entry):
    ledger, full_entry = entry
    from conftest import ledger_dump

    sql(ledger.db, "UPDATE entry SET title = 'x'")
    before = ledger_dump(ledger.db)
    ledger.fails("verify")
    assert ledger_dump(ledger.db) == before


def test_demo_ledger_verifies(demo_ledger):
    """Every write path the demo takes (units import, registrations, scoring, recognition…) goes through
    the history. (Exports record their documents too: test_crash verifies a ledger after an export.)"""
    from typer.testing import CliRunner

    from dvk.cli import app

    db, _ = demo_ledger  # demo.build(db, user="kiểm thử", echo=…), built once per session
    res = CliRunner().invoke(app, ["verify", "--db", str(db)], catch_exceptions=False)
    assert res.exit_code == 0 and res.stdout.startswith("Sổ toàn vẹn"), res.stderr


# ---------------------------------------------------------------- keys, orders, sorts

def test_keys_that_order_differently_by_column_and_by_spelling_verify(dvk, tmp_path):
    db = tmp_path / "odd.sqlite"
    build_odd_keys_ledger(db)
    d = Dvk(db)
    data = json.loads(d("verify", "--json").stdout)
    assert data["ok"] is True, data["problems"][:5]
    assert data["rows"] == 1 + 6 + (18 - 1) + 6 + 12 + 18 + _settings_rows(db)


def _settings_rows(db) -> int:
    """The rows init_ledger writes besides the test's own (settings, organisation, profile, criteria)."""
    con = sqlite3.connect(db)
    try:
        return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                   for t in ("meta", "org", "org_profile", "criteria_set"))
    finally:
        con.close()


@pytest.mark.parametrize("statements,expected", [
    ([], []),
    (["INSERT INTO score VALUES ('E|Lê', 'Văn', '{}', NULL)"],  # spells the key of ("E", "Lê|Văn")
     [("extra", "E|Lê|Văn")]),
    (["INSERT INTO score VALUES ('E0', 'An', '{}', NULL)"], [("extra", "E0|An")]),  # its history deleted it
    (["DELETE FROM score WHERE entry_id = 'E1' AND member = 'Lê'"], [("missing", "E1|Lê")]),  # written again
    (["UPDATE score SET marks = '{\"G1\":7}' WHERE entry_id = 'E' AND member = 'Lê|Văn'"],
     [("differs", "E|Lê|Văn")]),
    (["DELETE FROM outcome WHERE decision_id = 10 AND entry_id = 'E~'",
      "INSERT INTO outcome VALUES (11, 'E~', 1, 90.0, '[]')"], [("extra", "11|E~"), ("missing", "10|E~")]),
    (["UPDATE council_member SET ordinal = 7 WHERE year = 999 AND member = 'An'"], [("differs", "CDN|999|An")]),
    (["INSERT INTO council_member VALUES (998, 'An', NULL, NULL, 'member', 0, 'CDN')"],
     [("extra", "CDN|998|An")]),
    (["DELETE FROM decision WHERE id = 10"], [("missing", "10")]),
    (["UPDATE change SET row_key = '010|E~' WHERE table_name = 'outcome' AND row_key = '10|E~'"],  # a number
     [("extra", "10|E~"), ("missing", "010|E~")]),  # spelled otherwise names no row (the chain breaks too)
    (["UPDATE change SET history_id = 'sau' WHERE table_name = 'score' AND row_key = 'E1|Lê' AND op = 'delete'"],
     [("extra", "E1|Lê")]),  # text after numbers: the delete is now the latest change of that sheet
    (["UPDATE change SET seq = x'00', history_id = (SELECT max(history_id) FROM change WHERE table_name = 'score' "
      "AND row_key = 'E1|Lê') WHERE table_name = 'score' AND row_key = 'E1|Lê' AND op = 'delete'"],
     [("extra", "E1|Lê")]),  # bytes after numbers, within the same record
    (["UPDATE score SET total = CAST('x' AS BLOB) WHERE entry_id = 'E' AND member = 'An'",
      "UPDATE entry SET title = CAST(title AS BLOB) WHERE id = 'E'"],
     [("differs", "E"), ("differs", "E|An")]),  # bytes (the same text, for the title)
    (["UPDATE score SET marks = CAST(marks AS BLOB) WHERE entry_id = 'E10' AND member = 'An'"],
     [("differs", "E10|An")]),  # a JSON column's text as bytes: the same JSON, not the same value
    (["UPDATE entry SET late = 2 WHERE id = 'E0'"], [("differs", "E0")]),  # a boolean column holding 2
    (["UPDATE change SET data = json_set(data, '$.late', '0') WHERE table_name = 'entry' AND row_key = 'E0'"],
     [("differs", "E0")]),  # a history state holding the text "0" where the row holds false
    (["UPDATE change SET data = json_remove(data, '$.note') WHERE table_name = 'entry' AND row_key = 'E~'"], []),
    # a state recorded before a column existed: its default (NULL) stands for it
    (["UPDATE change SET op = 'delete' WHERE table_name = 'entry' AND row_key = 'E~'"], [("extra", "E~")]),
    # the row's one change made a delete that still holds the row's state
], ids=["clean", "spelling-collision", "deleted-then-back", "missing-after-rewrite", "differs", "outcome-moved",
        "three-part-key", "three-part-extra", "integer-key", "key-spelled-otherwise", "record-id-as-text",
        "seq-as-bytes", "bytes", "json-as-bytes", "boolean-two", "history-text-for-boolean", "state-without-a-column",
        "delete-holding-the-row"])
@pytest.mark.parametrize("way", ["sqlite-json", "row-by-row"])
def test_edits_of_rows_whose_keys_order_differently_are_found(dvk, tmp_path, monkeypatch, statements, expected, way):
    """Both ways of comparing on SQLite find the same: SQLite passing over the rows it shows equal to their one
    change (`_shown_equal`), and every row compared in Python (a SQLite without its JSON functions)."""
    from dvk.ledger import replay
    from dvk.ledger.sqlite import Ledger
    from dvk.ledger.verify import verify

    db = tmp_path / "odd.sqlite"
    build_odd_keys_ledger(db)
    sql(db, *statements)
    if way == "row-by-row":
        monkeypatch.setattr(replay, "_json_functions", lambda conn: False)
    led = Ledger.open(db)
    try:
        report = verify(led)
    finally:
        led.close()
    found = sorted((p.kind, p.key) for p in report.problems if p.kind != "chain")
    assert found == sorted(expected), report.problems[:5]
    assert report.ok is (not statements)


def test_verify_reads_every_table_without_a_sort(demo_ledger):
    """Linear at any size and no temporary sort files: every query verify sends SQLite on a ledger table is
    read in an index's order (the demo holds every kind of key: one text column, two and three columns, a
    number)."""
    from dvk.ledger.sqlite import Ledger
    from dvk.ledger.verify import verify

    db, _ = demo_ledger
    led = Ledger.open(db)
    sent: list[str] = []
    try:
        led.raw().set_trace_callback(sent.append)
        report = verify(led)
    finally:
        led.close()
    assert report.ok and report.rows > 500
    reads = [q for q in sent if q.lstrip().upper().startswith("SELECT") and "sqlite_master" not in q]
    con = sqlite3.connect(db)
    try:
        plans = {q: [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + q)] for q in reads}
    finally:
        con.close()
    joined = [q for q in reads if "LEFT OUTER JOIN" in q]
    assert {q.split("LEFT OUTER JOIN ")[1].split()[0] for q in joined} >= {"score", "outcome", "council_member",
                                                                           "decision", "decision_unit"}
    sorted_ = {q[:120]: p for q, p in plans.items() if any("TEMP B-TREE" in step for step in p)}
    assert not sorted_, sorted_


# ---------------------------------------------------------------- bounded memory

BUILD = textwrap.dedent("""
    import datetime as dt, json, sys
    from pathlib import Path
    from dvk.cycle.setup import init_ledger
    from dvk.ledger.sqlite import Ledger
    p, n = Path(sys.argv[1]), int(sys.argv[2])
    led, _ = init_ledger(p, user="t", profile={}, criteria_file=None)
    marks = json.dumps({"G1": 8, "G2": 9})
    with led.write(user="t", command="bulk") as tx:
        tx.insert("unit", {"code": "U", "name": "Đơn vị", "committee": None, "ordinal": 1, "org_code": "CDN"})
        for start in range(0, n, 20000):
            ents = [{"id": f"2024-{i:06d}", "year": 2024, "seq": i, "unit_code": "U", "title": f"Mô hình {i}",
                     "kind": "model", "subject": "collective", "field": 1, "registered_on": dt.date(2024, 2, 10),
                     "match_key": f"u|{i}", "org_code": "CDN"} for i in range(start + 1, min(n, start + 20000) + 1)]
            tx.insert_many("entry", ents)
            tx.insert_many("score", [{"entry_id": e["id"], "member": "An", "marks": marks} for e in ents])
    led.close()
""")
MEASURE = textwrap.dedent("""
    import resource, sys
    from dvk.ledger.sqlite import Ledger
    from dvk.ledger.verify import verify
    led = Ledger.open(sys.argv[1])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = verify(led)
    assert r.ok, r.details()[:5]
    print(r.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
""")


@pytest.mark.slow
def test_memory_stays_bounded_as_the_ledger_grows(tmp_path):
    """Peak memory of verify on 10× the rows grows by far less than the data (streamed merge, no dicts)."""
    grown = {}
    for n in (1_000, 10_000):
        db = tmp_path / f"big-{n}.sqlite"
        subprocess.run([sys.executable, "-c", BUILD, str(db), str(n)], check=True)
        out = subprocess.run([sys.executable, "-c", MEASURE, str(db)], check=True, capture_output=True,
                             text=True).stdout.split()
        assert int(out[0]) >= 2 * n
        grown[n] = int(out[1])  # KiB
    # 18,000 more rows (~5 MB of data and history; ~25 MB as Python dicts) may cost only a few MB.
    assert grown[10_000] - grown[1_000] < 6 * 1024, grown


def test_record_inserted_matches_insert_many(tmp_path):
    """The public bulk-recording path leaves the same rows and changes as insert_many, and a sound chain."""
    from dvk.cycle.setup import init_ledger
    from dvk.ledger.history import canonical, row_key
    from dvk.ledger.verify import verify

    rows = [{"code": f"U{i}", "name": f"Đơn vị {i}", "committee": None, "ordinal": i, "org_code": "CDN"}
            for i in range(5)]
    seen = []
    for how in ("insert_many", "record_inserted"):
        led, _ = init_ledger(tmp_path / f"{how}.sqlite", user="t", profile={}, criteria_file=None)
        with led:
            with led.write(user="t", command="c", summary="s") as tx:
                if how == "insert_many":
                    tx.insert_many("unit", rows)
                else:
                    tx.conn.exec_driver_sql("INSERT INTO unit VALUES (?, ?, ?, ?, ?)",
                                            [tuple(r.values()) for r in rows])
                    tx.record_inserted("unit", [(row_key("unit", r), canonical(r)) for r in rows])
            assert verify(led).ok
            with led.read() as conn:
                seen.append(conn.exec_driver_sql("SELECT seq, row_key, op, data FROM change WHERE history_id = "
                                                 "(SELECT max(id) FROM history) ORDER BY seq").fetchall())
                seen.append(conn.exec_driver_sql("SELECT * FROM unit ORDER BY code").fetchall())
    assert seen[0] == seen[2] and seen[1] == seen[3] and len(seen[0]) == 5


@pytest.mark.parametrize("which", ["odd keys", "demo"])
def test_sqlite_passes_over_every_row_its_one_change_shows(which, request, tmp_path, monkeypatch):
    """What makes verify fast on SQLite: a row with one change that is exactly the row (keys sorted,
    booleans false/true, numbers and dates as the history writes them) never reaches Python; only rows
    changed more than once are compared there. Booleans (a decision's `revoked`, an outcome's
    `recognized`), numbers, dates and text of every table of a real cycle are covered."""
    from dvk.ledger import replay
    from dvk.ledger.sqlite import Ledger
    from dvk.ledger.verify import verify

    if which == "demo":
        db = request.getfixturevalue("demo_ledger")[0]  # the test's own copy
    else:
        db = tmp_path / "odd.sqlite"
        build_odd_keys_ledger(db)
    con = sqlite3.connect(db)
    try:
        counts = {(t, k): n for t, k, n in con.execute("SELECT table_name, row_key, count(*) FROM change "
                                                        "GROUP BY table_name, row_key")}
    finally:
        con.close()
    single = {tk for tk, n in counts.items() if n == 1}
    assert {t for t, _ in single} >= {"entry", "decision", "outcome", "score"}  # booleans among them
    reached = []
    check = replay._Rows.check
    monkeypatch.setattr(replay._Rows, "check", lambda self, key, *a: reached.append((self.name, key))
                        or check(self, key, *a))
    led = Ledger.open(db)
    try:
        report = verify(led)
    finally:
        led.close()
    assert report.ok, report.problems[:5]
    assert [tk for tk in reached if counts[tk] == 1] == []
    assert reached and len(reached) == len(set(reached))  # the rows changed more than once, each once
