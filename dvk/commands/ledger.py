"""Ledger-wide commands: init, info, org, units, criteria, history."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (run_context, YEAR_CHECK, DbOpt, JsonOpt, UserOpt, ViCommand, add, check_texts, int_range, ledger,
                                 opt_text, print_json, say, sub_app, table, warn, writing)

org_app = sub_app("Thông tin đơn vị ban hành (tên, ký hiệu, người ký) theo từng năm.")
units_app = sub_app("Danh sách đơn vị (CĐCS) và cấp ủy của từng đơn vị.")
criteria_app = sub_app("Bộ tiêu chí, thang điểm và lịch đăng ký/công nhận.")


def init(
    ctx: typer.Context,
    db: DbOpt = None,
    user: UserOpt = None,
    org: Annotated[Optional[str], typer.Option("--org", help="Tên đơn vị phát động, ban hành quyết định.")] = None,
    parent_org: Annotated[Optional[str], typer.Option("--parent-org", help="Tên cơ quan cấp trên.")] = None,
    place: Annotated[Optional[str], typer.Option("--place", help="Địa danh ghi trên văn bản.")] = None,
    symbol: Annotated[Optional[str], typer.Option("--symbol", help="Ký hiệu viết tắt của đơn vị (ví dụ CĐN).")] = None,
    signer: Annotated[Optional[str], typer.Option("--signer", help="Họ tên người ký.")] = None,
    signer_title: Annotated[Optional[str], typer.Option("--signer-title", help="Chức vụ người ký (CHỦ TỊCH).")] = None,
    on_behalf: Annotated[Optional[str], typer.Option("--on-behalf", help="Thẩm quyền ký (TM. BAN THƯỜNG VỤ).")] = None,
    criteria: Annotated[Optional[Path], typer.Option("--criteria", help="Tệp tiêu chí TOML thay cho bộ mặc định.")] = None,
) -> None:
    """Tạo sổ mới (chạy lần nữa trên sổ đã có thì không thay đổi gì)."""
    from dvk.cycle.setup import init_ledger

    run = run_context(ctx, db, user)
    path = run.path
    profile = dict(org=org, parent_org=parent_org, place=place, symbol=symbol, signer=signer,
                   signer_title=signer_title, on_behalf=on_behalf)
    _check_profile(profile)
    led, created = init_ledger(path, user=run.user, profile=profile, criteria_file=criteria, command=run.command)
    led.close()
    if created:
        say(f"Đã tạo sổ: {path}")
    else:
        say(f"Sổ đã có sẵn tại {path}; không thay đổi gì.")


def info(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Đường dẫn sổ, phiên bản lược đồ và số bản ghi."""
    from dvk.cycle.status import ledger_info

    with ledger(ctx, db) as led:
        with led.read() as conn:
            data = ledger_info(conn)
        data = {"path": str(led.shown), **data}
    if json_:
        print_json(data)
        return
    labels = {"unit": "Đơn vị", "entry": "Mô hình, điển hình", "report": "Báo cáo", "confirmation": "Xác nhận",
              "score": "Điểm thành phần", "decision": "Quyết định", "history": "Bản ghi lịch sử"}
    say(f"Sổ: {data['path']}")
    say(f"Phiên bản lược đồ: {data['schema']}")
    say("Các năm có dữ liệu: " + (", ".join(map(str, data["years"])) or "chưa có"))
    for k, v in data["counts"].items():
        say(f"  {labels[k]}: {v}")


# ---------------------------------------------------------------- org

def _check_profile(values: dict) -> None:
    """Typed profile options (init, org set): the field rules, naming each option."""
    from dvk.cycle.config import PROFILE_LABELS

    check_texts(*[opt_text("--" + k.replace("_", "-"), v, "recipient" if k == "recipients" else "profile",
                           label=PROFILE_LABELS[k]) for k, v in values.items()])

def _profile_lines(p: dict) -> list[list[str]]:
    from dvk.cycle.config import PROFILE_LABELS

    rows = []
    for k, label in PROFILE_LABELS.items():
        v = p[k]
        rows.append([label, "; ".join(v) if isinstance(v, list) else v])
    return rows


