"""Every level of the union (issue 14): organisations in one ledger, proposals upward, `status --tree`,
packages between ledgers. Through the CLI, on real ledger files and real package files."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from conftest import ASPECTS, FULL, Dvk


def _recognised_group_entry(d: Dvk, org: str | None, unit: str, title: str, number: int = 3) -> str:
    """Register an entry of `unit`, report, confirm, score it and recognise the year 2024 of `org`."""
    o = ["--org", org] if org else []
    eid = d("register", *o, "--year", "2024", "--unit", unit, "--title", title, "--field", "2",
            "--date", "10/02/2024").stdout.strip()
    d("report", eid, *ASPECTS)
    d("confirm", eid, "--by", "Bí thư Lê Văn Cường")
    d("score", eid, "--member", "Nguyễn Văn An", *FULL)
    d("recognize", *o, "--year", "2024", "--number", str(number), "--date", "15/10/2024")
    return eid


def _history(db: Path) -> tuple[int, str]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*), max(hash) FROM history").fetchone()[0], \
            con.execute("SELECT hash FROM history ORDER BY id DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()


def test_two_levels_in_one_ledger_forward_show_and_status_tree(dvk):
    dvk("init")
    orgs = json.loads(dvk("org", "list", "--json").stdout)
    assert [(o["code"], o["parent"], o["level"]) for o in orgs] == [("CDN", None, "sector")]
    dvk("org", "add", "CDCS_BV", "--name", "Công đoàn cơ sở Bệnh viện Đa khoa", "--parent", "CDN",
        "--level", "grassroots", "--committee", "Đảng ủy Bệnh viện Đa khoa")
    dvk("org", "add", "TO_NOI", "--name", "Tổ công đoàn Khoa Nội", "--parent", "CDCS_BV", "--level", "group",
        "--committee", "Chi bộ Khoa Nội")
    tree = json.loads(dvk("org", "list", "--tree", "--json").stdout)
    assert [(o["code"], o["depth"]) for o in tree] == [("CDN", 0), ("CDCS_BV", 1), ("TO_NOI", 2)]
    # A child is a unit of its parent, same code.
    units = json.loads(dvk("units", "list", "--org", "CDN", "--json").stdout)
    assert [u["code"] for u in units] == ["CDCS_BV"]
    # With several organisations a cycle command asks which one, naming the codes.
    res = dvk.fails("list", "--year", "2024")
    assert "CDN, CDCS_BV, TO_NOI" in res.stderr and "--org" in res.stderr

    eid = _recognised_group_entry(dvk, "CDCS_BV", "TO_NOI", "Tổ tự quản an toàn lao động")
    assert eid.startswith("CDCS_BV-2024-")
    out = dvk("forward", "--year", "2024", "--org", "CDCS_BV", eid).stdout
    upper = json.loads(dvk("list", "--org", "CDN", "--year", "2024", "--json").stdout)
    assert len(upper) == 1 and upper[0]["unit"] == "CDCS_BV"
    up_id = upper[0]["id"]
    assert up_id in out
    assert (eid, up_id) == ("CDCS_BV-2024-001", "2024-001"), "each organisation numbers its own entries"
    # Twice is refused, with the reason; nothing changes.
    before = _history(dvk.db)
    res = dvk.fails("forward", "--year", "2024", "--org", "CDCS_BV", eid)
    assert "không đề nghị hai lần" in res.stderr and up_id in res.stderr
    assert _history(dvk.db) == before

    # The sector union scores and recognises it in its own cycle, numbered in its own series; its
    # recognition needs the confirmation of the Party committee at the CĐCS's level (the group's was carried).
    dvk("confirm", up_id, "--by", "Bí thư Phạm Văn Dũng")
    dvk("score", up_id, "--member", "Trần Thị Bình", *FULL)
    dvk("recognize", "--org", "CDN", "--year", "2024", "--number", "1", "--date", "20/10/2024")
    low = json.loads(dvk("show", eid, "--json").stdout)
    high = json.loads(dvk("show", up_id, "--json").stdout)
    assert low["status"] == high["status"] == "recognized"
    assert low["forwarded_to"] == [{"entry": up_id, "org": "CDN", "year": 2024}]
    came = high["forwarded_from"]
    assert came["org"] == "CDCS_BV" and came["entry"] == eid and came["ledger"] is None
    assert "03/QĐ-CDCS_BV" in came["decision"] and came["score"] is not None
    assert high["report"]["approach"] == low["report"]["approach"]
    text = dvk("show", up_id).stdout
    assert "Đề nghị từ" in text and eid in text
    assert up_id in dvk("show", eid).stdout

    st = json.loads(dvk("status", "--year", "2024", "--tree", "--json").stdout)
    by = {r["org"]: r for r in st}
    assert [r["org"] for r in st] == ["CDN", "CDCS_BV", "TO_NOI"]
    assert by["CDN"]["counts"]["recognized"] == 1 and by["CDCS_BV"]["counts"]["recognized"] == 1
    assert by["CDN"]["below"]["registered"] == 2 and by["CDCS_BV"]["forwarded"] == 1
    sub = json.loads(dvk("status", "--year", "2024", "--tree", "--org", "CDCS_BV", "--json").stdout)
    assert [r["org"] for r in sub] == ["CDCS_BV", "TO_NOI"] and sub[0]["counts"] == by["CDCS_BV"]["counts"]
    assert "Sổ toàn vẹn" in dvk("verify").stdout


def test_forward_refuses_an_entry_not_recognised(dvk, tmp_path):
    dvk("init")
    dvk("org", "add", "CDCS_A", "--name", "Công đoàn cơ sở A", "--parent", "CDN", "--level", "grassroots")
    dvk("units", "add", "--org", "CDCS_A", "TO1", "Tổ công đoàn 1")
    eid = dvk("register", "--org", "CDCS_A", "--year", "2024", "--unit", "TO1", "--title", "Chưa xét",
              "--field", "1", "--date", "10/02/2024").stdout.strip()
    res = dvk.fails("forward", "--year", "2024", "--org", "CDCS_A", eid)
    assert eid in res.stderr and "chưa có quyết định công nhận" in res.stderr
    listed = tmp_path / "de-nghi.txt"
    listed.write_text(f"Mã đề nghị:\n{eid.lower()}\n", encoding="utf-8")  # as a clerk may type it
    res = dvk.fails("forward", "--year", "2024", "--org", "CDCS_A", "--from", str(listed))
    assert eid in res.stderr and "chưa có quyết định công nhận" in res.stderr
    assert "cấp cao nhất" in dvk.fails("forward", "--year", "2024", "--org", "CDN", eid).stderr
    assert json.loads(dvk("list", "--org", "CDN", "--year", "2024", "--json").stdout) == []


def test_a_package_from_a_separate_ledger_received_twice_and_a_tampered_copy(tmp_path):
    low = Dvk(tmp_path / "cdcs.sqlite")
    low("init", "--name", "Công đoàn cơ sở Bệnh viện Nhi", "--symbol", "CĐCS", "--code", "CDCS_NHI",
        "--level", "grassroots")
    low("units", "add", "TO1", "Tổ công đoàn Khoa Sơ sinh", "--committee", "Chi bộ Khoa Sơ sinh")
    eid = _recognised_group_entry(low, None, "TO1", "Chăm sóc bà mẹ và trẻ sơ sinh")
    pkg = tmp_path / "nhi-2024.dvkpkg"
    low("package", "--year", "2024", "--out", str(pkg))
    assert "--force" in low.fails("package", "--year", "2024", "--out", str(pkg)).stderr

    up = Dvk(tmp_path / "nganh.sqlite")
    up("init")
    before = _history(up.db)
    res = up.fails("receive", str(pkg))
    assert "CDCS_NHI" in res.stderr and _history(up.db) == before  # no such unit: refused, naming the code
    up("units", "add", "CDCS_NHI", "Công đoàn cơ sở Bệnh viện Nhi")
    before = _history(up.db)
    dry = up("receive", str(pkg), "--dry-run").stdout
    assert "Sẽ thêm 1" in dry and _history(up.db) == before
    up("receive", str(pkg))
    rows = json.loads(up("list", "--year", "2024", "--json").stdout)
    assert [r["unit"] for r in rows] == ["CDCS_NHI"]
    shown = json.loads(up("show", rows[0]["id"], "--json").stdout)
    assert shown["forwarded_from"]["entry"] == eid and shown["forwarded_from"]["ledger"]
    assert shown["confirmation"] is not None and shown["report"] is not None
    once = _history(up.db)
    con = sqlite3.connect(up.db)
    [(recorded,)] = con.execute("SELECT summary FROM history ORDER BY id DESC LIMIT 1").fetchall()
    con.close()
    manifest = zipfile.ZipFile(pkg).read("manifest.json")
    import hashlib
    assert hashlib.sha256(manifest).hexdigest() in recorded
    # The same package again: nothing changes (history count and last hash).
    assert "không thay đổi" in up("receive", str(pkg)).stdout
    assert _history(up.db) == once

    # A tampered copy is refused, naming the part.
    bad = tmp_path / "bad.dvkpkg"
    with zipfile.ZipFile(pkg) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "forwarded.json":
                data = data.replace("Chăm sóc".encode(), "Chăm lo".encode())
            zout.writestr(info.filename, data)
    res = up.fails("receive", str(bad))
    assert "forwarded.json" in res.stderr and "SHA-256" in res.stderr
    assert _history(up.db) == once
    assert "Sổ toàn vẹn" in up("verify").stdout


def test_a_zip_bomb_and_odd_names_are_refused(tmp_path, dvk):
    dvk("init")
    bomb = tmp_path / "bomb.dvkpkg"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", b"{}")
        z.writestr("forwarded.json", b"0" * (40 * 1024 * 1024))
    res = dvk.fails("receive", str(bomb))
    assert "forwarded.json" in res.stderr and "quá lớn" in res.stderr
    odd = tmp_path / "odd.dvkpkg"
    with zipfile.ZipFile(odd, "w") as z:
        z.writestr("../../etc/passwd", b"x")
    assert "phần lạ" in dvk.fails("receive", str(odd)).stderr


def _docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def test_a_grassroots_decision_uses_its_award_groups_committee_and_recipients(dvk, tmp_path):
    dvk("init")
    dvk("org", "add", "CDCS_BV", "--name", "Công đoàn cơ sở Bệnh viện Đa khoa Đồng Nai", "--parent", "CDN",
        "--level", "grassroots", "--committee", "Đảng ủy Bệnh viện Đa khoa Đồng Nai", "--symbol", "CĐCS",
        "--signer", "Nguyễn Thị Hoa")
    dvk("org", "add", "TO_NOI", "--name", "Tổ công đoàn Khoa Nội", "--parent", "CDCS_BV", "--level", "group",
        "--committee", "Chi bộ Khoa Nội")
    _recognised_group_entry(dvk, "CDCS_BV", "TO_NOI", "Tổ tự quản an toàn lao động")
    out = tmp_path / "out"
    out.mkdir()
    dvk("export", "--org", "CDCS_BV", "--year", "2024", "--out", str(out))
    text = _docx_text(out / "quyet-dinh-cong-nhan-2024.docx")
    assert "Số: 03/QĐ-CĐCS" in text and "BAN CHẤP HÀNH" in text.upper() and "Nguyễn Thị Hoa" in text
    assert "được tặng Giấy khen của Công đoàn cơ sở Bệnh viện Đa khoa Đồng Nai" in text
    assert "các tổ công đoàn trực thuộc" in text and "Tổ công đoàn Khoa Nội" in text
    assert "Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai (b/c)" in text
    assert "Đảng ủy Bệnh viện Đa khoa Đồng Nai (b/c)" in text
    # The award is the profile's, not a year's constant: changed from a year on, earlier years keep theirs.
    dvk("org", "set", "--org", "CDCS_BV", "--from-year", "2025", "--award", "Giấy công nhận")
    shown = json.loads(dvk("org", "show", "--org", "CDCS_BV", "--json").stdout)
    assert [p.get("award") for p in shown] == ["Giấy khen", "Giấy công nhận"]


@pytest.mark.sqlite_only("upgrades the committed SQLite fixture files (a server ledger is created at the head)")
def test_committed_fixtures_upgrade_to_a_one_organisation_tree(dvk):
    fixtures = Path(__file__).parents[1] / "fixtures"
    for f in sorted(fixtures.glob("ledger-*.sqlite")):
        dvk.db.write_bytes(f.read_bytes())
        for extra in ("-wal", "-shm"):
            Path(f"{dvk.db}{extra}").unlink(missing_ok=True)
        orgs = json.loads(dvk("org", "list", "--json").stdout)
        assert len(orgs) == 1 and orgs[0]["parent"] is None and orgs[0]["code"] == "CDN", f.name
        con = sqlite3.connect(dvk.db)
        nulls = sum(con.execute(f"SELECT count(*) FROM {t} WHERE org_code IS NULL").fetchone()[0]
                    for t in ("unit", "entry", "decision", "document", "org_profile", "criteria_set"))
        con.close()
        assert nulls == 0, f.name
        assert "Sổ toàn vẹn" in dvk("verify").stdout, f.name


def test_the_demo_has_a_second_level_sending_two_entries_in_a_package(tmp_path, dvk):
    out = tmp_path / "demo"
    dvk("demo", "--out", str(out))
    d = Dvk(out / "dvk-demo.sqlite")
    rows = json.loads(d("list", "--year", "2026", "--json").stdout)
    came = [r for r in rows if json.loads(d("show", r["id"], "--json").stdout)["forwarded_from"]]
    assert len(came) == 2 and {r["unit"] for r in came} == {"BVDKDN"}
    assert all(r["status"] == "recognized" for r in came)
    link = json.loads(d("show", came[0]["id"], "--json").stdout)["forwarded_from"]
    assert link["ledger"] and link["package"] and "QĐ-CĐCS" in link["decision"]
    cdcs = Dvk(out / "dvk-demo-cdcs.sqlite")
    orgs = json.loads(cdcs("org", "list", "--json").stdout)
    assert [(o["code"], o["level"]) for o in orgs] == [("BVDKDN", "grassroots")]
    assert "Sổ toàn vẹn" in cdcs("verify").stdout and "Sổ toàn vẹn" in d("verify").stdout
    assert _docx_text(out / "quyet-dinh-cong-nhan-2026.docx").count("Đơn vị đề nghị (QĐ số 02/QĐ-CĐCS)") == 2
    text = _docx_text(out / "cdcs" / "quyet-dinh-cong-nhan-2026.docx")
    assert "được tặng Giấy khen của Công đoàn cơ sở Bệnh viện Đa khoa Đồng Nai" in text
    assert "Đảng ủy Bệnh viện Đa khoa Đồng Nai (b/c)" in text
    # Received again (the package is in the demo folder): nothing changes.
    con = sqlite3.connect(d.db)
    before = con.execute("SELECT count(*), max(id) FROM history").fetchone()
    con.close()
    assert "không thay đổi" in d("receive", str(out / "cdcs-BVDKDN-2026.dvkpkg")).stdout
    con = sqlite3.connect(d.db)
    assert con.execute("SELECT count(*), max(id) FROM history").fetchone() == before
    con.close()


def test_a_package_with_consistent_hashes_but_bad_data_is_refused_naming_the_entry(tmp_path):
    import hashlib

    low = Dvk(tmp_path / "cdcs.sqlite")
    low("init", "--name", "Công đoàn cơ sở Bệnh viện Nhi", "--symbol", "CĐCS", "--code", "CDCS_NHI",
        "--level", "grassroots")
    low("units", "add", "TO1", "Tổ công đoàn Khoa Sơ sinh", "--committee", "Chi bộ Khoa Sơ sinh")
    eid = _recognised_group_entry(low, None, "TO1", "Chăm sóc trẻ sơ sinh")
    pkg = tmp_path / "p.dvkpkg"
    low("package", "--year", "2024", "--out", str(pkg))
    # Rewritten by someone who also fixes the hashes: a control character in the title, field 9.
    with zipfile.ZipFile(pkg) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    fwd = json.loads(parts["forwarded.json"])
    fwd[0]["entry"]["title"] = "Chăm sóc\x1b[2J trẻ"
    fwd[0]["entry"]["field"] = 9
    parts["forwarded.json"] = json.dumps(fwd, ensure_ascii=False).encode()
    manifest = json.loads(parts["manifest.json"])
    manifest["parts"]["forwarded.json"] = hashlib.sha256(parts["forwarded.json"]).hexdigest()
    parts["manifest.json"] = json.dumps(manifest).encode()
    bad = tmp_path / "bad.dvkpkg"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    up = Dvk(tmp_path / "nganh.sqlite")
    up("init")
    up("units", "add", "CDCS_NHI", "Công đoàn cơ sở Bệnh viện Nhi")
    before = _history(up.db)
    res = up.fails("receive", str(bad))
    assert eid in res.stderr and "lĩnh vực" in res.stderr and "ký tự điều khiển" in res.stderr
    assert _history(up.db) == before


def test_a_changed_resent_package_is_a_conflict_unless_update(tmp_path):
    low = Dvk(tmp_path / "cdcs.sqlite")
    low("init", "--name", "Công đoàn cơ sở Bệnh viện Nhi", "--symbol", "CĐCS", "--code", "CDCS_NHI",
        "--level", "grassroots")
    low("units", "add", "TO1", "Tổ công đoàn Khoa Sơ sinh", "--committee", "Chi bộ Khoa Sơ sinh")
    eid = _recognised_group_entry(low, None, "TO1", "Chăm sóc trẻ sơ sinh")
    first = tmp_path / "lan-1.dvkpkg"
    low("package", "--year", "2024", "--out", str(first))
    up = Dvk(tmp_path / "nganh.sqlite")
    up("init")
    up("units", "add", "CDCS_NHI", "Công đoàn cơ sở Bệnh viện Nhi")
    up("receive", str(first))
    [row] = json.loads(up("list", "--year", "2024", "--json").stdout)
    # The CĐCS revokes, corrects the report, confirms and decides again, and sends a new package.
    low("recognize", "--revoke", "--year", "2024", "--reason", "Sửa báo cáo")
    low("report", eid, "--approach", "Cách làm đã sửa", "--force")
    low("confirm", eid, "--by", "Bí thư Lê Văn Cường")
    low("recognize", "--year", "2024", "--number", "4", "--date", "16/10/2024")
    second = tmp_path / "lan-2.dvkpkg"
    low("package", "--year", "2024", "--out", str(second))
    before = _history(up.db)
    res = up.fails("receive", str(second))
    assert eid in res.stderr and "--update" in res.stderr and row["id"] in res.stderr
    assert _history(up.db) == before
    up("receive", str(second), "--update")
    shown = json.loads(up("show", row["id"], "--json").stdout)
    assert shown["report"]["approach"] == "Cách làm đã sửa" and "04/QĐ-CĐCS" in shown["forwarded_from"]["decision"]
    assert "04/QĐ-CĐCS" in shown["note"]
    assert len(json.loads(up("list", "--year", "2024", "--json").stdout)) == 1
    assert "Sổ toàn vẹn" in up("verify").stdout
