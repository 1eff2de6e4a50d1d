"""Judging and deciding: check, recognize. Both stream a year, so 100,000 entries stay fast."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from dvk.commands.common import (OrgOpt, run_context, YEAR_CHECK, DateOpt, DbOpt, JsonOpt, UserOpt, add, check_texts, int_range,
                                 json_stream, ledger, opt_text, parse_date_opt, print_json, rows_out, say, table,
                                 warn, writing)


def check_cmd(
    ctx: typer.Context,
    entry_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="Mã mô hình; bỏ trống thì dùng --year.")] = None,
    year: Annotated[Optional[int], typer.Option("--year", "-y", help="Kiểm tra mọi mô hình của năm.",
                                                callback=YEAR_CHECK)] = None,
    db: DbOpt = None,
    org: OrgOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Kiểm tra từng mô hình theo mọi điều kiện và tiêu chí, nêu lý do đạt/không đạt."""
    from dvk.text.numbers import fmt_score
    from dvk.cycle.common import check_year
    from dvk.cycle.entries import get_entry
    from dvk.cycle.year import bundle_json, judged, year_context
    from dvk.errors import InvalidInput

    if not entry_id and year is None:
        raise InvalidInput("Hãy nêu mã mô hình hoặc --year.")

    def detail(ctx, b, ev) -> dict:
        return {**bundle_json(ctx, b, ev), "gates": [g.as_dict() for g in ev.gates],
                "member_totals": {m: (None if t is None else round(t, 2)) for m, t in ev.member_totals.items()},
                "pass_mark": float(ev.pass_mark)}

    with ledger(ctx, db) as led, led.read() as conn:
        if entry_id:
            e = get_entry(conn, entry_id)
            ctx = year_context(conn, e["year"])
            r = detail(ctx, *next(judged(conn, ctx, entry_ids=[e["id"]])))
            if json_:
                print_json(r)
                return
            say(f"{r['id']} — {r['title']} ({r['unit']})")
            table(None, ["Điều kiện", "Kết quả", "Giải thích"],
                  [[g["label"], "ĐẠT" if g["ok"] else "KHÔNG ĐẠT", g["reason"]] for g in r["gates"]])
            for m, t in r["member_totals"].items():
                say(f"  {m}: {fmt_score(t)}")
            say(f"Điểm: {fmt_score(r['score'])} — "
                + ("ĐỦ ĐIỀU KIỆN CÔNG NHẬN" if r["eligible"] else "CHƯA ĐỦ ĐIỀU KIỆN"))
            return
        ctx = year_context(conn, check_year(year))
        from dvk.cycle.setup import outside_phase

        phase_note = outside_phase(ctx.crit, year) if ctx.decision is None else None
        if phase_note:
            warn(phase_note)
        stream = (detail(ctx, b, ev) for b, ev in judged(conn, ctx, marks=False))
        if json_:
            json_stream(stream)
            return
        counts = [0, 0]  # entries, eligible

        def rows():
            for r in stream:
                counts[0] += 1
                counts[1] += bool(r["eligible"])
                yield [r["id"], r["unit"], r["title"], fmt_score(r["score"]), "đạt" if r["eligible"] else "không",
                       "\n".join(r["reasons"])]

        first = next(rows_gen := rows(), None)
        if first is None:
            say(f"Năm {year} chưa có mô hình, điển hình nào.")
            return
        import itertools

        rows_out(f"Kiểm tra năm {year}", ["Mã", "Đơn vị", "Tên", "Điểm", "Đạt", "Lý do"],
                 itertools.chain([first], rows_gen))
    n, ok = counts
    say(f"{ok}/{n} mô hình, điển hình đủ điều kiện công nhận.")


