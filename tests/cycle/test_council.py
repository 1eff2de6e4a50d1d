"""The council of a year (issue 13): members, conflicts of interest, abstentions, the review — through the CLI."""

from __future__ import annotations

import json

import pytest

from conftest import ASPECTS, FULL, ledger_dump

LOW = ["G1=5", "G2=5", "G3=5", "G4=5", "G5=5", "S1=5", "S2=5", "S3=na", "S4=5", "S5=5", "S6=5"]
HIGH = ["G1=10", "G2=10", "G3=10", "G4=10", "G5=10", "S1=10", "S2=10", "S3=na", "S4=10", "S5=10", "S6=10"]


def council(dvk, *args, ok=True):
    """`dvk council SUB --db … ARGS` (the shared helper puts --db after the first word only)."""
    return dvk("council", args[0], "--db", str(dvk.db), *args[1:], ok=ok)


def council_fails(dvk, *args, code=1):
    return dvk.fails("council", args[0], "--db", str(dvk.db), *args[1:], code=code)


def register(dvk, unit: str, title: str) -> str:
    eid = dvk("register", "--year", "2026", "--unit", unit, "--title", title, "--field", "1",
              "--date", "10/02/2026").stdout.strip()
    dvk("report", eid, *ASPECTS)
    dvk("confirm", eid, "--by", "Bí thư")
    return eid


@pytest.fixture(autouse=True)
def _phase_2026_2030(ledger, tmp_path):
    """2026 lies in the 2026–2030 phase: the ledger gets a set for it (recognize refuses a year outside
    the phase of its set), as a clerk does with `dvk criteria new` and `dvk criteria use`."""
    f = tmp_path / "tieu-chi-2026-2030.toml"
    ledger("criteria", "new", "--phase", "2026-2030", "--guidance-number", "15/HD-CĐN", "--guidance-date",
           "15/01/2026", "--guidance-issuer", "Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai",
           "--guidance-subject", "hướng dẫn xây dựng mô hình, điển hình “Dân vận khéo” giai đoạn 2026-2030",
           "--out", str(f))
    ledger("criteria", "use", str(f), "--from-year", "2026")


@pytest.fixture
def year(ledger):
    """A 2026 council of three (one from BVDK) and two entries, of BVDK and of CDC."""
    council(ledger, "add", "Nguyễn Văn An", "--year", "2026", "--role", "chair", "--position", "Chủ tịch")
    council(ledger, "add", "Lê Thị Bình", "--year", "2026", "--role", "secretary", "--unit", "BVDK")
    council(ledger, "add", "Trần Văn Cường", "--year", "2026")
    a = register(ledger, "BVDK", "Chăm lo đoàn viên")
    b = register(ledger, "CDC", "Tiêm chủng an toàn")
    return ledger, a, b


def test_council_list_json_keeps_order_roles_and_units(year):
    dvk, _a, _b = year
    data = json.loads(council(dvk, "list", "--year", "2026", "--json").stdout)
    assert [(m["member"], m["role"], m["unit_code"]) for m in data["members"]] == [
        ("Nguyễn Văn An", "chair", None), ("Lê Thị Bình", "secretary", "BVDK"), ("Trần Văn Cường", "member", None)]
    assert data["members"][0]["position"] == "Chủ tịch"


def test_second_chair_same_name_and_unknown_unit_refused(year):
    dvk, _a, _b = year
    before = ledger_dump(dvk.db)
    assert "đã có Chủ tịch Hội đồng: Nguyễn Văn An" in council_fails(dvk, "add", "Phạm Dũng", "--year", "2026",
                                                                      "--role", "chair").stderr
    assert "đã là thành viên" in council_fails(dvk, "add", "NGUYỄN  VĂN AN", "--year", "2026").stderr
    assert "chỉ khác ở dấu" in council_fails(dvk, "add", "Nguyen Van An", "--year", "2026").stderr
    assert "Không có đơn vị" in council_fails(dvk, "add", "Phạm Dũng", "--year", "2026", "--unit", "XYZ").stderr
    assert "Vai trò" in council_fails(dvk, "add", "Phạm Dũng", "--year", "2026", "--role", "boss").stderr
    assert ledger_dump(dvk.db) == before


