"""The rules of the yearly cycle, each stated once (quy tắc): what a registration, an achievement
report, a Party-committee confirmation, a council member's score sheet and a unit may hold, the year
range, the spelling of an entry id, the duplicate key of a registration and lateness.

Pure functions over values already read (typed options parsed, file cells coerced): no database.
Each returns every problem it finds as an :class:`Issue` naming the field it concerns; a caller maps
the field to what the clerk sees -- an option (``--title``) or a column header (``Tên mô hình``).
`dvk register`, the demo and `dvk register --from` call the same functions; bulk intake stays fast
by caching what it coerces (its cells, its criteria sets), never by stating a rule again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Sequence

from dvk.criteria import ASPECTS, CriteriaSet
from dvk.errors import DvkError, InvalidInput, NotFound
from dvk.scoring import is_late, parse_score_value
from dvk.text.normalize import clean, clean_lines, fold, fold_clean
from dvk.text.safety import MAX_LEN, shorten, text_problem

__all__ = [
    "Issue", "refusal", "MIN_YEAR", "MAX_YEAR", "KINDS", "SUBJECTS", "year_issue", "check_year", "make_id",
    "entry_id_of", "entry_year", "text_issue", "date_issue", "is_late", "late_changes", "match_key", "Units", "unit_key",
    "registration", "REGISTRATION_FIELDS", "report_aspects", "report_blank", "confirmation", "confirmable",
    "member_name", "score_values", "score_pairs", "parse_score_args", "unit", "in_field_order",
]


# ---------------------------------------------------------------- problems

@dataclass(frozen=True, slots=True)
class Issue:
    """One broken rule: the field it concerns (a column of the ledger's table, or a name the rule's
    docstring gives), why, and the value at fault.

    `reason` reads beside the value (a table shows the cell in its own words: "lĩnh vực không hợp
    lệ (chỉ có 1–5)"); `said` is how it reads where nothing shows the value (a typed option: "lĩnh
    vực “7” không hợp lệ …"), when it differs; `alone` the whole message when it is the only problem
    (a date that cannot be read says so in its own sentence). `missing`: the value names nothing in
    the ledger (an unknown unit) -- alone, that is a NotFound.
    """

    field: str | None
    reason: str
    value: object = None
    said: str | None = None
    alone: str | None = None
    missing: bool = False

    @property
    def text(self) -> str:
        return self.said or self.reason


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def refusal(issues: Sequence[Issue], names: Mapping[str | None, str | None] | None = None, *, what: str,
            headline: bool = False) -> DvkError:
    """The error refusing typed values that break rules, naming each problem's option (`names`: field ->
    option). One problem: one sentence ("Thiếu người ký xác nhận (--by).", or with `headline`
    "Đăng ký không hợp lệ (--field): lĩnh vực “7” không hợp lệ …"); several: one headline and a
    line each ("--title: thiếu tên mô hình, điển hình")."""
    names = names or {}
    if len(issues) == 1:
        i = issues[0]
        name = names.get(i.field)
        if i.alone:
            return (NotFound if i.missing else InvalidInput)(i.alone)
        if i.missing:  # the value it names is quoted: "Không có đơn vị mã “X” trong sổ …"
            return NotFound(f"{_sentence(i.text)}.")
        if headline:
            return InvalidInput(f"{what} không hợp lệ" + (f" ({name})" if name else "") + f": {i.text}.")
        return InvalidInput(_sentence(i.text) + (f" ({name})" if name else "") + ".")
    lines = [(f"{names[i.field]}: " if names.get(i.field) else "") + i.text for i in issues]
    return InvalidInput(f"{what} không hợp lệ ({len(issues)} lỗi); sổ không thay đổi:", details=lines)


# ---------------------------------------------------------------- the domain's words, years, entry ids

KINDS = {"model": "Mô hình", "exemplar": "Điển hình"}


SUBJECTS = {"collective": "Tập thể", "individual": "Cá nhân"}


MIN_YEAR, MAX_YEAR = 2000, 2100


def year_issue(year: object, field: str = "year") -> Issue | None:
    """A year of the cycle is a whole number in MIN_YEAR..MAX_YEAR (None: missing)."""
    if year is None:
        return Issue(field, "thiếu năm")
    if type(year) is int and MIN_YEAR <= year <= MAX_YEAR:
        return None
    return Issue(field, f"năm không hợp lệ (phải là số trong khoảng {MIN_YEAR}–{MAX_YEAR})", year,
                 said=f"năm “{shorten(year, 40)}” không hợp lệ (phải trong khoảng {MIN_YEAR}–{MAX_YEAR})")


def check_year(year: int) -> int:
    """`year_issue` for a year a command was given: the year, or InvalidInput."""
    why = year_issue(int(year))
    if why:
        raise InvalidInput(_sentence(why.text) + ".")
    return int(year)


def make_id(year: int, seq: int, org: str | None = None) -> str:
    """The ledger's one spelling of an entry id: 2024-007; an entry of another organisation than the
    ledger's first one carries its code: CDCS1-2024-007."""
    return f"{org}-{year}-{seq:03d}" if org else f"{year}-{seq:03d}"


