"""The February launch letter (công văn phát động, `dvk export --year Y --launch`, issue 13): the
fields, the criteria in short, how and by when to register, the form to use — all from the year's
criteria set and profile, so a new phase's letter needs no code.

The kind is registered at the end of `dvk.reports.kinds`; the builder returns ``(view model, params)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dvk.reports.build import guidance_of
from dvk.reports.context import _head, _office, _recipient_lines
from dvk.reports.models import Letterhead
from dvk.text.dates import fmt_date
from dvk.text.numbers import fmt_number


@dataclass(frozen=True)
class LaunchDoc:
    """The launch letter of a year (template ``cong-van-phat-dong.docx``)."""

    letterhead: Letterhead
    year: int
    issued_on: dt.date
    guidance: str
    fields: tuple[str, ...]
    general: tuple[str, ...]
    specific: tuple[str, ...]
    start: str
    end: str
    recognition_day: str
    pass_mark: str
    scale: str


def launch_doc(st: Any, on: dt.date) -> LaunchDoc:
    crit = st.crit
    start, end = crit.window(st.year)

    def short(c: Any) -> str:
        return f"{c.code}. {c.title} ({fmt_number(c.weight)} điểm)"

    return LaunchDoc(
        st.lh, st.year, on, guidance_of(crit),
        tuple(f"{f.number}. {f.title}" for f in crit.fields),
        tuple(short(c) for c in crit.criteria if c.group == "general"),
        tuple(short(c) for c in crit.criteria if c.group != "general"),
        fmt_date(start), fmt_date(end), fmt_date(crit.recognition_day(st.year)), fmt_number(crit.pass_mark),
        f"{fmt_number(crit.scale_min)}–{fmt_number(crit.scale_max)}")


def launch_context(doc: LaunchDoc) -> dict:
    lh = doc.letterhead
    ctx = _head(lh, number="", issued_on=doc.issued_on, date_line="", year=doc.year)
    issuer = ctx["issuer_name"]
    basis = f"Thực hiện {doc.guidance}, " if doc.guidance else ""
    ctx.update(
        subject=f"phát động xây dựng, đăng ký mô hình, điển hình “Dân vận khéo” năm {doc.year}",
        addressee=lh.members_name[:1].upper() + lh.members_name[1:] if lh.members_name else "Các đơn vị trực thuộc",
        intro=(f"{basis}{issuer} phát động và hướng dẫn các đơn vị xây dựng, đăng ký mô hình, điển hình "
               f"“Dân vận khéo” năm {doc.year} như sau:"),
        fields=list(doc.fields), general=list(doc.general) or ["(Không có.)"],
        specific=list(doc.specific) or ["(Không có.)"],
        scoring=(f"Mỗi thành viên Hội đồng chấm từng tiêu chí theo thang {doc.scale}; mô hình, điển hình đạt từ "
                 f"{doc.pass_mark} điểm (thang 100) và đủ điều kiện thì được xét công nhận."),
        start=doc.start, end=doc.end, recognition_day=doc.recognition_day, send_to=_office(lh),
        recipients=_recipient_lines("Như trên", lh.recipients or (), lh.symbol),
    )
    return ctx


def build_launch(src: Any) -> tuple[Any, dict]:
    return launch_doc(src.state, src.on), {}
