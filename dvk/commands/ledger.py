"""Ledger-wide commands: init, info, org, units, criteria, history."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (OrgOpt, run_context, YEAR_CHECK, DbOpt, JsonOpt, UserOpt, ViCommand, add, check_texts, int_range, ledger,
                                 opt_text, print_json, say, sub_app, table, warn, writing)

org_app = sub_app("Thông tin đơn vị ban hành (tên, ký hiệu, người ký) theo từng năm.")
units_app = sub_app("Danh sách đơn vị (CĐCS) và cấp ủy của từng đơn vị.")
criteria_app = sub_app("Bộ tiêu chí, thang điểm và lịch đăng ký/công nhận.")


def init(
    ctx: typer.Context,
    db: DbOpt = None,
    user: UserOpt = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Tên đơn vị phát động, ban hành quyết định.")] = None,
    old_name: Annotated[Optional[str], typer.Option("--org", hidden=True, help="Tên cũ của --name.")] = None,
    code: Annotated[Optional[str], typer.Option("--code", metavar="MÃ", help=(
        "Mã tổ chức đầu tiên của sổ (mặc định: theo ký hiệu, ví dụ CĐN → CDN)."))] = None,
    level: Annotated[str, typer.Option("--level", help=(
        "Cấp của tổ chức: federation (LĐLĐ), sector (công đoàn ngành), grassroots (CĐCS), group (tổ công đoàn)."
    ))] = "sector",
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
    name, name_opt = _name_option(name, old_name)
    profile = dict(org=name, parent_org=parent_org, place=place, symbol=symbol, signer=signer,
                   signer_title=signer_title, on_behalf=on_behalf)
    _check_profile(profile, name_opt)
    led, created = init_ledger(path, user=run.user, profile=profile, criteria_file=criteria, command=run.command,
                               code=code, level=level)
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
    labels = {"org": "Tổ chức", "unit": "Đơn vị", "entry": "Mô hình, điển hình", "report": "Báo cáo", "confirmation": "Xác nhận",
              "score": "Điểm thành phần", "decision": "Quyết định", "history": "Bản ghi lịch sử"}
    say(f"Sổ: {data['path']}")
    say(f"Phiên bản lược đồ: {data['schema']}")
    say("Các năm có dữ liệu: " + (", ".join(map(str, data["years"])) or "chưa có"))
    for k, v in data["counts"].items():
        say(f"  {labels[k]}: {v}")


# ---------------------------------------------------------------- org

def _name_option(name: str | None, old: str | None) -> tuple[str | None, str]:
    """The organisation's name from --name or its old spelling --org (kept for existing scripts), and the
    option it came from (named in messages)."""
    if name is not None and old is not None:
        from dvk.errors import InvalidInput

        raise InvalidInput("Chỉ dùng --name cho tên tổ chức (--org là cách viết cũ của cùng tùy chọn này).")
    return (old, "--org") if old is not None else (name, "--name")


def _check_profile(values: dict, name_opt: str = "--name") -> None:
    """Typed profile options (init, org set): the field rules, naming each option."""
    from dvk.cycle.config import PROFILE_LABELS

    check_texts(*[opt_text(name_opt if k == "org" else "--" + k.replace("_", "-"), v, "recipient" if k == "recipients" else "profile",
                           label=PROFILE_LABELS[k]) for k, v in values.items()])

def _profile_lines(p: dict) -> list[list[str]]:
    from dvk.cycle.config import PROFILE_LABELS

    rows = []
    for k, label in PROFILE_LABELS.items():
        v = p.get(k) or ("(danh sách kèm quyết định)" if k == "award" else "")
        rows.append([label, "; ".join(v) if isinstance(v, list) else v])
    return rows


@org_app.command("show", cls=ViCommand)
def org_show(
    ctx: typer.Context,
    db: DbOpt = None,
    org: OrgOpt = None,
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
    org: OrgOpt = None,
    user: UserOpt = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Tên đơn vị ban hành.")] = None,
    award: Annotated[Optional[str], typer.Option("--award", help=(
        "Hình thức công nhận tổ chức trao (ví dụ “Giấy khen”); ghi trong quyết định và danh sách."))] = None,
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
    from dvk.rules import org_code_issue

    old_name = None
    if org is not None and org_code_issue(org) is not None:
        # Not a code: the old spelling of --name (`dvk org set --org "Tên"` in existing scripts).
        old_name, org = org, None
        ctx.params["org"] = None
    name, name_opt = _name_option(name, old_name)
    changes = dict(org=name, parent_org=parent_org, place=place, symbol=symbol, signer=signer,
                   signer_title=signer_title, on_behalf=on_behalf, recipients=recipient)
    _check_profile({k: v for k, v in changes.items() if k != "recipients"}, name_opt)
    check_texts(opt_text("--recipient", recipient, "recipient"), opt_text("--award", award, "profile"))
    if award is not None:
        changes["award"] = award
    with writing(ctx, db, user, f"Đổi thông tin đơn vị ban hành từ năm {from_year}") as tx:
        row = set_profile(tx, from_year, changes)
    say(f"Đã cập nhật thông tin đơn vị ban hành từ năm {from_year}: {row['org']}.")


@org_app.command("add", cls=ViCommand)
def org_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="MÃ", help="Mã tổ chức mới (chữ hoa không dấu, ví dụ CDCS_BV).")],
    name: Annotated[str, typer.Option("--name", help="Tên tổ chức (ví dụ “Công đoàn cơ sở Bệnh viện Đa khoa”).")],
    parent: Annotated[str, typer.Option("--parent", metavar="MÃ", help="Mã tổ chức cấp trên trong sổ.")],
    level: Annotated[str, typer.Option("--level", help=(
        "Cấp: federation (LĐLĐ), sector (công đoàn ngành), grassroots (CĐCS), group (tổ công đoàn)."))],
    committee: Annotated[Optional[str], typer.Option("--committee", help="Cấp ủy cùng cấp (xác nhận báo cáo).")] = None,
    symbol: Annotated[Optional[str], typer.Option("--symbol", help="Ký hiệu văn bản (mặc định: mã).")] = None,
    signer: Annotated[Optional[str], typer.Option("--signer", help="Họ tên người ký.")] = None,
    award: Annotated[Optional[str], typer.Option("--award", help=(
        "Hình thức công nhận (mặc định với CĐCS và tổ công đoàn: “Giấy khen”)."))] = None,
    db: DbOpt = None,
    user: UserOpt = None,
) -> None:
    """Thêm một tổ chức cấp dưới (đồng thời là đơn vị của tổ chức cấp trên, cùng mã)."""
    from dvk.cycle.orgs import add_org

    check_texts(opt_text("--name", name, "profile", label="tên tổ chức"),
                opt_text("--committee", committee, "committee"), opt_text("--symbol", symbol, "profile"),
                opt_text("--signer", signer, "profile"), opt_text("--award", award, "profile"))
    with writing(ctx, db, user, f"Thêm tổ chức {code}") as tx:
        row = add_org(tx, code, name=name, parent=parent, level=level, committee=committee, symbol=symbol,
                      signer=signer, award=award)
    say(f"Đã thêm tổ chức {row['code']} — {row['name']} (cấp dưới của {row['parent']}; cũng là đơn vị "
        f"{row['code']} của {row['parent']}).")


@org_app.command("list", cls=ViCommand)
def org_list(
    ctx: typer.Context,
    tree: Annotated[bool, typer.Option("--tree", help="Hiện dạng cây theo cấp.")] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Danh sách các tổ chức trong sổ (mã, tên, cấp trên, cấp)."""
    from dvk.cycle.orgs import LEVELS, list_orgs, walk

    with ledger(ctx, db) as led, led.read() as conn:
        orgs = list_orgs(conn)
        roots = [o for o in orgs if o["parent"] is None or o["parent"] not in {x["code"] for x in orgs}]
        ordered = [(d, o) for r in roots for d, o in walk(conn, r["code"])] if tree else [(0, o) for o in orgs]
    if json_:
        print_json([{"code": o["code"], "name": o["name"], "parent": o["parent"], "level": o["level"],
                     "committee": o["committee"], **({"depth": d} if tree else {})} for d, o in ordered])
        return
    if tree:
        for d, o in ordered:
            say(f"{'    ' * d}{'└── ' if d else ''}{o['code']} — {o['name']} ({LEVELS.get(o['level'], o['level'])})")
        return
    table("Các tổ chức trong sổ", ["Mã", "Tên", "Cấp trên", "Cấp"],
          [[o["code"], o["name"], o["parent"] or "", LEVELS.get(o["level"], o["level"])] for o in orgs])


# ---------------------------------------------------------------- units

@units_app.command("add", cls=ViCommand)
def units_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Mã đơn vị (ví dụ BVDK).")],
    name: Annotated[str, typer.Argument(help="Tên đơn vị.")],
    db: DbOpt = None,
    org: OrgOpt = None,
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
    org: OrgOpt = None,
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
def units_list(ctx: typer.Context, db: DbOpt = None, org: OrgOpt = None, json_: JsonOpt = False) -> None:
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
    org: OrgOpt = None,
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
    org: OrgOpt = None,
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
