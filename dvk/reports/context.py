"""View model → template context: every text escaped for XML, control characters dropped and reported,
line breaks made spaces in one-line fields, then arranged in the names the templates use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from dvk.reports.models import (BLANK_NUMBER, DOTS, DecisionDoc, Group, Letterhead, ProposalDoc, RegistrationListDoc,
                                ReminderDoc, ResultsReportDoc, RevocationDoc, ScoreSheetDoc)
from dvk.reports.spool import Lazy
from dvk.text.dates import date_words, fmt_date
from dvk.wording import office_name, unprintable


_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


#: "Nơi nhận" lines of a decision or a report when neither it nor the profile names any.
_REPORTED_TO = ("Công đoàn cấp trên (để b/c)", "Cấp ủy cùng cấp (để b/c)")


# Characters XML 1.0 forbids (besides lone surrogates, handled separately).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_SURROGATE = re.compile("[\ud800-\udfff]")


# Line and paragraph breaks and tabs inside a field: printed as one space.
_BREAKS = re.compile(r"[ \u00a0]*(?:\r\n|[\r\n\t\u0085\u2028\u2029])+[ \u00a0]*")


_LABELS = {
    "title": "Tên mô hình",
    "subject_text": "Tập thể/Cá nhân",
    "unit": "Đơn vị",
    "field": "Lĩnh vực",
    "score": "Điểm",
    "note": "Ghi chú",
    "stt": "STT",
    "code": "Mã hồ sơ",
    "date": "Ngày",
    "year": "Năm",
    "heading": "Tên nhóm",
    "content": "Nội dung tiêu chí",
    "weight": "Trọng số",
    "total_weight": "Tổng trọng số",
    "missing": "Nội dung còn thiếu",
    "reasons": "Lý do",
    "name": "Tên đơn vị",
    "parent_org": "Cơ quan cấp trên",
    "org": "Cơ quan ban hành",
    "symbol": "Ký hiệu",
    "place": "Địa danh",
    "signer": "Người ký",
    "signer_title": "Chức vụ người ký",
    "on_behalf": "Thẩm quyền ký",
    "recipients": "Nơi nhận",
    "issuer_name": "Tên cơ quan",
    "members_name": "Tên các đơn vị trực thuộc",
    "office": "Văn phòng",
    "number": "Số văn bản",
    "date_line": "Địa danh, ngày tháng",
    "date_text": "Ngày ban hành",
    "legal_bases": "Căn cứ",
    "article2": "Điều 2",
    "article3": "Điều 3",
    "authority": "Thẩm quyền ban hành",
    "as_of": "Tính đến ngày",
    "preparer": "Người lập biểu",
    "members": "Thành viên Hội đồng",
    "council": "Hội đồng",
    "instructions": "Hướng dẫn chấm",
    "intro": "Mở đầu",
    "decision_ref": "Quyết định",
    "decision_sentence": "Câu mở đầu mục II",
    "assessment": "Đánh giá chung",
    "proposals": "Đề xuất, kiến nghị",
    "deadline": "Hạn chót",
    "subject": "Trích yếu",
    "addressees": "Kính gửi",
    "addressee": "Kính gửi",
    "addressee_short": "Nơi nhận tờ trình",
    "send_to": "Nơi nhận hồ sơ",
    "closing": "Đoạn kết",
    "award": "Hình thức khen thưởng",
    "phase": "Giai đoạn",
    "member": "Thành viên Hội đồng",
    "criterion": "Tiêu chí",
    "criterion_code": "Mã tiêu chí",
    "subject_kind": "Loại",
    "subject_name": "Họ và tên / Tên tập thể",
    "position": "Chức vụ",
    "committee": "Cấp ủy xác nhận",
    "comment": "Nhận xét",
    "status": "Trạng thái",
    "decision": "Quyết định",
    "approach": "Cách làm",
    "experience": "Kinh nghiệm",
    "spread": "Tính lan tỏa",
    "effectiveness": "Hiệu quả",
    "sustainability": "Sự bền vững",
    "author": "Tác giả",
}


def _clean_text(text: str, label: str, owner: str, warnings: list[str], *, keep_lines: bool = False) -> str:
    """NFC, breaks to one space (``keep_lines``: line breaks kept as "\\n", for the names of the
    letterhead, which a profile may break on purpose), XML-forbidden characters dropped (each
    reported once)."""
    if _SURROGATE.search(text):
        for ch in sorted(set(_SURROGATE.findall(text))):
            warnings.append(_warning(ord(ch), label, owner))
        text = _SURROGATE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    found = _FORBIDDEN.findall(text)
    if found:
        for ch in sorted(set(found)):
            warnings.append(_warning(ord(ch), label, owner))
        # U+000B (Word's manual line break) and U+000C (page break) separate words: keep a space.
        text = re.sub("[\x0b\x0c]+", " ", text)
        text = _FORBIDDEN.sub("", text)
    if any(c in text for c in "\r\n\t\u0085\u2028\u2029"):
        if keep_lines:
            lines = (_BREAKS.sub(" ", t).strip() for t in re.split(r"\r\n|[\r\n\u0085\u2028\u2029]", text))
            text = "\n".join(t for t in lines if t)
        else:
            text = _BREAKS.sub(" ", text)
    return text


#: The letterhead's names that may hold explicit line breaks (printed line by line in the header).
_LINED = ("parent_org", "org")


def _warning(cp: int, label: str, owner: str) -> str:
    where = f"“{label}”" + (f" của {owner}" if owner else "")
    return f"Đã bỏ ký tự điều khiển U+{cp:04X} trong {where}"


def sanitize(obj: Any, warnings: list[str], *, label: str = "", owner: str = "", keep_lines: bool = False) -> Any:
    """Return ``obj`` with every string cleaned (dataclasses rebuilt, tuples kept)."""
    if isinstance(obj, str):
        out = _clean_text(obj, label, owner, warnings, keep_lines=keep_lines)
        if not out.isascii() and unprintable(out):
            where = f"“{label}”" + (f" của {owner}" if owner else "")
            warnings.append(f"{where} có ký tự phông chữ văn bản (Times New Roman) không hiển thị được: "
                            + ", ".join(unprintable(out)) + "; văn bản in ra sẽ thiếu ký tự này (sổ vẫn giữ nguyên "
                            "như đã nhập)")
        return out
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        code = getattr(obj, "code", "")
        own = code if isinstance(code, str) and code else owner
        changes = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            new = sanitize(value, warnings, label=_LABELS.get(f.name, f.name), owner=own,
                           keep_lines=isinstance(obj, Letterhead) and f.name in _LINED)
            if new is not value:
                changes[f.name] = new
        return dataclasses.replace(obj, **changes) if changes else obj
    if isinstance(obj, Lazy):  # a year's rows on disk: cleaned as they are read, warned of now, in order
        changed = False
        for v in obj:
            changed = sanitize(v, warnings, label=label, owner=owner) is not v or changed
        return obj.map(lambda v: sanitize(v, [], label=label, owner=owner)) if changed else obj
    if isinstance(obj, (tuple, list)):
        new_items = [sanitize(v, warnings, label=label, owner=owner) for v in obj]
        if all(a is b for a, b in zip(new_items, obj)):
            return obj
        return type(obj)(new_items)
    return obj


def _guide(guidance: str, phase: str) -> str:
    """The guidance a document cites: the criteria set's own ("Công văn số … về việc …"); else a
    generic phrase naming the phase, if known."""
    if guidance:
        return guidance
    tail = f" giai đoạn {phase}" if phase else ""
    return f"hướng dẫn tiêu chí xây dựng và xét chọn mô hình, điển hình “Dân vận khéo”{tail}"


def _upper(s: str) -> str:
    return unicodedata.normalize("NFC", s.upper())


def _recipient_lines(first: str | None, items: Sequence[str], symbol: str) -> list[str]:
    """"- Như Điều 3;", "- …;", …, "- Lưu: VT, CĐN." (Decree 30 "Nơi nhận")."""
    clean = []
    for item in items:
        s = item.strip()
        s = re.sub(r"^[-–•+]\s*", "", s)
        s = s.rstrip(" ;.,")
        if s:
            clean.append(s)
    archive = [s for s in clean if s.lower().startswith("lưu")]
    others = [s for s in clean if not s.lower().startswith("lưu")]
    if first and not any(s.lower().startswith("như ") for s in others):
        others.insert(0, first)
    archive_line = archive[-1] if archive else f"Lưu: VT, {symbol}"
    return [f"- {s};" for s in others] + [f"- {archive_line}."]


def _count_detail(groups: Sequence[dict]) -> str:
    parts = [f"{len(g['rows'])} {g['label'].lower()}" for g in groups]
    if not parts:
        return "không có"
    if len(parts) == 1:
        return "gồm " + parts[0]
    return "gồm " + ", ".join(parts[:-1]) + " và " + parts[-1]


def _row_dict(obj: Any) -> dict:
    return {f.name: ("" if getattr(obj, f.name) is None else getattr(obj, f.name))
            for f in dataclasses.fields(obj) if not f.name.startswith("_")}


def _groups_context(groups: Sequence[Group]) -> list[dict]:
    """Non-empty groups numbered I, II, …; rows numbered 1, 2, … within a group unless given."""
    out = []
    for g in groups:
        if not g.rows:
            continue
        numeral = _ROMAN[len(out)] if len(out) < len(_ROMAN) else str(len(out) + 1)
        out.append({"heading": f"{numeral}. {g.heading}", "label": g.heading, "rows": _numbered(g.rows)})
    return out


def _numbered_rows(rows: Sequence[Any]) -> Iterator[dict]:
    for i, row in enumerate(rows, 1):
        d = _row_dict(row)
        if "stt" in d and not d["stt"]:
            d["stt"] = str(i)
        yield d


def _numbered(rows: Sequence[Any]) -> Sequence[dict]:
    """Rows as the template sees them, numbered 1, 2, … unless given: made as the template reads them
    when the rows are a year's (`Lazy`, on disk), else a list."""
    if isinstance(rows, Lazy):
        return Lazy(lambda: _numbered_rows(rows), len(rows))
    return list(_numbered_rows(rows))