def test_member_of_the_entrys_unit_is_refused_on_it_and_scores_the_others(year):
    dvk, a, b = year
    before = ledger_dump(dvk.db)
    err = dvk.fails("score", a, "--member", "Lê Thị Bình", *FULL).stderr
    assert "Lê Thị Bình" in err and "BVDK" in err and "xung đột lợi ích" in err
    assert ledger_dump(dvk.db) == before
    dvk("score", b, "--member", "Lê Thị Bình", *FULL)


def test_non_member_refused_only_when_the_year_has_a_council(year):
    dvk, a, _b = year
    before = ledger_dump(dvk.db)
    err = dvk.fails("score", a, "--member", "Người Lạ", *FULL).stderr
    assert "không phải thành viên Hội đồng năm 2026" in err and "Nguyễn Văn An" in err
    assert ledger_dump(dvk.db) == before
    # 2027 has no council: any name scores, as before.
    eid = dvk("register", "--year", "2027", "--unit", "BVDK", "--title", "Khác", "--field", "1",
              "--date", "10/02/2027").stdout.strip()
    dvk("score", eid, "--member", "Người Lạ", *FULL)


def test_a_members_name_is_stored_in_the_councils_spelling(year):
    dvk, _a, b = year
    res = json.loads(dvk("score", b, "--member", "nguyễn  văn an", *FULL, "--json").stdout)
    assert res["member"] == "Nguyễn Văn An"
    said = dvk("score", b, "--member", "NGUYỄN VĂN AN", *FULL).stdout
    assert "là thành viên Hội đồng “Nguyễn Văn An”: phiếu được ghi dưới tên đó" in said


def test_declared_conflict_makes_an_earlier_sheet_stop_counting_and_check_says_why(year):
    dvk, _a, b = year
    dvk("score", b, "--member", "Trần Văn Cường", *FULL)
    assert json.loads(dvk("check", b, "--json").stdout)["eligible"] is True
    res = council(dvk, "conflict", "Trần Văn Cường", b, "--year", "2026", "--reason", "Người nhà là tác giả")
    assert "không còn được tính" in res.stderr
    data = json.loads(dvk("check", b, "--json").stdout)
    gate = next(g for g in data["gates"] if g["code"] == "scores")
    assert gate["ok"] is False  # min_members counts only the sheets that count
    assert "Mới có 0 thành viên" in gate["reason"]
    assert "Trần Văn Cường" in gate["reason"] and "xung đột lợi ích" in gate["reason"]
    assert "Người nhà là tác giả" in gate["reason"]
    assert data["member_totals"] == {}
    # A new sheet of the member is refused; the sheet recorded before is kept.
    assert "xung đột lợi ích" in dvk.fails("score", b, "--member", "Trần Văn Cường", *FULL).stderr
    # status lists the entry as lacking a sheet
    st = json.loads(dvk("status", "--year", "2026", "--missing", "--json").stdout)
    assert any("chấm điểm (0/1" in m for x in st["missing"]["CDC"] for m in x["missing"])
    # Withdrawn: it counts again.
    council(dvk, "conflict", "Trần Văn Cường", b, "--year", "2026", "--withdraw")
    assert json.loads(dvk("check", b, "--json").stdout)["eligible"] is True
    dvk("verify")


def test_a_conflicted_sheet_in_a_file_is_refused(year, tmp_path):
    dvk, a, b = year
    f = tmp_path / "phieu.csv"
    head = "Mã,Thành viên," + ",".join(p.split("=")[0] for p in FULL)
    marks = ",".join(p.split("=")[1] for p in FULL)
    f.write_text(f"{head}\n{a},Lê Thị Bình,{marks}\n{b},Lê Thị Bình,{marks}\n{b},Người Lạ,{marks}\n",
                 encoding="utf-8")
    before = ledger_dump(dvk.db)
    res = dvk.fails("score", "--from", str(f))
    out = res.stderr + res.stdout
    assert "xung đột lợi ích" in out and "không phải thành viên Hội đồng năm 2026" in out
    assert ledger_dump(dvk.db) == before
    res = dvk("score", "--from", str(f), "--skip-invalid")
    assert json.loads(dvk("check", b, "--json").stdout)["member_totals"].keys() == {"Lê Thị Bình"}