_ENTRY_ID = re.compile(r"\s*(?:([A-Za-z][A-Za-z0-9_]*)\s*-\s*)?([0-9]{4})\s*-\s*([0-9]{1,6})\s*")
_ORG_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,29}")


def entry_id_of(text: str) -> str:
    """An entry id as a clerk types it ("2024-7", " 2024 - 0007 ", "cdcs1-2024-7") in the ledger's one
    spelling ("2024-007", "CDCS1-2024-007"); any other text comes back stripped (it names no entry).
    Every command and every import reads entry ids through this."""
    m = _ENTRY_ID.fullmatch(text)
    if not m:
        return text.strip()
    return make_id(int(m.group(2)), int(m.group(3)), m.group(1).upper() if m.group(1) else None)


def entry_year(entry_id: str) -> int | None:
    """The year an entry id (in the ledger's spelling) belongs to, or None."""
    parts = entry_id.split("-")
    head = parts[-2] if len(parts) >= 3 else parts[0]
    return int(head) if head.isdigit() else None


def org_code_of(symbol: str | None) -> str:
    """An organisation's code derived from its document symbol: marks folded away, ASCII upper case
    (CĐN → CDN, CĐCS-BV → CDCS_BV)."""
    s = unicodedata.normalize("NFD", symbol or "").replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in s if not unicodedata.combining(c)).upper()
    s = re.sub(r"[^A-Z0-9]+", "_", s).strip("_")
    return s[:30] or "ORG"


ORG_LEVELS = {"federation": "Liên đoàn Lao động", "sector": "Công đoàn ngành",
              "grassroots": "Công đoàn cơ sở", "group": "Tổ công đoàn"}


def org_code_issue(code: str) -> str | None:
    """Why `code` cannot be an organisation's code, or None."""
    if not _ORG_CODE.fullmatch(code or ""):
        return (f"mã tổ chức “{code}” không hợp lệ: chỉ chữ hoa không dấu A–Z, chữ số và dấu gạch dưới, bắt đầu "
                "bằng chữ, tối đa 30 ký tự (ví dụ CDCS_BV)")
    return None


# ---------------------------------------------------------------- text

def text_issue(field: str, raw: str | None, label: str, max_len: int, *,
               clean: Callable[[str], str | None] = clean) -> tuple[str | None, Issue | None]:
    """A text value cleaned for storage (None when blank) and why it cannot be stored, if so: a control
    character or bytes that are not UTF-8 in `raw`, more than `max_len` characters once cleaned
    (dvk.text.safety.text_problem). `clean`: dvk.text.normalize.clean, clean_lines for a multi-line
    field, or a cache of it."""
    if raw is None:
        return None, None
    cleaned = clean(raw) or None
    why = text_problem(raw, cleaned, max_len)
    return cleaned, (Issue(field, f"{label} {why}") if why else None)


