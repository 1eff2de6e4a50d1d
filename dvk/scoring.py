"""Scoring and judging, pure: one member's sheet parsed and totalled exactly (integers, then a
Fraction), the members' totals aggregated, and every recognition gate of an entry with its
Vietnamese reason (registration, report, confirmation, council, pass mark).
"""

from __future__ import annotations

import functools
import math
import re
import statistics
import zlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Iterable, Mapping

from dvk.errors import InvalidInput
from dvk.criteria import ASPECTS, CriteriaSet
from dvk.text.numbers import fmt_number, fmt_score


NA_WORDS = {"na", "n/a", "kad", "không áp dụng", "khong ap dung", "-"}
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")  # a score as typed: "8", "7,5", "-1"


def parse_score_value(raw: object, crit: CriteriaSet, code: str) -> Fraction | None:
    """Parse one score ("8", "7,5", "na"); None means not applicable. Raises InvalidInput."""
    criterion = crit.criterion(code)
    if criterion is None:
        raise InvalidInput(
            f"Mã tiêu chí “{code}” không có trong bộ tiêu chí {crit.phase} (các mã: {', '.join(crit.codes)})."
        )
    if raw is None:
        raise InvalidInput(f"Tiêu chí {code}: chưa có điểm.")
    text = str(raw).strip().lower()
    if text in NA_WORDS:
        if not criterion.allow_na:
            raise InvalidInput(f"Tiêu chí {code} là tiêu chí chung, không được chấm “không áp dụng” (na).")
        return None
    if isinstance(raw, bool):
        raise InvalidInput(f"Tiêu chí {code}: điểm “{raw}” không phải là số.")
    try:
        if isinstance(raw, (int, float)):  # a number cell of Excel or JSON
            value = Decimal(raw if isinstance(raw, int) else repr(raw))
        elif _PLAIN_NUMBER.fullmatch(text):  # typed: digits, one "," or "." and digits, a sign
            value = Decimal(text.replace(",", "."))
        else:  # not "1_0", "1e1", "８" or "٨", which Decimal() would take
            raise InvalidOperation
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise InvalidInput(f"Tiêu chí {code}: điểm “{raw}” không phải là số (dùng 0–10 hoặc na).")
    if not (crit.scale_min - 1 <= value <= crit.scale_max + 1):  # before quantize: huge values overflow it
        raise InvalidInput(
            f"Tiêu chí {code}: điểm “{raw}” nằm ngoài thang {fmt_number(crit.scale_min)}–{fmt_number(crit.scale_max)}."
        )
    step = Decimal(1).scaleb(-crit.decimals)
    rounded = value.quantize(step)
    if value != rounded:
        # Excel may hand 7.499999999 for 7.5: accept values within float noise of a valid step.
        if abs(value - rounded) > Decimal("1e-9"):
            raise InvalidInput(f"Tiêu chí {code}: điểm “{raw}” có quá {crit.decimals} chữ số thập phân.")
        value = rounded
    frac = Fraction(value)
    if not (crit.scale_min <= frac <= crit.scale_max):
        raise InvalidInput(
            f"Tiêu chí {code}: điểm “{raw}” nằm ngoài thang {fmt_number(crit.scale_min)}–{fmt_number(crit.scale_max)}."
        )
    return frac


@dataclass(frozen=True)
class _Fast:
    """Per-criteria-set constants for the hot loop (weights as integers, floats of the marks)."""

    weights: dict[str, int]
    unit: int
    low: int | Fraction
    span: Fraction
    span_float: float
    pass_float: float
    pass_text: str
    sha: str  # of the criteria file: part of each stored total's tag
    tag_seed: int  # CRC-32 of that SHA-256 and its newline: a tag continues from it over the marks


_FAST: dict[int, tuple[CriteriaSet, _Fast]] = {}


def _fast(crit: CriteriaSet) -> _Fast:
    cached = _FAST.get(id(crit))
    if cached is not None and cached[0] is crit:
        return cached[1]
    lcm = 1
    for c in crit.criteria:
        lcm = lcm * c.weight.denominator // math.gcd(lcm, c.weight.denominator)
    unit = 10 ** crit.decimals
    low = crit.scale_min * unit
    span = (crit.scale_max - crit.scale_min) * unit
    f = _Fast({c.code: int(c.weight * lcm) for c in crit.criteria}, unit,
              int(low) if low.denominator == 1 else low, span, float(span), float(crit.pass_mark),
              fmt_number(crit.pass_mark), crit.sha256, zlib.crc32((crit.sha256 + "\n").encode("utf-8")))
    _FAST[id(crit)] = (crit, f)
    return f


