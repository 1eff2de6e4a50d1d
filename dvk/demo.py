"""`dvk demo`: a plausible year of the Đồng Nai health-sector union, run end to end.

About 30 units and 60 entries in the demo year (with late, sudden, refused, incomplete and
failing cases), smaller earlier years of the phase for the phase summary, then the whole
cycle through the same domain operations the commands use, each step its own transaction.
The data are invented but shaped like the real thing; the generator is seeded, so every
run builds the same ledger.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Callable

from dvk.criteria import CriteriaSet
from dvk.scoring import parse_score_value
from dvk.cycle.config import criteria_for
from dvk.cycle.entries import register
from dvk.cycle.evidence import save_confirmation, save_report, save_scores
from dvk.cycle.recognition import decide
from dvk.cycle.setup import init_ledger
from dvk.cycle.units import list_units, upsert_units
from dvk.ledger.backup import backup_dir
from dvk.ledger.paths import current_user
from dvk.ledger.sqlite import Ledger
from dvk.errors import OutputError
from dvk.rules import Units
from dvk.wording import decision_title

DEMO_YEAR = 2025
PHASE_YEARS = (2021, 2022, 2023, 2024)
NEW_PHASE = "2026-2030"  # the next phase: its first year runs under a set of its own
NEW_YEAR = 2026
NEW_GUIDANCE = {"kind": "Hướng dẫn", "number": "15/HD-CĐN", "date": "10/1/2026",
                "issuer": "Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai",
                "subject": "hướng dẫn tiêu chí xây dựng và xét chọn mô hình, điển hình “Dân vận khéo” "
                           "giai đoạn 2026-2030"}
#: An exemplar recognised in several years of the phase: one row of the phase proposal.
REPEATED = ("BVDKDN", "Nguyễn Thị Ánh", "Điều dưỡng trưởng khoa Nội tổng hợp")
REPEATED_YEARS = (2023, 2025)
PROPOSE_FROM = 88.0  # the demo union proposes its entries recognised with at least this score
LEDGER_NAME = "dvk-demo.sqlite"
#: The second level: one CĐCS (a unit of the sector union, same code) keeping its own ledger, with its
#: trade-union groups and a small year of its own; it sends the sector union two recognised entries
#: in a package, which the sector union receives, confirms, scores and recognises in NEW_YEAR.
CDCS_LEDGER = "dvk-demo-cdcs.sqlite"
CDCS_PACKAGE = "cdcs-BVDKDN-2026.dvkpkg"
CDCS = {"code": "BVDKDN", "org": "Công đoàn cơ sở Bệnh viện Đa khoa Đồng Nai", "symbol": "CĐCS",
        "parent_org": "Công đoàn ngành Y tế tỉnh Đồng Nai", "signer": "Phạm Thị Thanh Hương",
        "committee": "Đảng ủy Bệnh viện Đa khoa Đồng Nai"}
CDCS_GROUPS = [("TCD_NOI", "Tổ công đoàn Khoa Nội tổng hợp", "Chi bộ Khoa Nội tổng hợp"),
               ("TCD_NGOAI", "Tổ công đoàn Khoa Ngoại", "Chi bộ Khoa Ngoại"),
               ("TCD_HC", "Tổ công đoàn khối Hành chính", "Chi bộ khối Hành chính")]
CDCS_ENTRIES = [("TCD_NOI", "Tổ tự quản chăm sóc người bệnh nặng", 9.0),
                ("TCD_NGOAI", "Tổ công đoàn “Ba cùng” với người bệnh sau mổ", 8.8),
                ("TCD_HC", "Số hóa hồ sơ đoàn viên khối Hành chính", 6.5)]

UNITS: list[tuple[str, str, str]] = [
    ("BVDKDN", "Công đoàn Bệnh viện Đa khoa Đồng Nai", "Đảng ủy Bệnh viện Đa khoa Đồng Nai"),
    ("BVDKTN", "Công đoàn Bệnh viện Đa khoa Thống Nhất", "Đảng ủy Bệnh viện Đa khoa Thống Nhất"),
    ("BVLK", "Công đoàn Bệnh viện Đa khoa khu vực Long Khánh", "Đảng ủy Bệnh viện Đa khoa khu vực Long Khánh"),
    ("BVDQ", "Công đoàn Bệnh viện Đa khoa khu vực Định Quán", "Chi bộ Bệnh viện Đa khoa khu vực Định Quán"),
    ("BVLT", "Công đoàn Bệnh viện Đa khoa khu vực Long Thành", "Chi bộ Bệnh viện Đa khoa khu vực Long Thành"),
    ("BVNHI", "Công đoàn Bệnh viện Nhi đồng Đồng Nai", "Đảng ủy Bệnh viện Nhi đồng Đồng Nai"),
    ("BVPHOI", "Công đoàn Bệnh viện Phổi Đồng Nai", "Chi bộ Bệnh viện Phổi Đồng Nai"),
    ("BVDL", "Công đoàn Bệnh viện Da liễu Đồng Nai", "Chi bộ Bệnh viện Da liễu Đồng Nai"),
    ("BVYHCT", "Công đoàn Bệnh viện Y dược cổ truyền Đồng Nai", "Chi bộ Bệnh viện Y dược cổ truyền Đồng Nai"),
    ("BVXL", "Công đoàn Bệnh viện Đa khoa khu vực Xuân Lộc", "Chi bộ Bệnh viện Đa khoa khu vực Xuân Lộc"),
    ("CDC", "Công đoàn Trung tâm Kiểm soát bệnh tật tỉnh", "Đảng ủy Trung tâm Kiểm soát bệnh tật tỉnh"),
    ("PHAPY", "Công đoàn Trung tâm Pháp y", "Chi bộ Trung tâm Pháp y"),
    ("GDYK", "Công đoàn Trung tâm Giám định y khoa", "Chi bộ Trung tâm Giám định y khoa"),
    ("KNT", "Công đoàn Trung tâm Kiểm nghiệm thuốc, mỹ phẩm, thực phẩm", "Chi bộ Trung tâm Kiểm nghiệm"),
    ("CC115", "Công đoàn Trung tâm Cấp cứu 115", "Chi bộ Trung tâm Cấp cứu 115"),
    ("VPSYT", "Công đoàn Văn phòng Sở Y tế", "Chi bộ Văn phòng Sở Y tế"),
    ("ATTP", "Công đoàn Chi cục An toàn vệ sinh thực phẩm", "Chi bộ Chi cục An toàn vệ sinh thực phẩm"),
    ("DSKH", "Công đoàn Chi cục Dân số - Kế hoạch hóa gia đình", "Chi bộ Chi cục Dân số - KHHGĐ"),
    ("CDYT", "Công đoàn Trường Cao đẳng Y tế Đồng Nai", "Đảng ủy Trường Cao đẳng Y tế Đồng Nai"),
    ("TTYTBH", "Công đoàn Trung tâm Y tế thành phố Biên Hòa", "Đảng ủy Trung tâm Y tế thành phố Biên Hòa"),
    ("TTYTLK", "Công đoàn Trung tâm Y tế thành phố Long Khánh", "Chi bộ Trung tâm Y tế thành phố Long Khánh"),
    ("TTYTNT", "Công đoàn Trung tâm Y tế huyện Nhơn Trạch", "Chi bộ Trung tâm Y tế huyện Nhơn Trạch"),
    ("TTYTLT", "Công đoàn Trung tâm Y tế huyện Long Thành", "Chi bộ Trung tâm Y tế huyện Long Thành"),
    ("TTYTTB", "Công đoàn Trung tâm Y tế huyện Trảng Bom", "Chi bộ Trung tâm Y tế huyện Trảng Bom"),
    ("TTYTTN", "Công đoàn Trung tâm Y tế huyện Thống Nhất", "Chi bộ Trung tâm Y tế huyện Thống Nhất"),
    ("TTYTVC", "Công đoàn Trung tâm Y tế huyện Vĩnh Cửu", "Chi bộ Trung tâm Y tế huyện Vĩnh Cửu"),
    ("TTYTDQ", "Công đoàn Trung tâm Y tế huyện Định Quán", "Chi bộ Trung tâm Y tế huyện Định Quán"),
    ("TTYTTP", "Công đoàn Trung tâm Y tế huyện Tân Phú", "Chi bộ Trung tâm Y tế huyện Tân Phú"),
    ("TTYTXL", "Công đoàn Trung tâm Y tế huyện Xuân Lộc", "Chi bộ Trung tâm Y tế huyện Xuân Lộc"),
    ("TTYTCM", "Công đoàn Trung tâm Y tế huyện Cẩm Mỹ", "Chi bộ Trung tâm Y tế huyện Cẩm Mỹ"),
]

COLLECTIVE_TITLES: dict[int, list[str]] = {
    1: ["Quỹ “Tấm lòng vàng” hỗ trợ đoàn viên khó khăn", "Đối thoại định kỳ giữa Ban Giám đốc và người lao động",
        "“Mái ấm Công đoàn” cho đoàn viên nghèo", "Thực hành tiết kiệm điện, nước tại các khoa phòng",
        "Bữa cơm nghĩa tình cho người bệnh nghèo", "Tủ thuốc nhân ái tại khoa Khám bệnh"],
    2: ["Tuyên truyền pháp luật qua nhóm Zalo khoa phòng", "Ngày hội văn hóa, thể thao người lao động",
        "Tủ sách pháp luật điện tử", "Câu lạc bộ “Nói lời hay, làm việc tốt”",
        "Góc truyền thông “Học và làm theo Bác” tại khoa Khám bệnh"],
    3: ["Tổ công đoàn “3 không” vững mạnh", "Phát triển đoàn viên trong lực lượng hợp đồng",
        "Sổ tay điện tử của cán bộ công đoàn", "Sinh hoạt tổ công đoàn theo chuyên đề hằng tháng"],
    4: ["Phong trào “Xanh - Sạch - Đẹp - An toàn” khoa phòng", "Sáng kiến đặt lịch khám qua điện thoại",
        "Cải tiến quy trình cấp phát thuốc ngoại trú", "Ứng dụng bệnh án điện tử tại khoa Nội",
        "Phong trào “Người thầy thuốc vì sức khỏe cộng đồng”"],
    5: ["Bồi dưỡng kỹ năng vận động quần chúng cho cán bộ công đoàn", "Lớp kỹ năng giao tiếp, ứng xử với người bệnh",
        "Kèm cặp cán bộ công đoàn trẻ"],
}
PEOPLE: list[tuple[str, str]] = [
    ("Nguyễn Thị Ánh", "Điều dưỡng trưởng khoa Nội tổng hợp"),
    ("Trần Văn Bình", "Chủ tịch Công đoàn cơ sở"),
    ("Lê Thị Hồng Nhung", "Nữ hộ sinh khoa Sản"),
    ("Phạm Minh Đức", "Bác sĩ khoa Cấp cứu"),
    ("Võ Thị Thu Hà", "Kỹ thuật viên trưởng khoa Xét nghiệm"),
    ("Đặng Quốc An", "Trưởng phòng Tổ chức cán bộ"),
    ("Huỳnh Thị Mỹ Dung", "Tổ trưởng tổ công đoàn khoa Nhi"),
    ("Bùi Văn Ân", "Dược sĩ khoa Dược"),
    ("Ngô Thị Ngọc Ánh", "Phó Chủ tịch Công đoàn cơ sở"),
    ("Đỗ Hoàng Long", "Bác sĩ Trạm Y tế xã"),
    ("Trương Thị Lan", "Hộ lý khoa Hồi sức"),
    ("Lý Văn Ăn", "Nhân viên phòng Hành chính quản trị"),
    ("Hoàng Thị Bích Ngọc", "Điều dưỡng khoa Hồi sức tích cực"),
    ("Phan Văn Hậu", "Bác sĩ Trung tâm Y tế huyện"),
    ("Mai Thị Thùy Dung", "Kế toán trưởng"),
    ("Dương Minh Khôi", "Tổ trưởng tổ công đoàn khối hành chính"),
    ("Cao Thị Yến", "Nữ hộ sinh trưởng khoa Sản"),
    ("Tạ Quang Vinh", "Kỹ sư công nghệ thông tin"),
    ("Lâm Thị Kim Oanh", "Dược sĩ phụ trách kho thuốc"),
    ("Châu Văn Tài", "Lái xe cấp cứu"),
    ("Hồ Thị Thanh Thúy", "Phó Chủ tịch Công đoàn cơ sở"),
    ("Kiều Văn Đông", "Bác sĩ khoa Ngoại"),
    ("Vũ Thị Hoài An", "Điều dưỡng khoa Khám bệnh"),
    ("Quách Minh Ánh", "Nhân viên công tác xã hội"),
]
COUNCIL = ["Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Minh Tuấn"]


def _aspects(title: str, rng: random.Random) -> dict[str, str]:
    n = rng.randint(3, 40)
    return {
        "approach": ("Xây dựng kế hoạch cụ thể, phân công từng tổ công đoàn thực hiện, có sơ kết hằng quý"
                     if not title.startswith("Gương") else
                     "Gương mẫu đi đầu, gần gũi, lắng nghe và vận động đồng nghiệp cùng thực hiện")
                    + f"; {rng.randint(2, 12)} buổi sinh hoạt chuyên đề trong năm.",
        "experience": "Lãnh đạo cùng vào cuộc; lắng nghe ý kiến đoàn viên trước khi triển khai.",
        "spread": f"Được {n} khoa, phòng và {rng.randint(1, 5)} đơn vị bạn học tập, áp dụng.",
        "effectiveness": f"Hỗ trợ {rng.randint(10, 200)} lượt đoàn viên; tiết kiệm khoảng {rng.randint(5, 300)} triệu đồng.",
        "sustainability": f"Duy trì liên tục {rng.randint(1, 4)} năm, có quy chế và nguồn kinh phí ổn định.",
    }


def _scores(rng: random.Random, level: float, crit: CriteriaSet) -> dict[str, object]:
    out: dict[str, object] = {}
    for c in crit.criteria:
        if c.allow_na and rng.random() < 0.05:
            out[c.code] = None
            continue
        v = min(10.0, max(0.0, round(rng.gauss(level, 0.6) * 2) / 2))
        out[c.code] = parse_score_value(str(v), crit, c.code)
    return out


def _plan_year(year: int, n: int, rng: random.Random) -> list[dict]:
    """Entries of one year with their fate: ok, late, sudden, refused, no_report, partial, weak, unscored."""
    fates = ["ok"] * n
    if n >= 40:
        specials = ["late", "late", "sudden", "sudden", "sudden", "refused", "refused", "no_report", "partial",
                    "weak", "weak", "weak", "unscored", "wrong_committee"]
        for i, f in enumerate(specials):
            fates[(i * 7 + 3) % n] = f
    else:
        fates[rng.randrange(n)] = "weak"
    plan = []
    used: set[tuple[str, str]] = set()
    people = list(PEOPLE)
    rng.shuffle(people)
    for i in range(n):
        unit = UNITS[(i * 11 + year) % len(UNITS)][0]
        field = rng.randint(1, 5)
        individual = rng.random() < 0.3
        person = position = None
        if individual:
            person, position = people.pop() if people else PEOPLE[i % len(PEOPLE)]
            title = f"Gương “Dân vận khéo” {person}"
            kind = "exemplar"
        else:
            title = rng.choice(COLLECTIVE_TITLES[field])
            kind = "model" if rng.random() < 0.75 else "exemplar"
        if (unit, title) in used:
            title = f"{title} (năm {year})"
        used.add((unit, title))
        fate = fates[i]
        if fate == "late":
            when = dt.date(year, 3, rng.randint(2, 20))
        elif fate == "sudden":
            when = dt.date(year, rng.randint(5, 8), rng.randint(1, 28))
        else:
            when = dt.date(year, 2, rng.randint(1, 27))
        plan.append(dict(unit=unit, title=title, field=field, kind=kind, person=person, position=position,
                         when=when, fate=fate, sudden=fate == "sudden",
                         subject="individual" if individual else "collective"))
    if year in REPEATED_YEARS:
        unit, person, position = REPEATED
        plan[0].update(unit=unit, person=person, position=position, subject="individual", kind="exemplar",
                       title=f"Gương “Dân vận khéo” {person}", fate="ok", sudden=False,
                       when=dt.date(year, 2, 10))
    return plan


def build(path: Path, *, user: str, echo: Callable[[str], None] = print) -> dict:
    """Build the demo ledger at `path` and run every year's cycle. Returns a summary."""
    rng = random.Random(20210514)  # the date of letter 69/CĐN
    led, _ = init_ledger(path, user=user, profile={}, criteria_file=None, command="dvk demo")
    summary: dict[int, dict] = {}
    try:
        with led.write(user=user, command="dvk demo", summary="Nhập danh sách 30 đơn vị mẫu") as tx:
            upsert_units(tx, [{"code": c, "name": n, "committee": k} for c, n, k in UNITS])
        for year, n, number in [(y, 8 + (y - 2021) * 2, 3 + (y - 2021)) for y in PHASE_YEARS] + [(DEMO_YEAR, 60, 5)]:
            summary[year] = _run_year(led, year, n, number, rng, user)
            s = summary[year]
            echo(f"Năm {year}: {s['entries']} mô hình, điển hình; công nhận {s['recognized']}, "
                 f"không công nhận {s['not_recognized']} ({decision_title(number)}).")
        n = _propose(led, user)
        echo(f"Giai đoạn 2021-2025: đề nghị khen thưởng {n} mô hình, điển hình (điểm từ {PROPOSE_FROM:g}).")
        _new_phase(led, user)
        echo(f"Giai đoạn {NEW_PHASE}: bộ tiêu chí mới (Hướng dẫn số {NEW_GUIDANCE['number']}) từ năm {NEW_YEAR}.")
        cdcs = _grassroots(path, user)
        echo(f"{CDCS['org']} (sổ riêng {CDCS_LEDGER}): năm {NEW_YEAR} công nhận {cdcs['recognized']} mô hình "
             f"của các tổ công đoàn, gửi gói hồ sơ {CDCS_PACKAGE} lên Công đoàn ngành.")
        summary[NEW_YEAR] = s = _run_year(led, NEW_YEAR, 12, 4, rng, user,
                                          received=lambda: _receive(led, path.with_name(CDCS_PACKAGE), user))
        echo(f"Năm {NEW_YEAR}: {s['entries']} mô hình, điển hình; công nhận {s['recognized']}, "
             f"không công nhận {s['not_recognized']} ({decision_title(4)}).")
    finally:
        led.close()
    return summary


