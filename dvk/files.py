"""Small file helpers shared by the report store, the exporter and the document layer."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path | str) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Bounds of a Word file read from a clerk (a template, a filled report form): a real one is a few MB.
DOCX_MAX_BYTES = 20 << 20
DOCX_MAX_UNPACKED = 100 << 20
DOCX_MAX_PARTS = 2000


def docx_size_problem(path: Path, *, what: str) -> str | None:
    """Why a .docx (zip) must not be opened — too big on disk, too many parts, or too big unpacked (a
    "zip bomb") — as a Vietnamese sentence naming `what` ("Mẫu “x.docx”"), or None. Checked from the
    file size and the zip's directory only, before any part is decompressed."""
    import zipfile

    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        from dvk.errors import file_reason

        return f"Không đọc được {what} ({file_reason(exc)})."
    if size > DOCX_MAX_BYTES:
        return f"{what} quá lớn ({size // (1 << 20)} MB; tối đa {DOCX_MAX_BYTES >> 20} MB) nên không được đọc."
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # not a zip at all: the caller's own reading says so, in its words
    unpacked = sum(i.file_size for i in infos)
    if len(infos) > DOCX_MAX_PARTS or unpacked > DOCX_MAX_UNPACKED:
        return (f"{what} quá lớn khi giải nén ({len(infos)} phần, {unpacked // (1 << 20)} MB; tối đa "
                f"{DOCX_MAX_PARTS} phần, {DOCX_MAX_UNPACKED >> 20} MB) nên không được đọc.")
    return None