def _member_parts(scores: Mapping[str, Fraction | float | int | None], crit: CriteriaSet) -> tuple[int, int]:
    """Integer numerator and weight sum of a member's total (scores are multiples of 10^-decimals)."""
    f = _fast(crit)
    weights, unit, low = f.weights, f.unit, f.low
    num = 0
    den = 0
    for code, v in scores.items():
        w = weights.get(code)
        if w is None or v is None:
            continue
        num += (round(v * unit) - low) * w
        den += w
    return num, den


def member_total(scores: Mapping[str, Fraction | float | int | None], crit: CriteriaSet) -> Fraction | None:
    """A member's total on a 100 scale: Σ(score/max × weight) × 100 / Σ(applicable weights), exactly.

    Scores are whole multiples of 10^-decimals, so the sum is done on integers and only the
    result becomes a Fraction.
    """
    num, den = _member_parts(scores, crit)
    if den == 0:
        return None
    return Fraction(num * 100) / (_fast(crit).span * den)


def _member_total_float(scores: Mapping[str, Fraction | float | int | None], crit: CriteriaSet,
                        span: float) -> float | None:
    num, den = _member_parts(scores, crit)
    if den == 0:
        return None
    return num * 100 / (span * den)


# ---------------------------------------------------------------- stored totals (score.total)
#
# Each sheet keeps its exact total beside its marks, so a whole-year read judges without decoding
# every sheet: "p/q TAG" (the Fraction member_total gives) or "na TAG" (no applicable criterion).
# TAG is the CRC-32 of the criteria file's SHA-256 and the marks as stored: a total written under
# other criteria, or left behind when the marks were changed by a path that did not rewrite it, does
# not match and the marks decide (`sheet_total_of`). The tag is a cache check, not a seal: the
# history's hash chain covers the column like any other.

NOT_STORED = object()  # stored_total's answer when the stored text cannot be used


def _tag(marks_text: str, crit: CriteriaSet) -> str:
    """CRC-32 of the criteria file's SHA-256, a newline and the marks as stored (continued from `tag_seed`,
    the same value as over the whole text)."""
    return format(zlib.crc32(marks_text.encode("utf-8"), _fast(crit).tag_seed), "08x")


def total_text(marks_text: str, scores: Mapping[str, Fraction | float | int | None], crit: CriteriaSet) -> str:
    """What `score.total` holds for a sheet whose marks are stored as `marks_text` (`scores` decoded)."""
    t = member_total(scores, crit)
    body = "na" if t is None else f"{t.numerator}/{t.denominator}"
    return f"{body} {_tag(marks_text, crit)}"


def stored_total(text: object, marks_text: object, crit: CriteriaSet):
    """The exact total a stored `score.total` says (a Fraction, or None for no applicable criterion), or
    NOT_STORED when there is none or it does not belong to these marks under these criteria."""
    if type(text) is not str or type(marks_text) is not str:
        return NOT_STORED
    body, _, tag = text.partition(" ")
    if tag != _tag(marks_text, crit):
        return NOT_STORED
    if body == "na":
        return None
    num, _, den = body.partition("/")
    if not (num.isdigit() and den.isdigit()) or den == "0" or len(body) > 60:
        return NOT_STORED
    return Fraction(int(num), int(den))


def aggregate(totals: Iterable[Fraction], method: str) -> Fraction | None:
    values = sorted(totals)
    if not values:
        return None
    if method == "median":
        return Fraction(statistics.median(values))
    return sum(values, Fraction(0)) / len(values)


