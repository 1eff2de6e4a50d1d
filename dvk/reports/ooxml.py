"""Files for print, written safely: deterministic OOXML zips (fixed timestamps and member order) and
atomic writes that never replace an existing file without `force`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from collections.abc import Callable, Collection, Mapping
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from dvk.errors import OutputExistsError


def _zip_rank(name: str) -> tuple[int, str]:
    if name == "[Content_Types].xml":
        return (0, name)
    if name == "_rels/.rels":
        return (1, name)
    return (2, name)


def fixed_when(when: dt.datetime | dt.date) -> dt.datetime:
    """The timestamp a file's members carry: a naive datetime, whole seconds, not before 1980 (zip's epoch)."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    if when.year < 1980:
        when = dt.datetime(1980, 1, 1)
    return when.replace(tzinfo=None, microsecond=0)


def rewrite_ooxml(zin: zipfile.ZipFile, out: Any, when: dt.datetime, *, core_dates: bool = True,
                  members: Mapping[str, Callable[[Any], None]] | None = None,
                  core_extra: Mapping[str, str] | None = None, zip64: Collection[str] = ()) -> None:
    """Copy ``zin`` into a new zip on ``out`` member by member (streamed, so a 100,000-row sheet is
    never held in memory), with fixed timestamps, stable order and fixed core-property dates.
    ``members`` maps a member's name to a function that writes its content instead (given the
    member's open, writable stream: a Word list's body streamed row by row).  ``core_extra`` adds
    core properties the writer could not set (``{"dc:identifier": "dvk:…"}``).  A member named in
    ``zip64`` is written as a zip64 member (its size may pass zip's 2 GB limit; a written member's size
    is not known before it is written); a copied member is one when its size asks for it."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    names = sorted((i.filename for i in zin.infolist()), key=_zip_rank)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            if core_dates and name == "docProps/core.xml":
                xml = zin.read(name).decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    xml = re.sub(rf"(<{tag}\b[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{stamp}\g<2>", xml)
                for tag, value in (core_extra or {}).items():
                    if f"<{tag}>" not in xml and f"<{tag} " not in xml:
                        xml = xml.replace("</cp:coreProperties>", f"<{tag}>{xml_escape(value)}</{tag}></cp:coreProperties>")
                zout.writestr(info, xml.encode("utf-8"))
                continue
            if members and name in members:
                with zout.open(info, "w", force_zip64=name in zip64) as dst:
                    members[name](dst)
                continue
            info.file_size = zin.getinfo(name).file_size  # so that zipfile knows when it needs zip64
            with zin.open(name) as src, zout.open(info, "w", force_zip64=name in zip64) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def normalize_ooxml_zip(data: bytes, when: dt.datetime | dt.date, *, core_dates: bool = True) -> bytes:
    """Rewrite an OOXML zip (.docx/.xlsx) deterministically: fixed member timestamps (``when``),
    stable member order ([Content_Types].xml, _rels/.rels, then sorted), deflate, and — with
    ``core_dates`` — the created/modified dates in docProps/core.xml set to ``when``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        rewrite_ooxml(zin, out, fixed_when(when), core_dates=core_dates)
    return out.getvalue()


def exists_error(path: Path) -> OutputExistsError:
    """The error for a file that is already there (never replaced without ``--force``)."""
    return OutputExistsError(
        f"Tệp “{path}” đã có; không ghi đè. Dùng --force để ghi đè, hoặc chọn tên tệp khác.")



def temp_beside(path: Path, suffix: str) -> tuple[int, Path]:
    """A new hidden temporary file in the folder of ``path`` (created if missing): its fd and path."""
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    return fd, Path(name)


def publish(tmp: Path, path: Path, *, force: bool) -> None:
    """Move a finished temporary file into place (mode 0600).  Without ``force`` an existing
    file is never replaced: the check and the move are one atomic hard link."""
    os.chmod(tmp, 0o600)
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise exists_error(path) from None
    except OSError:  # no hard links on this file system
        if path.exists():
            raise exists_error(path) from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


def write_atomic(path: Path, data: bytes, *, force: bool) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, then rename."""
    path = Path(path)
    if path.exists() and not force:
        raise exists_error(path)
    fd, tmp = temp_beside(path, ".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        publish(tmp, path, force=force)
    finally:
        tmp.unlink(missing_ok=True)