#: Width of the header's left column for text (mm): 41 % of the 165 mm line, less the cell margins.
HEADER_LEFT_MM = 63.9


#: Where a long body name is broken when the profile gives no break: before its place.
_PLACE_WORDS = re.compile(r"\s(?=(?:TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG)\s)")


def text_width_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    """The printed width of an uppercase line in Times New Roman (an estimate from average glyph
    widths, good to a few per cent for Vietnamese capitals)."""
    em = 0.0
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            continue
        if ch == " ":
            em += 0.25
        elif ch in "IJ":
            em += 0.39 if bold else 0.33
        elif ch in "MW":
            em += 0.94 if bold else 0.89
        elif ch.isdigit() or ch in "-.,":
            em += 0.5
        else:
            em += 0.74 if bold else 0.69
    return em * size_pt * 25.4 / 72


def header_lines(name: str, *, bold: bool, width_mm: float = HEADER_LEFT_MM, size_pt: float = 13) -> list[str]:
    """A body's name as the header prints it, line by line, in capitals: the profile's own line
    breaks; else, when the name does not fit the column, one break before its place
    ("CÔNG ĐOÀN NGÀNH Y TẾ" / "TỈNH ĐỒNG NAI") rather than wherever the line happens to end."""
    lines = [_upper(t.strip()) for t in name.split("\n") if t.strip()]
    if len(lines) != 1 or text_width_mm(lines[0], size_pt, bold=bold) <= width_mm:
        return lines
    cuts = [m.start() for m in _PLACE_WORDS.finditer(lines[0])]
    for cut in reversed(cuts):
        head, tail = lines[0][:cut], lines[0][cut + 1:]
        if text_width_mm(head, size_pt, bold=bold) <= width_mm:
            return [head, tail]
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _head(lh: Letterhead, *, number: str, issued_on: dt.date, date_line: str, year: Any) -> dict:
    issuer = _one_line(lh.issuer_name or lh.org)
    return {
        "parent_org": _upper(_one_line(lh.parent_org)),
        "org": _upper(_one_line(lh.org)),
        "parent_org_lines": header_lines(lh.parent_org, bold=False),
        "org_lines": header_lines(lh.org, bold=True),
        "org_name": _one_line(lh.org),
        "symbol": lh.symbol,
        "place": lh.place,
        "issuer_name": issuer,
        "signer": lh.signer,
        "signer_title": _upper(lh.signer_title),
        "on_behalf": _upper(lh.on_behalf),
        "number": number or BLANK_NUMBER,
        "date_line": date_line or f"{lh.place}, {date_words(issued_on)}",
        "year": year,
    }


