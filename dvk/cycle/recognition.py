"""Recognition (công nhận): judging a year for a decision, recording it with every outcome, revoking it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from dvk.cycle.setup import phase_for
from dvk.text.dates import fmt_date
from dvk.errors import InvalidInput, LockedYear, NotFound
from dvk.ledger.bulk import insert_rows
from dvk.ledger.history import Tx, table
from dvk.text.safety import MAX_LEN
from dvk.cycle.common import text_field, check_year, today
from dvk.cycle.decisions import _decision_title, active_decision
from dvk.cycle.units import list_units
from dvk.cycle.orgs import current
from dvk.cycle.year import judged, year_context
from dvk.wording import decision_title, doc_number

if TYPE_CHECKING:
    from dvk.ledger.store import Store


@dataclass(slots=True)
class PlanRow:
    """One entry's verdict in a recognition plan (kept small: a year may have 100,000)."""

    id: str
    unit: str
    title: str
    score: float | None
    eligible: bool
    reasons: list[str]


class Verdicts:
    """Every entry's verdict of a plan, in registration order, spooled to a temporary file as one JSON
    line each: memory stays flat whatever the year's size (a million entries), and the lists are read
    back as often as needed — one reader at a time."""

    def __init__(self) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self.total = 0
        self.n_recognized = 0
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def add(self, row: PlanRow) -> None:
        self._file.write(self._dumps([row.id, row.unit, row.title, row.score, row.eligible, row.reasons]))
        self._file.write("\n")
        self.total += 1
        self.n_recognized += row.eligible

    def __iter__(self) -> Iterator[PlanRow]:
        f = self._file
        f.flush()
        f.seek(0)
        loads = json.loads
        for line in f:
            yield PlanRow(*loads(line))

    def __len__(self) -> int:
        return self.total

    def close(self) -> None:
        self._file.close()


@dataclass
class RecognitionPlan:
    year: int
    number: int
    decided_on: dt.date
    rows: Verdicts

    @property
    def recognized(self) -> list[str]:
        """The ids recognised (a list: for scripts and small years; the CLI streams `rows`)."""
        return [r.id for r in self.rows if r.eligible]

    @property
    def not_recognized(self) -> list[tuple[str, list[str]]]:
        return [(r.id, r.reasons) for r in self.rows if not r.eligible]

    @property
    def n_recognized(self) -> int:
        return self.rows.n_recognized

    @property
    def total(self) -> int:
        return self.rows.total


def plan_recognition(conn: Connection, year: int, number: int, decided_on: dt.date | None) -> RecognitionPlan:
    """Judge every entry of the year for decision `number` (nothing is written)."""
    check_year(year)
    if number < 1:
        raise InvalidInput(f"Số quyết định phải là số nguyên dương (nhận được {number}).")
    dec = active_decision(conn, year)
    if dec:
        raise LockedYear(
            f"Năm {year} đã có {_decision_title(conn, dec)}. Muốn ra quyết định khác, hãy thu hồi quyết định cũ: "
            f"dvk recognize --revoke --year {year} --reason \"…\""
        )
    number_unused(conn, year, number)
    ctx = year_context(conn, year)
    refuse_outside_phase(ctx.crit, year)
    decided_on = decided_on or ctx.crit.recognition_day(year)
    if decided_on.year not in (year, year + 1):
        raise InvalidInput(f"Ngày quyết định {fmt_date(decided_on)} phải thuộc năm {year} (hoặc đầu năm {year + 1}).")
    rows = Verdicts()
    try:
        for b, ev in judged(conn, ctx, marks=False):
            e = b.entry
            rows.add(PlanRow(e["id"], e["unit_code"], e["title"], ev.score_float, ev.eligible, ev.reasons))
    except BaseException:
        rows.close()
        raise
    if not rows.total:
        rows.close()
        raise InvalidInput(f"Năm {year} chưa có mô hình, điển hình nào đăng ký.")
    return RecognitionPlan(year, number, decided_on, rows)


def refuse_outside_phase(crit, year: int) -> None:
    """A year is decided only under a criteria set of its own phase: its decision cites that
    phase's guidance (InvalidInput, saying how to load a set for the phase)."""
    span = crit.phase_years
    if span is not None and not crit.covers(year):
        new = phase_for(crit, year)
        raise InvalidInput(
            f"Năm {year} nằm ngoài giai đoạn {crit.phase} của bộ tiêu chí đang áp dụng: không ra quyết định "
            f"theo văn bản hướng dẫn của giai đoạn khác. Hãy nạp bộ tiêu chí giai đoạn {new}: "
            f"dvk criteria new --phase {new} --out tieu-chi-{new}.toml, điền bảng [guidance], rồi "
            f"dvk criteria use tieu-chi-{new}.toml --from-year {year}.")


