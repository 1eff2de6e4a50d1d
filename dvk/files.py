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


def _size_text(n: int) -> str:
    """A size for a message: bytes (Vietnamese thousands) under 10 MiB, else whole MiB."""
    return f"{n / (1 << 20):.0f} MiB" if n >= 10 << 20 else f"{n:,} byte".replace(",", ".")


def read_regular(path: Path | str, *, max_bytes: int, what: str, hint: str,
                 sink=None) -> bytes | None:
    """Read a clerk's input file whole — only a regular file of at most `max_bytes` — or stream it to
    `sink(chunk)` (then None is returned). `what` names the file in messages ("tệp tiêu chí"), `hint` says
    what to give instead of a FIFO or device. A FIFO or a device is opened without blocking and refused,
    and the size is checked on the open file before reading, so no file can make dvk wait or read without
    end; call it before any write lock. Raises InvalidInput (NotFound for a missing file)."""
    import os
    import stat

    from dvk.errors import InvalidInput, NotFound, file_reason

    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise NotFound(f"Không tìm thấy {what} “{p}”.") from None
    except IsADirectoryError:
        raise InvalidInput(f"“{p}” là một thư mục, không phải {what}.") from None
    except OSError as exc:
        raise InvalidInput(f"Không mở được {what} “{p}”: {file_reason(exc)}.") from None
    too_big = f"{what[:1].upper()}{what[1:]} “{p}” quá lớn"
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InvalidInput(f"“{p}” là một thư mục, không phải {what}.")
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(f"“{p}” không phải là tệp thông thường (là thiết bị, FIFO hoặc socket); {hint}.")
        if st.st_size > max_bytes:
            raise InvalidInput(f"{too_big} ({_size_text(st.st_size)}, tối đa {_size_text(max_bytes)}).")
        chunks: list[bytes] = []
        n = 0
        with os.fdopen(fd, "rb", closefd=False) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                n += len(chunk)
                if n > max_bytes:  # it grew while being read
                    raise InvalidInput(f"{too_big} (tối đa {_size_text(max_bytes)}).")
                if sink is None:
                    chunks.append(chunk)
                else:
                    sink(chunk)
    except OSError as exc:
        raise InvalidInput(f"Không đọc được {what} “{p}”: {file_reason(exc)}.") from None
    finally:
        os.close(fd)
    return b"".join(chunks) if sink is None else None