def _members(lh: Letterhead) -> str:
    """The member units in a sentence, from the issuing level: "các Công đoàn cơ sở", "các tổ công đoàn"."""
    return lh.members_name.removesuffix(" trực thuộc")


def _office(lh: Letterhead) -> str:
    return lh.office or office_name(_one_line(lh.org))


def decision_context(doc: DecisionDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number=doc.number, issued_on=doc.issued_on, date_line=doc.date_line, year=doc.year)
    issuer = ctx["issuer_name"]
    groups = _groups_context(doc.groups)
    bases = list(doc.legal_bases) or [
        "Căn cứ Điều lệ Công đoàn Việt Nam;",
        f"Căn cứ {_guide(doc.guidance, doc.phase)};",
        f"Xét đề nghị của Hội đồng Thi đua - Khen thưởng và {_office(lh)}.",
    ]
    ctx.update(
        authority=_upper(doc.authority or issuer),
        legal_bases=bases,
        count=sum(len(g["rows"]) for g in groups),
        count_detail=_count_detail(groups),
        groups=groups,
        date_text=doc.date_text or fmt_date(doc.issued_on),
        field_legend=doc.field_legend,
        article2=doc.article2 or (
            f"{_named(groups)} có tên tại Điều 1 "
            + (f"được tặng {doc.award} của {_one_line(lh.org)}; " if doc.award else "")
            + "tiếp tục duy trì, nhân rộng mô hình, phát huy tính lan tỏa "
            "trong đoàn viên, người lao động. Quyết định này có hiệu lực kể từ ngày ký"
            + (f" và thay thế {doc.replaces}." if doc.replaces else ".")),
        article3=doc.article3 or (
            f"{_office(lh)}, {lh.members_name} và {_named(groups).lower()} có tên tại Điều 1 "
            "chịu trách nhiệm thi hành Quyết định này./."),
        recipients=_recipient_lines(
            "Như Điều 3", doc.recipients or lh.recipients or _REPORTED_TO,
            lh.symbol),
    )
    return ctx


