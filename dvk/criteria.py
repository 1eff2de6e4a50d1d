"""Criteria sets (bộ tiêu chí): data loaded from TOML and checked key by key — criteria with their
weights, the fields, the scoring settings and the calendar of a phase.

Pure: no database, no I/O except reading a criteria file's text (bounded, before any lock). A set
belongs to a phase (giai đoạn) and is stored in the ledger, so a year keeps the rules it was judged
by even when a later year swaps them. Scoring and the gates live in `dvk.scoring`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Mapping

from dvk.errors import InvalidInput
from dvk.files import read_regular
from dvk.text.numbers import fmt_number, thousands


DEFAULT_CRITERIA_FILE = "criteria-2021-2025.toml"


ASPECTS: tuple[tuple[str, str], ...] = (
    ("approach", "Cách làm"),
    ("experience", "Kinh nghiệm"),
    ("spread", "Tính lan tỏa"),
    ("effectiveness", "Hiệu quả"),
    ("sustainability", "Sự bền vững"),
)


@dataclass(frozen=True)
class Criterion:
    """One criterion (tiêu chí) that council members score."""

    code: str
    group: str  # "general" | "specific"
    title: str
    weight: Fraction
    allow_na: bool


@dataclass(frozen=True)
class Field:
    """One of the five fields (lĩnh vực) of section II."""

    number: int
    title: str
    short: str


#: The keys of a criteria file's ``[guidance]`` table that a set for a phase must give.
GUIDANCE_KEYS: tuple[str, ...] = ("number", "date", "issuer", "subject")


@dataclass(frozen=True)
class Guidance:
    """The guidance (văn bản hướng dẫn) a phase's criteria come from, as documents cite it:
    ``kind`` ``number`` ``date`` ``issuer`` about ``subject`` — e.g. "Công văn" "số 69/CĐN"
    "ngày 14/5/2021" "của Ban Thường vụ …" "về việc …". Every part is the criteria file's data;
    a part the file does not give is "" (see `CriteriaSet.guidance_missing`)."""

    number: str = ""
    date: str = ""
    issuer: str = ""
    subject: str = ""
    kind: str = "Văn bản"

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(k for k in GUIDANCE_KEYS if not getattr(self, k))

    def cite(self, *, subject: bool = True) -> str:
        """"Công văn số 69/CĐN ngày 14/5/2021 của Ban Thường vụ … về việc hướng dẫn …" (without
        ``subject``: up to the issuer); the parts that are known only; "" without number and date."""
        out = self.kind or "Văn bản"
        if self.number:
            out += f" số {self.number}"
        if self.date:
            out += f" ngày {self.date}"
        if self.issuer:
            out += f" của {self.issuer}"
        if self.subject and subject:
            out += f" về việc {self.subject}"
        return out if (self.number or self.date) else ""


@dataclass(frozen=True)
class CriteriaSet:
    """A whole criteria file: criteria, fields, scoring settings and calendar."""

    phase: str
    name: str
    note: str
    criteria: tuple[Criterion, ...]
    fields: tuple[Field, ...]
    scale_min: Fraction
    scale_max: Fraction
    decimals: int
    aggregation: str
    pass_mark: Fraction
    min_members: int
    registration_start: tuple[int, int]
    registration_end: tuple[int, int]
    recognition_date: tuple[int, int]
    text: str = field(repr=False, default="")
    # The spread of members' totals on one entry (max − min, on 100) above which `dvk council review`
    # flags a disagreement; optional in the file (`scoring.disagreement`), default 15.
    disagreement: Fraction = Fraction(15)
    guidance: Guidance = field(default_factory=Guidance)
    legal_bases: tuple[str, ...] = ()
    guidance_given: bool = False  # the file has its own [guidance] table (not read from ``source``)

    @property
    def phase_years(self) -> tuple[int, int] | None:
        """The first and last year of the set's phase ("2021-2025" -> (2021, 2025)); None when the
        phase is not written as two years."""
        m = PHASE_RE.fullmatch(self.phase.strip())
        if m is None:
            return None
        return int(m[1]), int(m[2])

    def covers(self, year: int) -> bool:
        """Whether ``year`` lies in the set's phase (a phase not written as two years covers any year)."""
        span = self.phase_years
        return span is None or span[0] <= year <= span[1]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.criteria]

    def criterion(self, code: str) -> Criterion | None:
        for c in self.criteria:
            if c.code == code:
                return c
        return None

    def field_title(self, number: int) -> str:
        for f in self.fields:
            if f.number == number:
                return f.title
        return str(number)

    def field_short(self, number: int) -> str:
        for f in self.fields:
            if f.number == number:
                return f.short
        return str(number)

    def window(self, year: int) -> tuple[date, date]:
        """The registration window of a year (end day clipped to the month's end)."""
        return _window(year, self.registration_start, self.registration_end)

    def recognition_day(self, year: int) -> date:
        return _month_day(year, *self.recognition_date)


