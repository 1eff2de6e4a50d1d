"""Data-safety commands: verify, backup, restore, settings."""


from pathlib import Path
from typing import Annotated, Optional

import typer

from dvk.commands.common import (run_context, DbOpt, JsonOpt, UserOpt, ViCommand, add, ledger, print_json, say, sub_app, table,
                                 warn, writing)

settings_app = sub_app("Cài đặt của sổ (ví dụ số bản sao lưu tự động giữ lại).")


def verify_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Kiểm tra sổ: chuỗi mã kiểm tra của lịch sử và từng dòng dữ liệu so với lịch sử."""
    from dvk.errors import VerifyFailed
    from dvk.ledger.verify import verify

    with ledger(ctx, db) as led:
        report = verify(led)
    if json_:
        print_json(report.as_dict())
        if not report.ok:
            raise typer.Exit(code=1)
        return
    if not report.ok:
        raise VerifyFailed(report)
    say(report.summary())


def backup_cmd(
    ctx: typer.Context,
    path: Annotated[
        Optional[Path],
        typer.Argument(help="Tệp (hoặc thư mục) nhận bản sao lưu; bỏ trống: thư mục <sổ>.backups cạnh sổ."),
    ] = None,
    db: DbOpt = None,
    list_: Annotated[bool, typer.Option("--list", help="Liệt kê các bản sao lưu cạnh sổ.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Sao lưu sổ (bản sao nhất quán, có thể chạy trong khi lệnh khác đang ghi)."""
    from dvk.ledger.backup import backup_dir, backup_space, list_backups
    from dvk.text.numbers import fmt_bytes

    with ledger(ctx, db) as led:
        if list_:
            backups = list_backups(led)
            space = backup_space(led)
            if json_:
                print_json([{"path": str(b.path), "at": b.when.isoformat(), "reason": b.reason,
                             "size": b.path.stat().st_size, "rotated": b.rotated} for b in backups])
                warn_backup_space(space)
                return
            if not backups:
                say(f"Chưa có bản sao lưu nào trong {backup_dir(led)}.")
                return
            table(f"Bản sao lưu trong {backup_dir(led)}", ["Thời điểm", "Lý do", "Tệp", "Dung lượng"],
                  [[b.when.astimezone().strftime("%d/%m/%Y %H:%M:%S"), REASONS.get(b.reason, b.reason), b.path.name,
                    fmt_bytes(b.path.stat().st_size)] for b in backups])
            say(f"Tổng cộng {len(backups)} bản sao lưu, {fmt_bytes(space.total)}; ổ đĩa còn trống {fmt_bytes(space.free)}.")
            warn_backup_space(space)
            return
        dest = led.backup_to(path) if path is not None else led.backup_before("manual")
        space = backup_space(led)
    warn_backup_space(space)
    if json_:
        print_json({"backup": str(dest), "size": dest.stat().st_size})
    else:
        say(f"Đã sao lưu sổ vào: {dest}")


REASONS = {
    "manual": "sao lưu theo yêu cầu",
    "migrate": "trước khi nâng cấp lược đồ",
    "recognize": "trước khi ra quyết định công nhận",
    "force": "trước khi ghi đè (--force)",
    "replaced": "sổ bị thay khi khôi phục",
}


def warn_backup_space(space) -> None:
    """A warning on stderr when the backups beside the ledger take more than the free space left."""
    if space.outgrown:
        from dvk.text.numbers import fmt_bytes

        warn(f"các bản sao lưu cạnh sổ chiếm {fmt_bytes(space.total)}, nhiều hơn chỗ trống còn lại trên ổ "
             f"đĩa ({fmt_bytes(space.free)}); mỗi lần ra quyết định công nhận cần thêm khoảng {fmt_bytes(space.ledger)}. "
             "Hãy chép các bản cũ sang nơi khác rồi xóa, hoặc giảm số bản giữ lại: dvk settings set backup_keep N.")