@dataclass
class EntryFacts:
    """What the gates need to know about one entry, fetched in sets by the caller."""

    entry_id: str
    year: int
    registered_on: date | None
    sudden: bool
    report: Mapping[str, str | None] | None = None
    confirmation: Mapping[str, object] | None = None  # committee, rejected, reason
    unit_committee: str | None = None
    member_scores: Mapping[str, Mapping[str, Fraction | None]] = field(default_factory=dict)
    # Each member's exact total when the caller has it (stored beside the sheet): then the marks are
    # not needed (member_scores may hold None for them).
    member_totals: Mapping[str, Fraction | None] | None = None
    # Members whose sheet does not count (not on the year's council, conflict of interest, abstention),
    # with why; their sheets are not in `member_scores`. Said in the reason of the "scores" gate.
    uncounted: Mapping[str, str] = field(default_factory=dict)


class Gate:
    """One gate of recognition: passed or not, and why in Vietnamese. A passing gate's reason may be
    given as a function that writes it: it is only written when read (`dvk check` shows it; a whole
    year's list or decision reads only the reasons of the gates that fail)."""

    __slots__ = ("code", "label", "ok", "_reason")

    def __init__(self, code: str, label: str, ok: bool, reason) -> None:
        self.code, self.label, self.ok, self._reason = code, label, ok, reason

    @property
    def reason(self) -> str:
        r = self._reason
        if not isinstance(r, str):
            r = self._reason = r()
        return r

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Gate) and (self.code, self.label, self.ok, self.reason) == (
            other.code, other.label, other.ok, other.reason)

    def __repr__(self) -> str:
        return f"Gate({self.code!r}, {self.label!r}, {self.ok!r}, {self.reason!r})"

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "ok": self.ok, "reason": self.reason}


@dataclass
class Evaluation:
    """The verdict on one entry: every gate with its reason, the score and members' totals.

    Scores are floats for display; whether the pass mark is reached is decided exactly.
    """

    entry_id: str
    gates: list[Gate]
    score: float | None
    member_totals: dict[str, float | None]
    pass_mark: Fraction

    @property
    def eligible(self) -> bool:
        return all(g.ok for g in self.gates)

    @property
    def reasons(self) -> list[str]:
        return [g.reason for g in self.gates if not g.ok]

    @property
    def score_float(self) -> float | None:
        return None if self.score is None else round(float(self.score), 2)





def _filled(value: object) -> bool:
    """An aspect is filled in when it has text (or, from a light query, a true flag)."""
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


@functools.lru_cache(maxsize=4096)
def _folded(s: str) -> str:
    from dvk.text.normalize import fold

    return fold(s)


def _same_committee(a: str | None, b: str | None) -> bool:
    return a == b or _folded(a or "") == _folded(b or "")


def is_late(registered_on: date | None, sudden: bool, window: tuple[date, date]) -> bool:
    """Lateness, the one definition (dvk.rules re-exports it): a registration is late unless it is a
    sudden achievement (no registration needed) or its date falls in the year's registration window
    (`CriteriaSet.window`); an entry with no date is not on time. Registration, `--update` imports,
    `dvk criteria use`, the gate below, JSON and every document take the flag from here."""
    return not sudden and (registered_on is None or not (window[0] <= registered_on <= window[1]))


