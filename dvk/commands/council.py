"""The council of a year (`dvk council …`): members, conflicts of interest, abstentions, the review."""


from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (OrgOpt, YEAR_CHECK, DbOpt, JsonOpt, UserOpt, ViCommand, check_texts, ledger, opt_text,
                                 print_json, say, sub_app, table, warn, writing)

council_app = sub_app("Hội đồng Thi đua - Khen thưởng của từng năm: thành viên, xung đột lợi ích, "
                      "không tham gia chấm, xem độ chênh điểm.")

YearReq = Annotated[int, typer.Option("--year", "-y", help="Năm của Hội đồng.", callback=YEAR_CHECK)]
NameArg = Annotated[str, typer.Argument(metavar="TÊN", help="Họ và tên thành viên Hội đồng.")]
ReasonOpt = Annotated[Optional[str], typer.Option("--reason", help="Lý do.")]


@council_app.command("add", cls=ViCommand)
def council_add(
    ctx: typer.Context,
    name: NameArg,
    year: YearReq,
    position: Annotated[Optional[str], typer.Option("--position", help="Chức vụ (ví dụ Phó Chủ tịch Công đoàn ngành).")] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", help="Mã đơn vị của thành viên: không chấm mô hình của đơn vị này.")] = None,
    role: Annotated[str, typer.Option("--role", help="Vai trò: chair (Chủ tịch), secretary (Thư ký), member (Ủy viên).")] = "member",
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
) -> None:
    """Thêm một thành viên vào Hội đồng của năm (năm đã có Hội đồng thì chỉ thành viên mới được chấm)."""
    from dvk.cycle.council import ROLES, add_member

    check_texts(opt_text(None, name, "member"), opt_text("--position", position, "position"),
                opt_text("--unit", unit, "unit_code"))
    with writing(ctx, db, user, f"Thêm thành viên Hội đồng năm {year}") as tx:
        row = add_member(tx, year, name, position=position, unit=unit, role=role.strip().lower())
        tx.note(f"Thêm thành viên Hội đồng năm {year}: {row['member']} ({ROLES[row['role']]})")
    unit_text = f", đơn vị {row['unit_code']}" if row["unit_code"] else ""
    say(f"Đã thêm {row['member']} ({ROLES[row['role']]}{unit_text}) vào Hội đồng năm {year}.")


@council_app.command("list", cls=ViCommand)
def council_list(ctx: typer.Context, year: YearReq, db: DbOpt = None, org: OrgOpt = None, json_: JsonOpt = False) -> None:
    """Danh sách Hội đồng của năm, với xung đột lợi ích và việc không tham gia chấm."""
    from dvk.cycle.council import ROLES, council_of

    with ledger(ctx, db) as led, led.read() as conn:
        c = council_of(conn, year)
    members = list(c.members) if c else []
    conflicts = sorted(c.conflicts.values(), key=lambda r: (r["entry_id"], r["member"])) if c else []
    abstentions = sorted(c.abstentions.values(), key=lambda r: (r["entry_id"], r["member"])) if c else []
    if json_:
        print_json({"year": year,
                    "members": [{k: m[k] for k in ("member", "position", "unit_code", "role", "ordinal")}
                                for m in members],
                    "conflicts": [{**r, "declared_on": r["declared_on"].isoformat()} for r in conflicts],
                    "abstentions": [{**r, "abstained_on": r["abstained_on"].isoformat()} for r in abstentions]})
        return
    if not members:
        say(f"Năm {year} chưa có Hội đồng: mọi tên ghi sau --member đều được chấm "
            f"(thêm thành viên: dvk council add --year {year} TÊN).")
    else:
        table(f"Hội đồng năm {year}", ["#", "Thành viên", "Chức vụ", "Đơn vị", "Vai trò"],
              [[str(i), m["member"], m["position"] or "", m["unit_code"] or "", ROLES[m["role"]]]
               for i, m in enumerate(members, 1)])
    if conflicts:
        table("Xung đột lợi ích đã khai báo", ["Mô hình", "Thành viên", "Ngày", "Lý do"],
              [[r["entry_id"], r["member"], r["declared_on"].strftime("%d/%m/%Y"), r["reason"] or ""]
               for r in conflicts])
    if abstentions:
        table("Không tham gia chấm", ["Mô hình", "Thành viên", "Ngày", "Lý do"],
              [[r["entry_id"], r["member"], r["abstained_on"].strftime("%d/%m/%Y"), r["reason"] or ""]
               for r in abstentions])


