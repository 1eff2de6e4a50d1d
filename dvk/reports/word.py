"""Word documents: a view model rendered with its (checked, sandboxed) docxtpl template into
deterministic .docx bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path
from typing import Any

from dvk.reports.context import doc_date, sanitize
from dvk.reports.kinds import DocKind, context_of, for_template
from dvk.reports.models import RenderResult
from dvk.reports.ooxml import exists_error, normalize_ooxml_zip, write_atomic
from dvk.reports.sandbox import TemplateRules, check_template, find_template, jinja_env, template_folder
from dvk.errors import TemplateError


def _kind_of(template_name: str, view_model: Any) -> DocKind | None:
    """The kind of ``template_name`` (None for a template no kind has); TypeError if ``view_model``
    is not that kind's view model."""
    kind = for_template(template_name)
    if kind is not None and not isinstance(view_model, kind.view_model):
        raise TypeError(f"{template_name} needs a {kind.view_model.__name__}, got {type(view_model).__name__}")
    return kind


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
    ``render_docx`` does.
    """
    import jinja2
    from docxtpl import DocxTemplate

    kind = _kind_of(template_name, view_model)

    warnings: list[str] = []
    clean = sanitize(view_model, warnings)
    context = context_of(clean)
    path = find_template(template_name, templates_dir)
    check_template(path, context.keys(), kind.required if kind is not None else (), template_name=template_name)

    # Rendered in the sandbox; every source docxtpl compiles is checked again by the environment.
    rules = TemplateRules(path.name, context.keys(), kind.shapes if kind is not None else {})
    tpl = DocxTemplate(str(path))
    try:
        tpl.render(context, jinja_env=jinja_env(rules, template_folder(path)), autoescape=True)
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
    return normalize_ooxml_zip(buf.getvalue(), when), tuple(warnings)


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
    and deterministic bytes.  Raises ``OutputExistsError`` if ``out_path`` exists and not ``force``.
    ``identifier`` goes into the core properties (see ``render_docx_bytes``).
    """
    out_path = Path(out_path)
    _kind_of(template_name, view_model)
    if out_path.exists() and not force:
        raise exists_error(out_path)
    data, warnings = render_docx_bytes(template_name, view_model, templates_dir=templates_dir,
                                       identifier=identifier)
    write_atomic(out_path, data, force=force)
    return RenderResult(out_path, hashlib.sha256(data).hexdigest(), warnings)