def recognize_cmd(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", "-y", help="Năm xét công nhận.", callback=YEAR_CHECK)],
    number: Annotated[Optional[int], typer.Option("--number", "-n", help="Số quyết định (với --revoke: số quyết định thu hồi).",
                                                  callback=int_range(1, 99_999, "số quyết định"))] = None,
    date: DateOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Chỉ xem kết quả, không ghi.")] = False,
    revoke: Annotated[bool, typer.Option("--revoke", help="Thu hồi quyết định đang có hiệu lực của năm.")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Lý do thu hồi.")] = None,
    none: Annotated[bool, typer.Option("--none", help="Chốt năm không có mô hình nào đạt, không ra quyết định "
                                                      "(khóa năm; thu hồi được như một quyết định).")] = False,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Ra quyết định công nhận (mặc định ngày 15/10) và khóa các mô hình của năm."""
    from dvk.cycle.config import profile_for
    from dvk.cycle.recognition import decide, plan_recognition, revoke as revoke_decision
    from dvk.text.dates import fmt_date
    from dvk.errors import InvalidInput
    from dvk.wording import decision_number

    if revoke and dry_run:
        raise InvalidInput("--dry-run (xem trước quyết định công nhận) không dùng cùng --revoke: thu hồi không có "
                           "bước xem trước; xem quyết định đang có hiệu lực bằng: dvk status --year NĂM.")
    if reason is not None and not revoke:
        raise InvalidInput("--reason (lý do thu hồi) chỉ dùng cùng --revoke; bỏ --reason, hoặc thêm --revoke để thu "
                           "hồi quyết định đang có hiệu lực.")
    check_texts(opt_text("--reason", reason, "reason"))
    on = parse_date_opt(date)
    if none and (revoke or number is not None or dry_run):
        raise InvalidInput("--none (chốt năm không có quyết định) không dùng cùng --revoke, --number hay --dry-run.")
    if none:
        from dvk.cycle.recognition import close_without_decision

        run = run_context(ctx, db, user)
        with run.open() as led:
            plan, _prof = close_without_decision(led, year, on, user=run.user, command=run.command)
        if json_:
            print_json({"year": year, "none": True, "date": plan.decided_on.isoformat(),
                        "not_recognized": [{"id": i, "reasons": r} for i, r in plan.not_recognized]})
            return
        table(f"Không công nhận ({len(plan.rows)})", ["Mã", "Đơn vị", "Tên", "Lý do"],
              [[r.id, r.unit, r.title, "\n".join(r.reasons)] for r in plan.rows])
        say(f"Đã chốt năm {year} ngày {fmt_date(plan.decided_on)}: không có mô hình, điển hình nào được công nhận, "
            f"không ra quyết định. Các mô hình năm {year} đã được khóa (mở lại: dvk recognize --revoke --year {year} "
            "--reason \"…\").")
        return
    if revoke:
        with writing(ctx, db, user) as tx:
            from dvk.cycle.decisions import active_decision

            current = active_decision(tx.conn, year)
            if current is not None and current.get("kind") == "none" and number is not None:
                raise InvalidInput(f"Năm {year} được chốt không có quyết định: không có quyết định nào để ra quyết định "
                                   "thu hồi; bỏ --number.")
            dec = revoke_decision(tx, year, reason, on, number)
            by = f" bằng quyết định số {decision_number(number)}" if number is not None else ""
            what = ("kết quả chốt năm" if dec.get("kind") == "none"
                    else f"quyết định số {decision_number(dec['number'])} năm")
            tx.note(f"Thu hồi {what} {year}{by}: {dec['revoked_reason']}")
        if json_:
            print_json({"revoked": True, "year": year, "number": dec["number"], "revocation_number": number})
        elif dec.get("kind") == "none":
            say(f"Đã bỏ kết quả chốt năm {year}. Các mô hình năm {year} được mở khóa.")
        else:
            say(f"Đã thu hồi quyết định số {decision_number(dec['number'])} năm {year}{by}. "
                f"Các mô hình năm {year} được mở khóa.")
            if number is None:
                say("Không có số quyết định thu hồi (--number): việc thu hồi chỉ được ghi vào sổ, không xuất "
                    "quyết định thu hồi.")
            else:
                say(f"Xuất quyết định thu hồi: dvk export --year {year}")
        return
    if number is None:
        raise InvalidInput("Thiếu số quyết định (--number).")
    run = run_context(ctx, db, user)
    with run.open() as led:
        if dry_run:
            with led.read() as conn:
                plan = plan_recognition(conn, year, number, on)
                prof = profile_for(conn, year)
        else:
            plan, prof = decide(led, year, number, on, user=run.user, command=run.command)
        if not dry_run:
            from dvk.commands.safety import warn_backup_space
            from dvk.ledger.backup import backup_space

            space = backup_space(led)
    try:
        _print_plan(plan, prof, dry_run=dry_run, json_=json_)
    finally:
        plan.rows.close()
    if not dry_run:
        warn_backup_space(space)


def _print_plan(plan, prof, *, dry_run: bool, json_: bool) -> None:
    """The plan's lists, read back from its spool (flat memory for any year)."""
    from dvk.text.numbers import fmt_score
    from dvk.wording import decision_title

    year, number = plan.year, plan.number
    if json_:
        import json as _json
        import sys

        from dvk.commands.common import json_safe

        out = sys.stdout
        head = _json.dumps({"year": year, "number": number, "date": plan.decided_on.isoformat(), "dry_run": dry_run},
                           ensure_ascii=False, indent=2)
        out.write(head[:-2] + ',\n  "recognized": [')
        first = True
        for i in (r.id for r in plan.rows if r.eligible):
            out.write(("\n    " if first else ",\n    ") + json_safe(_json.dumps(i, ensure_ascii=False)))
            first = False
        out.write("\n  ],\n" if not first else "],\n")
        out.write('  "not_recognized": [')
        first = True
        for i, reasons in ((r.id, r.reasons) for r in plan.rows if not r.eligible):
            out.write(("\n    " if first else ",\n    ")
                      + json_safe(_json.dumps({"id": i, "reasons": reasons}, ensure_ascii=False)))
            first = False
        out.write("\n  ]\n}\n" if not first else "]\n}\n")
        return
    n_ok = plan.n_recognized
    n_bad = plan.total - n_ok
    rows_out(("Dự kiến — " if dry_run else "") + f"Công nhận năm {year} ({n_ok} mô hình, điển hình)",
             ["Mã", "Đơn vị", "Tên", "Điểm"], ([r.id, r.unit, r.title, fmt_score(r.score)] for r in plan.rows
                                                if r.eligible))
    if n_bad:
        rows_out(f"Không công nhận ({n_bad})", ["Mã", "Đơn vị", "Tên", "Lý do"],
                 ([r.id, r.unit, r.title, "\n".join(r.reasons)] for r in plan.rows if not r.eligible))
    if dry_run:
        say("Chạy thử: chưa ghi gì vào sổ.")
    else:
        say(f"Đã ghi {decision_title(number, prof['symbol'], plan.decided_on)}. "
            f"Các mô hình năm {year} đã được khóa.")


def propose_cmd(
    ctx: typer.Context,
    entry_ids: Annotated[Optional[List[str]], typer.Argument(metavar="[ID]...", help="Mã các mô hình, điển hình đề nghị.")] = None,
    phase: Annotated[str, typer.Option("--phase", help="Giai đoạn, ví dụ 2021-2025.")] = "",
    from_file: Annotated[Optional[Path], typer.Option("--from", help="Tệp danh sách mã mô hình (mỗi dòng một mã).")] = None,
    award: Annotated[Optional[str], typer.Option("--award", help="Hình thức khen thưởng đề nghị (mặc định theo cấp ban hành).")] = None,
    remove: Annotated[Optional[List[str]], typer.Option("--remove", help="Bỏ mô hình này khỏi danh sách đề nghị (dùng nhiều lần được).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Xem danh sách đề nghị của giai đoạn.")] = False,
    db: DbOpt = None,
    org: OrgOpt = None,
    user: UserOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Chọn các mô hình, điển hình đề nghị khen thưởng giai đoạn (tờ trình của dvk export --phase)."""
    from dvk.cycle.proposals import ids_from_file, phase_years, propose, proposed
    from dvk.errors import InvalidInput

    if not phase:
        raise InvalidInput("Thiếu giai đoạn (--phase), ví dụ: dvk propose --phase 2021-2025 2024-007.")
    phase, _ = phase_years(phase)
    check_texts(opt_text("--award", award, "profile", label="Hình thức khen thưởng"))
    ids = list(entry_ids or [])
    if from_file is not None:
        if ids:
            raise InvalidInput("Chọn một trong hai: mã mô hình gõ trên dòng lệnh, hoặc --from TỆP.")
        ids = ids_from_file(from_file)  # read before the write lock
    if list_:
        if ids or remove or award:
            raise InvalidInput("--list chỉ để xem; bỏ các mã, --remove và --award, hoặc bỏ --list.")
        from dvk.cycle.entries import get_entry

        with ledger(ctx, db) as led, led.read() as conn:
            rows = [(r, get_entry(conn, r["entry_id"])) for r in proposed(conn, phase)]
        if json_:
            print_json([{"id": e["id"], "year": e["year"], "title": e["title"], "award": r["award"]} for r, e in rows])
            return
        if not rows:
            say(f"Giai đoạn {phase} chưa có mô hình, điển hình nào được chọn đề nghị khen thưởng.")
            return
        table(f"Đề nghị khen thưởng giai đoạn {phase} ({len(rows)})", ["Mã", "Năm", "Tên", "Cá nhân"],
              [[e["id"], e["year"], e["title"], e.get("person") or ""] for _, e in rows])
        return
    with writing(ctx, db, user) as tx:
        res = propose(tx, phase, ids, award=award, remove=list(remove or []))
        tx.note(f"Đề nghị khen thưởng giai đoạn {phase}: thêm {len(res['added'])}, bỏ {len(res['removed'])}, "
                f"còn {res['total']}")
    if json_:
        print_json(res)
        return
    say(f"Đề nghị khen thưởng giai đoạn {phase}: thêm {len(res['added'])}, bỏ {len(res['removed'])}; "
        f"danh sách có {res['total']} mô hình, điển hình. Xuất tờ trình: dvk export --phase {phase}")


def register(app: typer.Typer) -> None:
    add(app, "check", check_cmd)
    add(app, "recognize", recognize_cmd)
    add(app, "propose", propose_cmd)