@org_app.command("show", cls=ViCommand)
def org_show(
    ctx: typer.Context,
    db: DbOpt = None,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="Chỉ hiện thông tin áp dụng cho năm này.",
                                                callback=YEAR_CHECK)] = None,
    json_: JsonOpt = False,
) -> None:
    """Xem thông tin đơn vị ban hành (theo từng mốc năm)."""
    from dvk.cycle.common import BASE_YEAR
    from dvk.cycle.config import profile_for, profiles

    with ledger(ctx, db) as led, led.read() as conn:
        data = [profile_for(conn, year)] if year else profiles(conn)
    if json_:
        print_json(data)
        return
    for p in data:
        head = "Áp dụng từ đầu" if p["from_year"] == BASE_YEAR else f"Áp dụng từ năm {p['from_year']}"
        table(head, ["Mục", "Giá trị"], _profile_lines(p))


@org_app.command("set", cls=ViCommand)
def org_set(
    ctx: typer.Context,
    from_year: Annotated[int, typer.Option("--from-year", help="Năm bắt đầu áp dụng; các năm trước giữ nguyên.",
                                           callback=YEAR_CHECK)],
    db: DbOpt = None,
    user: UserOpt = None,
    org: Annotated[Optional[str], typer.Option("--org", help="Tên đơn vị ban hành.")] = None,
    parent_org: Annotated[Optional[str], typer.Option("--parent-org", help="Tên cơ quan cấp trên.")] = None,
    place: Annotated[Optional[str], typer.Option("--place", help="Địa danh.")] = None,
    symbol: Annotated[Optional[str], typer.Option("--symbol", help="Ký hiệu văn bản.")] = None,
    signer: Annotated[Optional[str], typer.Option("--signer", help="Họ tên người ký.")] = None,
    signer_title: Annotated[Optional[str], typer.Option("--signer-title", help="Chức vụ người ký.")] = None,
    on_behalf: Annotated[Optional[str], typer.Option("--on-behalf", help="Thẩm quyền ký.")] = None,
    recipient: Annotated[
        Optional[List[str]], typer.Option("--recipient", help="Một dòng “Nơi nhận” (lặp lại cho nhiều dòng).")
    ] = None,
) -> None:
    """Đổi thông tin đơn vị ban hành từ một năm trở đi."""
    from dvk.cycle.setup import set_profile

    changes = dict(org=org, parent_org=parent_org, place=place, symbol=symbol, signer=signer,
                   signer_title=signer_title, on_behalf=on_behalf, recipients=recipient)
    _check_profile({k: v for k, v in changes.items() if k != "recipients"})
    check_texts(opt_text("--recipient", recipient, "recipient"))
    with writing(ctx, db, user, f"Đổi thông tin đơn vị ban hành từ năm {from_year}") as tx:
        row = set_profile(tx, from_year, changes)
    say(f"Đã cập nhật thông tin đơn vị ban hành từ năm {from_year}: {row['org']}.")


# ---------------------------------------------------------------- units

@units_app.command("add", cls=ViCommand)
def units_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Mã đơn vị (ví dụ BVDK).")],
    name: Annotated[str, typer.Argument(help="Tên đơn vị.")],
    db: DbOpt = None,
    user: UserOpt = None,
    committee: Annotated[Optional[str], typer.Option("--committee", help="Tên cấp ủy cùng cấp của đơn vị.")] = None,
) -> None:
    """Thêm một đơn vị."""
    from dvk.cycle.units import add_unit, decided_years

    check_texts(opt_text(None, code, "unit_code"), opt_text(None, name, "unit_name"),
                opt_text("--committee", committee, "committee"))
    with writing(ctx, db, user, f"Thêm đơn vị {code}") as tx:
        row = add_unit(tx, code, name, committee)
        decided = decided_years(tx.conn)
    say(f"Đã thêm đơn vị {row['code']}: {row['name']}.")
    if decided:
        warn(f"các năm đã có quyết định công nhận ({_years_text(decided)}) giữ danh sách đơn vị như lúc ra quyết "
             "định; đơn vị mới có mặt từ các năm chưa có quyết định.")


