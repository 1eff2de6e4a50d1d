"""Generate the Word templates in ``templates/`` (docxtpl/Jinja placeholders).

Run from the repository root::

    .venv/bin/python tools/make_templates.py            # writes templates/*.docx
    .venv/bin/python tools/make_templates.py --out DIR  # somewhere else

The output is reproducible: the same script writes byte-identical files (fixed
core properties, fixed zip timestamps and member order).  The generated files
are committed; a clerk may open them in Word and change the wording, as long as
the placeholders (``{{ … }}``, ``{%p … %}``, ``{%tr … %}``) stay intact —
``dvk.reports.render_docx`` checks them before rendering.

Layout follows Decree 30/2020/NĐ-CP, Appendix I: A4, margins 20/20/30/15 mm
(top/bottom/left/right), Times New Roman, body 14 pt justified with a 1.27 cm
first-line indent, a borderless two-column header table (issuing body on the
left with a short rule, national name and motto with a full-length rule on the
right), page numbers centred in the top margin from page 2 on.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dvk.reports.ooxml import normalize_ooxml_zip

FONT = "Times New Roman"
TEMPLATE_DATE = dt.datetime(2021, 5, 14)  # the seed letter's date: fixed metadata

# Page geometry (mm), Decree 30/2020/NĐ-CP.
PAGE_W, PAGE_H = 210, 297
M_TOP, M_BOTTOM, M_LEFT, M_RIGHT = 20, 20, 30, 15
PORTRAIT_TEXT_W = PAGE_W - M_LEFT - M_RIGHT  # 165
LANDSCAPE_TEXT_W = PAGE_H - M_LEFT - M_RIGHT  # 252
CELL_MARGIN = 1.9  # Word's default left/right cell margin (0.19 cm)

# Widths measured with Liberation Serif (metric-compatible with Times New Roman).
MOTTO_TEXT_MM = 56.1  # "Độc lập - Tự do - Hạnh phúc", bold 13 pt (LibreOffice: 159 pt)
SHORT_RULE_MM = 24.0  # 1/3–1/2 of the issuing body's name line
SUBJECT_RULE_MM = 55.0  # under the subject line (trích yếu): 1/3–1/2 of that line

EMPTY_LIST_ROW = "(Không có mô hình, điển hình nào)"

APP_XML = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b"<Template>Normal.dotm</Template><TotalTime>0</TotalTime><Application>dvk</Application>"
    b"<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate>"
    b"<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>16.0000</AppVersion>"
    b"</Properties>"
)


# --------------------------------------------------------------------------- XML helpers


def _el(tag: str, **attrs: str):
    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(k), v)
    return el


def _set_fonts(rpr) -> None:
    """Times New Roman for every script, no theme fonts (LibreOffice honours these)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = _el("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)


def _para_border_bottom(p, *, size_eighths: int = 6) -> None:
    ppr = p._p.get_or_add_pPr()
    bdr = _el("w:pBdr")
    bdr.append(_el("w:bottom", **{"w:val": "single", "w:sz": str(size_eighths), "w:space": "1", "w:color": "000000"}))
    # pBdr must precede spacing/ind/jc in CT_PPr; insert right after pStyle/keepNext…
    anchor = None
    for tag in ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc"):
        anchor = ppr.find(qn(tag))
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addprevious(bdr)
    else:
        ppr.append(bdr)


def _mark_size(p, half_points: int) -> None:
    """Size of the paragraph mark (decides the height of an empty paragraph)."""
    ppr = p._p.get_or_add_pPr()
    rpr = ppr.find(qn("w:rPr"))
    if rpr is None:
        rpr = _el("w:rPr")
        # CT_PPr ends with rPr, sectPr, pPrChange: the mark's rPr goes before a section's sectPr.
        sect = ppr.find(qn("w:sectPr"))
        if sect is not None:
            sect.addprevious(rpr)
        else:
            ppr.append(rpr)
    rpr.append(_el("w:sz", **{"w:val": str(half_points)}))
    rpr.append(_el("w:szCs", **{"w:val": str(half_points)}))


# --------------------------------------------------------------------------- document set-up


def _scrub_package(doc) -> None:
    """Drop parts of python-docx's default template a Vietnamese document does not need."""
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg.rels[rid]
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype in (RT.CUSTOM_XML, RT.WEB_SETTINGS) or rel.reltype.endswith("/stylesWithEffects"):
            del doc.part.rels[rid]


def _setup_styles(doc) -> None:
    styles = doc.styles
    root = styles.element
    # Every rFonts in styles.xml: Times New Roman, no theme fonts.
    for rfonts in root.iter(qn("w:rFonts")):
        _set_fonts(rfonts.getparent())
    # docDefaults: font, 14 pt, Vietnamese language.
    rpr_default = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default)
    for tag in ("w:sz", "w:szCs"):
        rpr_default.find(qn(tag)).set(qn("w:val"), "28")
    lang = rpr_default.find(qn("w:lang"))
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")
    ppr_default = root.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")

    def pstyle(name, *, size=14, bold=False, italic=False, align=None, first_line=None,
               before=0, after=0, line=1.0, base="Normal"):
        try:
            st = styles[name]
        except KeyError:
            st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if base and name != base:
            st.base_style = styles[base]
        st.quick_style = True
        f = st.font
        f.name = FONT
        f.size = Pt(size)
        f.bold = bold
        f.italic = italic
        _set_fonts(st.element.get_or_add_rPr())
        pf = st.paragraph_format
        if align is not None:
            pf.alignment = align
        pf.first_line_indent = first_line
        pf.left_indent = Mm(0)
        pf.right_indent = Mm(0)
        pf.space_before = Pt(before)
        pf.space_after = Pt(after)
        pf.line_spacing = line
        pf.widow_control = True
        return st

    # Body text: 14 pt, justified, first line indented 1.27 cm, 6 pt between paragraphs.
    pstyle("Normal", align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line=Mm(12.7), before=0, after=6, line=1.1, base=None)
    pstyle("DVK Header", size=13, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=Mm(0), line=1.0)
    pstyle("DVK Title", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=Mm(0), line=1.0)
    pstyle("DVK Heading", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line=Mm(12.7),
           before=6, after=6, line=1.1)
    styles["DVK Heading"].paragraph_format.keep_with_next = True  # no heading alone at a page foot
    pstyle("DVK Table", size=12, align=WD_ALIGN_PARAGRAPH.LEFT, first_line=Mm(0), before=2, after=2, line=1.0)
    pstyle("DVK Table Head", size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=Mm(0),
           before=2, after=2, line=1.0)
    pstyle("DVK Signature", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=Mm(0), line=1.0)
    pstyle("DVK Recipients", size=11, align=WD_ALIGN_PARAGRAPH.LEFT, first_line=Mm(0), line=1.0)
    pstyle("DVK Rule", size=2, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=Mm(0), line=1.0)
    pstyle("Header", size=13, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=Mm(0), line=1.0)
    rule = styles["DVK Rule"].paragraph_format
    rule.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    rule.line_spacing = Pt(4)


def _setup_section(section, *, landscape: bool) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(PAGE_H), Mm(PAGE_W)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
    section.top_margin = Mm(M_TOP)
    section.bottom_margin = Mm(M_BOTTOM)
    section.left_margin = Mm(M_LEFT)
    section.right_margin = Mm(M_RIGHT)
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)
    section.gutter = Mm(0)


