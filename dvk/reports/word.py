"""Word documents: a view model rendered with its (checked, sandboxed) docxtpl template into
deterministic .docx bytes.

A long list (the rows of a group, the pages of the score sheets) is streamed: docxtpl renders the
template with the first item of each long loop only (letterhead, headings, totals, signature, and
one real row so that its table checks see the row), and the other items are rendered by the same
loop of the same template — found in the template by what it loops over, never by fixed XML — in
the same sandbox, serialized as lxml serializes them inside the document, and written straight
into the zip.  Memory no longer grows with the document, and the bytes are those of a whole render.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dvk.reports.context import doc_date, sanitize
from dvk.reports.kinds import DocKind, context_of, for_template
from dvk.reports.models import RenderResult
from dvk.files import sha256_file
from dvk.reports.ooxml import exists_error, fixed_when, publish, rewrite_ooxml, temp_beside
from dvk.reports.sandbox import TemplateRules, check_template, find_template, jinja_env, template_folder
from dvk.errors import TemplateError


def _kind_of(template_name: str, view_model: Any) -> DocKind | None:
    """The kind of ``template_name`` (None for a template no kind has); TypeError if ``view_model``
    is not that kind's view model."""
    kind = for_template(template_name)
    if kind is not None and not isinstance(view_model, kind.view_model):
        raise TypeError(f"{template_name} needs a {kind.view_model.__name__}, got {type(view_model).__name__}")
    return kind



#: The lists a template's loop is streamed over, by their name (``{% for r in g.rows %}``,
#: ``{%p for s in sheets %}``): the rows of a list and the pages of the score sheets.  Any other
#: loop (legal bases, recipients, a sheet's criteria) is rendered by docxtpl as it is.
STREAMED_LISTS: frozenset[str] = frozenset({"rows", "sheets", "not_recognized_rows"})


_TAG = re.compile(r"\{%(-?)\s*(\w+)(.*?)(-?)%\}", re.DOTALL)


_FOR_HEAD = re.compile(r"\s*(\w+)\s+in\s+(.+?)\s*$", re.DOTALL)


_BATCH_CHARS = 1 << 20  # rendered XML serialized at once (about 1 MB)


@dataclass(frozen=True)
class _Split:
    """A template body split for streaming: ``main`` renders everything with the first item of each
    long loop and a marker after the loop; ``side`` renders only the other items of each long loop,
    ``cut`` after each item, ``end`` after each loop (as many as there are markers)."""

    main: str
    side: str
    marker: str
    cut: str
    end: str


def _streamed(head: str) -> bool:
    m = _FOR_HEAD.fullmatch(head)
    if m is None:
        return False
    last = re.split(r"[.\[\]'\"\s]+", m.group(2).strip())
    last = [p for p in last if p]
    return bool(last) and last[-1] in STREAMED_LISTS and " if " not in f" {m.group(2)} "


def split_for_streaming(source: str) -> _Split | None:
    """Split a docxtpl body source (after ``patch_xml``) at its long loops; None if it has none or
    uses something the split cannot reproduce exactly (then the document is rendered whole)."""
    if "docPr" in source:  # drawings are renumbered across the whole document by docxtpl
        return None
    nonce = secrets.token_hex(8)
    marker, cut, end = f"DVKSTREAM{nonce}", f"<dvkcut{nonce}/>", f"<dvkend{nonce}/>"
    stack: list[tuple[str, re.Match]] = []
    streams: list[tuple[re.Match, re.Match]] = []
    open_stream: re.Match | None = None
    for m in _TAG.finditer(source):
        word = m.group(2)
        if word == "for":
            stack.append(("for", m))
            if open_stream is None and _streamed(m.group(3)):
                if m.group(1) or m.group(4):
                    return None
                open_stream = m
        elif word == "endfor":
            if not stack or stack[-1][0] != "for":
                return None
            _, start = stack.pop()
            if start is open_stream:
                if m.group(1) or m.group(4):
                    return None
                streams.append((start, m))
                open_stream = None
        elif word == "if":
            stack.append(("if", m))
        elif word == "endif":
            if not stack or stack[-1][0] != "if":
                return None
            stack.pop()
        elif word == "else":
            if open_stream is not None and stack and stack[-1] == ("for", open_stream):
                return None  # {% for %}…{% else %}: the loop's own else
        elif word not in ("elif", "set"):
            return None  # filter blocks, raw, …: rendered whole
    if stack or not streams:
        return None
    main, side, pos = [], [], 0
    for start, stop in streams:
        before = source[pos:start.start()]
        main.append(before)
        side.extend(t.group(0) for t in _TAG.finditer(before))
        body = source[start.end():stop.start()]
        main.append(f"{start.group(0)}{{% if loop.first %}}{body}{{% endif %}}{stop.group(0)}{marker}")
        side.append(f"{start.group(0)}{{% if not loop.first %}}{body}{cut}{{% endif %}}{stop.group(0)}{end}")
        pos = stop.end()
    main.append(source[pos:])
    side.extend(t.group(0) for t in _TAG.finditer(source[pos:]))
    return _Split("".join(main), "".join(side), marker, cut, end)