@units_app.command("import", cls=ViCommand)
def units_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp CSV hoặc XLSX có cột “Mã đơn vị”, “Tên đơn vị”, “Cấp ủy”.")],
    db: DbOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Nhập danh sách đơn vị từ tệp (thêm mới hoặc cập nhật tên, cấp ủy).

    Năm đã có quyết định công nhận giữ tên, cấp ủy và thứ tự đơn vị như lúc ra quyết định; thay đổi áp
    dụng cho các năm chưa có quyết định.
    """
    from dvk.intake import units as intake_units
    from dvk.cycle.units import decided_years

    rows = intake_units.read_units(file)  # read and checked before the write lock is taken
    with writing(ctx, db, user, f"Nhập đơn vị từ {file.name}") as tx:
        counts = intake_units.import_units(tx, file, rows)
        tx.note(f"Nhập đơn vị từ {file.name}: thêm {counts['added']}, cập nhật {counts['updated']}")
        decided = decided_years(tx.conn) if counts["added"] or counts["updated"] else []
    if json_:
        print_json({**counts, "decided_years_keep_units": decided} if decided else counts)
        return
    say(f"Đã nhập từ {file}: thêm {counts['added']}, cập nhật {counts['updated']}, "
        f"giữ nguyên {counts['unchanged']} đơn vị.")
    if decided:
        warn(f"các năm đã có quyết định công nhận ({_years_text(decided)}) giữ tên, cấp ủy và thứ tự đơn vị như lúc "
             "ra quyết định; thay đổi áp dụng cho các năm chưa có quyết định.")


def _years_text(years: list[int]) -> str:
    shown = ", ".join(map(str, years[:10]))
    return shown + (f" và {len(years) - 10} năm khác" if len(years) > 10 else "")


@units_app.command("list", cls=ViCommand)
def units_list(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Liệt kê các đơn vị theo thứ tự đã cấu hình."""
    from dvk.cycle.units import list_units

    with ledger(ctx, db) as led, led.read() as conn:
        units = list_units(conn)
    if json_:
        print_json([{"code": u["code"], "name": u["name"], "committee": u["committee"], "order": u["ordinal"]}
                    for u in units])
        return
    table(f"{len(units)} đơn vị", ["STT", "Mã", "Tên đơn vị", "Cấp ủy"],
          [[i, u["code"], u["name"], u["committee"] or ""] for i, u in enumerate(units, 1)])


# ---------------------------------------------------------------- criteria

@criteria_app.command("show", cls=ViCommand)
def criteria_show(
    ctx: typer.Context,
    db: DbOpt = None,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="Bộ tiêu chí áp dụng cho năm này.",
                                                callback=YEAR_CHECK)] = None,
    json_: JsonOpt = False,
    raw: Annotated[bool, typer.Option("--raw", help="In nguyên văn tệp TOML (để sao chép, sửa).")] = False,
) -> None:
    """Xem bộ tiêu chí, trọng số, điểm đạt và lịch."""
    from dvk.criteria import default_text, load_text
    from dvk.cycle.config import criteria_for
    from dvk.text.dates import fmt_date
    from dvk.wording import fmt_number

    if not _ledger_exists(db):
        crit = load_text(default_text())
    else:
        with ledger(ctx, db) as led, led.read() as conn:
            crit = criteria_for(conn, year or 9999)
    if raw:
        from dvk.text.safety import visible

        typer.echo(visible(crit.text.replace("\r\n", "\n")), nl=False)
        return
    y = year or 2024
    start, end = crit.window(y)
    if json_:
        print_json({
            "phase": crit.phase, "name": crit.name, "note": crit.note, "aggregation": crit.aggregation,
            "pass_mark": float(crit.pass_mark), "min_members": crit.min_members,
            "scale": [float(crit.scale_min), float(crit.scale_max)], "decimals": crit.decimals,
            "registration_window": [start.isoformat(), end.isoformat()],
            "recognition_date": crit.recognition_day(y).isoformat(),
            "criteria": [{"code": c.code, "group": c.group, "title": c.title, "weight": float(c.weight),
                          "allow_na": c.allow_na} for c in crit.criteria],
            "fields": [{"number": f.number, "title": f.title} for f in crit.fields],
            "sha256": crit.sha256,
        })
        return
    say(crit.name)
    if crit.note:
        say(f"Ghi chú: {crit.note}")
    table("Tiêu chí", ["Mã", "Nhóm", "Nội dung", "Trọng số", "Được ghi na"],
          [[c.code, "Chung" if c.group == "general" else "Cụ thể", c.title, fmt_number(c.weight),
            "có" if c.allow_na else "không"] for c in crit.criteria])
    say(f"Thang điểm mỗi tiêu chí: {fmt_number(crit.scale_min)}–{fmt_number(crit.scale_max)}, "
        f"lẻ {crit.decimals} chữ số thập phân; tổng hợp: "
        f"{'trung bình' if crit.aggregation == 'mean' else 'trung vị'}; điểm đạt: {fmt_number(crit.pass_mark)}/100; "
        f"tối thiểu {crit.min_members} thành viên chấm.")
    say(f"Đăng ký năm {y}: {fmt_date(start)}–{fmt_date(end)}; công nhận: {fmt_date(crit.recognition_day(y))}.")
    table("Lĩnh vực", ["Số", "Lĩnh vực"], [[f.number, f.title] for f in crit.fields])