def _page_number_header(section) -> None:
    """Decree 30: page number centred in the top margin, not on the first page."""
    section.different_first_page_header_footer = True
    first = section.first_page_header
    first.is_linked_to_previous = False
    first.paragraphs[0].style = "Header"
    header = section.header
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    p.style = "Header"
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    run._r.append(_el("w:fldChar", **{"w:fldCharType": "begin"}))
    run = p.add_run()
    instr = _el("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    run = p.add_run()
    run._r.append(_el("w:fldChar", **{"w:fldCharType": "separate"}))
    p.add_run("2")
    run = p.add_run()
    run._r.append(_el("w:fldChar", **{"w:fldCharType": "end"}))


def new_document(*, title: str, landscape: bool = False, subject: str | None = None):
    doc = Document()
    _scrub_package(doc)
    _setup_styles(doc)
    _setup_section(doc.sections[0], landscape=landscape)
    _page_number_header(doc.sections[0])
    # Compatibility: keep Word from "optimising" character spacing; Vietnamese proofing.
    settings = doc.settings.element
    for tag_name in ("w:attachedTemplate", "w:savePreviewPicture", "w:rsids"):
        for el in settings.findall(qn(tag_name)):
            settings.remove(el)
    for cs in settings.iter(qn("w:compatSetting")):
        if cs.get(qn("w:name")) == "compatibilityMode":
            cs.set(qn("w:val"), "15")  # Word 2013+ layout: no "Compatibility Mode" banner
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = APP_XML
    cp = doc.core_properties
    cp.title = title
    cp.subject = subject or title
    cp.author = "dvk"
    cp.last_modified_by = "dvk"
    cp.keywords = "dvk; Nghị định 30/2020/NĐ-CP"
    # No Jinja braces here: docxtpl renders core properties as templates too.
    cp.comments = ("Mẫu docxtpl: giữ nguyên các chỗ điền trong ngoặc nhọn; "
                   "có thể sửa câu chữ, cỡ chữ, lề.")
    cp.category = "template"
    cp.revision = 1
    cp.created = TEMPLATE_DATE
    cp.modified = TEMPLATE_DATE
    cp.language = "vi-VN"
    return doc


# --------------------------------------------------------------------------- paragraph helpers


def para(container, runs=(), *, style="Normal", align=None, before=None, after=None,
         left=None, right=None, first_line=None, keep_next=False, size=None):
    """Add a paragraph; ``runs`` is a list of ``(text, {bold, italic, size})`` or plain strings."""
    p = container.add_paragraph(style=style)
    pf = p.paragraph_format
    if align is not None:
        p.alignment = align
    if before is not None:
        pf.space_before = Pt(before)
    if after is not None:
        pf.space_after = Pt(after)
    if left is not None:
        pf.left_indent = Mm(left)
    if right is not None:
        pf.right_indent = Mm(right)
    if first_line is not None:
        pf.first_line_indent = Mm(first_line)
    if keep_next:
        pf.keep_with_next = True
    for item in runs:
        text, fmt = (item, {}) if isinstance(item, str) else item
        r = p.add_run(text)
        if fmt.get("bold") is not None:
            r.font.bold = fmt["bold"]
        if fmt.get("italic") is not None:
            r.font.italic = fmt["italic"]
        sz = fmt.get("size", size)
        if sz is not None:
            r.font.size = Pt(sz)
    return p


def tag(container, text: str):
    """A paragraph holding only a docxtpl ``{%p … %}`` tag (removed when rendering)."""
    return container.add_paragraph(text, style="Normal")


def rule(container, length_mm: float, content_w_mm: float, *, before: float = 0):
    """A short horizontal rule: an empty 2 pt paragraph with a bottom border, centred by indents."""
    p = container.add_paragraph(style="DVK Rule")
    side = max((content_w_mm - length_mm) / 2, 0)
    p.paragraph_format.left_indent = Mm(side)
    p.paragraph_format.right_indent = Mm(side)
    if before:
        p.paragraph_format.space_before = Pt(before)
    _mark_size(p, 4)
    _para_border_bottom(p)
    return p


def page_break(doc):
    p = doc.add_paragraph(style="DVK Rule")
    p.add_run().add_break(WD_BREAK.PAGE)
    return p


# --------------------------------------------------------------------------- table helpers


def _tbl_set(tbl, *, widths_mm, borders: bool, align_center: bool = False) -> None:
    t = tbl._tbl
    tblPr = t.tblPr
    for name in ("w:tblW", "w:jc", "w:tblBorders", "w:tblLayout"):
        for old in tblPr.findall(qn(name)):
            tblPr.remove(old)
    total = sum(widths_mm)
    tblW = _el("w:tblW", **{"w:w": str(round(total * 56.6929)), "w:type": "dxa"})
    # Order in CT_TblPr: tblStyle, …, tblW, jc, …, tblBorders, …, tblLayout, tblCellMar, tblLook
    style_el = tblPr.find(qn("w:tblStyle"))
    if style_el is not None:
        style_el.addnext(tblW)
    else:
        tblPr.insert(0, tblW)
    if align_center:
        jc = _el("w:jc", **{"w:val": "center"})
        tblW.addnext(jc)
        after = jc
    else:
        after = tblW
    bdrs = _el("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if borders:
            bdrs.append(_el(f"w:{side}", **{"w:val": "single", "w:sz": "4", "w:space": "0", "w:color": "000000"}))
        else:
            bdrs.append(_el(f"w:{side}", **{"w:val": "nil"}))
    after.addnext(bdrs)
    layout = _el("w:tblLayout", **{"w:type": "fixed"})
    bdrs.addnext(layout)
    grid = t.tblGrid
    for gc, w in zip(grid.findall(qn("w:gridCol")), widths_mm):
        gc.set(qn("w:w"), str(round(w * 56.6929)))
    for row in tbl.rows:
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)


def table(container, widths_mm, *, borders=True, align_center=False, rows=0):
    tbl = container.add_table(rows=rows, cols=len(widths_mm))
    tbl.autofit = False
    if borders:
        tbl.style = "Table Grid"
    _tbl_set(tbl, widths_mm=widths_mm, borders=borders, align_center=align_center)
    tbl._widths = widths_mm  # remembered for add_row
    return tbl


def _tr_flags(row, *, header=False, cant_split=True) -> None:
    trPr = row._tr.get_or_add_trPr()
    if cant_split:
        trPr.append(_el("w:cantSplit"))
    if header:
        trPr.append(_el("w:tblHeader"))


def add_row(tbl, texts, *, style="DVK Table", header=False, bold=None, aligns=None,
            cant_split=True, merge=False, italic=None):
    row = tbl.add_row()
    for cell, w in zip(row.cells, tbl._widths):
        cell.width = Mm(w)
    _tr_flags(row, header=header, cant_split=cant_split)
    cells = row.cells
    if merge:
        cells[0].merge(cells[-1])
        cells = [row.cells[0]]
    for i, (cell, text) in enumerate(zip(cells, texts)):
        p = cell.paragraphs[0]
        p.style = style
        if aligns and aligns[i] is not None:
            p.alignment = aligns[i]
        run = p.add_run(text)
        if bold is not None:
            run.font.bold = bold
        if italic is not None:
            run.font.italic = italic
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    return row


def merge_cells(a, b):
    """Merge two cells of a row, keeping only the first cell's paragraphs."""
    merged = a.merge(b)
    for p in merged.paragraphs[1:]:
        if not p.text:
            p._p.getparent().remove(p._p)
    return merged


def tag_row(tbl, text):
    """A table row holding only a docxtpl ``{%tr … %}`` tag (removed when rendering)."""
    return add_row(tbl, [text], merge=True)


C = WD_ALIGN_PARAGRAPH.CENTER
L = WD_ALIGN_PARAGRAPH.LEFT
R = WD_ALIGN_PARAGRAPH.RIGHT
J = WD_ALIGN_PARAGRAPH.JUSTIFY


# --------------------------------------------------------------------------- common blocks


def letterhead(doc, *, number_line: str | None, subject_line: bool = False,
               text_w: float = PORTRAIT_TEXT_W, date: bool = True, one_line: bool = False):
    """The Decree-30 header: a borderless two-column table.

    Left: parent body (regular), issuing body (bold) with a short rule, "Số: …" and, for a
    công văn, the "V/v …" summary.  Right: national name, motto with a full-length rule,
    then the italic place-and-date line on the same row as the number.
    """
    left_w = round(text_w * 0.41, 1)
    right_w = round(text_w - left_w, 1)
    tbl = table(doc, [left_w, right_w], borders=False)
    row = tbl.add_row()
    for cell, w in zip(row.cells, (left_w, right_w)):
        cell.width = Mm(w)
    lc, rc = row.cells
    lc_w, rc_w = left_w - 2 * CELL_MARGIN, right_w - 2 * CELL_MARGIN

    # The names line by line: a profile's name may hold explicit line breaks, and a long name is
    # broken before its place ("CÔNG ĐOÀN NGÀNH Y TẾ / TỈNH ĐỒNG NAI"), never at random.
    lc.paragraphs[0].style = "DVK Header"
    if one_line:  # inside a loop (one certificate a page): each name on one line, no inner loop
        lc.paragraphs[0].add_run("{{ parent_org }}").font.size = Pt(13)
        para(lc, [("{{ org }}", {"bold": True, "size": 13})], style="DVK Header")
    else:
        lc.paragraphs[0].add_run("{%p for t in parent_org_lines %}")
        para(lc, [("{{ t }}", {"size": 13})], style="DVK Header")
        tag(lc, "{%p endfor %}").style = "DVK Header"
        tag(lc, "{%p for t in org_lines %}").style = "DVK Header"
        para(lc, [("{{ t }}", {"bold": True, "size": 13})], style="DVK Header")
        tag(lc, "{%p endfor %}").style = "DVK Header"
    rule(lc, SHORT_RULE_MM, lc_w)

    p = rc.paragraphs[0]
    p.style = "DVK Header"
    r = p.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    r.font.bold = True
    r.font.size = Pt(12)
    para(rc, [("Độc lập - Tự do - Hạnh phúc", {"bold": True, "size": 13})], style="DVK Header")
    rule(rc, MOTTO_TEXT_MM, rc_w)

    if number_line is None and not date:
        return tbl
    row = tbl.add_row()
    for cell, w in zip(row.cells, (left_w, right_w)):
        cell.width = Mm(w)
    lc, rc = row.cells
    p = lc.paragraphs[0]
    p.style = "DVK Header"
    p.paragraph_format.space_before = Pt(6)
    if number_line is not None:
        p.add_run(number_line).font.size = Pt(13)
    if subject_line:
        para(lc, [("V/v {{ subject }}", {"size": 12})], style="DVK Header", before=3)
    p = rc.paragraphs[0]
    p.style = "DVK Header"
    p.paragraph_format.space_before = Pt(6)
    if date:
        r = p.add_run("{{ date_line }}")
        r.font.italic = True
        r.font.size = Pt(14)
    return tbl


def signature_block(doc, *, recipients: bool = True, left_title: str | None = None,
                    left_name: str | None = None, text_w: float = PORTRAIT_TEXT_W):
    """Signature table: "Nơi nhận:" (or a preparer) on the left, the signer on the right."""
    left_w = round(text_w * 0.45, 1)
    right_w = round(text_w - left_w, 1)
    tbl = table(doc, [left_w, right_w], borders=False)
    row = tbl.add_row()
    _tr_flags(row, cant_split=True)
    for cell, w in zip(row.cells, (left_w, right_w)):
        cell.width = Mm(w)
    lc, rc = row.cells
    p = lc.paragraphs[0]
    if recipients:
        p.style = "DVK Recipients"
        p.paragraph_format.space_before = Pt(12)
        r = p.add_run("Nơi nhận:")
        r.font.bold = True
        r.font.italic = True
        r.font.size = Pt(12)
        tag(lc, "{%p for r in recipients %}")
        para(lc, [("{{ r }}", {"size": 11})], style="DVK Recipients")
        tag(lc, "{%p endfor %}")
    elif left_title:
        p.style = "DVK Signature"
        p.paragraph_format.space_before = Pt(12)
        r = p.add_run(left_title)
        r.font.bold = True
        r.font.size = Pt(14)
        for _ in range(4):
            para(lc, [], style="DVK Signature")
        para(lc, [(left_name or "", {"bold": True, "size": 14})], style="DVK Signature")

    p = rc.paragraphs[0]
    p.style = "DVK Signature"
    p.paragraph_format.space_before = Pt(12)
    # "TM. BAN THƯỜNG VỤ" only when signing on behalf of a collective body.
    p.add_run("{% if on_behalf %}").font.size = Pt(14)
    r = p.add_run("{{ on_behalf }}")
    r.font.bold = True
    r.font.size = Pt(14)
    p.add_run("{% endif %}").font.size = Pt(14)
    para(rc, [("{{ signer_title }}", {"bold": True, "size": 14})], style="DVK Signature")
    for _ in range(4):
        para(rc, [], style="DVK Signature")
    para(rc, [("{{ signer }}", {"bold": True, "size": 14})], style="DVK Signature")
    return tbl


def list_table(doc, columns, row_cells, *, text_w, empty_text=EMPTY_LIST_ROW):
    """A bordered list grouped by ``groups`` (I. Tập thể, II. Cá nhân) with repeating header.

    ``columns`` is ``[(header, width_mm, align)]``; ``row_cells`` the placeholders of a data row.
    """
    widths = [w for _, w, _ in columns]
    scale = text_w / sum(widths)
    widths = [round(w * scale, 1) for w in widths]
    tbl = table(doc, widths, borders=True, align_center=True)
    add_row(tbl, [h for h, _, _ in columns], style="DVK Table Head", header=True, bold=True,
            aligns=[C] * len(columns))
    tag_row(tbl, "{%tr for g in groups %}")
    heading = add_row(tbl, ["{{ g.heading }}"], merge=True, bold=True)
    heading.cells[0].paragraphs[0].paragraph_format.keep_with_next = True
    tag_row(tbl, "{%tr for r in g.rows %}")
    add_row(tbl, row_cells, aligns=[a for _, _, a in columns])
    tag_row(tbl, "{%tr endfor %}")
    tag_row(tbl, "{%tr endfor %}")
    tag_row(tbl, "{%tr if not groups %}")
    add_row(tbl, [empty_text], merge=True, italic=True, aligns=[C])
    tag_row(tbl, "{%tr endif %}")
    return tbl


def landscape_section(doc):
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _setup_section(section, landscape=True)
    # Decree 30: an attached list (phụ lục) has its own page numbers, from 1, shown from its page 2.
    section.different_first_page_header_footer = True
    pg = _el("w:pgNumType", **{"w:start": "1"})
    sect = section._sectPr
    anchor = next((sect.find(qn(t)) for t in ("w:pgNumType", "w:cols", "w:formProt", "w:vAlign", "w:noEndnote",
                                               "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
                                               "w:docGrid", "w:printerSettings") if sect.find(qn(t)) is not None),
                  None)
    if anchor is not None:
        anchor.addprevious(pg)
    else:
        sect.append(pg)
    # The paragraph that now ends the portrait section (it holds its w:sectPr) follows the
    # signature table: keep it 4 pt high, or a first page filled to the bottom spills this
    # empty paragraph onto a blank second page.
    body = doc.element.body
    for p in reversed(body.findall(qn("w:p"))):
        ppr = p.find(qn("w:pPr"))
        if ppr is not None and ppr.find(qn("w:sectPr")) is not None:
            par = Paragraph(p, doc._body)
            par.style = doc.styles["DVK Rule"]
            _mark_size(par, 4)
            break
    return section


DECISION_LIST_COLUMNS = [
    ("STT", 13, C),
    ("Tên mô hình, điển hình", 88, L),
    ("Tập thể/Cá nhân", 44, L),
    ("Đơn vị", 51, L),
    ("Lĩnh vực", 17, C),
    ("Điểm", 15, C),
    ("Ghi chú", 24, L),
]
DECISION_ROW = ["{{ r.stt }}", "{{ r.title }}", "{{ r.subject_text }}", "{{ r.unit }}",
                "{{ r.field }}", "{{ r.score }}", "{{ r.note }}"]


# --------------------------------------------------------------------------- the templates


def decision():
    doc = new_document(title="Quyết định công nhận mô hình, điển hình “Dân vận khéo”")
    letterhead(doc, number_line="Số: {{ number }}/QĐ-{{ symbol }}")
    para(doc, [("QUYẾT ĐỊNH", {"bold": True, "size": 14})], style="DVK Title", before=18)
    para(doc, [("Về việc công nhận mô hình, điển hình “Dân vận khéo” năm {{ year }}",
                {"bold": True, "size": 14})], style="DVK Title")
    rule(doc, SUBJECT_RULE_MM, PORTRAIT_TEXT_W, before=2)
    para(doc, [("{{ authority }}", {"bold": True, "size": 14})], style="DVK Title", before=18, after=12)
    tag(doc, "{%p for b in legal_bases %}")
    para(doc, [("{{ b }}", {"italic": True})])
    tag(doc, "{%p endfor %}")
    para(doc, [("QUYẾT ĐỊNH:", {"bold": True, "size": 14})], style="DVK Title", before=6, after=12)
    para(doc, [("Điều 1.", {"bold": True}),
               (" Công nhận {{ count }} mô hình, điển hình “Dân vận khéo” năm {{ year }} "
                "({{ count_detail }}) có cách làm sáng tạo, hiệu quả, có sức lan tỏa trong phong trào "
                "thi đua “Dân vận khéo” (có danh sách kèm theo).", {})])
    para(doc, [("Điều 2.", {"bold": True}), (" {{ article2 }}", {})])
    para(doc, [("Điều 3.", {"bold": True}), (" {{ article3 }}", {})], keep_next=True)
    signature_block(doc)

    landscape_section(doc)
    para(doc, [("DANH SÁCH MÔ HÌNH, ĐIỂN HÌNH “DÂN VẬN KHÉO” NĂM {{ year }}", {"bold": True, "size": 14})],
         style="DVK Title")
    para(doc, [("(Kèm theo Quyết định số {{ number }}/QĐ-{{ symbol }} ngày {{ date_text }} của {{ issuer_name }})",
                {"italic": True, "bold": False, "size": 14})], style="DVK Title", after=12)
    list_table(doc, DECISION_LIST_COLUMNS, DECISION_ROW, text_w=LANDSCAPE_TEXT_W)
    para(doc, [("Tổng cộng: {{ count }} mô hình, điển hình ({{ count_detail }}).", {"italic": True, "size": 13})],
         style="DVK Header", align=L, before=6)
    tag(doc, "{%p if field_legend %}")
    para(doc, [("{{ field_legend }}", {"italic": True, "size": 12})], style="DVK Header", align=L, before=3)
    tag(doc, "{%p endif %}")
    return doc


def revocation():
    doc = new_document(title="Quyết định thu hồi quyết định công nhận mô hình, điển hình “Dân vận khéo”")
    letterhead(doc, number_line="Số: {{ number }}/QĐ-{{ symbol }}")
    para(doc, [("QUYẾT ĐỊNH", {"bold": True, "size": 14})], style="DVK Title", before=18)
    para(doc, [("Về việc thu hồi {{ revoked }}", {"bold": True, "size": 14})], style="DVK Title")
    rule(doc, SUBJECT_RULE_MM, PORTRAIT_TEXT_W, before=2)
    para(doc, [("{{ authority }}", {"bold": True, "size": 14})], style="DVK Title", before=18, after=12)
    tag(doc, "{%p for b in legal_bases %}")
    para(doc, [("{{ b }}", {"italic": True})])
    tag(doc, "{%p endfor %}")
    para(doc, [("QUYẾT ĐỊNH:", {"bold": True, "size": 14})], style="DVK Title", before=6, after=12)
    para(doc, [("Điều 1.", {"bold": True}), (" {{ article1 }}", {})])
    para(doc, [("Điều 2.", {"bold": True}), (" {{ article2 }}", {})])
    para(doc, [("Điều 3.", {"bold": True}), (" {{ article3 }}", {})], keep_next=True)
    signature_block(doc)
    return doc


def registration_list():
    doc = new_document(title="Danh sách đăng ký mô hình, điển hình “Dân vận khéo”", landscape=True)
    letterhead(doc, number_line="{% if number %}Số: {{ number }}/DS-{{ symbol }}{% endif %}",
               text_w=LANDSCAPE_TEXT_W)
    para(doc, [("DANH SÁCH", {"bold": True, "size": 14})], style="DVK Title", before=18)
    para(doc, [("Đăng ký mô hình, điển hình “Dân vận khéo” năm {{ year }}", {"bold": True, "size": 14})],
         style="DVK Title")
    tag(doc, "{%p if guidance %}")
    para(doc, [("(Thực hiện {{ guidance }})", {"italic": True, "bold": False, "size": 13})], style="DVK Title")
    tag(doc, "{%p endif %}")
    para(doc, [("(Tính đến ngày {{ as_of }})", {"italic": True, "bold": False, "size": 14})], style="DVK Title",
         after=12)
    cols = [
        ("STT", 13, C),
        ("Mã hồ sơ", 23, C),
        ("Tên mô hình, điển hình", 72, L),
        ("Tập thể/Cá nhân", 38, L),
        ("Đơn vị", 46, L),
        ("Lĩnh vực", 15, C),
        ("Ngày đăng ký", 25, C),
        ("Ghi chú", 20, L),
    ]
    row = ["{{ r.stt }}", "{{ r.code }}", "{{ r.title }}", "{{ r.subject_text }}", "{{ r.unit }}",
           "{{ r.field }}", "{{ r.date }}", "{{ r.note }}"]
    list_table(doc, cols, row, text_w=LANDSCAPE_TEXT_W,
               empty_text="(Chưa có mô hình, điển hình nào đăng ký)")
    tag(doc, "{%p if field_legend %}")
    para(doc, [("{{ field_legend }}", {"italic": True, "size": 12})], style="DVK Header", align=L, before=3)
    tag(doc, "{%p endif %}")
    para(doc, [("Tổng cộng: {{ count }} mô hình, điển hình ({{ count_detail }}); trong đó "
                "{{ late_count }} đăng ký muộn, {{ sudden_count }} thành tích đột xuất "
                "(không phải đăng ký).", {"size": 13})], style="DVK Header", align=L, before=6)
    # A list compiled from the ledger: the clerk who compiled it signs on the left, the
    # head of the issuing body endorses it on the right (Vietnamese statistical-table usage).
    signature_block(doc, recipients=False, left_title="NGƯỜI LẬP BIỂU", left_name="{{ preparer }}",
                    text_w=LANDSCAPE_TEXT_W)
    return doc


def score_sheets():
    doc = new_document(title="Phiếu chấm điểm mô hình, điển hình “Dân vận khéo”")
    tag(doc, "{%p for s in sheets %}")
    p = para(doc, [], style="DVK Header", align=L)
    p.add_run("{% if not loop.first %}")
    p.add_run().add_break(WD_BREAK.PAGE)
    p.add_run("{% endif %}")
    r = p.add_run("{{ org }}")
    r.font.bold = True
    r.font.size = Pt(13)
    para(doc, [("{{ council }}", {"size": 13})], style="DVK Header", align=L)
    # One sheet must fit on one A4 page with the 2021-2025 criteria (long wording): a compact
    # info block, a wide criteria column, and the member's name beside the signature.
    para(doc, [("PHIẾU CHẤM ĐIỂM", {"bold": True, "size": 14})], style="DVK Title", before=6)
    para(doc, [("Mô hình, điển hình “Dân vận khéo” năm {{ year }}", {"bold": True, "size": 14})],
         style="DVK Title", after=6)
    info = [
        [("Mã hồ sơ: ", {}), ("{{ s.code }}", {"bold": True}), ("; lĩnh vực: ", {}), ("{{ s.field }}", {})],
        [("Tên mô hình, điển hình: ", {}), ("{{ s.title }}", {"bold": True})],
        [("Tập thể/Cá nhân: ", {}), ("{{ s.subject_text }}", {})],
        [("Đơn vị: ", {}), ("{{ s.unit }}", {})],
    ]
    for runs in info:
        para(doc, runs, first_line=0, after=2, size=13)
    # Filled and totalled on paper: the maximum of each criterion (its weight), the member's score
    # on the scale, and the converted points (score × maximum / scale), with a total on 100.
    cols = [("Mã", 11), ("Nội dung tiêu chí", 104), ("Điểm tối đa", 15), ("{{ scale_head }}", 16),
            ("Điểm quy đổi", 19)]
    tbl = table(doc, [w for _, w in cols], borders=True, align_center=True)
    add_row(tbl, [h for h, _ in cols], style="DVK Table Head", header=True, bold=True, aligns=[C] * 5)
    tag_row(tbl, "{%tr for c in s.criteria %}")
    crow = add_row(tbl, ["{{ c.code }}{% if c.note %}*{% endif %}", "{{ c.content }}", "{{ c.weight }}", "", ""],
                   aligns=[C, J, C, C, C])
    for cell in crow.cells:
        cell.paragraphs[0].paragraph_format.space_before = Pt(1)
        cell.paragraphs[0].paragraph_format.space_after = Pt(1)
        for run in cell.paragraphs[0].runs:
            run.font.size = Pt(11)
    tag_row(tbl, "{%tr endfor %}")
    total = add_row(tbl, ["Cộng", "", "{{ s.total_weight }}", "", ""], bold=True, aligns=[C, C, C, C, C])
    merge_cells(total.cells[0], total.cells[1])
    for cell in total.cells:  # the total, the notes and the signature go together: never a signature alone
        cell.paragraphs[0].paragraph_format.keep_with_next = True
    para(doc, [("{{ instructions }}", {"italic": True, "size": 11})], first_line=0, before=3, after=3,
         keep_next=True)
    para(doc, [("Ý kiến khác: ", {}), ("{{ dots }}", {})], first_line=0, after=0, keep_next=True, size=13)
    sig = table(doc, [70, 95], borders=False)
    row = sig.add_row()
    _tr_flags(row)
    lc, rc = row.cells
    lc.width, rc.width = Mm(70), Mm(95)
    p = rc.paragraphs[0]
    p.style = "DVK Header"
    p.paragraph_format.space_before = Pt(6)
    r = p.add_run("{{ date_line }}")
    r.font.italic = True
    r.font.size = Pt(14)
    para(rc, [("THÀNH VIÊN HỘI ĐỒNG", {"bold": True, "size": 14})], style="DVK Signature")
    para(rc, [("(Ký, ghi rõ họ tên)", {"italic": True, "size": 13})], style="DVK Header")
    for _ in range(2):
        para(rc, [], style="DVK Signature")
    para(rc, [("{{ s.member }}", {"bold": True, "size": 14})], style="DVK Signature")
    tag(doc, "{%p endfor %}")
    return doc


def results_report():
    doc = new_document(title="Báo cáo kết quả mô hình, điển hình “Dân vận khéo”")
    letterhead(doc, number_line="Số: {{ number }}/BC-{{ symbol }}")
    para(doc, [("BÁO CÁO", {"bold": True, "size": 14})], style="DVK Title", before=18)
    para(doc, [("Kết quả xây dựng, xét chọn mô hình, điển hình “Dân vận khéo” năm {{ year }}",
                {"bold": True, "size": 14})], style="DVK Title")
    rule(doc, SUBJECT_RULE_MM, PORTRAIT_TEXT_W, before=2)
    para(doc, [("{{ intro }}", {})], before=12)

    para(doc, [("I. TÌNH HÌNH ĐĂNG KÝ, XÂY DỰNG MÔ HÌNH, ĐIỂN HÌNH", {"bold": True})], style="DVK Heading")
    lines = [
        "- Tổng số mô hình, điển hình: {{ registered }} (trong đó {{ sudden }} thành tích đột xuất "
        "không phải đăng ký, {{ late }} đăng ký muộn).",
        "- Số mô hình, điển hình có báo cáo thành tích: {{ reported }}.",
        "- Số báo cáo được cấp ủy cùng cấp xác nhận: {{ confirmed }}.",
        "- Số mô hình, điển hình được Hội đồng chấm điểm: {{ scored }}.",
        "- Số mô hình, điển hình được công nhận: {{ recognized }}; không được công nhận: {{ not_recognized }}.",
    ]
    for line in lines:
        para(doc, [(line, {})])
    para(doc, [("1. Kết quả theo đơn vị", {"bold": True, "italic": True})], style="DVK Heading", keep_next=True)
    cols = [("STT", 13, C), ("Đơn vị", 50, L), ("Đăng ký", 17, C), ("Báo cáo", 17, C),
            ("Xác nhận", 17, C), ("Chấm điểm", 17, C), ("Công nhận", 17, C), ("Không công nhận", 17, C)]
    widths = [w for _, w, _ in cols]
    tbl = table(doc, widths, borders=True, align_center=True)
    add_row(tbl, [h for h, _, _ in cols], style="DVK Table Head", header=True, bold=True, aligns=[C] * 8)
    tag_row(tbl, "{%tr for u in units %}")
    add_row(tbl, ["{{ u.stt }}", "{{ u.unit }}", "{{ u.registered }}", "{{ u.reported }}",
                  "{{ u.confirmed }}", "{{ u.scored }}", "{{ u.recognized }}", "{{ u.not_recognized }}"],
            aligns=[a for _, _, a in cols])
    tag_row(tbl, "{%tr endfor %}")
    add_row(tbl, ["", "Tổng cộng", "{{ totals.registered }}", "{{ totals.reported }}", "{{ totals.confirmed }}",
                  "{{ totals.scored }}", "{{ totals.recognized }}", "{{ totals.not_recognized }}"],
            bold=True, aligns=[C, L, C, C, C, C, C, C])

    para(doc, [("2. Kết quả theo lĩnh vực", {"bold": True, "italic": True})], style="DVK Heading",
         before=12, keep_next=True)
    cols = [("STT", 13), ("Lĩnh vực", 112), ("Đăng ký", 20), ("Công nhận", 20)]
    tbl = table(doc, [w for _, w in cols], borders=True, align_center=True)
    add_row(tbl, [h for h, _ in cols], style="DVK Table Head", header=True, bold=True, aligns=[C] * 4)
    tag_row(tbl, "{%tr for f in fields %}")
    add_row(tbl, ["{{ f.stt }}", "{{ f.field }}", "{{ f.registered }}", "{{ f.recognized }}"],
            aligns=[C, J, C, C])
    tag_row(tbl, "{%tr endfor %}")
    add_row(tbl, ["", "Tổng cộng", "{{ field_totals.registered }}", "{{ field_totals.recognized }}"],
            bold=True, aligns=[C, L, C, C])

    para(doc, [("II. KẾT QUẢ XÉT CHỌN, CÔNG NHẬN", {"bold": True})], style="DVK Heading", before=12)
    para(doc, [("{{ decision_sentence }}", {})])
    para(doc, [("1. Các mô hình, điển hình được công nhận", {"bold": True, "italic": True})],
         style="DVK Heading", keep_next=True)
    cols = [("STT", 13, C), ("Tên mô hình, điển hình", 53, L), ("Tập thể/Cá nhân", 38, L),
            ("Đơn vị", 33, L), ("Lĩnh vực", 14, C), ("Điểm", 14, C)]
    list_table(doc, cols, ["{{ r.stt }}", "{{ r.title }}", "{{ r.subject_text }}", "{{ r.unit }}",
                           "{{ r.field }}", "{{ r.score }}"], text_w=PORTRAIT_TEXT_W)
    para(doc, [("2. Các mô hình, điển hình không được công nhận", {"bold": True, "italic": True})],
         style="DVK Heading", before=12, keep_next=True)
    cols = [("STT", 13), ("Mã hồ sơ", 23), ("Tên mô hình, điển hình", 48), ("Đơn vị", 33), ("Lý do", 48)]
    tbl = table(doc, [w for _, w in cols], borders=True, align_center=True)
    add_row(tbl, [h for h, _ in cols], style="DVK Table Head", header=True, bold=True, aligns=[C] * 5)
    tag_row(tbl, "{%tr for n in not_recognized_rows %}")
    add_row(tbl, ["{{ n.stt }}", "{{ n.code }}", "{{ n.title }}", "{{ n.unit }}", "{{ n.reasons }}"],
            aligns=[C, C, L, L, L])
    tag_row(tbl, "{%tr endfor %}")
    tag_row(tbl, "{%tr if not not_recognized_rows %}")
    add_row(tbl, ["(Không có)"], merge=True, italic=True, aligns=[C])
    tag_row(tbl, "{%tr endif %}")

    para(doc, [("III. ĐÁNH GIÁ CHUNG", {"bold": True})], style="DVK Heading", before=12)
    tag(doc, "{%p for t in assessment %}")
    para(doc, [("{{ t }}", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("IV. ĐỀ XUẤT, KIẾN NGHỊ", {"bold": True})], style="DVK Heading")
    tag(doc, "{%p for t in proposals %}")
    para(doc, [("{{ t }}", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("Trên đây là báo cáo kết quả xây dựng, xét chọn mô hình, điển hình “Dân vận khéo” "
                "năm {{ year }} của {{ issuer_name }}./.", {})], keep_next=True)
    signature_block(doc)
    return doc


def reminder():
    doc = new_document(title="Công văn đôn đốc hồ sơ mô hình, điển hình “Dân vận khéo”")
    letterhead(doc, number_line="Số: {{ number }}/{{ symbol }}", subject_line=True)
    tag(doc, "{%p if addressees|length == 1 %}")
    para(doc, [("Kính gửi: {{ addressees[0] }}", {})], style="DVK Header", align=C, before=18, after=12, size=14)
    tag(doc, "{%p else %}")
    para(doc, [("Kính gửi:", {})], style="DVK Header", align=L, left=30, before=18, size=14)
    tag(doc, "{%p for a in addressees %}")
    para(doc, [("{{ a }}", {})], style="DVK Header", align=L, left=50, size=14)
    tag(doc, "{%p endfor %}")
    para(doc, [], style="DVK Header", after=6)
    tag(doc, "{%p endif %}")
    para(doc, [("{{ intro }}", {})])
    tag(doc, "{%p for u in units %}")
    para(doc, [("{{ u.stt }}. {{ u.name }}", {"bold": True})], keep_next=True)
    tag(doc, "{%p for it in u.entries %}")
    para(doc, [("- {{ it.code }} “{{ it.title }}”: còn thiếu {{ it.missing }}.", {})])
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if unregistered %}")
    para(doc, [("Các đơn vị chưa đăng ký mô hình, điển hình nào trong năm {{ year }}:", {"bold": True})], keep_next=True)
    tag(doc, "{%p for u in unregistered %}")
    para(doc, [("- {{ u }};", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("Đề nghị các đơn vị này rà soát, đăng ký bổ sung (thành tích đột xuất không phải đăng ký).", {})])
    tag(doc, "{%p endif %}")
    para(doc, [("Đề nghị các đơn vị nêu trên khẩn trương hoàn thiện, gửi hồ sơ về {{ send_to }} "
                "trước ngày ", {}), ("{{ deadline }}", {"bold": True}),
               (". Quá thời hạn trên, hồ sơ còn thiếu sẽ không được đưa vào xét chọn, công nhận "
                "mô hình, điển hình “Dân vận khéo” năm {{ year }}.", {})])
    para(doc, [("{{ closing }}", {})], keep_next=True)
    signature_block(doc)
    return doc


def proposal():
    doc = new_document(title="Tờ trình đề nghị khen thưởng điển hình “Dân vận khéo”")
    letterhead(doc, number_line="Số: {{ number }}/TTr-{{ symbol }}")
    para(doc, [("TỜ TRÌNH", {"bold": True, "size": 14})], style="DVK Title", before=18)
    para(doc, [("Về việc đề nghị khen thưởng điển hình “Dân vận khéo” giai đoạn {{ phase }}",
                {"bold": True, "size": 14})], style="DVK Title")
    rule(doc, SUBJECT_RULE_MM, PORTRAIT_TEXT_W, before=2)
    para(doc, [("Kính gửi: {{ addressee }}", {})], style="DVK Header", align=C, before=12, after=12, size=14)
    tag(doc, "{%p for t in intro %}")
    para(doc, [("{{ t }}", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("Kết quả công nhận mô hình, điển hình “Dân vận khéo” qua các năm:", {})], keep_next=True)
    cols = [("Năm", 25), ("Đăng ký", 35), ("Được công nhận", 35), ("Đề nghị khen thưởng", 40)]
    tbl = table(doc, [w for _, w in cols], borders=True, align_center=True)
    add_row(tbl, [h for h, _ in cols], style="DVK Table Head", header=True, bold=True, aligns=[C] * 4)
    tag_row(tbl, "{%tr for y in years %}")
    add_row(tbl, ["{{ y.year }}", "{{ y.registered }}", "{{ y.recognized }}", "{{ y.proposed }}"], aligns=[C] * 4)
    tag_row(tbl, "{%tr endfor %}")
    add_row(tbl, ["Cộng", "{{ year_totals.registered }}", "{{ year_totals.recognized }}",
                  "{{ year_totals.proposed }}"], bold=True, aligns=[C] * 4)
    para(doc, [("{{ issuer_name }} kính đề nghị {{ addressee_short }} xem xét, tặng {{ award }} cho "
                "{{ count }} tập thể, cá nhân ({{ count_detail }}) là điển hình “Dân vận khéo” tiêu biểu "
                "giai đoạn {{ phase }} (có danh sách kèm theo).", {})], before=12)
    para(doc, [("Kính trình {{ addressee_short }} xem xét, quyết định./.", {})], keep_next=True)
    signature_block(doc)

    landscape_section(doc)
    para(doc, [("DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG ĐIỂN HÌNH “DÂN VẬN KHÉO” GIAI ĐOẠN {{ phase }}",
                {"bold": True, "size": 14})], style="DVK Title")
    para(doc, [("(Kèm theo Tờ trình số {{ number }}/TTr-{{ symbol }} ngày {{ date_text }} của {{ issuer_name }})",
                {"italic": True, "bold": False, "size": 14})], style="DVK Title", after=12)
    # The list as one is sent: a person recognised in several years is one row (their years and
    # decisions listed), a short achievement from the report, and a total line.
    cols = [("STT", 12, C), ("Tập thể/Cá nhân", 42, L), ("Đơn vị", 42, L), ("Tên mô hình, điển hình", 56, L),
            ("Năm công nhận", 18, C), ("Thành tích tiêu biểu", 46, L), ("Ghi chú", 36, L)]
    list_table(doc, cols, ["{{ r.stt }}", "{{ r.subject_text }}", "{{ r.unit }}", "{{ r.title }}", "{{ r.year }}",
                           "{{ r.achievement }}", "{{ r.note }}"], text_w=LANDSCAPE_TEXT_W)
    para(doc, [("{{ total_line }}", {"bold": True, "size": 13})], style="DVK Header", align=L, before=6)
    return doc


TEMPLATES = {
    "quyet-dinh-cong-nhan.docx": decision,
    "quyet-dinh-thu-hoi.docx": revocation,
    "danh-sach-dang-ky.docx": registration_list,
    "phieu-cham-diem.docx": score_sheets,
    "bao-cao-ket-qua.docx": results_report,
    "cong-van-nhac.docx": reminder,
    "to-trinh-khen-thuong.docx": proposal,
}


def build(out_dir: Path) -> list[Path]:
    import io

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in TEMPLATES.items():
        doc = make()
        buf = io.BytesIO()
        doc.save(buf)
        data = normalize_ooxml_zip(buf.getvalue(), TEMPLATE_DATE)
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "templates", help="output folder (default: templates/)")
    args = ap.parse_args(argv)
    for path in build(args.out):
        print(path)
    return 0


# --------------------------------------------------------------------------- the council's papers (issue 13)


def _council_signatures(doc, *, text_w: float = PORTRAIT_TEXT_W):
    """Two signatures side by side: the secretary (left) and the chair of the council (right)."""
    half = round(text_w / 2, 1)
    tbl = table(doc, [half, half], borders=False)
    row = tbl.add_row()
    _tr_flags(row, cant_split=True)
    for cell, (title, name) in zip(row.cells, (("THƯ KÝ HỘI ĐỒNG", "{{ secretary }}"),
                                                ("CHỦ TỊCH HỘI ĐỒNG", "{{ chair }}"))):
        cell.width = Mm(half)
        p = cell.paragraphs[0]
        p.style = "DVK Signature"
        p.paragraph_format.space_before = Pt(12)
        r = p.add_run(title)
        r.font.bold = True
        r.font.size = Pt(14)
        para(cell, [("(Ký, ghi rõ họ tên)", {"italic": True, "size": 13})], style="DVK Header")
        for _ in range(3):
            para(cell, [], style="DVK Signature")
        para(cell, [(name, {"bold": True, "size": 14})], style="DVK Signature")
    return tbl


def _summary_table(doc, *, text_w: float, detailed: bool = True):
    """The score summary: one row per entry, each member's total as a line of its cell (``detailed``),
    the aggregate and the result."""
    cols = [("STT", 12, C), ("Mã hồ sơ", 22, C), ("Tên mô hình, điển hình", 70, L), ("Đơn vị", 45, L),
            ("Điểm của từng thành viên", 58, L), ("Điểm", 18, C), ("Kết quả", 25, C)]
    if not detailed:
        cols = [("STT", 15, C), ("Mã hồ sơ", 24, C), ("Tên mô hình, điển hình", 60, L), ("Đơn vị", 45, L),
                ("Điểm", 18, C), ("Kết quả", 22, C)]
    widths = [w for _, w, _ in cols]
    scale = text_w / sum(widths)
    widths = [round(w * scale, 1) for w in widths]
    tbl = table(doc, widths, borders=True, align_center=True)
    add_row(tbl, [h for h, _, _ in cols], style="DVK Table Head", header=True, bold=True, aligns=[C] * len(cols))
    tag_row(tbl, "{%tr for r in rows %}")
    if not detailed:
        add_row(tbl, ["{{ r.stt }}", "{{ r.code }}", "{{ r.title }}", "{{ r.unit }}", "{{ r.score }}",
                      "{{ r.result }}"], aligns=[a for _, _, a in cols])
        tag_row(tbl, "{%tr endfor %}")
        return tbl
    row = add_row(tbl, ["{{ r.stt }}", "{{ r.code }}", "{{ r.title }}", "{{ r.unit }}", "", "{{ r.score }}",
                        "{{ r.result }}"], aligns=[a for _, _, a in cols])
    cell = row.cells[4]
    first = cell.paragraphs[0]
    first._p.getparent().remove(first._p)
    for text, fmt in (("{%p for m in r.marks %}", {}), ("{{ m }}", {}), ("{%p endfor %}", {}),
                      ("{%p for m in r.not_counted %}", {}), ("Không tính — {{ m }}", {"italic": True}),
                      ("{%p endfor %}", {})):
        p = cell.add_paragraph(style="DVK Table")
        p.alignment = L
        run = p.add_run(text)
        if fmt.get("italic"):
            run.font.italic = True
    tag_row(tbl, "{%tr endfor %}")
    tag_row(tbl, "{%tr if not rows %}")
    add_row(tbl, [EMPTY_LIST_ROW], merge=True, italic=True, aligns=[C])
    tag_row(tbl, "{%tr endif %}")
    return tbl


def council_minutes():
    doc = new_document(title="Biên bản họp Hội đồng Thi đua - Khen thưởng")
    letterhead(doc, number_line=None)
    para(doc, [("BIÊN BẢN", {"bold": True, "size": 14})], style="DVK Title", before=18)
    para(doc, [("Họp {{ council }} xét công nhận mô hình, điển hình “Dân vận khéo” năm {{ year }}",
                {"bold": True, "size": 14})], style="DVK Title")
    rule(doc, 40, PORTRAIT_TEXT_W, before=2)
    para(doc, [("I. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN", {"bold": True})], before=12, keep_next=True)
    para(doc, [("Thời gian: ngày {{ meeting_date }}. Địa điểm: {{ meeting_place }}.", {})])
    para(doc, [("Chủ trì: {{ chair }}, Chủ tịch Hội đồng. Thư ký: {{ secretary }}, Thư ký Hội đồng.", {})])
    para(doc, [("Thành viên có mặt ({{ present_count }}):", {})], keep_next=True)
    tag(doc, "{%p for m in present %}")
    para(doc, [("- {{ m.name }}{% if m.position %}, {{ m.position }}{% endif %} — {{ m.role }};", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("Thành viên vắng mặt ({{ absent_count }}):", {})], keep_next=True)
    tag(doc, "{%p for m in absent %}")
    para(doc, [("- {{ m.name }}{% if m.position %}, {{ m.position }}{% endif %} — {{ m.role }};", {})])
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if not absent %}")
    para(doc, [("- Không có.", {})])
    tag(doc, "{%p endif %}")
    para(doc, [("II. NỘI DUNG", {"bold": True})], before=6, keep_next=True)
    para(doc, [("1. Hội đồng xem xét {{ considered }} hồ sơ mô hình, điển hình “Dân vận khéo” năm {{ year }} "
                "đã đăng ký, đối chiếu với tiêu chí và điều kiện công nhận; điểm đạt {{ pass_mark }}/100.", {})])
    para(doc, [("2. Xung đột lợi ích:", {})], keep_next=True)
    tag(doc, "{%p for t in conflicts %}")
    para(doc, [("- {{ t }}", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("3. Thành viên không tham gia chấm:", {})], keep_next=True)
    tag(doc, "{%p for t in abstentions %}")
    para(doc, [("- {{ t }}", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("4. Kết quả chấm điểm (điểm của từng thành viên tại Bảng tổng hợp kết quả chấm điểm kèm theo):", {})],
         keep_next=True)
    _summary_table(doc, text_w=PORTRAIT_TEXT_W, detailed=False)
    para(doc, [("III. KẾT LUẬN", {"bold": True})], before=12, keep_next=True)
    para(doc, [("Hội đồng thống nhất đề nghị {{ org_name }} công nhận ", {}), ("{{ proposed }}", {"bold": True}),
               (" mô hình, điển hình “Dân vận khéo” năm {{ year }} đạt từ {{ pass_mark }} điểm trở lên và đủ "
                "điều kiện theo quy định.", {})])
    para(doc, [("Biên bản kết thúc cùng ngày, đã thông qua trước Hội đồng./.", {})], keep_next=True)
    _council_signatures(doc)
    return doc


def score_summary():
    doc = new_document(title="Bảng tổng hợp kết quả chấm điểm mô hình, điển hình “Dân vận khéo”", landscape=True)
    letterhead(doc, number_line=None, text_w=LANDSCAPE_TEXT_W)
    para(doc, [("BẢNG TỔNG HỢP KẾT QUẢ CHẤM ĐIỂM", {"bold": True, "size": 14})], style="DVK Title", before=12)
    para(doc, [("Mô hình, điển hình “Dân vận khéo” năm {{ year }}", {"bold": True, "size": 14})], style="DVK Title")
    para(doc, [("(Kèm theo Biên bản họp {{ council }} ngày {{ date_text }})", {"italic": True, "size": 14})],
         style="DVK Title", after=6)
    para(doc, [("Thành viên chấm: {{ members }}. Điểm của hồ sơ là {{ aggregation }} tổng điểm của các thành viên "
                "có phiếu được tính (thang 100); điểm đạt {{ pass_mark }}.", {"size": 13})], first_line=0)
    _summary_table(doc, text_w=LANDSCAPE_TEXT_W)
    para(doc, [("Tổng số: {{ count }} hồ sơ; đề nghị công nhận {{ proposed }}.", {"bold": True})], before=6,
         keep_next=True)
    _council_signatures(doc, text_w=LANDSCAPE_TEXT_W)
    return doc


def certificates():
    doc = new_document(title="Giấy công nhận mô hình, điển hình “Dân vận khéo”", landscape=True)
    section = doc.sections[0]
    section.different_first_page_header_footer = False
    section.header.is_linked_to_previous = True  # no page number on a certificate
    tag(doc, "{%p for c in certificates %}")
    p = para(doc, [], style="DVK Rule")
    p.add_run("{% if not loop.first %}")
    p.add_run().add_break(WD_BREAK.PAGE)
    p.add_run("{% endif %}")
    letterhead(doc, number_line=None, text_w=LANDSCAPE_TEXT_W, one_line=True)
    para(doc, [("GIẤY CÔNG NHẬN", {"bold": True, "size": 28})], style="DVK Title", before=30, after=12)
    para(doc, [("{{ issuer_upper }}", {"bold": True, "size": 14})], style="DVK Title")
    para(doc, [("công nhận", {"italic": True, "size": 14})], style="DVK Title", after=12)
    para(doc, [("{{ c.name }}", {"bold": True, "size": 20})], style="DVK Title", after=6)
    tag(doc, "{%p if c.subject_text %}")
    para(doc, [("{{ c.subject_text }}", {"size": 14})], style="DVK Title")
    tag(doc, "{%p endif %}")
    para(doc, [("Đạt {{ c.kind_text }} “Dân vận khéo” năm {{ year }}", {"bold": True, "size": 16})],
         style="DVK Title", before=12)
    para(doc, [("“{{ c.title }}”", {"bold": True, "italic": True, "size": 15})], style="DVK Title", after=12)
    para(doc, [("(Theo Quyết định số {{ number }}/QĐ-{{ symbol }} ngày {{ decision_date }} của {{ issuer_name }})",
                {"italic": True, "size": 14})], style="DVK Title", after=6)
    half = round(LANDSCAPE_TEXT_W / 2, 1)
    sig = table(doc, [half, half], borders=False)
    row = sig.add_row()
    _tr_flags(row, cant_split=True)
    lc, rc = row.cells
    lc.width, rc.width = Mm(half), Mm(half)
    para(lc, [("Số vào sổ: {{ c.code }}", {"size": 13})], style="DVK Header", align=L, before=12)
    p = rc.paragraphs[0]
    p.style = "DVK Signature"
    p.paragraph_format.space_before = Pt(12)
    r = p.add_run("{{ on_behalf }}")
    r.font.bold = True
    r.font.size = Pt(14)
    para(rc, [("{{ signer_title }}", {"bold": True, "size": 14})], style="DVK Signature")
    for _ in range(3):
        para(rc, [], style="DVK Signature")
    para(rc, [("{{ signer }}", {"bold": True, "size": 14})], style="DVK Signature")
    tag(doc, "{%p endfor %}")
    return doc


TEMPLATES.update({
    "bien-ban-hop-hoi-dong.docx": council_minutes,
    "bang-tong-hop-diem.docx": score_summary,
    "giay-cong-nhan.docx": certificates,
})


def launch_letter():
    doc = new_document(title="Công văn phát động mô hình, điển hình “Dân vận khéo”")
    letterhead(doc, number_line="Số: {{ number }}/{{ symbol }}", subject_line=True)
    para(doc, [("Kính gửi: {{ addressee }}.", {})], style="DVK Header", align=C, before=18, after=12, size=14)
    para(doc, [("{{ intro }}", {})])
    para(doc, [("1. Lĩnh vực xây dựng mô hình, điển hình", {"bold": True})], keep_next=True)
    tag(doc, "{%p for t in fields %}")
    para(doc, [("{{ t }}", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("2. Tiêu chí (tóm tắt)", {"bold": True})], keep_next=True)
    para(doc, [("a) Tiêu chí chung:", {"italic": True})], keep_next=True)
    tag(doc, "{%p for t in general %}")
    para(doc, [("- {{ t }};", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("b) Tiêu chí cụ thể:", {"italic": True})], keep_next=True)
    tag(doc, "{%p for t in specific %}")
    para(doc, [("- {{ t }};", {})])
    tag(doc, "{%p endfor %}")
    para(doc, [("{{ scoring }}", {})])
    para(doc, [("3. Đăng ký", {"bold": True})], keep_next=True)
    para(doc, [("Các đơn vị đăng ký mô hình, điển hình từ ngày {{ start }} đến hết ngày ", {}),
               ("{{ end }}", {"bold": True}),
               (", theo mẫu danh sách đăng ký (tệp Excel) gửi kèm Công văn này, gửi về {{ send_to }}. Mỗi mô "
                "hình, điển hình ghi rõ tên, tập thể hoặc cá nhân (họ tên, chức vụ), lĩnh vực.", {})])
    para(doc, [("Thành tích đột xuất không phải đăng ký. Mỗi mô hình, điển hình có báo cáo thành tích nêu rõ cách "
                "làm, kinh nghiệm, tính lan tỏa, hiệu quả, sự bền vững, được cấp ủy cùng cấp nhận xét, xác nhận; "
                "xét chọn, công nhận vào dịp ngày {{ recognition_day }}.", {})])
    para(doc, [("{{ issuer_name }} đề nghị các đơn vị quan tâm, triển khai thực hiện./.", {})], keep_next=True)
    signature_block(doc)
    return doc


TEMPLATES["cong-van-phat-dong.docx"] = launch_letter


if __name__ == "__main__":
    raise SystemExit(main())
