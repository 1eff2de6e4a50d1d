"""Documents and the demo: export, verify-doc, demo."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (OrgOpt, run_context, YEAR_CHECK, DbOpt, JsonOpt, UserOpt, add, check_texts, console, ledger, opt_text,
                                 parse_date_opt, print_json, say, warn)


def export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Thư mục ghi văn bản (tạo nếu chưa có).")],
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="Năm cần xuất văn bản.",
                                                callback=YEAR_CHECK)] = None,
    phase: Annotated[
        Optional[str], typer.Option("--phase", help="Giai đoạn cần tổng kết, ví dụ 2021-2025 (tờ trình khen thưởng).")
    ] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè tệp đã có (sổ và tệp cũ được sao lưu trước).")] = False,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Xuất thêm PDF bằng LibreOffice; nếu máy chưa có LibreOffice thì vẫn ghi "
                                         "tệp Word và chỉ dẫn cách cài.")
    ] = False,
    reminders: Annotated[
        bool, typer.Option("--reminders", help="Ghi thêm công văn đôn đốc các đơn vị còn thiếu báo cáo, xác nhận.")
    ] = False,
    templates: Annotated[
        Optional[Path], typer.Option("--templates", help="Thư mục mẫu Word thay cho mẫu có sẵn (mặc định: thư mục "
                                                          "templates cạnh sổ, nếu có).")
    ] = None,
    member: Annotated[
        Optional[List[str]], typer.Option("--member", metavar="TÊN", help="Thành viên Hội đồng, in phiếu chấm điểm "
                                          "cho từng người (lặp lại cho nhiều người; mặc định: những người đã chấm).")
    ] = None,
    deadline: Annotated[
        Optional[str], typer.Option("--deadline", metavar="NGÀY", help="Hạn nộp ghi trong công văn đôn đốc "
                                                                       "(dd/mm/yyyy; mặc định 15 ngày trước ngày công nhận).")
    ] = None,
    date: Annotated[
        Optional[str], typer.Option("--date", metavar="NGÀY", help="Ngày ghi trên văn bản (dd/mm/yyyy; mặc định: "
                                                                   "ngày quyết định công nhận, nếu chưa có thì hôm nay).")
    ] = None,
    json_: JsonOpt = False,
    certificates: Annotated[
        bool, typer.Option("--certificates", help="Ghi thêm giấy công nhận, mỗi mô hình, điển hình được công nhận "
                                                  "một trang (cần quyết định công nhận).")
    ] = False,
    launch: Annotated[
        bool, typer.Option("--launch", help="Chỉ ghi công văn phát động của năm (tháng 2: lĩnh vực, tiêu chí, cách "
                                            "và hạn đăng ký, mẫu đăng ký).")
    ] = False,
) -> None:
    """Xuất văn bản Word/Excel của một năm (quyết định công nhận chỉ có sau dvk recognize) hoặc của giai đoạn.

    Không có quyết định công nhận thì vẫn ghi các văn bản khác. Ngày ghi trên văn bản: --date, mặc định
    ngày của quyết định công nhận (nếu có), nếu chưa có thì hôm nay. Mỗi lần xuất được ghi vào lịch sử
    của sổ cùng mã SHA-256 của từng tệp (kiểm tra lại bằng: dvk verify-doc TỆP).
    """
    from dvk.reports.export import export_phase, export_year
    from dvk.reports.kinds import Options
    from dvk.errors import InvalidInput

    if (year is None) == (phase is None):
        raise InvalidInput("Hãy chọn đúng một trong hai: --year NĂM hoặc --phase GIAI_ĐOẠN (ví dụ 2021-2025).")
    if phase is not None:
        extra = [n for n, v in (("--reminders", reminders), ("--member", member), ("--deadline", deadline),
                                ("--certificates", certificates), ("--launch", launch)) if v]
        if extra:
            raise InvalidInput(f"{', '.join(extra)} chỉ dùng với --year.")
    check_texts(opt_text("--member", member, "member"))
    opts = Options(on=parse_date_opt(date), deadline=parse_date_opt(deadline), members=tuple(member or ()),
                          templates=templates, reminders=reminders,
                          extra=("certificates",) if certificates else ())
    run = run_context(ctx, db, user)
    with run.open() as led:
        kw = dict(user=run.user, command=run.command, force=force, pdf=pdf)
        if year is not None:
            res = export_year(led, year, out, opts, kinds=("launch",) if launch else None, **kw)
        else:
            res = export_phase(led, phase, out, opts, **kw)
    if json_:
        print_json(res.as_dict())
        return
    if res.files:
        from rich.table import Table
        from rich.text import Text

        from dvk.text.safety import visible

        t = Table(title=Text(visible(f"Đã ghi {len(res.files)} tệp vào {out}")))
        t.add_column("Tệp", no_wrap=True)
        t.add_column("Văn bản", overflow="fold")
        t.add_column("SHA-256", no_wrap=True)
        t.add_column("Cảnh báo", justify="right")
        for f in res.files:
            t.add_row(Text(visible(f.path.name)), Text(visible(f.label)), f.sha256[:12], str(len(f.warnings) or ""))
        console().print(t)
    else:
        say("Không có tệp nào được ghi.")
    for note in res.notes:
        say(f"Lưu ý: {note}")
    for w in res.warnings:
        warn(w)


def verify_doc_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp văn bản (.docx, .xlsx, .pdf) do dvk xuất.")],
    db: DbOpt = None,
    org: OrgOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Cho biết tệp là văn bản nào và còn khớp với sổ không (mã 0: khớp; 1: không khớp hoặc không rõ)."""
    from dvk.errors import DocumentMismatch
    from dvk.reports.verify_doc import verify_document

    with ledger(ctx, db) as led:
        check = verify_document(led, file)
    if json_:
        print_json(check.as_dict())
        if not check.matches:
            raise typer.Exit(code=1)
        return
    if check.matches:
        say(f"{check.description}: khớp với sổ (SHA-256 {check.sha256[:12]}).")
        return
    raise DocumentMismatch(f"{check.description} — không khớp với sổ: “{file}”.", details=check.problems)


def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Thư mục ghi sổ mẫu và văn bản.")],
    user: UserOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè sổ mẫu đã có trong thư mục.")] = False,
) -> None:
    """Chạy trọn một năm trên dữ liệu mẫu (khoảng 30 đơn vị, 60 mô hình) và ghi văn bản."""
    from dvk import demo

    demo.run(out, user=user, force=force, echo=say)


def register(app: typer.Typer) -> None:
    add(app, "export", export_cmd)
    add(app, "verify-doc", verify_doc_cmd)
    add(app, "demo", demo_cmd)