def date_issue(field: str, noun: str, value: object, reason: str | None, message: str | None = None) -> Issue:
    """A date that cannot be read (dvk.text.dates.DateError: its `reason`, its `message`), as a problem
    of `field` ("ngày đăng ký không hợp lệ: không có tháng 13")."""
    why = reason or "không phải ngày dạng dd/mm/yyyy hoặc yyyy-mm-dd"
    return Issue(field, f"{noun} không hợp lệ: {why}", value,
                 said=f"{noun} “{shorten(value, 40)}” không hợp lệ: {why}", alone=message)


def _take(issues: list[Issue], field: str, raw: str | None, label: str, limit: str,
          clean: Callable[[str], str | None], missing: str | None = None) -> str | None:
    """`text_issue` for one field of a rule (its limit MAX_LEN[`limit`]): the cleaned text, its problem
    added to `issues` -- or `missing` when the text is blank and the rule needs one."""
    if raw is None:
        cleaned = why = None
    else:
        cleaned = clean(raw) or None
        # The common case, printable text within its limit (no control character, no stray bytes:
        # `text_problem` would find nothing), is decided here without building its reason.
        why = None if raw.isprintable() and (cleaned is None or len(cleaned) <= MAX_LEN[limit]) else \
            text_problem(raw, cleaned, MAX_LEN[limit])
    if why:
        issues.append(Issue(field, f"{label} {why}"))
    elif cleaned is None and missing:
        issues.append(Issue(field, missing))
    return cleaned


# ---------------------------------------------------------------- lateness

# is_late(registered_on, sudden, window) is the registration gate's own test (dvk.scoring, which
# judges entries); every stored or shown "late" flag comes from it.


def late_changes(entries: Iterable[Mapping[str, Any]], window_of: Callable[[int], tuple[dt.date, dt.date]]
                 ) -> list[dict]:
    """The entries whose stored `late` flag `is_late` no longer gives under `window_of(year)` (the
    window of the year's criteria set), each with the flag it should have."""
    out = []
    for e in entries:
        late = is_late(e["registered_on"], e["sudden"], window_of(e["year"]))
        if bool(e["late"]) != late:
            out.append({**e, "late": late})
    return out


# ---------------------------------------------------------------- registration

@functools.lru_cache(maxsize=4096)
def unit_key(code: str) -> str:
    """A unit code folded (case, spacing): codes are unique by it, and typed codes are found by it."""
    return fold(code)


def match_key(unit_code: str, title: str, person: str | None, *, cleaned: bool = False) -> str:
    """The duplicate key of a registration: folded unit, title and person. `cleaned`: title and person
    are already dvk.text.normalize.clean (the key is the same, without cleaning them again)."""
    f = fold_clean if cleaned else fold
    return f"{unit_key(unit_code)}|{f(title)}|{f(person) if person else ''}"