def _streaming_template_class() -> type:
    from docxtpl import DocxTemplate

    class _StreamingTemplate(DocxTemplate):
        """docxtpl with the body's long loops cut (`split_for_streaming`)."""

        split: _Split | None = None

        def build_xml(self, context, jinja_env=None):  # type: ignore[override]
            xml = self.patch_xml(self.get_xml())
            self.split = split_for_streaming(xml)
            if self.split is not None:
                xml = self.split.main
            return self.render_xml_part(xml, self.docx._part, context, jinja_env)

    return _StreamingTemplate


def _post_render(tpl: Any, xml: str) -> str:
    """What docxtpl's ``render_xml_part`` does to rendered XML after Jinja."""
    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    if any(c in xml for c in "\t\a\n\f"):  # the only characters resolve_listing changes
        xml = tpl.resolve_listing(xml)
    return xml


class _Serializer:
    """Rendered XML fragments serialized exactly as lxml writes them inside the document."""

    def __init__(self, nsmap: dict) -> None:
        from lxml import etree

        self._etree = etree
        decl = " ".join(f'xmlns:{k}="{v}"' if k else f'xmlns="{v}"' for k, v in nsmap.items())
        self._open = f"<dvkwrap {decl}>" if decl else "<dvkwrap>"

    def __call__(self, xml: str) -> bytes:
        etree = self._etree
        root = etree.fromstring(self._open + xml + "</dvkwrap>", parser=etree.XMLParser(recover=True))
        text = etree.tostring(root, encoding="unicode")
        if text.endswith("/>") and "</dvkwrap>" not in text:
            return b""
        return text[text.index(">") + 1: -len("</dvkwrap>")].encode("utf-8")


class _Regions:
    """The side render, read loop by loop: each call of ``next`` gives the serialized items of the
    next long loop (in batches of about ``_BATCH_CHARS``), in the order of the main render's markers."""

    def __init__(self, tpl: Any, split: _Split, template: Any, context: dict, serialize: _Serializer) -> None:
        self._tpl, self._split, self._serialize = tpl, split, serialize
        self._chunks = template.generate(context)
        self._rest = ""

    def _finish(self, text: str) -> bytes:
        return self._serialize(_post_render(self._tpl, text.replace(self._split.cut, "")))

    def next(self) -> Iterator[bytes]:
        cut, end = self._split.cut, self._split.end
        pending: list[str] = []
        size = 0
        while True:
            if self._rest:
                piece, self._rest = self._rest, ""
            else:
                piece = next(self._chunks, None)
                if piece is None:
                    raise TemplateError("Mẫu văn bản cho kết quả không khớp khi ghi từng phần danh sách.")
            i = piece.find(end)
            if i >= 0:
                pending.append(piece[:i])
                self._rest = piece[i + len(end):]
                text = "".join(pending)
                if text:
                    yield self._finish(text)
                return
            pending.append(piece)
            size += len(piece)
            if size >= _BATCH_CHARS:
                text = "".join(pending)
                k = text.rfind(cut)
                if k >= 0:
                    k += len(cut)
                    yield self._finish(text[:k])
                    pending, size = [text[k:]], len(text) - k