def test_abstention_is_recorded_does_not_count_and_refuses_a_later_sheet(year):
    dvk, _a, b = year
    dvk("score", b, "--member", "Nguyễn Văn An", *FULL)
    res = dvk("score", b, "--member", "Nguyễn Văn An", "--abstain", "--reason", "Đi công tác")
    assert "không tham gia chấm" in res.stdout and "đã được xóa" in res.stderr
    data = json.loads(dvk("check", b, "--json").stdout)
    gate = next(g for g in data["gates"] if g["code"] == "scores")
    assert not gate["ok"] and "Nguyễn Văn An" in gate["reason"] and "Đi công tác" in gate["reason"]
    err = dvk.fails("score", b, "--member", "Nguyễn Văn An", *FULL).stderr
    assert "đã ghi không tham gia chấm" in err and "--withdraw" in err
    # not a missing sheet in the review
    r = json.loads(council(dvk, "review", "--year", "2026", "--json").stdout)
    e = next(x for x in r["entries"] if x["id"] == b)
    assert "Nguyễn Văn An" not in e["missing"] and "Nguyễn Văn An" in e["uncounted"]
    assert set(e["missing"]) == {"Lê Thị Bình", "Trần Văn Cường"}
    council(dvk, "abstain", "Nguyễn Văn An", b, "--year", "2026", "--withdraw")
    dvk("score", b, "--member", "Nguyễn Văn An", *FULL)
    dvk("verify")


def test_abstain_needs_an_id_and_a_member_and_no_marks(year):
    dvk, _a, b = year
    before = ledger_dump(dvk.db)
    assert "MÃ=ĐIỂM" in dvk.fails("score", b, "--member", "Nguyễn Văn An", "--abstain", *FULL).stderr
    assert "--member" in dvk.fails("score", b, "--abstain").stderr
    assert "--abstain" in dvk.fails("score", b, "--member", "Nguyễn Văn An", "--reason", "x").stderr
    assert ledger_dump(dvk.db) == before


def test_review_flags_a_spread_above_the_threshold_and_a_lenient_member(year):
    dvk, a, b = year
    c = register(dvk, "BVNHI", "Đối thoại định kỳ")
    for eid in (b, c):
        dvk("score", eid, "--member", "Nguyễn Văn An", *LOW)
        dvk("score", eid, "--member", "Lê Thị Bình", *LOW)
        dvk("score", eid, "--member", "Trần Văn Cường", *HIGH)
    eight = [p.split("=")[0] + ("=na" if p.endswith("na") else "=8") for p in FULL]  # 80: the pass mark
    dvk("score", a, "--member", "Nguyễn Văn An", *eight)
    dvk("score", a, "--member", "Trần Văn Cường", *FULL)
    r = json.loads(council(dvk, "review", "--year", "2026", "--json").stdout)
    assert r["disagreement_threshold"] == 15
    assert r["flagged"] == [b, c]
    e = next(x for x in r["entries"] if x["id"] == b)
    assert e["spread"] == 50 and e["disagreement"] is True and e["stdev"] == pytest.approx(23.57, abs=0.01)
    assert next(x for x in r["entries"] if x["id"] == a)["disagreement"] is False
    members = {m["member"]: m for m in r["members"]}
    assert members["Trần Văn Cường"]["leaning"] == "lenient"
    assert members["Trần Văn Cường"]["mean_deviation"] > 30
    assert members["Lê Thị Bình"]["leaning"] == "harsh"
    assert members["Lê Thị Bình"]["sheets"] == 2
    assert r["near_pass"] == [a]  # (80 + 85.56) / 2 is within 5 points of 80
    text = council(dvk, "review", "--year", "2026").stdout
    assert "CHÊNH LỆCH LỚN" in text and "rộng tay" in text


def test_review_threshold_comes_from_the_criteria_file(year, tmp_path):
    dvk, _a, b = year
    raw = dvk("criteria", "show", "--raw").stdout
    f = tmp_path / "tieu-chi.toml"
    f.write_text(raw.replace("min_members = 1", "min_members = 1\ndisagreement = 60"), encoding="utf-8")
    dvk("criteria", "use", str(f), "--from-year", "2026")
    dvk("score", b, "--member", "Nguyễn Văn An", *LOW)
    dvk("score", b, "--member", "Trần Văn Cường", *HIGH)
    r = json.loads(council(dvk, "review", "--year", "2026", "--json").stdout)
    assert r["disagreement_threshold"] == 60 and r["flagged"] == []
    f.write_text(raw.replace("min_members = 1", "min_members = 1\ndisagreement = 0"), encoding="utf-8")
    err = dvk.fails("criteria", "use", str(f), "--from-year", "2026").stderr
    assert "scoring.disagreement" in err