@council_app.command("remove", cls=ViCommand)
def council_remove(ctx: typer.Context, name: NameArg, year: YearReq, db: DbOpt = None, org: OrgOpt = None, user: UserOpt = None) -> None:
    """Bỏ một thành viên khỏi Hội đồng của năm (phiếu đã ghi của người đó không còn được tính)."""
    from dvk.cycle.council import remove_member

    check_texts(opt_text(None, name, "member"))
    with writing(ctx, db, user, f"Bỏ thành viên Hội đồng năm {year}") as tx:
        row = remove_member(tx, year, name)
        tx.note(f"Bỏ thành viên Hội đồng năm {year}: {row['member']}")
    say(f"Đã bỏ {row['member']} khỏi Hội đồng năm {year}.")
    if row["sheets"]:
        warn(f"{row['sheets']} phiếu chấm của {row['member']} vẫn lưu trong sổ nhưng không còn được tính.")


@council_app.command("conflict", cls=ViCommand)
def council_conflict(
    ctx: typer.Context,
    name: NameArg,
    entry_ids: Annotated[List[str], typer.Argument(metavar="ID…", help="Mã các mô hình, điển hình.")],
    year: YearReq,
    reason: ReasonOpt = None,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Rút khai báo xung đột lợi ích.")] = False,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Khai báo (hoặc rút) xung đột lợi ích của một thành viên với các mô hình: phiếu của người đó cho các
    mô hình này bị từ chối, phiếu đã ghi trước đó không còn được tính."""
    from dvk.cycle.council import declare_conflicts

    check_texts(opt_text(None, name, "member"), opt_text("--reason", reason, "reason"))
    with writing(ctx, db, user, f"Xung đột lợi ích, Hội đồng năm {year}") as tx:
        rows = declare_conflicts(tx, year, name, entry_ids, reason=reason, withdraw=withdraw)
        ids = ", ".join(r["entry_id"] for r in rows)
        tx.note(f"{'Rút xung đột lợi ích' if withdraw else 'Xung đột lợi ích'} của {rows[0]['member']}: {ids}")
    if json_:
        print_json(rows)
        return
    who = rows[0]["member"]
    if withdraw:
        say(f"Đã rút khai báo xung đột lợi ích của {who} với {ids}.")
        return
    say(f"Đã ghi xung đột lợi ích của {who} với {ids}: {who} không chấm các mô hình này.")
    earlier = [r["entry_id"] for r in rows if r.get("sheet")]
    if earlier:
        warn(f"phiếu {who} đã chấm cho {', '.join(earlier)} vẫn lưu trong sổ nhưng không còn được tính.")


@council_app.command("abstain", cls=ViCommand)
def council_abstain(
    ctx: typer.Context,
    name: NameArg,
    entry_ids: Annotated[List[str], typer.Argument(metavar="ID…", help="Mã các mô hình, điển hình.")],
    year: YearReq,
    reason: ReasonOpt = None,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Bỏ ghi không tham gia chấm.")] = False,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
) -> None:
    """Ghi (hoặc bỏ ghi) một thành viên không tham gia chấm các mô hình (như dvk score ID --member TÊN --abstain)."""
    from dvk.cycle.council import _entries_of, abstain

    check_texts(opt_text(None, name, "member"), opt_text("--reason", reason, "reason"))
    with writing(ctx, db, user, f"Không tham gia chấm, Hội đồng năm {year}") as tx:
        rows = [abstain(tx, e["id"], name, reason=reason, withdraw=withdraw)
                for e in _entries_of(tx.conn, year, entry_ids)]
        ids = ", ".join(r["entry_id"] for r in rows)
        tx.note(f"{'Bỏ ghi không tham gia chấm' if withdraw else 'Không tham gia chấm'} của {rows[0]['member']}: {ids}")
    say_abstained(rows, withdraw)


def say_abstained(rows: list[dict], withdraw: bool) -> None:
    """What `dvk score --abstain` and `dvk council abstain` print."""
    who = rows[0]["member"]
    ids = ", ".join(r["entry_id"] for r in rows)
    if withdraw:
        say(f"Đã bỏ ghi {who} không tham gia chấm {ids}.")
        return
    say(f"Đã ghi {who} không tham gia chấm {ids} (không phải phiếu thiếu, không tính vào số thành viên chấm).")
    for r in rows:
        if r.get("deleted_sheet"):
            warn(f"phiếu đã ghi của {r['deleted_sheet']} cho {r['entry_id']} đã được xóa (ghi vào lịch sử).")


@council_app.command("meeting", cls=ViCommand)
def council_meeting(
    ctx: typer.Context,
    year: YearReq,
    date: Annotated[str, typer.Option("--date", metavar="NGÀY", help="Ngày họp Hội đồng (dd/mm/yyyy).")],
    place: Annotated[Optional[str], typer.Option("--place", help="Địa điểm họp.")] = None,
    absent: Annotated[Optional[List[str]], typer.Option("--absent", metavar="TÊN",
                                                        help="Thành viên vắng mặt (lặp lại cho nhiều người).")] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
) -> None:
    """Ghi cuộc họp Hội đồng của năm (ngày, địa điểm, thành viên vắng mặt): biên bản họp và dòng “Xét đề
    nghị của Hội đồng …” của quyết định công nhận dẫn cuộc họp này."""
    from dvk.commands.common import parse_date_opt
    from dvk.cycle.council import record_meeting
    from dvk.text.dates import fmt_date

    check_texts(opt_text("--place", place, "profile"), opt_text("--absent", absent, "member"))
    held_on = parse_date_opt(date)
    with writing(ctx, db, user, f"Cuộc họp Hội đồng năm {year}") as tx:
        row = record_meeting(tx, year, held_on, place=place, absent=absent or ())
        tx.note(f"Cuộc họp Hội đồng năm {year}: ngày {fmt_date(row['held_on'])}")
    gone = f"; vắng mặt: {', '.join(row['absent'])}" if row["absent"] else ""
    say(f"Đã ghi cuộc họp Hội đồng năm {year} ngày {fmt_date(row['held_on'])}"
        + (f" tại {row['place']}" if row["place"] else "") + gone + ".")


@council_app.command("review", cls=ViCommand)
def council_review(ctx: typer.Context, year: YearReq, db: DbOpt = None, org: OrgOpt = None, json_: JsonOpt = False) -> None:
    """Xem điểm của từng thành viên, độ chênh giữa các thành viên, người chấm chặt/rộng tay và các mô
    hình sát điểm đạt — để Hội đồng xem trước khi biểu quyết (không thay đổi điểm nào)."""
    from dvk.text.numbers import fmt_number, fmt_score
    from dvk.cycle.council_review import review

    with ledger(ctx, db) as led, led.read() as conn:
        r = review(conn, year)
    if json_:
        print_json(r)
        return
    if not r["entries"]:
        say(f"Năm {year} chưa có mô hình, điển hình nào.")
        return
    thr = fmt_number(r["disagreement_threshold"])
    table(f"Điểm của các thành viên Hội đồng năm {year} (chênh quá {thr} điểm thì đánh dấu)",
          ["Mã", "Đơn vị", "Điểm từng thành viên", "Chênh", "Độ lệch chuẩn", "Điểm", "Ghi chú"],
          [[x["id"], x["unit"], "\n".join(f"{m}: {fmt_score(t)}" for m, t in x["totals"].items()),
            fmt_score(x["spread"]), fmt_score(x["stdev"]), fmt_score(x["score"]),
            "\n".join([*(["CHÊNH LỆCH LỚN"] if x["disagreement"] else []),
                       *(["sát điểm đạt"] if x["near_pass"] else []),
                       *(f"không tính {m}: {why}" for m, why in x["uncounted"].items()),
                       *([f"chưa chấm: {', '.join(x['missing'])}"] if x["missing"] else [])])]
           for x in r["entries"]])
    words = {"lenient": "rộng tay", "harsh": "chặt tay", "even": "bình thường", None: "—"}
    table("Thành viên", ["Thành viên", "Số phiếu", "So sánh được", "Lệch trung bình", "Nhận xét"],
          [[m["member"], str(m["sheets"]), str(m["compared"]), fmt_score(m["mean_deviation"]), words[m["leaning"]]]
           for m in r["members"]])
    say(f"{len(r['flagged'])} mô hình có điểm chênh quá {thr} điểm; {len(r['near_pass'])} mô hình trong khoảng "
        f"{fmt_number(r['near_margin'])} điểm quanh điểm đạt {fmt_number(r['pass_mark'])}.")


def register(app: typer.Typer) -> None:
    app.add_typer(council_app, name="council")


def abstain_cmd(ctx: typer.Context, entry_id: Optional[str], scores: Optional[List[str]], member: Optional[str],
                from_: object, reason: Optional[str], abstain: bool, *, db: object, user: object) -> None:
    """`dvk score ID --member NAME --abstain [--reason T]`: the member does not score the entry."""
    from dvk.cycle.council import abstain as record
    from dvk.errors import InvalidInput

    if not abstain:
        raise InvalidInput("--reason chỉ dùng cùng --abstain (lý do không tham gia chấm).")
    if from_ is not None or scores:
        raise InvalidInput("--abstain không dùng cùng --from hay MÃ=ĐIỂM: thành viên không tham gia chấm thì không "
                           "có điểm.")
    if not entry_id:
        raise InvalidInput("Thiếu mã mô hình, điển hình (ID) cho --abstain.")
    if not member:
        raise InvalidInput("Thiếu tên thành viên Hội đồng (--member).")
    check_texts(opt_text("--reason", reason, "reason"))
    with writing(ctx, db, user) as tx:
        row = record(tx, entry_id, member, reason=reason)
        tx.note(f"Không tham gia chấm {row['entry_id']}: {row['member']}")
    say_abstained([row], False)