@functools.lru_cache(maxsize=256)
def _window(year: int, start: tuple[int, int], end: tuple[int, int]) -> tuple[date, date]:
    return _month_day(year, *start), _month_day(year, *end)


def _month_day(year: int, month: int, day: int) -> date:
    import calendar

    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day, last))


MAX_FILE_BYTES = 1 << 20  # a criteria file is a few kilobytes; 1 MiB is checked before reading


MAX_DECIMALS = 3


MAX_WEIGHT = 1000


MAX_SCALE = 1000


MAX_MEMBERS = 50


MAX_CRITERIA = 100


MAX_FIELDS = 20


MAX_PLACES = 3  # decimal places of a weight, a scale end or the pass mark


_CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,15}")


_NUMBER_TEXT = re.compile(r"\+?\d{1,7}(?:[.,]\d{1,7})?")  # "8", "7.5", "7,5": never an exponent


_MD_RE = re.compile(r"(\d{1,2})-(\d{1,2})")


PHASE_RE = re.compile(r"(\d{4})\s*[-–]\s*(\d{4})")


#: How a ``source`` line of a set stored before ``[guidance]`` existed names its guidance:
#: "<kind> số <number> ngày <date> của <issuer>".
_SOURCE_RE = re.compile(r"^\s*(?P<kind>[^\d]*?)\s*số\s+(?P<number>\S+)\s+ngày\s+(?P<date>\d{1,2}/\d{1,2}/\d{4})"
                        r"(?:\s+của\s+(?P<issuer>.+?))?\s*$")


MAX_LEGAL_BASES = 10


_KEYS = {
    "": ("phase", "name", "source", "default_note", "is_configurable_default", "guidance", "legal_bases",
         "scoring", "calendar", "fields", "criteria"),
    "guidance": ("kind", "number", "date", "issuer", "subject"),
    "scoring": ("scale_min", "scale_max", "decimals", "aggregation", "pass_mark", "min_members", "disagreement"),
    "calendar": ("registration_start", "registration_end", "recognition_date"),
    "criteria": ("code", "group", "title", "weight", "allow_na"),
    "fields": ("number", "title", "short"),
}


_WHY_DECIMALS = ("số chữ số thập phân của điểm mỗi tiêu chí; thang điểm 0–10 không cần lẻ hơn 3 chữ số, "
                 "và số lẻ nhiều hơn chỉ làm phép tính điểm chậm đi")


_ABSENT = object()