#: What a streamed item (a row, a score sheet's page) is taken to weigh at most when choosing how the
#: document's body is stored in the zip: a page of the score sheets is about 24 KB, a row about 1 KB.
_ITEM_BYTES = 64 << 10


class _PastZipLimit(Exception):
    """The document's body, written as a plain zip member, passed zip's member size limit."""


def _streamed_items(value: Any) -> int:
    """How many items the streamed lists of a template context hold (``rows`` in every group,
    ``sheets``, …)."""
    if isinstance(value, Mapping):
        return sum(len(v) if k in STREAMED_LISTS and isinstance(v, Sized) else _streamed_items(v)
                   for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_streamed_items(v) for v in value)
    return 0


def _needs_zip64(context: dict) -> bool:
    """Whether the document's body is written as a zip64 member from the start: when its items could
    pass zip's 2 GB member limit at ``_ITEM_BYTES`` each (at 32,767 items; a 10,000-entry year's
    30,000 score-sheet pages are below).  A smaller document keeps the plain member, and so the bytes
    it always had; one whose items weigh more after all is written again as zip64 (see
    ``_render_into``)."""
    return _streamed_items(context) * _ITEM_BYTES > zipfile.ZIP64_LIMIT


class _Bounded:
    """A member's stream that stops the write (``_PastZipLimit``) when it passes zip's member limit."""

    def __init__(self, dst: Any) -> None:
        self._dst, self._size = dst, 0

    def write(self, data: bytes) -> int:
        self._size += len(data)
        if self._size > zipfile.ZIP64_LIMIT:
            raise _PastZipLimit
        return self._dst.write(data)


def _document_writer(tpl: Any, split: _Split, side_template: Any, context: dict, doc_xml: bytes,
                     *, zip64: bool) -> Callable[[Any], None]:
    marker = split.marker.encode("ascii")
    pieces = doc_xml.split(marker)

    def write(dst: Any) -> None:
        if not zip64:
            dst = _Bounded(dst)
        serialize = _Serializer(tpl.docx._element.nsmap)
        regions = _Regions(tpl, split, side_template, context, serialize)
        dst.write(pieces[0])
        for piece in pieces[1:]:
            for batch in regions.next():
                dst.write(batch)
            dst.write(piece)

    return write