def evaluate(facts: EntryFacts, crit: CriteriaSet) -> Evaluation:
    """Check one entry against every gate and the pass mark; explain each in Vietnamese."""
    from dvk.text.dates import fmt_date

    gates: list[Gate] = []
    start, end = window = crit.window(facts.year)
    late = is_late(facts.registered_on, facts.sudden, window)
    if facts.sudden:
        gates.append(Gate("registration", "Đăng ký", True, "Thành tích đột xuất, không phải đăng ký."))
    elif facts.registered_on is None:
        gates.append(Gate("registration", "Đăng ký", False, "Chưa có ngày đăng ký."))
    elif not late:
        on = facts.registered_on
        gates.append(Gate("registration", "Đăng ký", True, lambda: f"Đăng ký ngày {fmt_date(on)}, đúng hạn."))
    else:
        gates.append(
            Gate(
                "registration",
                "Đăng ký",
                False,
                f"Đăng ký ngày {fmt_date(facts.registered_on)}, ngoài thời hạn "
                f"{fmt_date(start)}–{fmt_date(end)} và không phải thành tích đột xuất.",
            )
        )

    if facts.report is None:
        gates.append(Gate("report", "Báo cáo thành tích", False, "Chưa có báo cáo thành tích."))
    else:
        empty = [label for key, label in ASPECTS if not _filled(facts.report.get(key))]
        if empty:
            gates.append(
                Gate("report", "Báo cáo thành tích", False, "Báo cáo thành tích còn thiếu: " + ", ".join(empty) + ".")
            )
        else:
            gates.append(Gate("report", "Báo cáo thành tích", True, "Báo cáo nêu đủ 5 nội dung."))

    conf = facts.confirmation
    cleared = facts.report.get("confirmation_cleared_on") if conf is None and facts.report else None
    if cleared:
        gates.append(Gate("confirmation", "Xác nhận của cấp ủy", False,
                          f"Báo cáo thành tích đã thay đổi ngày {fmt_date(cleared)}, sau khi cấp ủy xác nhận: "
                          "xác nhận cũ đã bị xóa, cần cấp ủy cùng cấp xác nhận lại."))
    elif conf is None:
        gates.append(Gate("confirmation", "Xác nhận của cấp ủy", False, "Chưa có xác nhận của cấp ủy cùng cấp."))
    elif conf.get("rejected"):
        gates.append(
            Gate(
                "confirmation",
                "Xác nhận của cấp ủy",
                False,
                f"Cấp ủy “{conf.get('committee')}” không xác nhận: {conf.get('reason') or 'không nêu lý do'}.",
            )
        )
    elif facts.unit_committee and not _same_committee(str(conf.get("committee")), facts.unit_committee):
        gates.append(
            Gate(
                "confirmation",
                "Xác nhận của cấp ủy",
                False,
                f"Xác nhận của “{conf.get('committee')}” không phải cấp ủy cùng cấp của đơn vị "
                f"(“{facts.unit_committee}”).",
            )
        )
    else:
        gates.append(Gate("confirmation", "Xác nhận của cấp ủy", True,
                          lambda: f"Đã được “{conf.get('committee')}” xác nhận."))

    fast = _fast(crit)
    pass_text = fast.pass_text
    span = fast.span_float
    exact_totals = facts.member_totals
    if exact_totals is not None:  # float(p/q) is the quotient _member_total_float gives, correctly rounded
        totals: dict[str, float | None] = {m: None if t is None else t.numerator / t.denominator
                                           for m, t in exact_totals.items()}
    else:
        totals = {m: _member_total_float(s, crit, span) for m, s in facts.member_scores.items()}
    n = len(totals)
    if n < crit.min_members:
        gates.append(
            Gate(
                "scores",
                "Chấm điểm",
                False,
                f"Mới có {n} thành viên Hội đồng chấm điểm, cần ít nhất {crit.min_members}.",
            )
        )
    else:
        gates.append(Gate("scores", "Chấm điểm", True, lambda: f"{n} thành viên Hội đồng đã chấm điểm."))
    if facts.uncounted:
        last = gates[-1]
        gates[-1] = Gate(last.code, last.label, last.ok, last.reason + " Không tính: " + "; ".join(
            f"“{m}” — {why}" for m, why in facts.uncounted.items()) + ".")
    values = [t for t in totals.values() if t is not None]
    score: float | None = None
    passed = False
    if values:
        score = statistics.median(values) if crit.aggregation == "median" else sum(values) / len(values)
        passed = score >= fast.pass_float
        if abs(score - fast.pass_float) < 1e-6:  # too close for floats: decide exactly
            exact = aggregate([t for t in (exact_totals.values() if exact_totals is not None else
                                           (member_total(s, crit) for s in facts.member_scores.values()))
                               if t is not None], crit.aggregation)
            passed = exact >= crit.pass_mark
            score = float(exact)
    if score is None:
        gates.append(Gate("pass_mark", "Điểm đạt", False, f"Chưa có điểm (điểm đạt {pass_text})."))
    elif passed:
        shown = score
        gates.append(Gate("pass_mark", "Điểm đạt", True, lambda: f"Điểm {fmt_score(shown)} ≥ điểm đạt {pass_text}."))
    else:
        gates.append(
            Gate("pass_mark", "Điểm đạt", False, f"Điểm {fmt_score(score)} thấp hơn điểm đạt {pass_text}.")
        )
    return Evaluation(facts.entry_id, gates, score, totals, crit.pass_mark)
