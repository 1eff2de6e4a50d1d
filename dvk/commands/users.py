"""Logins of a ledger on a PostgreSQL server: `dvk users add`, `dvk users list`."""

from typing import Annotated, Optional

import typer

from dvk.commands.common import DbOpt, JsonOpt, UserOpt, ViCommand, ledger, print_json, say, sub_app, table, writing

users_app = sub_app("Tài khoản đăng nhập vào sổ trên máy chủ PostgreSQL và quyền ghi của từng tài khoản.")


@users_app.command("add", cls=ViCommand)
def users_add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="Tên đăng nhập mới (chữ thường không dấu, số, gạch dưới).")],
    role: Annotated[str, typer.Option("--role", help="Vai trò: clerk (thư ký), council (thành viên hội đồng) "
                                                     "hoặc unit (đơn vị).")],
    unit: Annotated[Optional[str], typer.Option("--unit", help="Mã đơn vị mà tài khoản unit được ghi.")] = None,
    member: Annotated[Optional[str], typer.Option("--member", help="Tên thành viên hội đồng trên phiếu chấm "
                                                                   "(mặc định: tên đăng nhập).")] = None,
    org: Annotated[Optional[str], typer.Option("--org", help="Mã tổ chức của tài khoản: chỉ ghi được phần của tổ chức đó (bỏ trống: cả sổ).")] = None,
    password: Annotated[bool, typer.Option("--password", help="Hỏi mật khẩu của tài khoản (gõ ẩn, hai lần), hoặc "
                                                              "lấy từ biến DVK_NEW_PASSWORD; mật khẩu không bao giờ "
                                                              "vào lịch sử.")] = False,
    db: DbOpt = None,
    user: UserOpt = None,
) -> None:
    """Tạo tài khoản đăng nhập PostgreSQL với quyền theo vai trò (máy chủ bảo đảm mỗi người chỉ ghi phần của mình)."""
    from dvk.commands.common import check_texts, opt_text
    from dvk.ledger.roles import ROLE_LABELS, add_user

    import os

    check_texts(opt_text("--member", member, "member"))
    secret = None
    if password:
        secret = os.environ.get("DVK_NEW_PASSWORD") or typer.prompt("Mật khẩu", hide_input=True,
                                                                    confirmation_prompt=True)
    with writing(ctx, db, user, summary=f"Tạo tài khoản {login} ({ROLE_LABELS.get(role, role)})") as tx:
        m = add_user(tx, login, role, unit=unit, member=member, org=org, password=secret)
    extra = f" của đơn vị {m['unit']}" if m.get("unit") else f" “{m['member']}”" if m.get("member") else ""
    say(f"Đã tạo tài khoản {login}: {ROLE_LABELS[role]}{extra}.")


@users_app.command("list", cls=ViCommand)
def users_list(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Các tài khoản đăng nhập của sổ và vai trò của từng tài khoản."""
    from dvk.ledger.roles import ROLE_LABELS, list_users

    with ledger(ctx, db) as led, led.read() as conn:
        rows = list_users(conn)
    if json_:
        print_json(rows)
        return
    if not rows:
        say("Sổ chưa có tài khoản nào (dvk users add TÊN --role clerk|council|unit).")
        return
    table("Tài khoản", ["Tên đăng nhập", "Vai trò", "Đơn vị", "Thành viên hội đồng"],
          [[r["login"], ROLE_LABELS.get(r.get("role"), r.get("role") or ""), r.get("unit") or "",
            r.get("member") or ""] for r in rows])


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
