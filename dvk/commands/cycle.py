"""The yearly cycle, entry by entry or a whole file at once (--from): register, report, confirm, score."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (OrgOpt, YEAR_CHECK, DateOpt, DbOpt, JsonOpt, UserOpt, add, int_range, print_json, say, warn,
                                 writing)
from dvk.commands.intake import DryRunOpt, ForceOpt, FromOpt, RejectsOpt, SkipInvalidOpt, UpdateOpt


def register_cmd(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="Năm đăng ký (với --from: năm của các dòng "
                                                                      "không ghi năm).", callback=YEAR_CHECK)] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", "-u", help="Mã đơn vị (xem: dvk units list).")] = None,
    title: Annotated[Optional[str], typer.Option("--title", "-t", help="Tên mô hình, điển hình.")] = None,
    field: Annotated[Optional[int], typer.Option("--field", "-f", help="Số thứ tự lĩnh vực trong bộ tiêu chí của năm (xem: dvk criteria show).",
                                                 callback=int_range(1, 99, "lĩnh vực"))] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    exemplar: Annotated[bool, typer.Option("--exemplar", help="Là điển hình (mặc định: mô hình).")] = False,
    individual: Annotated[
        Optional[str], typer.Option("--individual", help="Họ và tên nếu là cá nhân (mặc định: tập thể).")
    ] = None,
    position: Annotated[Optional[str], typer.Option("--position", help="Chức vụ của cá nhân.")] = None,
    date: DateOpt = None,
    sudden: Annotated[bool, typer.Option("--sudden", help="Thành tích đột xuất (không phải đăng ký).")] = False,
    note: Annotated[Optional[str], typer.Option("--note", help="Ghi chú.")] = None,
    json_: JsonOpt = False,
    from_: FromOpt = None,
    dry_run: DryRunOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    update: UpdateOpt = False,
    force: ForceOpt = False,
) -> None:
    """Đăng ký một mô hình, điển hình (in mã mới, dạng 2024-007), hoặc nhập cả danh sách: --from TỆP."""
    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import register
    from dvk.commands.intake import import_file, missing_options, refuse_bulk_options
    from dvk.errors import InvalidInput

    if from_ is not None:
        single = [n for n, v in (("--unit", unit), ("--title", title), ("--field", field), ("--individual", individual),
                                 ("--position", position), ("--date", date), ("--note", note)) if v is not None]
        single += [n for n, v in (("--exemplar", exemplar), ("--sudden", sudden)) if v]
        if single:
            raise InvalidInput(f"Không dùng {', '.join(single)} cùng --from: các giá trị lấy từ tệp.")
        import_file(ctx, "registrations", from_, db=db, user=user, json_=json_, dry_run=dry_run,
                    skip_invalid=skip_invalid, rejects=rejects, update=update, year=year, force=force)
        return
    refuse_bulk_options(dry_run, skip_invalid, rejects, update, force)
    missing = [n for n, v in (("--year", year), ("--unit", unit), ("--title", title), ("--field", field)) if v is None]
    if missing:
        raise missing_options(missing, "hoặc dùng --from TỆP để nhập cả danh sách")
    on, found = typed_date(date, "registered_on", "ngày đăng ký")
    values = dict(year=year, unit=unit, title=title, kind="exemplar" if exemplar else "model",
                  subject="individual" if individual else "collective", person=individual, position=position,
                  field=field, registered_on=on, sudden=sudden, note=note)
    with writing(ctx, db, user) as tx:
        row = register(tx, values, names=REGISTER_OPTIONS, found=found)  # every problem at once, by option
        tx.note(f"Đăng ký {row['id']}: {row['title']} ({row['unit_code']})")
        crit = criteria_for(tx.conn, row["year"])
        window = crit.window(row["year"]) if row["late"] else None
    if json_:
        print_json({"id": row["id"], "late": row["late"], "sudden": row["sudden"]})
        return
    typer.echo(row["id"])
    from dvk.cycle.setup import outside_phase
    from dvk.wording import unprintable

    phase_note = outside_phase(crit, year)
    if phase_note:
        warn(phase_note)
    for label, value in (("Tên mô hình", title), ("Họ và tên", individual), ("Chức vụ", position)):
        if unprintable(value or ""):
            warn(f"{label} có ký tự phông chữ văn bản (Times New Roman) không hiển thị được: "
                 + ", ".join(unprintable(value or "")) + "; đã ghi vào sổ như đã nhập, văn bản in ra sẽ thiếu ký tự này.")
    if window is not None:
        from dvk.text.dates import fmt_date

        warn(f"{row['id']} đăng ký ngày {fmt_date(row['registered_on'])}, ngoài thời hạn "
             f"{fmt_date(window[0])}–{fmt_date(window[1])}: được ghi nhận là đăng ký muộn.")


# How `dvk register` names each field of a registration (dvk.rules.Issue.field) in its messages.
REGISTER_OPTIONS = {"year": "--year", "unit_code": "--unit", "title": "--title", "kind": "--exemplar",
                    "subject": "--individual", "person": "--individual", "position": "--position", "field": "--field",
                    "registered_on": "--date", "sudden": "--sudden", "note": "--note"}


def typed_date(value: Optional[str], field: str, noun: str) -> tuple[object, list]:
    """A typed --date read (None when not given), and its problem as a dvk.rules.Issue when it cannot be."""
    if value is None:
        return None, []
    from dvk.rules import date_issue
    from dvk.text.dates import DateError, parse_date

    try:
        return parse_date(value), []
    except DateError as exc:
        return None, [date_issue(field, noun, value, exc.reason, str(exc))]


def report_cmd(
    ctx: typer.Context,
    entry_id: Annotated[
        Optional[str], typer.Argument(metavar="[ID]", help="Mã mô hình, điển hình (2024-007); bỏ trống khi --from.")
    ] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    approach: Annotated[Optional[str], typer.Option("--approach", help="Cách làm.")] = None,
    experience: Annotated[Optional[str], typer.Option("--experience", help="Kinh nghiệm.")] = None,
    spread: Annotated[Optional[str], typer.Option("--spread", help="Tính lan tỏa.")] = None,
    effectiveness: Annotated[Optional[str], typer.Option("--effectiveness", help="Hiệu quả.")] = None,
    sustainability: Annotated[Optional[str], typer.Option("--sustainability", help="Sự bền vững.")] = None,
    date: DateOpt = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Tệp báo cáo (lưu đường dẫn và mã SHA-256).")] = None,
    from_docx: Annotated[
        Optional[Path], typer.Option("--from-docx", help="Đọc 5 nội dung từ báo cáo viết theo mẫu Word "
                                                         "(dvk template report-form); tệp được lưu kèm mã SHA-256.")
    ] = None,
    json_: JsonOpt = False,
    from_: FromOpt = None,
    dry_run: DryRunOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    update: UpdateOpt = False,
    force: Annotated[bool, typer.Option("--force", help="Sửa báo cáo đã được cấp ủy xác nhận (hoặc không xác nhận): "
                                                        "xác nhận cũ bị xóa, ghi vào lịch sử, cần cấp ủy xác nhận "
                                                        "lại. Với --from: dùng cùng --update; với --rejects: ghi đè "
                                                        "tệp dòng bị loại đã có.")] = False,
) -> None:
    """Ghi báo cáo thành tích (cách làm, kinh nghiệm, lan tỏa, hiệu quả, bền vững); --from TỆP để nhập nhiều.

    Nội dung để trống (tùy chọn hay ô trong tệp) không xóa nội dung đã ghi. Báo cáo đã có xác nhận của cấp ủy
    chỉ sửa được với --force (--from: --update --force); xác nhận cũ khi đó bị xóa và phải xác nhận lại.
    """
    from dvk.cycle.entries import entry_id_of
    from dvk.cycle.evidence import read_report_file, save_report
    from dvk.commands.intake import import_file, missing_options, refuse_bulk_options
    from dvk.errors import InvalidInput

    aspects = dict(approach=approach, experience=experience, spread=spread, effectiveness=effectiveness,
                   sustainability=sustainability)
    if from_ is not None:
        single = [n for n, v in (("ID", entry_id), ("--date", date), ("--file", file), ("--from-docx", from_docx))
                  if v is not None] + [f"--{k}" for k, v in aspects.items() if v is not None]
        if single:
            raise InvalidInput(f"Không dùng {', '.join(single)} cùng --from: các giá trị lấy từ tệp.")
        import_file(ctx, "reports", from_, db=db, user=user, json_=json_, dry_run=dry_run, skip_invalid=skip_invalid,
                    rejects=rejects, update=update, force=force)
        return
    refuse_bulk_options(dry_run, skip_invalid, rejects, update)
    if not entry_id:
        raise missing_options(["mã mô hình, điển hình (ID)"], "hoặc dùng --from TỆP để nhập nhiều báo cáo")
    on, found = typed_date(date, "reported_on", "ngày báo cáo")
    # Every file is read (and hashed) before the write lock: a big or a never-ending file blocks no one.
    report_file = None
    if from_docx is not None:
        from dvk.intake import forms

        given = [f"--{k}" for k, v in aspects.items() if v is not None] + (["--file"] if file else [])
        if given:
            raise InvalidInput(f"Không dùng {', '.join(given)} cùng --from-docx: nội dung lấy từ tệp Word.")
        report_file = read_report_file(from_docx)
        aspects = forms.read_report_docx(from_docx, entry_id_of(entry_id))  # "2024-7" is 2024-007
    elif file is not None:
        report_file = read_report_file(file)
    try:
        with writing(ctx, db, user) as tx:
            saved = save_report(tx, entry_id, aspects, on, report_file, force=force, names=REPORT_OPTIONS,
                                found=found)  # every problem at once, by option
            if not saved.changed:
                raise _Unchanged(saved)  # nothing to record: the transaction is rolled back
            eid = saved.row["entry_id"]
            tx.note(f"Báo cáo thành tích của {eid}" + (
                f"; xóa xác nhận của cấp ủy “{saved.cleared['committee']}” vì báo cáo thay đổi (--force)"
                if saved.cleared else ""))
    except _Unchanged as exc:
        saved = exc.saved
    row, missing = saved.row, saved.missing
    if json_:
        print_json({"id": row["entry_id"], "missing": missing, "file_sha256": row["file_sha256"],
                    "changed": saved.changed, "confirmation_cleared": saved.cleared is not None,
                    "ignored_blank": saved.ignored})
        return
    from dvk.criteria import ASPECTS

    for key in saved.ignored:
        warn(f"bỏ qua “{dict(ASPECTS)[key]}” (--{key}) để trống: nội dung để trống không xóa nội dung đã ghi.")
    if saved.changed:
        say(f"Đã ghi báo cáo thành tích của {row['entry_id']}.")
    else:
        say(f"Báo cáo thành tích của {row['entry_id']} không thay đổi; sổ giữ nguyên.")
    if saved.cleared:
        warn(f"đã xóa xác nhận của cấp ủy “{saved.cleared['committee']}” cho {row['entry_id']} vì báo cáo thay đổi; "
             f"cần cấp ủy xác nhận lại: dvk confirm {row['entry_id']} --by …")
    if missing:
        warn("báo cáo còn thiếu: " + ", ".join(missing) + " (cần đủ 5 nội dung để được xét).")


# How `dvk report` names each field of a report (dvk.rules.Issue.field) in its messages.
REPORT_OPTIONS = {"approach": "--approach", "experience": "--experience", "spread": "--spread",
                  "effectiveness": "--effectiveness", "sustainability": "--sustainability", "reported_on": "--date",
                  "aspects": "--approach, --experience, --spread, --effectiveness, --sustainability"}


class _Unchanged(Exception):
    """Raised inside the write transaction of `dvk report` when nothing changed (it is rolled back)."""

    def __init__(self, saved) -> None:
        super().__init__("unchanged")
        self.saved = saved


def confirm_cmd(
    ctx: typer.Context,
    entry_id: Annotated[
        Optional[str], typer.Argument(metavar="[ID]", help="Mã mô hình, điển hình; bỏ trống khi --from.")
    ] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    committee: Annotated[
        Optional[str], typer.Option("--committee", help="Cấp ủy xác nhận (mặc định: cấp ủy của đơn vị).")
    ] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Người ký xác nhận (họ tên, chức vụ).")] = None,
    date: DateOpt = None,
    comment: Annotated[Optional[str], typer.Option("--comment", help="Nhận xét, đánh giá của cấp ủy.")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Cấp ủy không xác nhận.")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Lý do không xác nhận.")] = None,
    json_: JsonOpt = False,
    from_: FromOpt = None,
    dry_run: DryRunOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    update: UpdateOpt = False,
    force: ForceOpt = False,
) -> None:
    """Ghi xác nhận (hoặc không xác nhận) của cấp ủy cùng cấp vào báo cáo thành tích; --from TỆP để nhập nhiều."""
    from dvk.cycle.evidence import save_confirmation
    from dvk.commands.intake import import_file, missing_options, refuse_bulk_options
    from dvk.errors import InvalidInput

    if from_ is not None:
        single = [n for n, v in (("ID", entry_id), ("--committee", committee), ("--by", by), ("--date", date),
                                 ("--comment", comment), ("--reason", reason)) if v is not None]
        single += ["--reject"] if reject else []
        if single:
            raise InvalidInput(f"Không dùng {', '.join(single)} cùng --from: các giá trị lấy từ tệp.")
        import_file(ctx, "confirmations", from_, db=db, user=user, json_=json_, dry_run=dry_run,
                    skip_invalid=skip_invalid, rejects=rejects, update=update, force=force)
        return
    refuse_bulk_options(dry_run, skip_invalid, rejects, update, force)
    if not entry_id:
        raise missing_options(["mã mô hình, điển hình (ID)"], "hoặc dùng --from TỆP để nhập nhiều xác nhận")
    on, found = typed_date(date, "confirmed_on", "ngày xác nhận")
    with writing(ctx, db, user) as tx:
        row = save_confirmation(tx, entry_id, committee=committee, by=by, on=on, comment=comment, rejected=reject,
                                reason=reason, names=CONFIRM_OPTIONS, found=found)  # every problem at once
        tx.note(f"{'Cấp ủy không xác nhận' if reject else 'Cấp ủy xác nhận'} {row['entry_id']}")
    if json_:
        print_json({"id": row["entry_id"], "committee": row["committee"], "rejected": row["rejected"],
                    "reason": row["reason"]})
        return
    if reject:
        say(f"Đã ghi: {row['committee']} không xác nhận {row['entry_id']} ({row['reason']}).")
    else:
        say(f"Đã ghi xác nhận của {row['committee']} cho {row['entry_id']}.")


# How `dvk confirm` names each field of a confirmation (dvk.rules.Issue.field) in its messages.
CONFIRM_OPTIONS = {"committee": "--committee", "confirmed_by": "--by", "comment": "--comment", "reason": "--reason",
                   "confirmed_on": "--date"}


def score_cmd(
    ctx: typer.Context,
    entry_id: Annotated[
        Optional[str], typer.Argument(metavar="[ID]", help="Mã mô hình, điển hình; bỏ trống khi --from.")
    ] = None,
    scores: Annotated[
        Optional[List[str]], typer.Argument(metavar="MÃ=ĐIỂM...", help="Điểm từng tiêu chí, ví dụ G1=8 S5=na.")
    ] = None,
    member: Annotated[
        Optional[str], typer.Option("--member", "-m", help="Thành viên Hội đồng chấm (với --from: cho tệp không có "
                                                            "cột Thành viên).")
    ] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
    from_: FromOpt = None,
    dry_run: DryRunOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    update: UpdateOpt = False,
    force: ForceOpt = False,
    abstain: Annotated[bool, typer.Option("--abstain", help="Thành viên không tham gia chấm mô hình này (không phải "
                                                            "phiếu thiếu, không tính).")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Lý do không tham gia chấm (với --abstain).")] = None,
) -> None:
    """Ghi điểm của một thành viên Hội đồng (chấm lại thì thay điểm cũ); --from TỆP: mỗi thành viên một trang tính."""
    from dvk.text.numbers import fmt_score
    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import get_entry
    from dvk.cycle.evidence import save_scores
    from dvk.commands.intake import import_file, missing_options, refuse_bulk_options
    from dvk.errors import InvalidInput
    from dvk.rules import member_name, parse_score_args, refusal

    why = member_name(member, required=False)[1]
    if why:
        raise refusal([why], {"member": "--member"}, what="Phiếu chấm điểm")
    if abstain or reason is not None:  # the council's record, dvk.cycle.council.abstain
        from dvk.commands.council import abstain_cmd

        abstain_cmd(ctx, entry_id, scores, member, from_, reason, abstain, db=db, user=user)
        return
    if from_ is not None:
        if entry_id or scores:
            raise InvalidInput("Không ghi mã mô hình hay MÃ=ĐIỂM cùng --from: điểm lấy từ tệp.")
        import_file(ctx, "scores", from_, db=db, user=user, json_=json_, dry_run=dry_run, skip_invalid=skip_invalid,
                    rejects=rejects, update=update, member=member, force=force)
        return
    refuse_bulk_options(dry_run, skip_invalid, rejects, update, force)
    if not entry_id:
        raise missing_options(["mã mô hình, điển hình (ID)"], "hoặc dùng --from TỆP để nhập phiếu chấm")
    if not member:
        raise InvalidInput("Thiếu tên thành viên Hội đồng (--member).")
    with writing(ctx, db, user) as tx:
        entry = get_entry(tx.conn, entry_id)
        crit = criteria_for(tx.conn, entry["year"])
        values = parse_score_args(scores or [], crit)
        res = save_scores(tx, entry["id"], member, values)
        tx.note(f"{'Chấm lại' if res['replaced'] else 'Chấm điểm'} {res['entry_id']}: {res['member']}")
    if json_:
        print_json(res)
        return
    verb = "Đã thay điểm" if res["replaced"] else "Đã ghi điểm"
    say(f"{verb} của {res['member']} cho {res['entry_id']}: tổng {fmt_score(res['total'])}/100.")
    if res.get("council_spelling"):
        say(f"(Tên “{res['typed']}” là thành viên Hội đồng “{res['member']}”: phiếu được ghi dưới tên đó.)")
    elif res["typed"] != res["member"]:
        say(f"(Tên “{res['typed']}” là thành viên “{res['member']}” đã có phiếu: phiếu được ghi dưới tên đó.)")


def register(app: typer.Typer) -> None:
    add(app, "register", register_cmd)
    add(app, "report", report_cmd)
    add(app, "confirm", confirm_cmd)
    add(app, "score", score_cmd)