def test_remove_member_their_sheets_stop_counting(year):
    dvk, _a, b = year
    dvk("score", b, "--member", "Trần Văn Cường", *FULL)
    res = council(dvk, "remove", "Trần Văn Cường", "--year", "2026")
    assert "không còn được tính" in res.stderr
    gate = next(g for g in json.loads(dvk("check", b, "--json").stdout)["gates"] if g["code"] == "scores")
    assert not gate["ok"] and "không phải thành viên Hội đồng năm 2026" in gate["reason"]
    dvk("verify")


def test_council_of_a_decided_year_is_locked(year):
    dvk, _a, b = year
    dvk("score", b, "--member", "Nguyễn Văn An", *FULL)
    dvk("recognize", "--year", "2026", "--number", "5", "--date", "15/10/2026")
    before = ledger_dump(dvk.db)
    assert "đã có Quyết định" in council_fails(dvk, "add", "Phạm Dũng", "--year", "2026").stderr
    assert "đã có Quyết định" in council_fails(dvk, "conflict", "Nguyễn Văn An", b, "--year", "2026").stderr
    assert ledger_dump(dvk.db) == before


def test_conflict_on_an_entry_of_another_year_or_unknown_member_refused(year):
    dvk, _a, b = year
    assert "không phải thành viên" in council_fails(dvk, "conflict", "Ai Đó", b, "--year", "2026").stderr
    assert "chưa có Hội đồng" in council_fails(dvk, "conflict", "Ai Đó", b, "--year", "2027").stderr


def test_the_demo_year_has_a_council_with_one_conflict_and_one_abstention(demo_ledger, dvk):
    # The demo's ledger (demo.build, as `dvk demo` makes it; built once per session): `dvk demo` itself,
    # with its documents, is tests/reports/test_export.py::test_demo_writes_every_document.
    db = str(demo_ledger[0])
    data = json.loads(dvk("council", "list", "--db", db, "--year", "2025", "--json").stdout)
    assert [m["role"] for m in data["members"]] == ["chair", "secretary", "member"]
    assert len(data["conflicts"]) == 1 and len(data["abstentions"]) == 1
    r = json.loads(dvk("council", "review", "--db", db, "--year", "2025", "--json").stdout)
    conflict = data["conflicts"][0]
    e = next(x for x in r["entries"] if x["id"] == conflict["entry_id"])
    assert conflict["member"] not in e["totals"] and conflict["member"] not in e["missing"]
    assert len(e["totals"]) == 2 and e["eligible"]
    dvk("verify", "--db", db)


# ---------------------------------------------------------------- the council's papers

def _texts(path) -> str:
    from docx import Document

    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _valid(path) -> None:
    from openxml_audit import OpenXmlValidator

    res = OpenXmlValidator().validate(str(path))
    assert res.is_valid, [str(e) for e in res.errors[:5]]


@pytest.fixture
def decided(year):
    """2026 scored (one conflict declared, one abstention) and recognised with decision 07."""
    dvk, a, b = year
    c = register(dvk, "BVNHI", "Đối thoại định kỳ")
    council(dvk, "add", "Phạm Thị Dung", "--year", "2026", "--position", "Ủy viên Ban Thường vụ")
    for eid in (a, b, c):
        for m in ("Nguyễn Văn An", "Lê Thị Bình", "Trần Văn Cường"):
            if (eid, m) == (a, "Lê Thị Bình"):
                continue  # own unit
            if (eid, m) == (c, "Trần Văn Cường"):
                continue
            dvk("score", eid, "--member", m, *(LOW if eid == c else FULL))
    council(dvk, "conflict", "Nguyễn Văn An", b, "--year", "2026", "--reason", "Người thân là tác giả")
    dvk("score", c, "--member", "Trần Văn Cường", "--abstain", "--reason", "Ốm")
    dvk("recognize", "--year", "2026", "--number", "7", "--date", "15/10/2026")
    return dvk, a, b, c