def _propose(led: Ledger, user: str) -> int:
    """The phase proposal: the entries recognised in 2021–2025 with a score of at least PROPOSE_FROM,
    and the exemplar recognised in several years."""
    from sqlalchemy import select

    from dvk.cycle.decisions import active_decision
    from dvk.cycle.proposals import propose
    from dvk.ledger.history import table

    with led.write(user=user, command="dvk propose --phase 2021-2025 (demo)",
                   summary="Chọn đề nghị khen thưởng giai đoạn 2021-2025") as tx:
        o, e = table("outcome"), table("entry")
        ids: list[str] = []
        for y in (*PHASE_YEARS, DEMO_YEAR):
            dec = active_decision(tx.conn, y)
            rows = tx.conn.execute(select(o.c.entry_id, o.c.score, e.c.person).join(e, e.c.id == o.c.entry_id)
                                   .where(o.c.decision_id == dec["id"], o.c.recognized == True)  # noqa: E712
                                   .order_by(o.c.entry_id)).all()
            ids += [r[0] for r in rows if (r[1] or 0) >= PROPOSE_FROM or r[2] == REPEATED[1]]
        return propose(tx, "2021-2025", ids)["total"]


def _new_phase(led: Ledger, user: str) -> None:
    """A criteria set for the next phase (the current criteria, the new guidance) from NEW_YEAR on."""
    from dvk.cycle.setup import new_phase_text, use_criteria
    from dvk.criteria import load_text

    with led.write(user=user, command=f"dvk criteria use (demo {NEW_PHASE})",
                   summary=f"Áp dụng bộ tiêu chí giai đoạn {NEW_PHASE} từ năm {NEW_YEAR}") as tx:
        crit = criteria_for(tx.conn, DEMO_YEAR)
        use_criteria(tx, load_text(new_phase_text(crit, NEW_PHASE, NEW_GUIDANCE)), NEW_YEAR)