def ensure_recognizable(plan: RecognitionPlan) -> None:
    if not plan.n_recognized:
        raise InvalidInput(f"Không có mô hình, điển hình nào năm {plan.year} đạt đủ tiêu chí; không ra quyết định. "
                           f"Xem lý do: dvk check --year {plan.year}; chốt năm mà không có quyết định: "
                           f"dvk recognize --year {plan.year} --none")


def recognize(tx: Tx, plan: RecognitionPlan, *, kind: str = "recognition") -> int:
    """Record the decision (or, ``kind`` "none", the closing of a year with nothing recognised),
    the units it was taken with and every entry's outcome; the year is locked from then on."""
    if kind != NONE:
        ensure_recognizable(plan)
    dec_id = tx.insert("decision", {"org_code": current(tx.conn), "year": plan.year, "number": plan.number, "decided_on": plan.decided_on,
                                    "revoked": False, "revoked_reason": None, "revoked_on": None,
                                    "revocation_number": None, "kind": kind})
    # The units as they are now, kept with the decision: the decided year prints them from now on.
    tx.insert_many("decision_unit", [{"decision_id": dec_id, "code": u["code"], "name": u["name"],
                                      "committee": u["committee"], "ordinal": u["ordinal"]}
                                     for u in list_units(tx.conn)])
    # The bulk path intake uses (rows to the driver as tuples, recorded by the thousand), in batches.
    batch: list[dict] = []
    dumps = json.dumps
    for r in plan.rows:
        batch.append({"decision_id": dec_id, "entry_id": r.id, "recognized": r.eligible, "score": r.score,
                      "reasons": dumps(r.reasons, ensure_ascii=False)})
        if len(batch) >= 5000:
            insert_rows(tx, "outcome", batch)
            batch = []
    insert_rows(tx, "outcome", batch)
    return dec_id


def number_unused(conn: Connection, year: int, number: int) -> None:
    """A decision number is used once in a year: by a recognition decision (in force or revoked)
    or by a revocation decision (InvalidInput)."""
    t = table("decision")
    mine = t.c.org_code == current(conn)
    used = conn.execute(select(t.c.id).where(and_(mine, t.c.year == year, t.c.number == number))).first()
    if used:
        raise InvalidInput(f"Số quyết định {doc_number(number)} năm {year} đã được dùng (kể cả quyết định đã thu hồi); "
                           "hãy dùng số khác.")
    used = conn.execute(select(t.c.id).where(and_(mine, t.c.year == year, t.c.revocation_number == number))).first()
    if used:
        raise InvalidInput(f"Số quyết định {doc_number(number)} năm {year} đã được dùng cho một quyết định thu hồi; "
                           "hãy dùng số khác.")


def revoke(tx: Tx, year: int, reason: str | None, on: dt.date | None = None, number: int | None = None) -> dict:
    """Revoke the year's decision in force. With ``number`` a revocation decision (quyết định thu
    hồi) is issued under that number of the year, dated ``on``; without it the revocation is only
    recorded (a decision never sent out)."""
    reason_c = text_field(reason, "lý do thu hồi (--reason)", required=True, max_len=MAX_LEN["reason"])
    dec = active_decision(tx.conn, year)
    if dec is None:
        raise NotFound(f"Năm {year} không có quyết định công nhận nào đang có hiệu lực để thu hồi.")
    on = on or today()
    if on < dec["decided_on"]:
        raise InvalidInput(f"Ngày thu hồi {fmt_date(on)} trước ngày của quyết định bị thu hồi "
                           f"({fmt_date(dec['decided_on'])}).")
    if number is not None:
        if number < 1:
            raise InvalidInput(f"Số quyết định thu hồi phải là số nguyên dương (nhận được {number}).")
        number_unused(tx.conn, year, number)
    tx.update("decision", {"id": dec["id"]}, {"revoked": True, "revoked_reason": reason_c,
                                              "revoked_on": on, "revocation_number": number})
    dec.update(revoked=True, revoked_reason=reason_c, revoked_on=on, revocation_number=number)
    return dec


