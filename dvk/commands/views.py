"""Read-only views: list, show, status."""


from typing import Annotated, Optional

import typer

from dvk.commands.common import (OrgOpt, YEAR_CHECK, DbOpt, JsonOpt, add, json_stream, ledger, print_json, rows_out, say,
                                 table)


def list_cmd(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", "-y", help="Năm.", callback=YEAR_CHECK)],
    status: Annotated[
        Optional[str],
        typer.Option("--status", "-s", help="Lọc theo trạng thái: registered, reported, confirmed, scored, "
                     "recognized, not_recognized."),
    ] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", "-u", help="Lọc theo mã đơn vị.")] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Danh sách mô hình, điển hình của một năm."""
    from dvk.text.numbers import fmt_score
    from dvk.cycle.common import KINDS, STATUSES, check_year
    from dvk.cycle.year import bundle_json, judged, year_context
    from dvk.text.dates import fmt_date
    from dvk.errors import InvalidInput

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Trạng thái “{status}” không có; dùng một trong: {', '.join(STATUSES)}.")
    with ledger(ctx, db) as led, led.read() as conn:
        ctx = year_context(conn, check_year(year))
        stream = (bundle_json(ctx, b, ev) for b, ev in judged(conn, ctx, marks=False)
                  if unit is None or b.entry["unit_code"] == unit)
        if status:
            stream = (r for r in stream if r["status"] == status)
        if json_:
            json_stream(stream)
            return
        rows_out(
            lambda n: f"Năm {year}: {n} mô hình, điển hình",
            ["Mã", "Đơn vị", "Tên", "Loại", "Cá nhân", "LV", "Ngày ĐK", "Trạng thái", "Điểm"],
            ([r["id"], r["unit"], r["title"], KINDS[r["kind"]],
              (r["person"] or "") + (f" ({r['position']})" if r["position"] else ""), r["field"],
              (fmt_date(yd_date(r["registered_on"])) if r["registered_on"] else "")
              + (" (muộn)" if r["late"] else "") + (" (đột xuất)" if r["sudden"] else ""),
              STATUSES[r["status"]], fmt_score(r["score"]) if r["score"] is not None else ""]
             for r in stream),
        )


def yd_date(iso: str):
    import datetime as dt

    return dt.date.fromisoformat(iso)


def show_cmd(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Mã mô hình, điển hình.")],
    db: DbOpt = None,
    org: OrgOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Toàn bộ thông tin một mô hình: đăng ký, báo cáo, xác nhận, điểm, kết quả."""
    from dvk.text.numbers import fmt_score
    from dvk.cycle.common import KINDS, STATUSES, SUBJECTS
    from dvk.cycle.entries import get_entry
    from dvk.cycle.year import entry_json, load_year
    from dvk.criteria import ASPECTS
    from dvk.text.dates import fmt_date
    from dvk.wording import fmt_number

    from dvk.cycle.forward import links

    with ledger(ctx, db) as led, led.read() as conn:
        e = get_entry(conn, entry_id)
        yd = load_year(conn, e["year"], entry_ids=[e["id"]])
        link = links(conn, e["id"])
    ev = yd.evaluations[e["id"]]
    data = entry_json(yd, e)
    rep = yd.reports.get(e["id"])
    conf = yd.confirmations.get(e["id"])
    scores = yd.scores.get(e["id"], {})
    data["report"] = None if rep is None else {
        **{k: rep[k] for k, _ in ASPECTS},
        "reported_on": rep["reported_on"].isoformat() if rep["reported_on"] else None,
        "file": rep["file_path"], "file_sha256": rep["file_sha256"],
    }
    data["confirmation"] = None if conf is None else {
        "committee": conf["committee"], "by": conf["confirmed_by"],
        "date": conf["confirmed_on"].isoformat() if conf["confirmed_on"] else None,
        "comment": conf["comment"], "rejected": conf["rejected"], "reason": conf["reason"],
    }
    data["scores"] = {m: {c: (None if v is None else float(v)) for c, v in s.items()} for m, s in scores.items()}
    data["member_totals"] = {m: (None if t is None else round(float(t), 2)) for m, t in ev.member_totals.items()}
    data["gates"] = [g.as_dict() for g in ev.gates]
    data["org"] = e["org_code"]
    came = link["from"]
    data["forwarded_from"] = None if came is None else {
        "org": came["from_org"], "entry": came["from_entry"], "decision": came["from_decision"],
        "score": came["from_score"], "ledger": came["from_ledger"], "package": came["package"]}
    data["forwarded_to"] = link["to"]
    if json_:
        print_json(data)
        return
    unit = yd.units.get(e["unit_code"], {})
    say(f"{e['id']} — {e['title']}")
    lines = [
        ["Đơn vị", f"{e['unit_code']} — {unit.get('name', '')}"],
        ["Loại", KINDS[e["kind"]]],
        ["Đối tượng", SUBJECTS[e["subject"]] + (f": {e['person']}" if e["person"] else "")
         + (f", {e['position']}" if e["position"] else "")],
        ["Lĩnh vực", f"{e['field']}. {yd.crit.field_title(e['field'])}"],
        ["Ngày đăng ký", (fmt_date(e["registered_on"]) if e["registered_on"] else "")
         + (" — muộn" if e["late"] else "") + (" — thành tích đột xuất" if e["sudden"] else "")],
        ["Ghi chú", e["note"] or ""],
        ["Trạng thái", STATUSES[data["status"]]],
    ]
    if came is not None:
        where = "sổ này" if came["from_ledger"] is None else f"sổ {came['from_ledger']} (gói {(came['package'] or '')[:12]}…)"
        lines.append(["Đề nghị từ", f"{came['from_org']}: mã {came['from_entry']} ({where}), {came['from_decision']}"
                      + (f", điểm {fmt_score(came['from_score'])}" if came["from_score"] is not None else "")])
    for t in link["to"]:
        lines.append(["Đã đề nghị lên", f"{t['org']}: mã {t['entry']} (năm {t['year']})"])
    table(None, ["Mục", "Nội dung"], lines, show_header=False)
    if rep:
        table("Báo cáo thành tích", ["Nội dung", ""], [[label, rep[k] or "(trống)"] for k, label in ASPECTS]
              + ([["Tệp", f"{rep['file_path']} (SHA-256 {rep['file_sha256'][:12]}…)"]] if rep["file_path"] else []))
    if conf:
        say(("Cấp ủy KHÔNG xác nhận: " if conf["rejected"] else "Cấp ủy xác nhận: ")
            + f"{conf['committee']}, {conf['confirmed_by']}, ngày {fmt_date(conf['confirmed_on'])}"
            + (f" — lý do: {conf['reason']}" if conf["rejected"] else "")
            + (f" — nhận xét: {conf['comment']}" if conf["comment"] else ""))
    if scores:
        codes = yd.crit.codes
        table("Điểm", ["Thành viên", *codes, "Tổng"],
              [[m, *[("na" if s.get(c) is None else fmt_number(s[c])) if c in s else "" for c in codes],
                fmt_score(ev.member_totals[m])] for m, s in scores.items()])
    table("Điều kiện", ["Điều kiện", "Kết quả", "Giải thích"],
          [[g.label, "ĐẠT" if g.ok else "KHÔNG ĐẠT", g.reason] for g in ev.gates])
    say(f"Điểm: {fmt_score(data['score'])}")


def status_cmd(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", "-y", help="Năm.", callback=YEAR_CHECK)],
    db: DbOpt = None,
    org: OrgOpt = None,
    missing: Annotated[bool, typer.Option("--missing", help="Liệt kê theo đơn vị những gì còn thiếu.")] = False,
    tree: Annotated[bool, typer.Option("--tree", help="Số lượng ở từng bước của tổ chức và mọi cấp dưới của nó.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Tiến độ của năm: số lượng ở từng bước, theo đơn vị và lĩnh vực."""
    if tree:
        return _status_tree(ctx, year, db, json_)
    from dvk.cycle.common import STATUSES, check_year
    from dvk.cycle.config import profile_for
    from dvk.cycle.status import STAGES, status_counts, status_summary
    from dvk.cycle.year import iter_year, year_context
    from dvk.text.dates import fmt_date
    from dvk.wording import decision_title

    with ledger(ctx, db) as led, led.read() as conn:
        ctx = year_context(conn, check_year(year))
        prof = profile_for(conn, year)
        # what each entry lacks needs every entry streamed; the counts alone are the database's GROUP BY
        s = (status_summary(ctx, iter_year(conn, ctx, full=False, marks=False)) if missing
             else status_counts(conn, ctx))
    yd = ctx
    if json_:
        print_json(s)
        return
    stage_names = [STATUSES[k] if k not in ("registered",) else "Đăng ký" for k in STAGES]
    say(f"Năm {year}: {s['total']} mô hình, điển hình ({s['late']} đăng ký muộn, {s['sudden']} đột xuất).")
    if s["decision"] and ctx.decision.get("kind") == "none":
        say(f"Năm {year} đã chốt ngày {fmt_date(ctx.decision['decided_on'])}, không có mô hình, điển hình nào được "
            "công nhận (không có quyết định) — các mô hình của năm đã khóa.")
    elif s["decision"]:
        say(f"Đã có {decision_title(s['decision']['number'], prof['symbol'], ctx.decision['decided_on'])} "
            "— các mô hình của năm đã khóa.")
    table("Theo bước", ["Bước", "Số lượng"], [[n, s["counts"][k]] for n, k in zip(stage_names, STAGES)])
    table("Theo đơn vị", ["Đơn vị", *stage_names],
          [[f"{u} — {yd.units[u]['name']}", *[c[k] for k in STAGES]] for u, c in s["by_unit"].items()])
    table("Theo lĩnh vực", ["Lĩnh vực", *stage_names],
          [[f"{f}. {yd.crit.field_short(int(f))}", *[c[k] for k in STAGES]] for f, c in s["by_field"].items()])
    if missing:
        if not s["missing"]:
            say("Không đơn vị nào còn thiếu hồ sơ." if not s["decision"] else "Năm đã có quyết định công nhận.")
        for u, items in s["missing"].items():
            say(f"\n{u} — {yd.units[u]['name']}:")
            for it in items:
                say(f"  {it['id']} {it['title']}: còn thiếu " + "; ".join(it["missing"]))


def _status_tree(ctx: typer.Context, year: int, db, json_: bool) -> None:
    from dvk.cycle.common import STATUSES, check_year
    from dvk.cycle.status import tree_status

    with ledger(ctx, db) as led, led.read() as conn:
        rows = tree_status(conn, check_year(year))
    if json_:
        print_json(rows)
        return
    from dvk.cycle.status import STAGES

    names = [STATUSES[k] if k != "registered" else "Đăng ký" for k in STAGES]
    for r in rows:
        decided = f"quyết định số {r['decision']:02d}" if r["decision"] else "chưa có quyết định"
        say(f"{'    ' * r['depth']}{r['org']} — {r['name']}: {r['below']['registered']} mô hình, điển hình "
            f"(kể cả cấp dưới), {decided}, đã đề nghị lên cấp trên {r['forwarded']}.")
    table(f"Năm {year} theo cấp (số của riêng từng tổ chức)", ["Tổ chức", *names],
          [["  " * r["depth"] + r["org"], *[r["counts"][k] for k in STAGES]] for r in rows])


def register(app: typer.Typer) -> None:
    add(app, "list", list_cmd)
    add(app, "show", show_cmd)
    add(app, "status", status_cmd)