def _grassroots(path: Path, user: str) -> dict:
    """The CĐCS's own ledger beside the demo's: its groups, its year NEW_YEAR (three entries, two
    recognised by its own decision, Giấy khen of the CĐCS) and the package it sends up."""
    from dvk.cycle.orgs import choose
    from dvk.cycle.packages import write_package

    cpath = path.with_name(CDCS_LEDGER)
    for suffix in ("", "-wal", "-shm"):
        Path(str(cpath) + suffix).unlink(missing_ok=True)
    shutil.rmtree(backup_dir(cpath), ignore_errors=True)
    profile = {k: CDCS[k] for k in ("org", "symbol", "parent_org", "signer")}
    profile["on_behalf"] = "TM. BAN CHẤP HÀNH"
    led, _ = init_ledger(cpath, user=user, profile=profile, criteria_file=None, command="dvk init (demo CĐCS)",
                         code=CDCS["code"], level="grassroots",
                         recipients=[f"Ban Thường vụ {CDCS['parent_org']} (b/c)", f"{CDCS['committee']} (b/c)",
                                     "Như Điều 3"])
    rng = random.Random(NEW_YEAR)
    try:
        with led.write(user=user, command="dvk units add (demo CĐCS)", summary="Các tổ công đoàn") as tx:
            upsert_units(tx, [{"code": c, "name": n, "committee": k} for c, n, k in CDCS_GROUPS])
            src = criteria_for(tx.conn, DEMO_YEAR, org=CDCS["code"])
        with led.write(user=user, command=f"dvk criteria use (demo CĐCS {NEW_PHASE})",
                       summary=f"Bộ tiêu chí giai đoạn {NEW_PHASE}") as tx:
            from dvk.criteria import load_text
            from dvk.cycle.setup import new_phase_text, use_criteria

            use_criteria(tx, load_text(new_phase_text(src, NEW_PHASE, NEW_GUIDANCE)), NEW_YEAR)
        committees = {c: k for c, _, k in CDCS_GROUPS}
        with led.write(user=user, command=f"dvk register/report/confirm/score (demo CĐCS {NEW_YEAR})",
                       summary=f"Năm {NEW_YEAR} của {CDCS['code']}") as tx:
            crit = criteria_for(tx.conn, NEW_YEAR)
            for unit, title, level in CDCS_ENTRIES:
                eid = register(tx, dict(year=NEW_YEAR, unit=unit, title=title, field=3, kind="model",
                                        subject="collective", person=None, position=None,
                                        registered_on=dt.date(NEW_YEAR, 2, 12), sudden=False, note=None))["id"]
                save_report(tx, eid, _aspects(title, rng), dt.date(NEW_YEAR, 8, 10), None)
                save_confirmation(tx, eid, committee=committees[unit], by="Bí thư chi bộ",
                                  on=dt.date(NEW_YEAR, 9, 10), comment="Thiết thực, hiệu quả.", rejected=False,
                                  reason=None)
                for member in ("Phạm Thị Thanh Hương", "Lê Văn Phúc"):
                    save_scores(tx, eid, member, _scores(rng, level, crit))
        rplan, _ = decide(led, NEW_YEAR, 2, None, user=user, command=f"dvk recognize --year {NEW_YEAR} (demo CĐCS)")
        info = write_package(led, NEW_YEAR, path.with_name(CDCS_PACKAGE), force=True)
        with led.read() as conn:
            choose(conn, None)
    finally:
        led.close()
    return {"recognized": rplan.n_recognized, "package": info}