def revoked_decisions(conn: Connection, year: int) -> list[dict]:
    """The year's revoked decisions, oldest first, each with ``recognized``: how many entries it had
    recognised."""
    t, o = table("decision"), table("outcome")
    from sqlalchemy import func

    rows = conn.execute(select(t).where(and_(t.c.org_code == current(conn), t.c.year == year,
                                             t.c.revoked == True))  # noqa: E712
                        .order_by(t.c.id)).mappings().all()
    out = []
    for r in rows:
        n = conn.execute(select(func.count()).select_from(o).where(
            and_(o.c.decision_id == r["id"], o.c.recognized == True))).scalar_one()  # noqa: E712
        out.append({**dict(r), "recognized": n})
    return out


NONE = "none"  # decision.kind of a year closed with nothing recognised


def close_without_decision(led: "Store", year: int, closed_on: dt.date | None, *, user: str,
                           command: str) -> tuple[RecognitionPlan, dict]:
    """`dvk recognize --none`: close a year in which nothing passes, without a decision. The year
    is locked as a decision locks it (and unlocked by `revoke`); every entry is recorded as not
    recognised, with its reasons. Refused when an entry passes (that year needs a decision), and
    when the year is outside the phase of its criteria set. Returns the plan and the profile."""
    from dvk.cycle.config import get_setting, profile_for

    check_year(year)
    with led.write(user=user, command=command) as tx:
        conn = tx.conn
        dec = active_decision(conn, year)
        if dec:
            raise LockedYear(f"Năm {year} đã có {_decision_title(conn, dec)}. Muốn chốt lại, hãy thu hồi trước: "
                             f"dvk recognize --revoke --year {year} --reason \"…\"")
        ctx = year_context(conn, year)
        refuse_outside_phase(ctx.crit, year)
        closed_on = closed_on or ctx.crit.recognition_day(year)
        if closed_on.year not in (year, year + 1):
            raise InvalidInput(f"Ngày chốt {fmt_date(closed_on)} phải thuộc năm {year} (hoặc đầu năm {year + 1}).")
        rows = [PlanRow(b.entry["id"], b.entry["unit_code"], b.entry["title"], ev.score_float, ev.eligible, ev.reasons)
                for b, ev in judged(conn, ctx)]
        if not rows:
            raise InvalidInput(f"Năm {year} chưa có mô hình, điển hình nào đăng ký; không có gì để chốt.")
        passing = [r.id for r in rows if r.eligible]
        if passing:
            raise InvalidInput(f"Năm {year} có {len(passing)} mô hình, điển hình đủ điều kiện công nhận "
                               f"({', '.join(passing[:5])}{'…' if len(passing) > 5 else ''}); không chốt năm mà không có "
                               f"quyết định: hãy ra quyết định: dvk recognize --year {year} --number SỐ")
        plan = RecognitionPlan(year, 0, closed_on, rows)
        prof = profile_for(conn, year)
        keep = int(get_setting(conn, "backup_keep", "10") or 10)
        led.backup_before("recognize", keep=keep)
        recognize(tx, plan, kind=NONE)
        tx.note(f"Chốt năm {year} không có quyết định công nhận: {len(rows)} mô hình, điển hình không được công nhận")
    return plan, prof


def decide(led: "Store", year: int, number: int, decided_on: dt.date | None, *, user: str,
           command: str) -> tuple[RecognitionPlan, dict]:
    """`dvk recognize`: judge the year, back the ledger up, record the decision — the whole policy, so a
    script or the demo that decides gets the automatic backup the README promises, as the CLI does.

    One pass inside the write lock: judge; then the backup, which reads the committed state (the
    ledger just before this decision, since nobody else can write now); then the decision and every
    outcome. Returns the plan and the issuing organisation's profile of the year.
    """
    from dvk.cycle.config import get_setting, profile_for

    with led.write(user=user, command=command) as tx:
        plan = plan_recognition(tx.conn, year, number, decided_on)
        prof = profile_for(tx.conn, year)
        ensure_recognizable(plan)
        keep = int(get_setting(tx.conn, "backup_keep", "10") or 10)
        led.backup_before("recognize", keep=keep)
        recognize(tx, plan)
        tx.note(f"{decision_title(number, prof['symbol'], plan.decided_on)}: "
                f"công nhận {plan.n_recognized}/{plan.total} mô hình, điển hình năm {year}")
    return plan, prof
