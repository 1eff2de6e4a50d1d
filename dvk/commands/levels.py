"""Every level of the union: proposals upward (forward), packages between ledgers (package, receive)."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (YEAR_CHECK, DbOpt, JsonOpt, UserOpt, add, print_json, run_context, say,
                                 warn, writing)


SHOWN = 20  # the entries a receive lists on screen (--json: every one)


def forward_cmd(
    ctx: typer.Context,
    entry_ids: Annotated[Optional[List[str]], typer.Argument(metavar="[ID]...", help=(
        "Mã các mô hình, điển hình tổ chức cấp dưới đã công nhận."))] = None,
    year: Annotated[int, typer.Option("--year", "-y", help="Năm của cấp trên nhận đề nghị.", callback=YEAR_CHECK)] = 0,
    org: Annotated[Optional[str], typer.Option("--org", metavar="MÃ", help="Mã tổ chức cấp dưới đề nghị.")] = None,
    from_file: Annotated[Optional[Path], typer.Option("--from", help="Tệp danh sách mã (mỗi dòng một mã).")] = None,
    db: DbOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Đề nghị lên cấp trên các mô hình, điển hình tổ chức cấp dưới đã công nhận."""
    from dvk.cycle.forward import forward
    from dvk.cycle.proposals import ids_from_file
    from dvk.errors import InvalidInput

    if not year:
        raise InvalidInput("Thiếu năm (--year) của cấp trên nhận đề nghị.")
    if not org:
        raise InvalidInput("Thiếu tổ chức cấp dưới đề nghị (--org MÃ).")
    ids = list(entry_ids or [])
    if from_file is not None:
        if ids:
            raise InvalidInput("Chọn một trong hai: mã mô hình gõ trên dòng lệnh, hoặc --from TỆP.")
        ids = ids_from_file(from_file)  # read before the write lock
    ctx.params["org"] = None  # --org names the lower organisation here, not the one to work for
    with writing(ctx, db, user, f"Đề nghị lên cấp trên {len(ids)} mô hình, điển hình của {org}") as tx:
        rows = forward(tx, year, org, ids)
    if json_:
        print_json([{"id": r["id"], "org": r["org_code"], "unit": r["unit_code"], "title": r["title"],
                     "from": r["note"]} for r in rows])
        return
    for r in rows:
        say(f"{r['id']} ← {r['note']}: {r['title']}")
    say(f"Đã đề nghị {len(rows)} mô hình, điển hình lên {rows[0]['org_code'] if rows else ''} năm {year}.")


def package_cmd(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", "-y", help="Năm.", callback=YEAR_CHECK)],
    out: Annotated[Path, typer.Option("--out", help="Tệp gói hồ sơ sẽ ghi (.dvkpkg).")],
    org: Annotated[Optional[str], typer.Option("--org", metavar="MÃ", help="Tổ chức gửi (mặc định: tổ chức duy nhất).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè tệp đã có.")] = False,
    db: DbOpt = None,
) -> None:
    """Đóng gói hồ sơ một năm (đăng ký, báo cáo, xác nhận, mô hình được công nhận) để gửi cấp trên."""
    from dvk.cycle.packages import write_package

    with run_context(ctx, db).open() as led:
        info = write_package(led, year, out, force=force)
    say(f"Đã ghi gói hồ sơ {out}: {info['entries']} mô hình, điển hình được công nhận của {info['org']} năm {year} "
        f"(SHA-256 {info['sha256'][:16]}…).")


def receive_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="TỆP", help="Tệp gói hồ sơ (.dvkpkg) của cấp dưới.")],
    year: Annotated[Optional[int], typer.Option("--year", "-y", help=(
        "Năm của cấp trên nhận (mặc định: năm của gói)."), callback=YEAR_CHECK)] = None,
    org: Annotated[Optional[str], typer.Option("--org", metavar="MÃ", help="Tổ chức nhận (mặc định: tổ chức duy nhất).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Chỉ cho biết sẽ thêm gì; không ghi.")] = False,
    update: Annotated[bool, typer.Option("--update", help="Cập nhật các mô hình đã nhận từ gói trước mà nay khác.")] = False,
    db: DbOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Nhận gói hồ sơ của cấp dưới: kiểm tra mã SHA-256, thêm tất cả hoặc không thêm gì."""
    from dvk.cycle.packages import read_package, receive

    pkg = read_package(file)  # read and checked before the ledger is opened
    run = run_context(ctx, db, user)
    with run.open() as led:
        res = receive(led, pkg, year=year, dry_run=dry_run, update=update, user=run.user, command=run.command)
    if json_:
        print_json(res)
        return
    head = "Sẽ thêm" if dry_run else "Đã thêm"
    for a in res["added"][:SHOWN]:
        say(f"  + {a.get('id', '(mã mới)')} ← {a['from_entry']}: {a['title']}")
    if len(res["added"]) > SHOWN:
        say(f"  … và {len(res['added']) - SHOWN} mô hình, điển hình nữa (xem đủ: --json).")
    for c in res["conflicts"]:
        warn(f"{c['from_entry']}: {c['reason']}")
    for u in res["updated"]:
        say(f"  ~ {u['id']} ← {u['from_entry']}: {u['title']}")
    if res["unchanged"] and not res["added"] and not res["updated"] and not res["conflicts"]:
        say(f"Gói {res['sha256'][:16]}… đã nhận trước đây; sổ không thay đổi.")
        return
    say(f"{head} {len(res['added'])} mô hình, điển hình từ {res['from_org']} vào năm {res['year']} của {res['org']}"
        + (f"; cập nhật {len(res['updated'])}" if res["updated"] else "")
        + (f"; {len(res['conflicts'])} xung đột (dùng --update để cập nhật)" if res["conflicts"] else "") + ".")


def register(app: typer.Typer) -> None:
    add(app, "forward", forward_cmd)
    add(app, "package", package_cmd)
    add(app, "receive", receive_cmd)