def _receive(led: Ledger, package: Path, user: str) -> list[str]:
    """The sector union receives the CĐCS's package into NEW_YEAR and confirms the two entries with
    the CĐCS's Party committee (the same level as the CĐCS); returns their ids, to be scored."""
    from dvk.cycle.packages import read_package, receive

    res = receive(led, read_package(package), year=NEW_YEAR, dry_run=False, update=False, user=user,
                  command=f"dvk receive {package.name} (demo)")
    ids = [a["id"] for a in res["added"]]
    with led.write(user=user, command=f"dvk confirm (demo {NEW_YEAR}, từ CĐCS)",
                   summary=f"Xác nhận của {CDCS['committee']}") as tx:
        for eid in ids:
            save_confirmation(tx, eid, committee=CDCS["committee"], by="Bí thư Đảng ủy", on=dt.date(NEW_YEAR, 9, 20),
                              comment="Đồng ý đề nghị Công đoàn ngành công nhận.", rejected=False, reason=None)
    return ids


def _run_year(led: Ledger, year: int, n: int, number: int, rng: random.Random, user: str,
              received: Callable[[], list[str]] | None = None) -> dict:
    plan = _plan_year(year, n, rng)
    with led.write(user=user, command=f"dvk register (demo {year})", summary=f"Đăng ký năm {year}") as tx:
        crit = criteria_for(tx.conn, year)
        units = {u["code"]: u for u in list_units(tx.conn)}
        known = Units(units)
        for p in plan:  # registered as `dvk register` registers: one call, the same rules
            p["id"] = register(tx, dict(year=year, unit=p["unit"], title=p["title"], field=p["field"], kind=p["kind"],
                                        subject=p["subject"], person=p["person"], position=p["position"],
                                        registered_on=p["when"], sudden=p["sudden"],
                                        note="Thành tích đột xuất trong phòng, chống dịch" if p["sudden"] else None),
                               units=known, crit=crit)["id"]
    with led.write(user=user, command=f"dvk report (demo {year})", summary=f"Báo cáo thành tích năm {year}") as tx:
        for p in plan:
            if p["fate"] == "no_report":
                continue
            aspects = _aspects(p["title"], rng)
            if p["fate"] == "partial":
                aspects["sustainability"] = None
                aspects["spread"] = None
            save_report(tx, p["id"], aspects, dt.date(year, 8, rng.randint(1, 28)), None)
    with led.write(user=user, command=f"dvk confirm (demo {year})", summary=f"Xác nhận của cấp ủy năm {year}") as tx:
        for p in plan:
            if p["fate"] == "no_report":
                continue
            unit = units[p["unit"]]
            if p["fate"] == "refused":
                save_confirmation(tx, p["id"], committee=unit["committee"], by="Bí thư cấp ủy",
                                      on=dt.date(year, 9, 5), comment=None, rejected=True,
                                      reason="Mô hình mới triển khai, chưa có kết quả rõ ràng, chưa lan tỏa")
            else:
                committee = "Chi bộ Khoa Khám bệnh" if p["fate"] == "wrong_committee" else unit["committee"]
                save_confirmation(tx, p["id"], committee=committee, by="Bí thư cấp ủy",
                                      on=dt.date(year, 9, rng.randint(1, 25)),
                                      comment="Mô hình thiết thực, hiệu quả, có sức lan tỏa.", rejected=False,
                                      reason=None)
    skip = _demo_council(led, year, plan, user) if year == DEMO_YEAR else set()
    extra = received() if received is not None else []
    side = random.Random(year * 7)  # the received entries' sheets: the main draws stay as they were
    for member in COUNCIL:
        with led.write(user=user, command=f"dvk score --member {member} (demo {year})",
                       summary=f"Chấm điểm năm {year}: {member}") as tx:
            for p in plan:
                if p["fate"] in ("no_report", "unscored") or (p["id"], member) in skip:
                    continue
                level = 6.8 if p["fate"] == "weak" else rng.uniform(8.2, 9.4)
                save_scores(tx, p["id"], member, _scores(rng, level, crit))
            for eid in extra:
                save_scores(tx, eid, member, _scores(side, 9.0, crit))
    rplan, _profile = decide(led, year, number, None, user=user,
                             command=f"dvk recognize --year {year} --number {number} (demo)")
    return {"entries": len(plan) + len(extra), "recognized": rplan.n_recognized, "not_recognized": rplan.total - rplan.n_recognized,
            "number": number}