def test_minutes_and_summary_name_members_conflicts_abstentions_and_counts(decided, tmp_path):
    dvk, a, b, c = decided
    out = tmp_path / "out"
    res = json.loads(dvk("export", "--year", "2026", "--out", out, "--json").stdout)
    kinds = {f["kind"] for f in res["files"]}
    assert {"council-minutes", "score-summary"} <= kinds and "certificates" not in kinds
    minutes = out / "bien-ban-hop-hoi-dong-2026.docx"
    text = _texts(minutes)
    assert "BIÊN BẢN" in text and "năm 2026" in text
    assert "Chủ trì: Nguyễn Văn An, Chủ tịch Hội đồng. Thư ký: Lê Thị Bình, Thư ký Hội đồng." in text
    assert "Thành viên có mặt (3):" in text and "Thành viên vắng mặt (1):" in text
    assert "- Phạm Thị Dung, Ủy viên Ban Thường vụ — Ủy viên;" in text  # never scored: absent
    assert "Lê Thị Bình không chấm các mô hình, điển hình của đơn vị mình" in text
    assert f"Nguyễn Văn An khai báo xung đột lợi ích với {b} (Người thân là tác giả)" in text
    assert f"Trần Văn Cường không tham gia chấm {c} (Ốm)." in text
    assert "xem xét 3 hồ sơ" in text
    assert "công nhận 2 mô hình, điển hình" in text  # a and b pass, c does not
    assert "THƯ KÝ HỘI ĐỒNG" in text and "CHỦ TỊCH HỘI ĐỒNG" in text
    summary = out / "bang-tong-hop-diem-2026.docx"
    text = _texts(summary)
    assert "BẢNG TỔNG HỢP KẾT QUẢ CHẤM ĐIỂM" in text
    assert "Nguyễn Văn An: 85,56" in text and "Không tính — Nguyễn Văn An: đã khai báo xung đột lợi ích" in text
    assert "Không tính — Trần Văn Cường: không tham gia chấm" in text
    assert "Tổng số: 3 hồ sơ; đề nghị công nhận 2." in text
    from docx import Document

    sec = Document(summary).sections[0]
    assert sec.page_width > sec.page_height  # landscape
    for f in (minutes, summary):
        _valid(f)
        assert "khớp với sổ" in dvk("verify-doc", f).stdout


def test_certificates_one_per_recognised_entry_with_the_decision(decided, tmp_path):
    dvk, a, b, c = decided
    out = tmp_path / "out"
    res = json.loads(dvk("export", "--year", "2026", "--out", out, "--certificates", "--json").stdout)
    assert "certificates" in {f["kind"] for f in res["files"]}
    path = out / "giay-cong-nhan-2026.docx"
    from docx import Document

    doc = Document(path)
    titles = [p for p in doc.paragraphs if p.text == "GIẤY CÔNG NHẬN"]
    assert len(titles) == 2
    text = _texts(path)
    assert text.count("(Theo Quyết định số 07/QĐ-CĐN ngày 15/10/2026") == 2
    assert "“Chăm lo đoàn viên”" in text and "“Tiêm chủng an toàn”" in text and "Đối thoại định kỳ" not in text
    assert f"Số vào sổ: {a}" in text
    sec = doc.sections[0]
    assert sec.page_width > sec.page_height
    _valid(path)
    assert "khớp với sổ" in dvk("verify-doc", path).stdout


def test_certificates_need_a_decision_and_no_council_papers_without_a_council(ledger, full_entry, tmp_path):
    res = json.loads(ledger("export", "--year", "2024", "--out", tmp_path / "o", "--certificates", "--json").stdout)
    kinds = {f["kind"] for f in res["files"]}
    assert not kinds & {"certificates", "council-minutes", "score-summary"}
    assert any("giay-cong-nhan-2024.docx" in n for n in res["notes"])


