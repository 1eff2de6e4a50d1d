"""PDF copies through LibreOffice (`soffice --headless --convert-to pdf`), each conversion with its own
profile folder and a time limit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from dvk.reports.ooxml import exists_error, write_atomic
from dvk.errors import PdfConversionError


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def docx_to_pdf(
    docx_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    timeout: float = 180,
) -> Path:
    """Convert a .docx to PDF with LibreOffice (``soffice --headless --convert-to pdf``).

    Uses a private LibreOffice profile so concurrent runs do not clash; the PDF is written into
    ``out_dir`` with the .docx's stem (atomic, mode 0600; ``force`` to replace an existing one).
    """
    exe = find_soffice()
    if exe is None:
        raise PdfConversionError(
            "Không tìm thấy LibreOffice (soffice) để xuất PDF. Cài đặt bằng lệnh: "
            "sudo apt-get install libreoffice-writer-nogui fonts-liberation")
    src = Path(docx_path)
    if not src.is_file():
        raise PdfConversionError(f"Không tìm thấy tệp “{src}” để xuất PDF.")
    out_dir = Path(out_dir)
    target = out_dir / (src.stem + ".pdf")
    if target.exists() and not force:
        raise exists_error(target)
    with tempfile.TemporaryDirectory(prefix="dvk-soffice-") as work:
        work_path = Path(work)
        profile = work_path / "profile"
        conv = work_path / "out"
        conv.mkdir()
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", "pdf", "--outdir", str(conv), str(src.resolve()),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException as exc:  # timeout or Ctrl-C: leave no LibreOffice behind
            # soffice forks soffice.bin: end the process group we started (and only it), then reap.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise PdfConversionError(
                    f"LibreOffice không xuất xong PDF cho “{src.name}” sau {int(timeout)} giây.") from None
            raise
        produced = conv / (src.stem + ".pdf")
        if proc.returncode != 0 or not produced.is_file():
            detail = (stderr or stdout or "").strip().splitlines()
            tail = detail[-1] if detail else f"mã lỗi {proc.returncode}"
            raise PdfConversionError(f"LibreOffice không xuất được PDF cho “{src.name}”: {tail}")
        write_atomic(target, produced.read_bytes(), force=force)
    return target
