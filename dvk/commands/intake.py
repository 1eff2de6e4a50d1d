"""Bulk intake on the command line: `dvk template` (forms out) and the shared `--from FILE` plumbing
of register/report/confirm/score (files in). Parse, call dvk.intake / dvk.intake.forms, print."""


from pathlib import Path
from typing import Annotated, Any, List, Optional

import typer

from dvk.commands.common import OrgOpt, run_context, err_console, YEAR_CHECK, DbOpt, add, check_texts, ledger, opt_text, print_json, say, table, warn
from dvk.errors import InvalidInput, UsageProblem

FromOpt = Annotated[
    Optional[Path],
    typer.Option("--from", help="Nhập hàng loạt từ tệp .xlsx, .csv hoặc .json (cùng các cột của mẫu: dvk template)."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Với --from: chỉ kiểm tra và báo kết quả, không ghi gì.")]
SkipInvalidOpt = Annotated[
    bool, typer.Option("--skip-invalid", help="Với --from: nhập các dòng hợp lệ, bỏ qua các dòng lỗi (mặc định: "
                                              "có dòng lỗi thì không nhập gì).")
]
RejectsOpt = Annotated[
    Optional[Path],
    typer.Option("--rejects", help="Với --skip-invalid: ghi các dòng bị loại kèm lý do ra tệp này (cùng định dạng), "
                                   "sửa rồi nhập lại."),
]
UpdateOpt = Annotated[
    bool, typer.Option("--update", help="Với --from: cập nhật theo tệp các dòng trùng nhưng khác nội dung "
                                        "(mặc định: báo xung đột, không ghi).")
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Với --rejects: ghi đè tệp dòng bị loại đã có (không bao giờ ghi đè sổ, "
                                       "bản sao lưu hay chính tệp nhập).")
]

SINGLE_ONLY = "chỉ dùng khi nhập từ tệp (--from)"


class RowsProgress:
    """A progress bar on stderr for an import's `label` ("Đang nhập x.csv"), shown only once a file proves
    longer than PROGRESS_FROM rows (a small file ends before a bar would help)."""

    PROGRESS_FROM = 5000

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.task: Any = None

    def update(self, rows: int) -> None:
        if rows % 1000:
            return
        if self.bar is None:
            if rows < self.PROGRESS_FROM:
                return
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=None),
                                TextColumn("{task.completed:,} dòng"), TimeElapsedColumn(),
                                console=err_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None)
        self.bar.update(self.task, completed=rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def progress_display():
    """What an import reports its progress to: a bar on a terminal's stderr (RowsProgress), else nothing."""
    return RowsProgress if err_console().is_terminal else None


def missing_options(missing: list[str], bulk_hint: str) -> UsageProblem:
    """The error for `dvk register --year 2024` without --unit…: names what is missing, exit code 2."""
    return UsageProblem(f"Thiếu {', '.join(missing)} ({bulk_hint}).")


def import_file(ctx: typer.Context, kind: str, path: Path, *, db: Optional[Path], user: Optional[str], json_: bool, dry_run: bool,
                skip_invalid: bool, rejects: Optional[Path], update: bool, year: Optional[int] = None,
                member: Optional[str] = None, force: bool = False) -> None:
    """Run one import (dvk.intake) and print its result."""
    from dvk.intake.result import ImportOptions
    from dvk.intake.run import check_options, run_import
    from dvk.commands.common import hold_ctrl_c

    opts = ImportOptions(dry_run=dry_run, skip_invalid=skip_invalid, rejects=rejects, update=update,
                                year=year, member=member, force=force,
                                progress=progress_display())
    check_options(opts)
    run = run_context(ctx, db, user)
    with run.open() as led:
        res = run_import(led, kind, path, opts, user=run.user, command=run.command, before_commit=hold_ctrl_c)
    print_import(res, json_)


def refuse_bulk_options(dry_run: bool, skip_invalid: bool, rejects: Optional[Path], update: bool,
                        force: bool = False) -> None:
    used = [name for name, on in (("--dry-run", dry_run), ("--skip-invalid", skip_invalid),
                                  ("--rejects", rejects is not None), ("--update", update), ("--force", force)) if on]
    if used:
        raise InvalidInput(f"{', '.join(used)} {SINGLE_ONLY}.")


def _ids_text(ids: list[str], more: int) -> str:
    if len(ids) <= 12 and not more:
        return ", ".join(ids)
    return f"{ids[0]} … {ids[-1]}" if not more else f"{ids[0]} … (và nhiều mã khác)"


def print_import(res: Any, json_: bool) -> None:
    """The summary of an import: warnings on stderr, a table on stdout (or JSON only)."""
    if json_:
        print_json(res.as_json())
        return
    name = Path(res.file).name
    if res.unknown_headers:
        warn("bỏ qua các cột không dùng đến: " + ", ".join(f"“{h}”" for h in res.unknown_headers) + ".")
    if res.skipped_sheets:
        warn("bỏ qua các trang tính không có dòng tiêu đề phù hợp: "
             + ", ".join(f"“{s}”" for s in res.skipped_sheets) + ".")
    for enc, n in res.legacy.items():
        warn(f"đã chuyển {n} ô từ bảng mã {enc} sang Unicode (ví dụ: {'; '.join(res.legacy_where[:3])}). "
             "Hãy kiểm tra lại chữ tiếng Việt của các ô đó.")
    for note in res.notes:
        warn(note)
    if res.notes_more:
        warn(f"… và {res.notes_more} lưu ý khác như trên.")
    if res.examples:
        warn(f"bỏ qua {res.examples} dòng ví dụ của mẫu (có chữ “[VÍ DỤ]”).")
    if res.blank:
        warn(f"bỏ qua {res.blank} dòng chưa điền nội dung.")
    for c in res.conflict_list:
        warn("xung đột — " + c.text())
    if res.conflicts > len(res.conflict_list):
        warn(f"… và {res.conflicts - len(res.conflict_list)} xung đột khác.")
    if res.conflicts:
        warn("các dòng xung đột không được ghi; dùng --update để cập nhật sổ theo tệp.")
    if res.confirmations_cleared:
        warn(f"{'sẽ xóa' if res.dry_run else 'đã xóa'} {res.confirmations_cleared} xác nhận của cấp ủy vì báo cáo "
             "thay đổi; các mô hình đó cần cấp ủy xác nhận lại (dvk status --missing).")
    for p in res.problems:
        warn("bị loại — " + p.text())
    if res.problem_count > len(res.problems):
        warn(f"… và {res.problem_count - len(res.problems)} lỗi khác.")
    title = ("Chạy thử — " if res.dry_run else "") + f"Kết quả nhập “{name}”"
    table(title, ["Thêm mới", "Đã có", "Cập nhật", "Xung đột", "Bị loại"],
          [[res.added, res.already, res.updated, res.conflicts, res.rejected]])
    if res.new_ids:
        say(("Mã sẽ cấp: " if res.dry_run else "Mã mới: ") + _ids_text(res.new_ids, res.new_ids_more))
    if res.rejects_file:
        say(f"Đã ghi {res.rejected} dòng bị loại (kèm lý do) ra tệp “{res.rejects_file}”: sửa rồi nhập lại.")
    if res.dry_run:
        say("Chạy thử: chưa ghi gì vào sổ.")
    elif not (res.added or res.updated):
        say("Sổ không thay đổi.")


# ---------------------------------------------------------------- dvk template

TEMPLATE_KINDS = ("registrations", "reports", "confirmations", "scores", "report-form")


def template_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="LOẠI", help="registrations | reports | confirmations | scores | "
                                                            "report-form")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Tệp mẫu sẽ ghi (.xlsx; report-form: .docx).")],
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="Năm (mặc định: năm nay).",
                                                callback=YEAR_CHECK)] = None,
    member: Annotated[
        Optional[List[str]], typer.Option("--member", "-m", help="Thành viên Hội đồng (mẫu chấm điểm; lặp lại được).")
    ] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", "-u", help="Chỉ các mô hình của đơn vị này.")] = None,
    entry: Annotated[Optional[str], typer.Option("--entry", help="report-form: mã mô hình điền sẵn vào mẫu.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè tệp đã có.")] = False,
    db: DbOpt = None,
    org: OrgOpt = None,
) -> None:
    """Ghi mẫu Excel để các đơn vị điền rồi gửi lại (đăng ký, báo cáo, xác nhận, chấm điểm) hoặc mẫu Word báo cáo."""
    from dvk.intake import forms

    if kind not in TEMPLATE_KINDS:
        raise InvalidInput(f"Loại mẫu “{kind}” không có; chọn một trong: {', '.join(TEMPLATE_KINDS)}.")
    check_texts(opt_text("--member", member, "member"))
    with ledger(ctx, db) as led, led.read() as conn:
        info = forms.write_template(conn, kind, out, year=year, members=member or [], unit=unit, entry_id=entry,
                                    force=force)
    say(f"Đã ghi mẫu “{out}”" + (f": {info}" if info else "."))


def register(app: typer.Typer) -> None:
    add(app, "template", template_cmd)