def sample_council_docs(lh) -> dict:
    """A view model of each council paper, by template (for the packaged templates' placeholder check)."""
    import datetime as dt

    from dvk.reports.council import (Certificate, CertificatesDoc, CouncilMinutesDoc, MemberLine, ScoreSummaryDoc,
                                     SummaryRow)

    on = dt.date(2026, 10, 10)
    row = SummaryRow("1", "2026-001", "Mô hình", "Công đoàn A", ("An: 85,00",), ("Bình: xung đột lợi ích",), "85,00",
                     "Đạt")
    m = MemberLine("Nguyễn Văn An", "Chủ tịch", "Chủ tịch Hội đồng", "")
    from dvk.reports.letters import LaunchDoc

    return {
        "cong-van-phat-dong.docx": LaunchDoc(lh, 2026, on, "Công văn số 12/CĐN", ("1. Lĩnh vực",), ("G1. A (8 điểm)",),
                                             ("S1. B (10 điểm)",), "01/02/2026", "28/02/2026", "15/10/2026", "80",
                                             "0–10"),
        "bien-ban-hop-hoi-dong.docx": CouncilMinutesDoc(lh, 2026, on, "An", "Bình", (m,), (m,), 1, ("x",), ("y",),
                                                        (row,), 1, "80"),
        "bang-tong-hop-diem.docx": ScoreSummaryDoc(lh, 2026, on, "An", "Bình", ("An",), (row,), 1, "80",
                                                   "trung bình cộng"),
        "giay-cong-nhan.docx": CertificatesDoc(lh, 2026, on, "07", "15/10/2026",
                                               (Certificate("2026-001", "Công đoàn A", "", "Công đoàn A", "Mô hình",
                                                            "Mô hình"),)),
    }


def test_score_forms_and_sheets_are_made_per_council_member(year, tmp_path):
    from openpyxl import load_workbook

    dvk, a, b = year
    council(dvk, "conflict", "Trần Văn Cường", b, "--year", "2026")
    f = tmp_path / "cd.xlsx"
    dvk("template", "scores", "--out", f, "--year", "2026")  # no --member: the council
    wb = load_workbook(f)
    assert wb.sheetnames[:3] == ["Nguyễn Văn An", "Lê Thị Bình", "Trần Văn Cường"]
    rows = {n: [r[0].value for r in wb[n].iter_rows(min_row=3)] for n in wb.sheetnames[:3]}
    assert rows == {"Nguyễn Văn An": [a, b], "Lê Thị Bình": [b], "Trần Văn Cường": [a]}  # no conflicted rows
    err = dvk.fails("template", "scores", "--out", tmp_path / "x.xlsx", "--year", "2026", "--member", "Người Lạ").stderr
    assert "không phải thành viên Hội đồng năm 2026" in err
    out = tmp_path / "out"
    dvk("export", "--year", "2026", "--out", out)
    import zipfile

    with zipfile.ZipFile(out / "phieu-cham-diem-2026.docx") as z:
        body = z.read("word/document.xml").decode()
    # a set per member, one sheet an entry, none where the member may not score (Lê Thị Bình is of a's
    # unit, Trần Văn Cường declared a conflict on b): the member's name stands under each sheet's signature
    assert {n: body.count(f">{n}<") for n in ("Nguyễn Văn An", "Lê Thị Bình", "Trần Văn Cường")} == {
        "Nguyễn Văn An": 2, "Lê Thị Bình": 1, "Trần Văn Cường": 1}


def test_the_meeting_recorded_is_in_the_minutes_and_the_decision(year, tmp_path):
    dvk, a, b = year
    council(dvk, "add", "Phạm Thị Dung", "--year", "2026")
    dvk("score", b, "--member", "Nguyễn Văn An", *FULL)
    before = ledger_dump(dvk.db)
    assert "không phải thành viên" in council_fails(dvk, "meeting", "--year", "2026", "--date", "10/10/2026",
                                                    "--absent", "Người Lạ").stderr
    assert ledger_dump(dvk.db) == before
    council(dvk, "meeting", "--year", "2026", "--date", "10/10/2026", "--place", "Hội trường Sở Y tế",
            "--absent", "trần văn cường")
    dvk("recognize", "--year", "2026", "--number", "7", "--date", "15/10/2026")
    out = tmp_path / "out"
    dvk("export", "--year", "2026", "--out", out)
    text = _texts(out / "bien-ban-hop-hoi-dong-2026.docx")
    assert "Thời gian: ngày 10/10/2026. Địa điểm: Hội trường Sở Y tế." in text
    assert "Thành viên có mặt (3):" in text and "Thành viên vắng mặt (1):" in text
    assert "- Trần Văn Cường — Ủy viên;" in text and "- Phạm Thị Dung — Ủy viên;" in text
    decision = _texts(out / "quyet-dinh-cong-nhan-2026.docx")
    assert "Xét đề nghị của Hội đồng Thi đua - Khen thưởng Công đoàn ngành" in decision
    assert "tại cuộc họp ngày 10/10/2026." in decision  # the last basis ends with "." (Decree 30)
    assert "(Kèm theo Biên bản họp Hội đồng Thi đua - Khen thưởng ngày 10/10/2026)" in _texts(
        out / "bang-tong-hop-diem-2026.docx")
    dvk("verify")