def _shown(value: object) -> str:
    """A value as the clerk wrote it, short and without control characters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "một bảng"
    if isinstance(value, list):
        return "một danh sách"
    if isinstance(value, str):
        s = "".join(c if unicodedata.category(c) != "Cc" else "�" for c in value[:61])
        return f"“{s[:60]}…”" if len(value) > 60 else f"“{s}”"
    if isinstance(value, int) and abs(value) > 10 ** 12:
        return "một số quá lớn"
    return str(value)


class _Checker:
    """Collects every problem of one criteria file, each naming its key."""

    def __init__(self, *, unknown_keys: bool = True) -> None:
        self.problems: list[str] = []
        self.unknown_keys = unknown_keys  # report keys dvk does not use (a typo must not pass for a default)

    def add(self, key: str, reason: str, value: object = _ABSENT) -> None:
        got = "" if value is _ABSENT else f" (nhận được {_shown(value)})"
        self.problems.append(f"“{key}”: {reason}{got}")

    def table(self, data: Mapping, name: str) -> dict:
        v = data.get(name, {})
        if not isinstance(v, dict):
            self.add(name, f"phải là một bảng [{name}]", v)
            return {}
        self.unknown(v, name, name)
        return v

    def tables(self, data: Mapping, name: str) -> list[tuple[str, dict]]:
        v = data.get(name, [])
        if not isinstance(v, list):
            self.add(name, f"phải là danh sách các bảng [[{name}]]", v)
            return []
        out = []
        for i, row in enumerate(v, 1):
            key = f"{name}[{i}]"
            if not isinstance(row, dict):
                self.add(key, f"phải là một bảng [[{name}]]", row)
                continue
            self.unknown(row, _KEYS[name], key)
            out.append((key, row))
        return out

    def unknown(self, container: Mapping, known: str | tuple[str, ...], where: str) -> None:
        if not self.unknown_keys:
            return
        allowed = _KEYS[known] if isinstance(known, str) else known
        for k in container:
            if k not in allowed:
                place = f"{where}.{k}" if where else k
                self.add(place, "khóa lạ, dvk không dùng (các khóa được dùng ở đây: " + ", ".join(allowed) + ")")

    def text(self, container: Mapping, name: str, key: str, *, default: str | None = None,
             max_len: int = 500) -> str | None:
        v = container.get(name, _ABSENT)
        if v is _ABSENT:
            if default is None:
                self.add(key, "thiếu (bắt buộc)")
            return default
        if not isinstance(v, str):
            self.add(key, "phải là chữ, đặt trong ngoặc kép", v)
            return default
        from dvk.text.normalize import clean

        s = clean(v) or ""
        if any(unicodedata.category(c) == "Cc" for c in s):
            self.add(key, "có ký tự điều khiển (không in được)", v)
            return default
        if len(s) > max_len:
            self.add(key, f"quá dài ({len(s)} ký tự, tối đa {max_len})")
            return default
        if not s and default is None:
            self.add(key, "không được để trống", v)
        return s

    def integer(self, container: Mapping, name: str, key: str, lo: int, hi: int, default: int,
                why: str = "") -> int:
        v = container.get(name, _ABSENT)
        if v is _ABSENT:
            return default
        if isinstance(v, float) and v.is_integer() and lo <= v <= hi:
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            self.add(key, f"phải là số nguyên từ {lo} đến {hi}, không đặt trong ngoặc kép{why}", v)
            return default
        if not lo <= v <= hi:
            self.add(key, f"phải từ {lo} đến {hi}{why}", v)
            return default
        return v

    def number(self, container: Mapping, name: str, key: str, lo: int, hi: int, default: int | None, *,
               above_lo: bool = False, what: str = "") -> Fraction | None:
        """A TOML number or a plain decimal text ("7.5"; never an exponent), lo..hi, ≤ 3 decimal places."""
        v = container.get(name, _ABSENT)
        if v is _ABSENT:
            if default is None:
                self.add(key, "thiếu (bắt buộc)")
                return None
            return Fraction(default)
        bound = f"lớn hơn {lo} và không quá {hi}" if above_lo else f"trong khoảng {lo}–{hi}"
        bound = f"{what} phải {bound}" if what else f"phải {bound}"
        value: Fraction | None = None
        if isinstance(v, bool):
            pass
        elif isinstance(v, int):
            if lo <= v <= hi:
                value = Fraction(v)
            else:
                self.add(key, bound, v)
                return None
        elif isinstance(v, float):
            if math.isfinite(v) and lo <= v <= hi:
                value = Fraction(repr(v))
            else:
                self.add(key, bound, v)
                return None
        elif isinstance(v, str) and _NUMBER_TEXT.fullmatch(v.strip()):
            value = Fraction(v.strip().replace(",", "."))
        if value is None:
            self.add(key, "phải là một số (ví dụ 8 hoặc 7.5; không viết dạng lũy thừa như 1e3)", v)
            return None
        if not (lo < value <= hi if above_lo else lo <= value <= hi):
            self.add(key, bound, v)
            return None
        if (value * 10 ** MAX_PLACES).denominator != 1:
            self.add(key, f"có quá {MAX_PLACES} chữ số thập phân", v)
            return None
        return value

    def flag(self, container: Mapping, name: str, key: str, default: bool) -> bool:
        v = container.get(name, _ABSENT)
        if v is _ABSENT:
            return default
        if not isinstance(v, bool):
            self.add(key, "phải là true hoặc false (không đặt trong ngoặc kép)", v)
            return default
        return v

    def choice(self, container: Mapping, name: str, key: str, options: tuple[str, ...], default: str) -> str:
        v = container.get(name, _ABSENT)
        if v is _ABSENT:
            return default
        if not isinstance(v, str) or v not in options:
            self.add(key, "phải là " + " hoặc ".join(f"“{o}”" for o in options), v)
            return default
        return v

    def month_day(self, container: Mapping, name: str, key: str, default: tuple[int, int]) -> tuple[int, int]:
        v = container.get(name, _ABSENT)
        if v is _ABSENT:
            return default
        m = _MD_RE.fullmatch(v.strip()) if isinstance(v, str) else None
        if m is None:
            self.add(key, "phải có dạng \"MM-DD\" trong ngoặc kép (ví dụ \"02-01\")", v)
            return default
        month, day = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            self.add(key, f"tháng {month} không có (tháng từ 01 đến 12)", v)
            return default
        if not 1 <= day <= 31:
            self.add(key, f"ngày {day} không có (ngày từ 01 đến 31; ngày quá cuối tháng được hiểu là cuối tháng)", v)
            return default
        return month, day


def _toml_reason(exc: ValueError) -> str:
    """Where and why tomllib stopped, in Vietnamese."""
    msg = str(exc)
    if not isinstance(exc, tomllib.TOMLDecodeError):
        return "có số nguyên quá dài" if "digits" in msg else "giá trị không đọc được"
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    if m:
        return f"sai cú pháp ở dòng {m[1]}, cột {m[2]}"
    return "sai cú pháp ở cuối tệp" if "end of document" in msg else "sai cú pháp"


def load_text(text: str, source: str = "tệp tiêu chí", *, stored: bool = False) -> CriteriaSet:
    """Parse and check a criteria file's TOML text; every problem is listed at once (InvalidInput).

    Every key is checked for its type and range before anything uses it: no value of a file can
    make the arithmetic slow (decimals ≤ 3, weights and scale bounded with ≤ 3 decimal places, no
    exponent in a number written as text), and a typo in a key name is reported, not ignored.
    `stored` is for a text the ledger already holds (an earlier release stored it with fewer
    checks): a key dvk does not use is ignored there, so such a year stays readable.
    """
    if len(text) > MAX_FILE_BYTES:
        raise InvalidInput(f"{source} quá lớn ({thousands(len(text))} ký tự, tối đa {thousands(MAX_FILE_BYTES)}); "
                           "tệp tiêu chí chỉ cần vài nghìn ký tự.")
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InvalidInput(f"{source}: không đọc được TOML (danh sách hoặc bảng lồng nhau quá sâu).")
    except ValueError as exc:  # TOMLDecodeError is a ValueError; so is an integer of 5,000 digits
        raise InvalidInput(f"{source}: không đọc được TOML ({_toml_reason(exc)}).")
    ck = _Checker(unknown_keys=not stored)
    ck.unknown(data, "", "")
    phase = ck.text(data, "phase", "phase", max_len=100)
    name = ck.text(data, "name", "name", default=phase or "", max_len=500) or phase or ""
    source_line = ck.text(data, "source", "source", default="", max_len=1000) or ""
    note = ck.text(data, "default_note", "default_note", default="", max_len=2000) or ""
    ck.flag(data, "is_configurable_default", "is_configurable_default", False)
    if phase and not PHASE_RE.fullmatch(phase.strip()) and not stored:
        ck.add("phase", "phải ghi dạng NĂM-NĂM, ví dụ \"2026-2030\"", phase)
    elif phase and (span := PHASE_RE.fullmatch(phase.strip())) and int(span[1]) > int(span[2]):
        ck.add("phase", "năm đầu của giai đoạn sau năm cuối", phase)
    guidance = _guidance(ck, data, source_line, phase or "")
    bases: list[str] = []
    raw_bases = data.get("legal_bases", [])
    if not isinstance(raw_bases, list) or len(raw_bases) > MAX_LEGAL_BASES:
        ck.add("legal_bases", f"phải là danh sách tối đa {MAX_LEGAL_BASES} căn cứ, mỗi căn cứ một chuỗi trong ngoặc kép "
               "(ví dụ [\"Điều lệ Công đoàn Việt Nam\"])", raw_bases)
    else:
        for i, b in enumerate(raw_bases, 1):
            t = ck.text({"b": b}, "b", f"legal_bases[{i}]", max_len=500)
            if t:
                bases.append(t.strip().removeprefix("Căn cứ ").rstrip(" ;,."))

    scoring = ck.table(data, "scoring")
    scale_min = ck.number(scoring, "scale_min", "scoring.scale_min", 0, MAX_SCALE, 0)
    scale_max = ck.number(scoring, "scale_max", "scoring.scale_max", 0, MAX_SCALE, 10, above_lo=True)
    if scale_min is not None and scale_max is not None and scale_max <= scale_min:
        ck.add("scoring.scale_max", f"phải lớn hơn “scoring.scale_min” ({fmt_number(scale_min)})", scoring.get("scale_max"))
    decimals = ck.integer(scoring, "decimals", "scoring.decimals", 0, MAX_DECIMALS, 1, why=f" — {_WHY_DECIMALS}")
    aggregation = ck.choice(scoring, "aggregation", "scoring.aggregation", ("mean", "median"), "mean")
    pass_mark = ck.number(scoring, "pass_mark", "scoring.pass_mark", 0, 100, 80)
    min_members = ck.integer(scoring, "min_members", "scoring.min_members", 1, MAX_MEMBERS, 1,
                             why=" — số thành viên Hội đồng chấm tối thiểu cho mỗi mô hình")
    disagreement = ck.number(scoring, "disagreement", "scoring.disagreement", 0, 100, 15, above_lo=True,
                             what="độ chênh điểm giữa các thành viên (trên thang 100)")

    cal = ck.table(data, "calendar")
    start = ck.month_day(cal, "registration_start", "calendar.registration_start", (2, 1))
    end = ck.month_day(cal, "registration_end", "calendar.registration_end", (2, 31))
    recognition = ck.month_day(cal, "recognition_date", "calendar.recognition_date", (10, 15))
    if start > end:
        ck.add("calendar.registration_end", f"ngày cuối nhận đăng ký ({end[1]:02d}/{end[0]:02d}) trước ngày đầu "
               f"({start[1]:02d}/{start[0]:02d}); thời hạn đăng ký phải nằm trong một năm", cal.get("registration_end"))

    fields: list[Field] = []
    numbers: dict[int, str] = {}
    field_rows = ck.tables(data, "fields")
    if len(field_rows) > MAX_FIELDS:
        ck.add("fields", f"quá nhiều lĩnh vực ({len(field_rows)}, tối đa {MAX_FIELDS})")
        field_rows = []
    numbered = True
    for key, row in field_rows:
        number = ck.integer(row, "number", f"{key}.number", 1, MAX_FIELDS, 0) if "number" in row else None
        if number is None:
            ck.add(f"{key}.number", "thiếu số thứ tự của lĩnh vực (bắt buộc)")
        numbered = numbered and bool(number)
        title = ck.text(row, "title", f"{key}.title", max_len=500)
        short = ck.text(row, "short", f"{key}.short", default=title or "", max_len=200) or title or ""
        if number:
            if number in numbers:
                ck.add(f"{key}.number", f"số lĩnh vực bị trùng với {numbers[number]}", number)
            numbers[number] = key
            fields.append(Field(number, title or "", short))
    if numbered and numbers and sorted(numbers) != list(range(1, len(field_rows) + 1)):
        ck.add("fields", f"các lĩnh vực phải đánh số liền nhau 1, 2, … {len(field_rows)} (nhận được "
               + ", ".join(map(str, sorted(numbers))) + ")")
    fields.sort(key=lambda f: f.number)
    if not field_rows:
        fields = [Field(i, f"Lĩnh vực {i}", f"Lĩnh vực {i}") for i in range(1, 6)]

    criteria: list[Criterion] = []
    codes: dict[str, str] = {}
    crit_rows = ck.tables(data, "criteria")
    if isinstance(data.get("criteria", []), list) and not data.get("criteria"):
        ck.add("criteria", "không có tiêu chí nào (cần ít nhất một bảng [[criteria]])")
    if len(crit_rows) > MAX_CRITERIA:
        ck.add("criteria", f"quá nhiều tiêu chí ({len(crit_rows)}, tối đa {MAX_CRITERIA})")
        crit_rows = []
    for key, row in crit_rows:
        raw = row.get("code", _ABSENT)
        code = raw.strip().upper() if isinstance(raw, str) else ""
        if raw is _ABSENT:
            ck.add(f"{key}.code", "thiếu mã tiêu chí (bắt buộc)")
        elif not _CODE_RE.fullmatch(code):
            ck.add(f"{key}.code", "mã tiêu chí phải là chữ cái Latinh không dấu rồi chữ số, tối đa 16 ký tự "
                   "(ví dụ G1, S6)", raw)
            code = ""
        elif code in codes:
            ck.add(f"{key}.code", f"mã tiêu chí bị trùng với {codes[code]}", raw)
        if code:
            codes.setdefault(code, key)
        where = f"{key} ({code})" if code else key
        group = ck.choice(row, "group", f"{where}.group", ("general", "specific"), "specific")
        title = ck.text(row, "title", f"{where}.title", default=code, max_len=1000) or code
        weight = ck.number(row, "weight", f"{where}.weight", 0, MAX_WEIGHT, None, above_lo=True, what="trọng số")
        allow_na = ck.flag(row, "allow_na", f"{where}.allow_na", group == "specific")
        if code and weight is not None:
            criteria.append(Criterion(code, group, title, weight, allow_na))
    if ck.problems:
        raise InvalidInput(f"{source} không hợp lệ ({len(ck.problems)} lỗi); chưa dùng tệp này.",
                           details=ck.problems)
    return CriteriaSet(
        phase=phase or "",
        name=name,
        note=note,
        criteria=tuple(criteria),
        fields=tuple(fields),
        scale_min=scale_min if scale_min is not None else Fraction(0),
        scale_max=scale_max if scale_max is not None else Fraction(10),
        decimals=decimals,
        aggregation=aggregation,
        pass_mark=pass_mark if pass_mark is not None else Fraction(80),
        min_members=min_members,
        registration_start=start,
        registration_end=end,
        recognition_date=recognition,
        text=text,
        disagreement=disagreement if disagreement is not None else Fraction(15),
        guidance=guidance,
        legal_bases=tuple(bases),
        guidance_given="guidance" in data,
    )


def _guidance(ck: _Checker, data: Mapping, source: str, phase: str) -> Guidance:
    """The ``[guidance]`` table; a set without one (stored before it existed) has its guidance read
    from its ``source`` line ("Công văn số 69/CĐN ngày 14/5/2021 của …"), its subject the
    guidance on the criteria of its phase."""
    if "guidance" not in data:
        m = _SOURCE_RE.match(source or "")
        if m is None:
            return Guidance()
        subject = (f"hướng dẫn tiêu chí xây dựng và xét chọn mô hình, điển hình “Dân vận khéo” giai đoạn {phase}"
                   if phase else "")
        return Guidance(number=m["number"].rstrip(",;"), date=m["date"], issuer=(m["issuer"] or "").rstrip(" .;"),
                        subject=subject, kind=m["kind"] or "Văn bản")
    g = ck.table(data, "guidance")
    parts = {k: ck.text(g, k, f"guidance.{k}", default="", max_len=500) or "" for k in ("kind", *GUIDANCE_KEYS)}
    if parts["date"]:
        from dvk.text.dates import DateError, parse_date

        try:
            parse_date(parts["date"])
        except (DateError, ValueError):
            ck.add("guidance.date", "phải là một ngày dạng dd/mm/yyyy (ví dụ \"14/5/2021\")", g.get("date"))
    parts["subject"] = parts["subject"].removeprefix("về việc ").removeprefix("V/v ")
    return Guidance(kind=parts.pop("kind") or "Văn bản", **parts)


def default_text() -> str:
    """The 2021–2025 criteria shipped inside the package."""
    return resources.files("dvk.data").joinpath(DEFAULT_CRITERIA_FILE).read_text(encoding="utf-8")


def read_file(path: Path) -> str:
    """A criteria file's text: a regular file of at most MAX_FILE_BYTES, in UTF-8 (InvalidInput otherwise),
    read before any lock (`dvk.files.read_regular`)."""
    data = read_regular(path, max_bytes=MAX_FILE_BYTES, what="tệp tiêu chí",
                        hint="hãy chỉ định một tệp tiêu chí .toml (tệp tiêu chí chỉ cần vài nghìn ký tự)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Tệp tiêu chí “{path}” không phải văn bản UTF-8 (byte lạ ở vị trí {exc.start}); "
                           "hãy lưu tệp bằng mã UTF-8.")


def load_file(path: Path) -> CriteriaSet:
    """Read and check a criteria file (see `read_file` and `load_text`); nothing is stored."""
    return load_text(read_file(path), source=f"Tệp tiêu chí “{path}”")