def _ledger_exists(db) -> bool:
    from dvk.ledger.stores import ledger_exists, resolve_location

    return ledger_exists(resolve_location(db))


@criteria_app.command("use", cls=ViCommand)
def criteria_use(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Tệp tiêu chí TOML.")],
    from_year: Annotated[int, typer.Option("--from-year", help="Năm bắt đầu áp dụng.", callback=YEAR_CHECK)],
    db: DbOpt = None,
    user: UserOpt = None,
) -> None:
    """Áp dụng bộ tiêu chí khác từ một năm trở đi (các năm trước giữ bộ cũ).

    Tệp được đọc và kiểm tra trước khi ghi (tối đa 1 MiB; mọi khóa đúng kiểu và trong giới hạn, mọi lỗi được
    liệt kê kèm tên khóa).
    """
    from dvk.criteria import load_file
    from dvk.cycle.common import check_year
    from dvk.cycle.setup import use_criteria

    from dvk.cycle.setup import guidance_problems, outside_phase
    from dvk.errors import InvalidInput

    check_year(from_year)
    crit = load_file(file)  # read and checked before the write lock is taken
    missing = guidance_problems(crit)
    if missing:
        raise InvalidInput(f"Tệp tiêu chí “{file}” chưa đủ văn bản hướng dẫn của giai đoạn ({len(missing)} lỗi); "
                           "các văn bản dvk xuất trích dẫn văn bản này. Chưa dùng tệp này.", details=missing)
    phase_note = outside_phase(crit, from_year)
    with writing(ctx, db, user, f"Áp dụng bộ tiêu chí {file.name} từ năm {from_year}") as tx:
        used = use_criteria(tx, crit, from_year)
    say(f"Đã áp dụng “{used.crit.name}” từ năm {from_year}.")
    if used.changed:  # the stored flags follow the new registration window (recorded in the history)
        say(f"Đã cập nhật tình trạng đăng ký của {used.changed} mô hình, điển hình theo thời hạn đăng ký mới — "
            + "; ".join(f"nay {what}: {_ids_text(ids)}"
                        for ids, what in ((used.on_time, "đúng hạn"), (used.late, "muộn")) if ids) + ".")

    if phase_note:
        warn(phase_note)