def restore_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Tệp sao lưu cần khôi phục.", readable=False)],
    db: DbOpt = None,
    user: UserOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Khôi phục cả khi bản sao lưu là của một sổ khác (khác mã sổ) hoặc "
                                    "không có (hay ghi khác) một quyết định công nhận sổ hiện tại đang giữ.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Khôi phục sổ từ bản sao lưu (kiểm tra bản sao lưu trước; sổ bị thay được giữ lại)."""
    from dvk.ledger.restore import restore

    run = run_context(ctx, db, user)
    from dvk.ledger.stores import is_server

    if is_server(run.path):
        from dvk.errors import LedgerError
        from dvk.ledger.postgres import shown_url

        raise LedgerError(f"dvk restore thay một tệp sổ. Muốn đưa bản sao lưu “{path}” lên máy chủ, hãy chép nó vào "
                          f"cơ sở dữ liệu: dvk copy --from \"{path}\" --to \"{shown_url(run.path)}\" --force (sổ đang có ở đó "
                          "bị thay; hãy sao lưu nó trước: dvk backup). Không có gì thay đổi.")
    res = restore(path, run.path, force=force, user=run.user, command=run.command)
    if json_:
        print_json({"restored": str(res.ledger), "from": str(res.source),
                    "replaced": str(res.replaced) if res.replaced else None, "ledger_id": res.ledger_id,
                    "other_ledger": res.other_ledger, "history_records": res.records, "entries": res.rows,
                    "decisions_lost": res.decisions_lost, "notes": res.notes})
        return
    for note in res.notes:
        say(f"Lưu ý: {note}")
    say(f"Đã khôi phục sổ {res.ledger} từ {res.source} (đã kiểm tra toàn vẹn và khớp lịch sử; "
        f"{res.rows} mô hình, điển hình; {res.records} bản ghi lịch sử).")
    if res.replaced:
        say(f"Sổ trước khi khôi phục được giữ tại: {res.replaced}")


@settings_app.command("show", cls=ViCommand)
def settings_show(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Xem các cài đặt của sổ."""
    from dvk.ledger.settings import BACKUP_KEEP_DEFAULT, SETTINGS

    defaults = {"backup_keep": str(BACKUP_KEEP_DEFAULT)}
    with ledger(ctx, db) as led:
        values = {k: led.setting(k, defaults.get(k)) for k in SETTINGS}
    if json_:
        print_json(values)
        return
    table("Cài đặt của sổ", ["Cài đặt", "Giá trị", "Ý nghĩa"], [[k, values[k], SETTINGS[k]] for k in SETTINGS])


@settings_app.command("set", cls=ViCommand)
def settings_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Tên cài đặt (backup_keep).")],
    value: Annotated[str, typer.Argument(help="Giá trị mới.")],
    db: DbOpt = None,
    user: UserOpt = None,
) -> None:
    """Đổi một cài đặt của sổ (ghi vào lịch sử)."""
    from dvk.cycle.setup import set_setting
    from dvk.ledger.settings import check_setting

    check_setting(key, value)  # before the ledger is opened: a bad value names the setting, nothing written
    with writing(ctx, db, user) as tx:
        stored = set_setting(tx, key, value)
        tx.note(f"Đổi cài đặt {key} thành {stored}")
    say(f"Đã đặt {key} = {stored}.")


def copy_cmd(
    src: Annotated[str, typer.Option("--from", help="Sổ nguồn: đường dẫn tệp hoặc địa chỉ postgresql://…")],
    dst: Annotated[str, typer.Option("--to", help="Sổ đích (phải chưa có, hoặc cơ sở dữ liệu trống): tệp hoặc "
                                                  "postgresql://…")],
    force: Annotated[bool, typer.Option("--force", help="Thay sổ đang có ở đích (tệp cũ được sao lưu trước).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Chép nguyên một sổ (cả lịch sử) sang nơi khác: tệp ↔ máy chủ PostgreSQL; bản chép được kiểm tra toàn vẹn."""
    from dvk.ledger.stores import copy_ledger
    from dvk.ledger.paths import check_path_text
    from dvk.ledger.stores import is_server

    for value in (src, dst):
        if not is_server(value):
            check_path_text(Path(value).expanduser())
    res = copy_ledger(src if is_server(src) else Path(src).expanduser(),
                      dst if is_server(dst) else Path(dst).expanduser(), force=force)
    if json_:
        print_json({"from": res.source, "to": res.dest, "history_records": res.records, "rows": res.rows,
                    "head_id": res.head_id, "head_hash": res.head_hash})
        return
    say(f"Đã chép sổ {res.source} sang {res.dest}: {res.rows} dòng, {res.records} bản ghi lịch sử; bản chép toàn "
        f"vẹn, mã kiểm tra cuối #{res.head_id} {(res.head_hash or '')[:16]} giống sổ gốc.")


def register(app: typer.Typer) -> None:
    add(app, "verify", verify_cmd)
    add(app, "backup", backup_cmd)
    add(app, "restore", restore_cmd)
    add(app, "copy", copy_cmd)
    app.add_typer(settings_app, name="settings")