def _named(groups: Sequence[dict]) -> str:
    """Who the list names: "Các tập thể", "Các cá nhân" or "Các tập thể, cá nhân"."""
    labels = {g["label"].lower() for g in groups}
    if labels == {"cá nhân"}:
        return "Các cá nhân"
    if labels == {"tập thể"}:
        return "Các tập thể"
    return "Các tập thể, cá nhân"


def _total_line(groups: Sequence[dict]) -> str:
    """"Tổng cộng: 12 tập thể, cá nhân (gồm 7 tập thể và 5 cá nhân)."""
    n = sum(len(g["rows"]) for g in groups)
    return f"Tổng cộng: {n} tập thể, cá nhân ({_count_detail(groups)})."


def revocation_context(doc: RevocationDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number=doc.number, issued_on=doc.issued_on, date_line="", year=doc.year)
    issuer = ctx["issuer_name"]
    ctx.update(
        authority=_upper(issuer),
        revoked=doc.revoked,
        reason=doc.reason.rstrip(" ."),
        recognized=doc.recognized,
        legal_bases=list(doc.legal_bases),
        article1=(f"Thu hồi {doc.revoked} của {issuer} về việc công nhận mô hình, điển hình “Dân vận khéo” "
                  f"năm {doc.year}. Lý do: {doc.reason.rstrip(' .')}."),
        article2=(f"{doc.revoked} hết hiệu lực kể từ ngày Quyết định này có hiệu lực; "
                  f"{doc.recognized} mô hình, điển hình có tên trong danh sách kèm theo {doc.revoked} "
                  "không còn được công nhận theo Quyết định đó. Quyết định này có hiệu lực kể từ ngày ký."),
        article3=(f"{_office(lh)}, {lh.members_name} và các tập thể, cá nhân có tên trong danh sách kèm theo "
                  f"{doc.revoked} chịu trách nhiệm thi hành Quyết định này./."),
        recipients=_recipient_lines("Như Điều 3", doc.recipients or lh.recipients or _REPORTED_TO, lh.symbol),
    )
    return ctx