@criteria_app.command("new", cls=ViCommand)
def criteria_new(
    ctx: typer.Context,
    phase: Annotated[str, typer.Option("--phase", help="Giai đoạn mới, dạng NĂM-NĂM (ví dụ 2026-2030).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Tệp TOML sẽ ghi (chưa có).")],
    guidance_number: Annotated[Optional[str], typer.Option("--guidance-number", help="Số, ký hiệu văn bản hướng dẫn.")] = None,
    guidance_date: Annotated[Optional[str], typer.Option("--guidance-date", help="Ngày ban hành văn bản hướng dẫn (dd/mm/yyyy).")] = None,
    guidance_issuer: Annotated[Optional[str], typer.Option("--guidance-issuer", help="Cơ quan ban hành văn bản hướng dẫn.")] = None,
    guidance_subject: Annotated[Optional[str], typer.Option("--guidance-subject", help="Trích yếu văn bản hướng dẫn.")] = None,
    db: DbOpt = None,
) -> None:
    """Viết tệp tiêu chí khởi đầu cho giai đoạn mới: bộ đang áp dụng, đổi giai đoạn, bảng [guidance] để điền."""
    from dvk.criteria import default_text, load_text
    from dvk.cycle.setup import guidance_problems, new_phase_text
    from dvk.cycle.config import criteria_for
    from dvk.errors import InvalidInput, OutputError
    from dvk.text.dates import DateError, parse_date

    check_texts(opt_text("--guidance-number", guidance_number, "profile", label="Số văn bản hướng dẫn"),
                opt_text("--guidance-issuer", guidance_issuer, "profile", label="Cơ quan ban hành"),
                opt_text("--guidance-subject", guidance_subject, "profile", label="Trích yếu"),
                opt_text("--phase", phase, "profile", label="Giai đoạn"))
    date_text = ""
    if guidance_date:
        try:
            d = parse_date(guidance_date)
        except (DateError, ValueError):
            raise InvalidInput(f"--guidance-date “{guidance_date}” không phải một ngày; ghi dạng dd/mm/yyyy.") from None
        date_text = f"{d.day}/{d.month}/{d.year}"
    if out.exists() or out.is_symlink():
        raise OutputError(f"Tệp “{out}” đã có; chọn tên khác (dvk không ghi đè tệp tiêu chí).")
    if not _ledger_exists(db):
        crit = load_text(default_text())
    else:
        with ledger(ctx, db) as led, led.read() as conn:
            crit = criteria_for(conn, 9999)
    text = new_phase_text(crit, phase, {"number": guidance_number or "", "date": date_text,
                                        "issuer": guidance_issuer or "", "subject": guidance_subject or ""})
    try:
        with open(out, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"Không ghi được “{out}”: {exc.strerror or exc}.") from None
    new = load_text(text)
    say(f"Đã ghi {out}: bộ tiêu chí giai đoạn {new.phase} (từ bộ giai đoạn {crit.phase}).")
    missing = guidance_problems(new)
    if missing:
        say("Còn phải điền trong bảng [guidance]: " + ", ".join(k for k in ("number", "date", "issuer", "subject")
                                                              if k in new.guidance.missing) + ".")
    say(f"Rồi áp dụng: dvk criteria use {out} --from-year NĂM")


def _ids_text(ids, most: int = 10) -> str:
    """Entry ids for a line of output: the first `most`, then how many more."""
    shown = ", ".join(ids[:most])
    return shown + (f" và {len(ids) - most} mã khác" if len(ids) > most else "")


# ---------------------------------------------------------------- history

def history(
    ctx: typer.Context,
    row: Annotated[Optional[str], typer.Argument(help="Mã mô hình (2024-007) hoặc mã đơn vị; bỏ trống: toàn sổ.")] = None,
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Số bản ghi gần nhất.",
                                       callback=int_range(1, 1_000_000, "số bản ghi"))] = 30,
    changes: Annotated[bool, typer.Option("--changes", help="Hiện cả từng dòng dữ liệu đã thay đổi.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Lịch sử thay đổi: ai, khi nào, lệnh gì, thay đổi gì."""
    from dvk.cycle.entries import entry_id_of
    from dvk.ledger import history as hist

    row = entry_id_of(row) if row else row  # "2024-7" is 2024-007, as everywhere
    with ledger(ctx, db) as led, led.read() as conn:
        recs = hist.list_history(conn, row=row, limit=limit)
        if changes or row or json_:
            for r in recs:
                r["changes"] = hist.changes_of(conn, r["id"], row=row)
    if json_:
        print_json(recs)
        return
    if not recs:
        say("Chưa có bản ghi lịch sử nào" + (f" cho “{row}”." if row else "."))
        return
    rows = []
    for r in recs:
        what = r["summary"]
        if "changes" in r:
            ops_ = [f"{c['op']} {c['table_name']} {c['row_key']}" for c in r["changes"][:10]]
            if ops_:
                what += "\n" + "\n".join(ops_)
        rows.append([r["id"], _local_time(r["at"]), r["user"], r["command"], what, r["n_changes"]])
    table("Lịch sử", ["#", "Thời điểm", "Người thực hiện", "Lệnh", "Nội dung", "Số dòng"], rows)


def _local_time(iso: str) -> str:
    import datetime as dt

    t = dt.datetime.fromisoformat(iso).astimezone()
    return t.strftime("%d/%m/%Y %H:%M:%S")


def register(app: typer.Typer) -> None:
    add(app, "init", init)
    add(app, "info", info)
    add(app, "history", history)
    app.add_typer(org_app, name="org")
    app.add_typer(units_app, name="units")
    app.add_typer(criteria_app, name="criteria")