def _render_into(template_name: str, view_model: Any, out: Any, *, templates_dir: str | os.PathLike | None,
                 identifier: str) -> tuple[str, ...]:
    """Render into the binary stream ``out``; return the warnings (see ``render_docx_bytes``)."""
    import jinja2

    kind = _kind_of(template_name, view_model)

    warnings: list[str] = []
    clean = sanitize(view_model, warnings)
    context = context_of(clean)
    path = find_template(template_name, templates_dir)
    check_template(path, context.keys(), kind.required if kind is not None else (), template_name=template_name)

    # Rendered in the sandbox; every source docxtpl compiles is checked again by the environment.
    rules = TemplateRules(path.name, context.keys(), kind.shapes if kind is not None else {})
    env = jinja_env(rules, template_folder(path))
    tpl = _streaming_template_class()(str(path))
    side = None
    try:
        tpl.render(context, jinja_env=env, autoescape=True)
        split = tpl.split
        if split is not None:
            side = env.from_string(re.sub(r"<w:p([ >])", r"\n<w:p\1", split.side))
    except TemplateError:
        raise
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"Mẫu “{path.name}” dùng chỗ điền không có: {exc.message}") from None
    except jinja2.SecurityError as exc:
        raise TemplateError(f"Mẫu “{path.name}” làm việc không được phép: {exc}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Mẫu “{path.name}” bị lỗi khi điền dữ liệu: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - e.g. {{ r.code + 1 }}: the template's mistake, not dvk's
        raise TemplateError(f"Mẫu “{path.name}” bị lỗi khi điền dữ liệu ({type(exc).__name__}: {exc}).") from None

    day = doc_date(clean)
    when = dt.datetime(day.year, day.month, day.day)
    lh = getattr(clean, "letterhead", None)
    author = " ".join(lh.org.split()) if lh is not None else "dvk"
    cp = tpl.docx.core_properties
    cp.author = author
    cp.last_modified_by = author
    cp.revision = 1
    cp.created = when
    cp.modified = when
    _drop_last_printed(cp)
    cp.comments = ""
    cp.category = ""
    if kind is not None:  # what the document is, not what it was made from
        phase = kind.scope == "phase"
        of = getattr(clean, "phase" if phase else "year", None)
        cp.subject = f"{kind.label} {'giai đoạn' if phase else 'năm'} {of}" if of else kind.label
    cp.keywords = identifier
    cp.identifier = identifier
    buf = io.BytesIO()
    tpl.save(buf)
    start = out.tell()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin:
        name = tpl.docx.part.partname.lstrip("/")
        if side is None:
            attempts: tuple[bool, ...] = (False,)  # no list streamed: the body is a copied member
        else:
            attempts = (True,) if _needs_zip64(context) else (False, True)
        for zip64 in attempts:
            members = {}
            if side is not None:
                members[name] = _document_writer(tpl, tpl.split, side, context, zin.read(name), zip64=zip64)
            try:
                rewrite_ooxml(zin, out, fixed_when(when), members=members, zip64={name} if zip64 else ())
                break
            except _PastZipLimit:  # its items weigh more than _ITEM_BYTES: written again, as zip64
                out.seek(start)
                out.truncate()
            except TemplateError:
                raise
            except jinja2.TemplateError as exc:
                raise TemplateError(f"Mẫu “{path.name}” bị lỗi khi điền dữ liệu: {exc}") from None
    return tuple(warnings)


def render_docx_bytes(
    template_name: str,
    view_model: Any,
    *,
    templates_dir: str | os.PathLike | None = None,
    identifier: str = "",
) -> tuple[bytes, tuple[str, ...]]:
    """Render ``view_model`` with the Word template ``template_name`` in memory.

    Returns the .docx bytes (deterministic: the same view model, template and ``identifier``
    give the same bytes) and the warnings about the input.  ``identifier`` is stored in the
    document's core properties (``identifier`` and ``keywords``) so a printed-out file can be
    traced back to the ledger; empty leaves both empty.  Raises ``TemplateError`` as
    ``render_docx`` does.  Long lists are streamed (see the module docstring).
    """
    out = io.BytesIO()
    warnings = _render_into(template_name, view_model, out, templates_dir=templates_dir, identifier=identifier)
    return out.getvalue(), warnings


def _drop_last_printed(cp: Any) -> None:
    """A generated file was never printed: no "last printed" date in its core properties."""
    el = cp._element
    for child in list(el):
        if child.tag.endswith("}lastPrinted"):
            el.remove(child)


def render_docx(
    template_name: str,
    view_model: Any,
    out_path: str | os.PathLike,
    *,
    templates_dir: str | os.PathLike | None = None,
    force: bool = False,
    identifier: str = "",
) -> RenderResult:
    """Render ``view_model`` with the Word template ``template_name`` into ``out_path``.

    The template is taken from ``templates_dir`` when that folder has it, else from the packaged
    templates.  Its placeholders are checked first (``TemplateError``); the view model's text is
    cleaned (see the module docstring) and escaped; the file is written atomically with mode 0600
    and deterministic bytes, streamed into a temporary file beside it.  Raises ``OutputExistsError``
    if ``out_path`` exists and not ``force``.  ``identifier`` goes into the core properties (see
    ``render_docx_bytes``).
    """
    out_path = Path(out_path)
    _kind_of(template_name, view_model)
    if out_path.exists() and not force:
        raise exists_error(out_path)
    fd, tmp = temp_beside(out_path, ".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            warnings = _render_into(template_name, view_model, fh, templates_dir=templates_dir,
                                    identifier=identifier)
            fh.flush()
            os.fsync(fh.fileno())
        digest = sha256_file(tmp)
        publish(tmp, out_path, force=force)
    finally:
        tmp.unlink(missing_ok=True)
    return RenderResult(out_path, digest, warnings)