def test_launch_letter_from_the_criteria_set_alone_before_any_registration(ledger, tmp_path):
    out = tmp_path / "out"
    res = json.loads(ledger("export", "--year", "2026", "--launch", "--out", out, "--date", "02/02/2026",
                            "--json").stdout)
    assert [f["kind"] for f in res["files"]] == ["launch"]
    path = out / "cong-van-phat-dong-2026.docx"
    text = _texts(path)
    assert "V/v phát động xây dựng, đăng ký mô hình, điển hình “Dân vận khéo” năm 2026" in text
    assert "Đồng Nai, ngày 02 tháng 02 năm 2026" in text
    assert "1. Công tác chăm lo, bảo vệ quyền và lợi ích" in text  # the criteria file's fields
    assert "- S6. " in text and "(10 điểm);" in text
    assert "từ ngày 01/02/2026 đến hết ngày 28/02/2026" in text
    assert "Thành tích đột xuất không phải đăng ký" in text and "ngày 15/10/2026" in text
    _valid(path)
    assert "khớp với sổ" in ledger("verify-doc", path).stdout
    assert "--launch chỉ dùng với --year" in ledger.fails("export", "--phase", "2021-2025", "--launch", "--out",
                                                          tmp_path / "x").stderr


def test_the_reminder_lists_the_units_that_registered_nothing(ledger, tmp_path):
    ledger("register", "--year", "2026", "--unit", "BVDK", "--title", "Một mô hình", "--field", "1",
           "--date", "10/02/2026")
    out = tmp_path / "out"
    ledger("export", "--year", "2026", "--reminders", "--out", out, "--date", "01/09/2026")
    text = _texts(out / "cong-van-nhac-2026.docx")
    block = text.split("Các đơn vị chưa đăng ký mô hình, điển hình nào trong năm 2026:\n", 1)[1]
    block = block.split("Đề nghị các đơn vị này", 1)[0]
    assert block.splitlines() == ["- Công đoàn Bệnh viện Nhi đồng Đồng Nai;",
                                  "- Công đoàn Trung tâm Kiểm soát bệnh tật tỉnh;"]  # BVDK registered


def test_the_workbook_has_the_councils_sheet(decided, tmp_path):
    from openpyxl import load_workbook

    dvk, a, b, c = decided
    out = tmp_path / "out"
    dvk("export", "--year", "2026", "--out", out)
    wb = load_workbook(out / "tong-hop-2026.xlsx")
    assert "Hội đồng" in wb.sheetnames
    rows = [[c.value for c in r] for r in wb["Hội đồng"].iter_rows(min_row=2)]
    assert [r[1] for r in rows if r[0] == "Thành viên"] == ["Nguyễn Văn An", "Lê Thị Bình", "Trần Văn Cường",
                                                           "Phạm Thị Dung"]
    conflicts = [(r[1], r[3]) for r in rows if r[0] == "Xung đột lợi ích"]
    assert conflicts == [("Lê Thị Bình", None), ("Nguyễn Văn An", b)]
    assert [(r[1], r[3]) for r in rows if r[0] == "Không tham gia chấm"] == [("Trần Văn Cường", c)]
    spreads = {r[3]: r[4] for r in rows if r[0] == "Độ chênh điểm"}
    assert set(spreads) == {a, b, c} and spreads[a] == 0
    # a year without a council: the workbook as before
    dvk("register", "--year", "2027", "--unit", "BVDK", "--title", "Khác", "--field", "1", "--date", "10/02/2027")
    dvk("export", "--year", "2027", "--out", tmp_path / "o2")
    assert "Hội đồng" not in load_workbook(tmp_path / "o2" / "tong-hop-2027.xlsx").sheetnames