class Units:
    """The units of the ledger as a clerk names them: the code itself, else the one code equal to it
    folded ("bvdk" is "BVDK"); two codes equal folded make neither findable that way."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = set(codes)
        folded: dict[str, list[str]] = {}
        for code in self.codes:
            folded.setdefault(unit_key(code), []).append(code)
        self._folded = {k: v[0] for k, v in folded.items() if len(v) == 1}

    def find(self, typed: str) -> str | None:
        if typed in self.codes:
            return typed
        return self._folded.get(unit_key(typed))


# The fields of a registration in the order their problems are listed.
REGISTRATION_FIELDS = ("year", "unit_code", "title", "kind", "person", "position", "subject", "field",
                       "registered_on", "sudden", "note")


_FIELD_NUMBERS: dict[int, tuple[CriteriaSet, frozenset[int], str]] = {}


def _field_numbers(crit: CriteriaSet) -> tuple[frozenset[int], str]:
    hit = _FIELD_NUMBERS.get(id(crit))
    if hit is None or hit[0] is not crit:
        numbers = frozenset(f.number for f in crit.fields)
        if len(_FIELD_NUMBERS) > 256:
            _FIELD_NUMBERS.clear()
        hit = _FIELD_NUMBERS[id(crit)] = (crit, numbers, ", ".join(map(str, sorted(numbers))))
    return hit[1], hit[2]


def registration(*, year: object, unit: object, title: str | None, kind: object = "model",
                 subject: object = None, person: str | None = None, position: str | None = None,
                 field: object = None, registered_on: dt.date | None = None, sudden: bool = False,
                 note: str | None = None, units: Units, crit_of: Callable[[int], CriteriaSet],
                 today: dt.date, clean: Callable[[str], str | None] = clean) -> tuple[dict | None, list[Issue]]:
    """One registration (đăng ký) checked against every rule: the row to insert (its id and seq still
    to assign) and no issue, or None and every issue.

    `year` and `field` a whole number (anything else is listed as not one); `unit` as typed, found
    through `units`; texts as given (`clean` makes them what is stored); `kind`/`subject` the
    domain's words (`subject` None: an individual if a person is named); `registered_on` None: today.
    `crit_of(year)`: the year's criteria set (fields, registration window).
    """
    issues: list[Issue] = []
    why = year_issue(year)
    if why:
        issues.append(why)
        crit = None
    else:
        crit = crit_of(year)  # type: ignore[arg-type]
    code = None
    if unit is None:
        issues.append(Issue("unit_code", "thiếu mã đơn vị"))
    else:
        typed = unit if isinstance(unit, str) else str(unit)
        code = units.find(typed)
        if code is None:
            issues.append(Issue("unit_code", "không có đơn vị mã này trong sổ (xem: dvk units list)", typed,
                                said=f"không có đơn vị mã “{shorten(typed)}” trong sổ (xem: dvk units list)",
                                missing=True))
    title_c = _take(issues, "title", title, "tên mô hình, điển hình", "title", clean, "thiếu tên mô hình, điển hình")
    if kind not in KINDS:
        issues.append(Issue("kind", "loại không hợp lệ (ghi “Mô hình” hoặc “Điển hình”)", kind))
    person_c = _take(issues, "person", person, "họ và tên", "person", clean)
    position_c = _take(issues, "position", position, "chức vụ", "position", clean)
    if subject is None:
        subject = "individual" if person_c else "collective"
    if subject == "individual":
        if not person_c:
            issues.append(Issue("person", "điển hình cá nhân phải có họ và tên"))
        elif len(person_c.split()) < 2:
            issues.append(Issue("person", "họ và tên phải có ít nhất họ và tên", person_c,
                                said=f"họ và tên “{shorten(person_c)}” phải có ít nhất họ và tên"))
    elif subject == "collective":
        if person_c:
            issues.append(Issue("person", "tập thể không ghi họ và tên (nếu là cá nhân: đối tượng “Cá nhân”)",
                                person_c))
        if position_c:
            issues.append(Issue("position", "tập thể không có họ tên, chức vụ (chức vụ chỉ ghi cho cá nhân)",
                                position_c))
    else:
        issues.append(Issue("subject", "đối tượng không hợp lệ (ghi “Tập thể” hoặc “Cá nhân”)", subject))
    if field is None:
        issues.append(Issue("field", "thiếu lĩnh vực"))
    elif crit is None:
        if type(field) is not int:
            issues.append(Issue("field", "lĩnh vực không hợp lệ (phải là số thứ tự của một lĩnh vực)", field))
    else:
        numbers, allowed = _field_numbers(crit)
        if type(field) is not int or field not in numbers:
            issues.append(Issue("field", f"lĩnh vực không hợp lệ (chỉ có {allowed})", field,
                                said=f"lĩnh vực “{shorten(field, 40)}” không hợp lệ (chỉ có {allowed})"))
    note_c = _take(issues, "note", note, "ghi chú", "note", clean)
    if issues or crit is None or code is None or title_c is None:
        return None, issues
    on = registered_on or today
    sudden = bool(sudden)
    return ({"id": None, "year": year, "seq": 0, "unit_code": code, "title": title_c, "kind": kind,
             "subject": subject, "person": person_c, "position": position_c, "field": field, "registered_on": on,
             "late": is_late(on, sudden, crit.window(year)),  # type: ignore[arg-type]
             "sudden": sudden, "note": note_c,
             "match_key": match_key(code, title_c, person_c, cleaned=True)}, issues)


def in_field_order(issues: list[Issue], order: Sequence[str] = REGISTRATION_FIELDS) -> list[Issue]:
    """`issues` listed in the order of the fields (problems found by whoever read the values, then the
    rules', as one list); problems of no listed field last."""
    rank = {f: i for i, f in enumerate(order)}
    return sorted(issues, key=lambda i: rank.get(i.field, len(rank)))  # type: ignore[arg-type]


# ---------------------------------------------------------------- achievement report

_ASPECT_LABELS = dict(ASPECTS)


def report_aspects(aspects: Mapping[str, str | None], *, clean: Callable[[str], str | None] = clean_lines
                   ) -> tuple[dict[str, str], list[str], list[Issue]]:
    """The contents of an achievement report (báo cáo thành tích) as given: the texts to store, the
    aspects given blank (a blank never erases what is stored: they are left aside) and the issues
    (a control character, over MAX_LEN["aspect"])."""
    texts: dict[str, str] = {}
    blank: list[str] = []
    issues: list[Issue] = []
    for key, raw in aspects.items():
        if raw is None:
            continue
        text, why = text_issue(key, raw, _ASPECT_LABELS[key], MAX_LEN["aspect"], clean=clean)
        if why:
            issues.append(why)
        elif text is None:
            blank.append(key)
        else:
            texts[key] = text
    return texts, blank, issues


def report_blank(report: Mapping[str, Any]) -> Issue | None:
    """A report says something: at least one of the five aspects, or a report file (field "aspects")."""
    if any(report.get(k) for k, _ in ASPECTS) or report.get("file_path"):
        return None
    return Issue("aspects", "báo cáo trống: chưa ghi nội dung nào trong 5 nội dung",
                 said="báo cáo thành tích trống: hãy nêu ít nhất một nội dung")


# ---------------------------------------------------------------- confirmation

def confirmation(*, committee: str | None, by: str | None, comment: str | None, rejected: bool,
                 reason: str | None, clean: Callable[[str], str | None] = clean,
                 clean_lines: Callable[[str], str | None] = clean_lines) -> tuple[dict, list[Issue]]:
    """The Party committee's confirmation (xác nhận của cấp ủy) as given: the values to store
    (committee None: the unit's, see `confirmable`) and every issue -- a signer (confirmed_by), text
    limits, a reason if and only if the committee refused."""
    issues: list[Issue] = []
    committee_c = _take(issues, "committee", committee, "tên cấp ủy", "committee", clean)
    by_c = _take(issues, "confirmed_by", by, "người ký xác nhận", "confirmed_by", clean, "thiếu người ký xác nhận")
    comment_c = _take(issues, "comment", comment, "nhận xét", "comment", clean_lines)
    reason_c, why = text_issue("reason", reason, "lý do", MAX_LEN["reason"], clean=clean)
    if why:
        issues.append(why)
    elif rejected and not reason_c:
        issues.append(Issue("reason", "cấp ủy không xác nhận thì phải ghi lý do",
                            said="cấp ủy không xác nhận thì phải nêu lý do"))
    elif reason_c and not rejected:
        issues.append(Issue("reason", "lý do chỉ ghi khi cấp ủy không xác nhận (đánh dấu “Không xác nhận”)",
                            reason_c, said="lý do chỉ dùng khi cấp ủy không xác nhận (--reject)"))
    return ({"committee": committee_c, "confirmed_by": by_c, "comment": comment_c, "rejected": bool(rejected),
             "reason": reason_c if rejected else None}, issues)


def confirmable(entry_id: str, *, reported: bool, committee: str | None, unit_code: str,
                unit_committee: str | None) -> tuple[str | None, list[Issue]]:
    """What a confirmation needs from the ledger: a report to confirm (field "entry_id") and a committee
    (the one given, else the unit's). Returns the committee and the issues."""
    issues = []
    if not reported:
        issues.append(Issue("entry_id", f"{entry_id} chưa có báo cáo thành tích; cấp ủy xác nhận vào bản báo cáo, "
                                        "hãy ghi báo cáo trước (dvk report)", entry_id))
    committee = committee or unit_committee
    if not committee:
        issues.append(Issue("committee", f"thiếu tên cấp ủy xác nhận (đơn vị {unit_code} chưa khai báo cấp ủy "
                                         "trong sổ)"))
    return committee, issues


# ---------------------------------------------------------------- score sheet

def member_name(raw: str | None, *, required: bool = True,
                clean: Callable[[str], str | None] = clean) -> tuple[str | None, Issue | None]:
    """The council member (thành viên Hội đồng) a score sheet is of: a name (unless not `required`),
    within MAX_LEN["member"]."""
    name, why = text_issue("member", raw, "tên thành viên Hội đồng", MAX_LEN["member"], clean=clean)
    if why is None and name is None and required:
        why = Issue("member", "thiếu tên thành viên Hội đồng")
    return name, why


def score_values(raw: Mapping[str, object], crit: CriteriaSet) -> tuple[dict[str, Fraction | None], list[Issue]]:
    """One member's scores (criterion code -> the score as given) against the year's criteria set:
    every criterion scored, each within the scale, "na" only where the criterion allows it
    (dvk.scoring.parse_score_value). Field: the criterion's code (None: the sheet as a whole)."""
    values: dict[str, Fraction | None] = {}
    issues: list[Issue] = []
    for code, v in raw.items():
        try:
            values[code] = parse_score_value(v, crit, code)
        except InvalidInput as exc:
            issues.append(Issue(code, exc.message.rstrip("."), v))
    missing = [c for c in crit.codes if c not in raw]
    if missing:
        issues.append(Issue(None, "chưa chấm các tiêu chí: " + ", ".join(missing)
                            + " (tiêu chí cụ thể không áp dụng thì ghi na)"))
    return values, issues


def score_pairs(pairs: Iterable[str], crit: CriteriaSet) -> tuple[dict[str, Fraction | None], list[Issue]]:
    """`dvk score`'s CODE=VALUE words (a code in any case, once) read into `score_values`."""
    raw: dict[str, object] = {}
    issues: list[Issue] = []
    for pair in pairs:
        if "=" not in pair:
            issues.append(Issue(None, f"“{pair}” không có dạng MÃ=ĐIỂM (ví dụ G1=8 hoặc S5=na)", pair))
            continue
        code, v = pair.split("=", 1)
        code = code.strip().upper()
        if code in raw:
            issues.append(Issue(code, f"tiêu chí {code} được chấm hai lần", pair))
            continue
        raw[code] = v
    values, more = score_values(raw, crit)
    return values, issues + more


def parse_score_args(pairs: Iterable[str], crit: CriteriaSet) -> dict[str, Fraction | None]:
    """`score_pairs`, refused as a whole (`refusal`: "Phiếu chấm điểm không hợp lệ", every problem) unless
    every rule holds."""
    values, issues = score_pairs(pairs, crit)
    if issues:
        raise refusal(issues, what="Phiếu chấm điểm", headline=True)
    return values


# ---------------------------------------------------------------- unit

_UNIT_TEXTS = (("code", "mã đơn vị", "unit_code"), ("name", "tên đơn vị", "unit_name"),
               ("committee", "cấp ủy", "committee"))


def unit(code: str | None, name: str | None, committee: str | None = None, *,
         clean: Callable[[str], str | None] = clean) -> tuple[dict | None, list[Issue]]:
    """A member unit (đơn vị / CĐCS): a code and a name, each text within its limit; the row to store
    (code, name, committee) or None, and every issue (with the text as cleaned). Codes are unique by
    `unit_key`."""
    row: dict[str, str | None] = {}
    issues: list[Issue] = []
    for (key, label, limit), raw in zip(_UNIT_TEXTS, (code, name, committee)):
        row[key], why = text_issue(key, raw, label, MAX_LEN[limit], clean=clean)
        if why:
            issues.append(dataclasses.replace(why, value=row[key]))
        elif row[key] is None and key != "committee":
            issues.append(Issue(key, f"thiếu {label}"))
    return (None if issues else row), issues