def registration_context(doc: RegistrationListDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number=doc.number, issued_on=doc.issued_on, date_line=doc.date_line, year=doc.year)
    ctx["number"] = doc.number  # optional here: "Số: …/DS-…" printed only when given
    groups = _groups_context(doc.groups)
    ctx.update(
        groups=groups,
        count=sum(len(g["rows"]) for g in groups),
        count_detail=_count_detail(groups),
        as_of=doc.as_of or fmt_date(doc.issued_on),
        preparer=doc.preparer,
        late_count=doc.late_count,
        sudden_count=doc.sudden_count,
        guidance=doc.guidance,
        field_legend=doc.field_legend,
    )
    return ctx


def score_context(doc: ScoreSheetDoc) -> dict:
    lh = doc.letterhead
    ctx = {
        "org": _upper(_one_line(lh.org)),
        "parent_org": _upper(_one_line(lh.parent_org)),
        "council": _upper(doc.council) if doc.council else "",
        "year": doc.year,
        "dots": DOTS,
        "scale_head": f"Điểm ({doc.scale})",
        "date_line": doc.date_line or f"{lh.place}, ngày …… tháng …… năm {doc.year}",
        "instructions": doc.instructions or (
            "Ghi chú: mỗi tiêu chí chấm từ 0 đến 10 điểm (có thể lẻ đến 0,5); tiêu chí không áp dụng "
            "ghi “KAD”. Điểm của mô hình = tổng (điểm × trọng số) / 10, thang điểm 100."),
    }

    def sheets() -> Iterator[dict]:
        for member in (doc.members or ("",)):
            for entry in doc.entries:
                if (entry.code, member) in doc.skip:  # a conflict of interest or an abstention
                    continue
                d = _row_dict(entry)
                d["criteria"] = [_row_dict(c) for c in entry.criteria]
                d["member"] = member or DOTS
                yield d

    # One page per entry and member: made as the template reads them (a year's entries are on disk).
    ctx["sheets"] = Lazy(sheets) if isinstance(doc.entries, Lazy) else list(sheets())
    return ctx


def report_context(doc: ResultsReportDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number=doc.number, issued_on=doc.issued_on, date_line=doc.date_line, year=doc.year)
    issuer = ctx["issuer_name"]
    units = _numbered(doc.units)
    keys = ("registered", "reported", "confirmed", "scored", "recognized", "not_recognized")
    totals = {k: sum(getattr(u, k) for u in doc.units) for k in keys}
    fields_ = _numbered(doc.fields)
    field_totals = {k: sum(getattr(f, k) for f in doc.fields) for k in ("registered", "recognized")}
    groups = _groups_context(doc.recognized_groups)
    detail = _count_detail(groups)
    if doc.decision_sentence:
        sentence = doc.decision_sentence
    elif doc.decision_ref:
        sentence = (f"Căn cứ kết quả chấm điểm của Hội đồng Thi đua - Khen thưởng, {issuer} đã ban hành "
                    f"{doc.decision_ref} công nhận {doc.recognized} mô hình, điển hình “Dân vận khéo” "
                    f"năm {doc.year} ({detail}).")
    else:
        sentence = (f"Căn cứ kết quả chấm điểm của Hội đồng Thi đua - Khen thưởng, có {doc.recognized} "
                    f"mô hình, điển hình đủ điều kiện công nhận “Dân vận khéo” năm {doc.year} ({detail}).")
    ctx.update(
        intro=doc.intro or (
            f"Thực hiện {_guide(doc.guidance, doc.phase)}, {issuer} báo cáo kết quả xây dựng, xét chọn mô hình, điển hình "
            f"“Dân vận khéo” năm {doc.year} như sau:"),
        registered=doc.registered, late=doc.late, sudden=doc.sudden, reported=doc.reported,
        confirmed=doc.confirmed, scored=doc.scored, recognized=doc.recognized,
        not_recognized=doc.not_recognized,
        units=units, totals=totals, fields=fields_, field_totals=field_totals,
        recognized_groups=groups, groups=groups, count_detail=detail,
        not_recognized_rows=_numbered(doc.not_recognized_rows),
        decision_sentence=sentence,
        assessment=list(doc.assessment) or [
            f"Năm {doc.year} có {doc.registered} mô hình, điển hình tham gia; {doc.recognized} được công nhận, "
            f"{doc.not_recognized} không được công nhận."],
        proposals=list(doc.proposals) or [
            f"Đề nghị {_members(lh)} tiếp tục hưởng ứng phong trào thi đua “Dân vận khéo”."],
        recipients=_recipient_lines(
            None, doc.recipients or lh.recipients or _REPORTED_TO,
            lh.symbol),
    )
    return ctx