def run(out: Path, *, user: str | None = None, force: bool = False, echo: Callable[[str], None] = print) -> Path:
    """`dvk demo --out DIR`: build the ledger in DIR, run the cycle, write the documents."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LEDGER_NAME
    if (out / CDCS_LEDGER).exists() and not force:
        raise OutputError(f"Thư mục “{out}” đã có sổ mẫu {CDCS_LEDGER}; dùng --force để tạo lại.")
    if path.exists():
        if not force:
            raise OutputError(f"Thư mục “{out}” đã có sổ mẫu {LEDGER_NAME}; dùng --force để tạo lại.")
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        shutil.rmtree(backup_dir(path), ignore_errors=True)  # the demo's own backups: demo data too
    echo(f"Tạo sổ mẫu: {path}")
    build(path, user=current_user(user), echo=echo)
    written = _write_documents(path, out, force=force, echo=echo)
    echo("")
    echo(f"Xong. Sổ mẫu: {path}")
    if written:
        echo(f"Đã ghi {len(written)} văn bản vào {out}.")
    echo(f"Xem thêm: dvk --help; ví dụ: dvk status --year {DEMO_YEAR} --db \"{path}\"")
    return path


def _write_documents(path: Path, out: Path, *, force: bool, echo: Callable[[str], None]) -> list[Path]:
    from dvk.reports.export import demo_documents

    written = demo_documents(path, out, years=[DEMO_YEAR, NEW_YEAR], phase="2021-2025", force=force, echo=echo)
    cdcs = out / "cdcs"
    cdcs.mkdir(exist_ok=True)
    echo(f"Văn bản của {CDCS['org']}:")
    return written + demo_documents(path.with_name(CDCS_LEDGER), cdcs, years=[NEW_YEAR], phase=None, force=force,
                                    echo=echo)


COUNCIL_ROLES = [("chair", "Chủ tịch Công đoàn ngành Y tế"), ("secretary", "Chánh Văn phòng Công đoàn ngành"),
                 ("member", "Trưởng ban Tuyên giáo Công đoàn ngành")]


def _demo_council(led: Ledger, year: int, plan: list[dict], user: str) -> set[tuple[str, str]]:
    """The demo year's council (`dvk council add`), with one declared conflict of interest and one
    abstention on entries that pass anyway; returns the (entry, member) pairs that get no sheet."""
    from dvk.cycle.council import abstain, add_member, declare_conflicts

    with led.write(user=user, command=f"dvk council add (demo {year})", summary=f"Hội đồng năm {year}") as tx:
        for member, (role, position) in zip(COUNCIL, COUNCIL_ROLES):
            add_member(tx, year, member, position=position, role=role)
    ok = [p for p in plan if p["fate"] == "ok"]
    conflict, abstained = ok[0], ok[1]
    with led.write(user=user, command=f"dvk council conflict (demo {year})",
                   summary=f"Xung đột lợi ích năm {year}: {COUNCIL[2]}") as tx:
        declare_conflicts(tx, year, COUNCIL[2], [conflict["id"]], reason="Người thân trong tập thể được đề nghị",
                          on=dt.date(year, 9, 28))
    with led.write(user=user, command=f"dvk score --abstain (demo {year})",
                   summary=f"Không tham gia chấm năm {year}: {COUNCIL[1]}") as tx:
        abstain(tx, abstained["id"], COUNCIL[1], reason="Đi công tác, không dự họp chấm",
                on=dt.date(year, 9, 28))
    return {(conflict["id"], COUNCIL[2]), (abstained["id"], COUNCIL[1])}