def reminder_context(doc: ReminderDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number=doc.number, issued_on=doc.issued_on, date_line=doc.date_line, year=doc.year)
    issuer = ctx["issuer_name"]
    units = []
    for i, u in enumerate(doc.units, 1):
        units.append({"stt": u.stt or str(i), "name": u.name, "entries": [_row_dict(e) for e in u.entries]})
    if doc.addressees:
        names = list(doc.addressees)
    elif 0 < len(doc.units) + len(doc.unregistered) <= 5:
        names = [u.name for u in doc.units] + list(doc.unregistered)
    else:
        names = ["Các đơn vị có tên tại Công văn này"]
    names = [re.sub(r"^[-–•]\s*", "", n).rstrip(" ;.") for n in names if n.strip()]
    if len(names) == 1:
        addressees = [names[0] + "."]
    else:
        addressees = [f"- {n};" for n in names[:-1]] + [f"- {names[-1]}."]
    ctx.update(
        subject=doc.subject or f"đôn đốc hoàn thiện hồ sơ mô hình, điển hình “Dân vận khéo” năm {doc.year}",
        addressees=addressees,
        intro=doc.intro or (
            (f"Thực hiện {doc.guidance}, để" if doc.guidance else "Để")
            + f" kịp thời tổng hợp, xét chọn và công nhận mô hình, điển hình “Dân vận khéo” năm {doc.year}, "
            f"{issuer} đề nghị các đơn vị có tên dưới đây bổ sung hồ sơ còn thiếu như sau:"),
        units=units,
        unregistered=list(doc.unregistered),
        deadline=doc.deadline or DOTS,
        send_to=doc.send_to or _office(lh),
        closing=doc.closing or f"{issuer} đề nghị các đơn vị quan tâm, thực hiện./.",
        recipients=_recipient_lines("Như trên", doc.recipients or lh.recipients or (), lh.symbol),
    )
    return ctx


def proposal_context(doc: ProposalDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number=doc.number, issued_on=doc.issued_on, date_line=doc.date_line, year=doc.phase)
    issuer = ctx["issuer_name"]
    groups = _groups_context(doc.groups)
    years = [_row_dict(y) for y in doc.years]
    ctx.update(
        phase=doc.phase,
        addressee=doc.addressee,
        addressee_short=doc.addressee_short or doc.addressee,
        award=doc.award,
        intro=list(doc.intro) or [
            f"Thực hiện {_guide(doc.guidance, doc.phase)}, hằng năm {issuer} đã phát động, theo dõi và xét chọn, công nhận các mô hình, "
            "điển hình “Dân vận khéo” trong " + _members(lh) + ". Các mô hình, điển hình được công nhận có cách "
            "làm sáng tạo, hiệu quả, có sức lan tỏa trong đoàn viên, người lao động."],
        years=years,
        total_line=_total_line(groups),
        year_totals={k: sum(getattr(y, k) for y in doc.years) for k in ("registered", "recognized", "proposed")},
        groups=groups,
        count=sum(len(g["rows"]) for g in groups),
        count_detail=_count_detail(groups),
        date_text=doc.date_text or fmt_date(doc.issued_on),
        recipients=_recipient_lines("Như trên", doc.recipients or lh.recipients or (), lh.symbol),
    )
    return ctx


def doc_date(view_model: Any) -> dt.date:
    """The date a document's file carries (its metadata and zip timestamps): the day it is issued."""
    d = getattr(view_model, "issued_on", None)
    if isinstance(d, dt.date):
        return d
    return dt.date(int(view_model.year), 1, 1)
