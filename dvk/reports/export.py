"""Ledger → view models → files: what `dvk export` writes, how each file is recorded, and
`dvk verify-doc`'s check of a file against the ledger.

The document layer (`dvk.reports`) is pure: it renders frozen view models.  This module reads a
year (or a phase) from the ledger inside one read snapshot, builds those view models — grouping
"I. Tập thể" (configured unit order, then registration order) and "II. Cá nhân" (given name,
middle names, family name, Vietnamese collation), scores with a decimal comma, the letterhead of
the organisation profile in force — writes the files, and records every file (name, kind, year or
phase, decision, SHA-256, and the few settings it was rendered with) in the `document` table in
one history record.

Decisions a clerk should know (also in `dvk export --help`):

* The recognition decision is written only when the year has a decision in force (after
  `dvk recognize`).  Without one, every other file is still written and a note says why the
  decision is missing; the command succeeds.
* The date printed on a document is `--date`; by default the decision's date when the year has
  one, otherwise today.  It is recorded with the file, so the same ledger state always renders
  the same bytes and `verify-doc` can render the file again.
* `--pdf` without LibreOffice: the Word files are written and recorded, a note says how to install
  LibreOffice, and the command still succeeds (exit 0).
* Existing files are never replaced without `--force`; with it the ledger and the files about to
  be replaced are first copied by `db.backup_before_overwrite`.

Workbooks are streamed: each sheet is fed by its own ordered pass over the year
(`ops.iter_year`), so a 100,000-entry year is never held in memory as rows of dicts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from dvk.cycle.common import check_year
from dvk.cycle.config import criteria_for
from dvk.files import sha256_file
from dvk.errors import OutputExistsError, PdfConversionError
from dvk.reports.models import RenderResult
from dvk.reports.ooxml import publish
from dvk.reports import pdf as pdf_files
from dvk.reports.pdf import docx_to_pdf
from dvk.reports.sandbox import check_view_model_template
from dvk.ledger.sqlite import Ledger
from dvk.errors import DvkError, InvalidInput, OutputError
from dvk.ledger.history import table
from dvk.reports.jobs import Job, parse_phase, plan_phase, plan_year
from dvk.reports.kinds import Options, label


INSTALL_LIBREOFFICE = ("sudo apt-get install libreoffice-writer-nogui fonts-liberation "
                       "(Windows/macOS: cài LibreOffice từ https://www.libreoffice.org)")


@dataclass(frozen=True)
class Written:
    """One file written by an export."""

    path: Path
    kind: str
    sha256: str
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        text = label(self.kind)
        return f"{text} (PDF)" if self.path.suffix.lower() == ".pdf" else text


@dataclass
class ExportResult:
    """What an export did: the files written (in order), notes for the clerk, and the folder of
    Word templates used instead of the packaged ones (``templates_dir``) with the templates that
    came from it (``templates_used``)."""

    files: list[Written] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    templates_dir: Path | None = None
    templates_used: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [f"{f.path.name}: {w}" for f in self.files for w in f.warnings]

    def as_dict(self) -> dict:
        return {"files": [{"path": str(f.path), "kind": f.kind, "sha256": f.sha256, "warnings": list(f.warnings)}
                          for f in self.files],
                "notes": list(self.notes),
                "templates": {"folder": str(self.templates_dir) if self.templates_dir else None,
                              "files": list(self.templates_used)}}


NOTHING_WRITTEN = "Chưa ghi văn bản nào; sổ không thay đổi."


_STAGING_PREFIX = ".dvk-export-"


_STAGING_SUFFIX = ".tmp"


_STAGING_UNLOCKED_STALE = 3600.0  # seconds, where no file lock can tell a live export from a dead one


def _shown(path: Path | str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 appear as “�”."""
    return os.fsencode(path).decode("utf-8", "replace")


def _check_utf8_name(path: Path, what: str) -> None:
    """A folder name the ledger can record (and a terminal can print): valid UTF-8."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"Tên {what} “{_shown(path)}” có ký tự không phải chữ Unicode (UTF-8) nên không ghi được vào sổ; "
            f"hãy dùng thư mục có tên bằng chữ Unicode. {NOTHING_WRITTEN}") from None


def _templates_dir(led: Ledger, given: Path | None) -> Path | None:
    """--templates, else a "templates" folder beside the ledger, else None (packaged templates)."""
    if given is not None:
        p = Path(given).expanduser()
        _check_utf8_name(p, "thư mục mẫu văn bản")
        if not p.is_dir():
            raise InvalidInput(f"Không tìm thấy thư mục mẫu văn bản “{given}”.")
        return p.resolve()
    beside = Path(led.path).resolve().parent / "templates"
    if not beside.is_dir():
        return None
    _check_utf8_name(beside, "thư mục mẫu văn bản")
    return beside


def _check_templates(jobs: Sequence[Job], folder: Path | None) -> tuple[list[str], bool]:
    """Check every Word template the jobs use (the sandbox rules and placeholders) before anything
    is written.  Returns the templates taken from ``folder`` and whether a packaged one is used."""
    custom: list[str] = []
    packaged = False
    for j in jobs:
        if j.template is None:
            continue
        path = check_view_model_template(j.template, j.vm, folder)
        if folder is not None and path.parent == folder:
            if j.template not in custom:
                custom.append(j.template)
        else:
            packaged = True
    return custom, packaged


def _templates_note(folder: Path, given: bool, custom: Sequence[str], packaged: bool) -> str:
    source = "--templates" if given else "thư mục templates cạnh sổ"
    if not custom:
        return (f"Thư mục mẫu văn bản “{folder}” ({source}) không có mẫu nào trùng tên mẫu của dvk: "
                "dùng mẫu có sẵn của dvk.")
    rest = "; các văn bản khác dùng mẫu có sẵn của dvk" if packaged else ""
    return f"Dùng mẫu văn bản riêng trong thư mục “{folder}” ({source}): {', '.join(custom)}{rest}."


class _Probe(Exception):
    """Rolls back the probe transaction of `_check_ledger_writable`."""


def _check_ledger_writable(led: Ledger, *, user: str, command: str, summary: str) -> None:
    """Open and roll back a write transaction (it records nothing): a read-only ledger, a full disk
    or a command line the history cannot store is refused before any file is written."""
    try:
        with led.write(user=user, command=command, summary=summary):
            raise _Probe
    except _Probe:
        pass
    except DvkError as exc:
        exc.message = f"{exc.message} Chưa ghi văn bản nào."
        raise


def _make_out(out: Path) -> list[Path]:
    """Create the out folder (and its missing parents); returns the folders created, deepest first."""
    from dvk.ledger.failures import os_reason

    created: list[Path] = []
    p = out
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Không tạo được thư mục “{out}”: {os_reason(exc)}. {NOTHING_WRITTEN}") from None
    return created


def _remove_created(created: Sequence[Path]) -> None:
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


def _lock(path: Path) -> int | None:
    """Open ``path`` and hold an exclusive lock on it; None if another live process holds it.
    (Without fcntl, e.g. on Windows, the file is only opened: staleness is then judged by age.)"""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        import fcntl
    except ImportError:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


class _Staging:
    """The hidden folder inside the out folder where an export writes its files before the ledger
    records them; held by a file lock while the export runs."""

    def __init__(self, out: Path) -> None:
        from dvk.ledger.failures import os_reason

        self.out = out
        try:
            self.path = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, suffix=_STAGING_SUFFIX, dir=out))
            self._fd = _lock(self.path / ".lock")
        except OSError as exc:
            raise OutputError(f"Không ghi được vào thư mục “{out}”: {os_reason(exc)}. {NOTHING_WRITTEN}") from None

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def clean_stale(out: Path) -> None:
        """Remove staging folders of exports that were killed (their lock is free)."""
        import time

        try:
            candidates = [p for p in out.glob(f"{_STAGING_PREFIX}*{_STAGING_SUFFIX}")
                          if p.is_dir() and not p.is_symlink()]
        except OSError:
            return
        for p in candidates:
            try:
                age = time.time() - p.stat().st_mtime
                lock = p / ".lock"
                if not lock.exists():
                    if age > 60:  # killed between creating the folder and its lock
                        shutil.rmtree(p, ignore_errors=True)
                    continue
                fd = _lock(lock)
                if fd is None:
                    continue  # a live export
                try:
                    if _has_flock() or age > _STAGING_UNLOCKED_STALE:
                        shutil.rmtree(p, ignore_errors=True)
                finally:
                    os.close(fd)
            except OSError:
                continue



def _state_mark(conn: Connection) -> int:
    ht = table("history")
    return conn.execute(select(func.max(ht.c.id))).scalar() or 0


def _write_staged(j: Job, conn: Connection, staging: Path, out: Path, templates: Path | None) -> RenderResult:
    """Render one job into the staging folder; a write error names the file and says why."""
    from dvk.ledger.failures import os_reason

    try:
        return j.write(conn, staging / j.name, templates=templates, force=False)
    except OSError as exc:
        raise OutputError(f"Không ghi được tệp “{out / j.name}”: {os_reason(exc)}. {NOTHING_WRITTEN}") from None


def _publish_all(files: Sequence[tuple[Path, Path]], out: Path, *, force: bool) -> None:
    """Rename the staged files to their final names (after the ledger recorded them)."""
    from dvk.ledger.failures import os_reason
    from dvk.ledger.paths import _fsync_dir

    for src, dst in files:
        try:
            publish(src, dst, force=force)
        except (OSError, OutputExistsError) as exc:
            why = os_reason(exc) if isinstance(exc, OSError) else "tệp vừa xuất hiện ở đó trong lúc xuất"
            raise OutputError(f"Sổ đã ghi nhận các văn bản nhưng không đặt được tệp “{dst}” vào thư mục: {why}. "
                              "Chạy lại lệnh (thêm --force nếu tệp đã có) để ghi lại.") from None
    _fsync_dir(out)


def _run(led: Ledger, plan: Callable[[Connection, Options], tuple[list[Job], list[str]]], out: Path,
         opts: Options, *, user: str, command: str, force: bool, pdf: bool, summary: str) -> ExportResult:
    out = Path(out).expanduser()
    _check_utf8_name(out, "thư mục ghi văn bản")
    if out.exists() and not out.is_dir():
        raise OutputError(f"“{out}” không phải là thư mục.")
    given = opts.templates is not None
    opts = dataclasses.replace(opts, templates=_templates_dir(led, opts.templates))
    soffice = pdf_files.find_soffice() if pdf else None
    with led.read() as conn:
        jobs, notes = plan(conn, opts)
        mark = _state_mark(conn)
    result = ExportResult(notes=list(notes))
    try:
        custom, packaged = _check_templates(jobs, opts.templates)
    except DvkError as exc:
        exc.message = f"{exc.message} {NOTHING_WRITTEN}"
        raise
    if opts.templates is not None:
        result.templates_dir = opts.templates
        result.templates_used = custom
        if custom or packaged:  # some Word document is written
            result.notes.append(_templates_note(opts.templates, given, custom, packaged))
    if pdf and soffice is None:
        result.notes.append("Không tìm thấy LibreOffice (soffice) nên chưa xuất PDF; các tệp Word vẫn được ghi. "
                            f"Cài đặt: {INSTALL_LIBREOFFICE}")
    targets = [out / j.name for j in jobs]
    if soffice:
        targets += [out / (Path(j.name).stem + ".pdf") for j in jobs if j.template is not None]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise OutputError(f"Đã có {len(existing)} tệp trong “{out}”; không ghi đè văn bản đã có. "
                          "Chọn thư mục khác, hoặc dùng --force để ghi đè (sổ và các tệp cũ được sao lưu trước).",
                          details=[str(p) for p in existing])
    if not jobs:
        return result
    _check_ledger_writable(led, user=user, command=command, summary=summary)
    created = _make_out(out)
    try:
        _Staging.clean_stale(out)
        staging = _Staging(out)
    except BaseException:
        _remove_created(created)
        raise
    written: list[tuple[Job, RenderResult]] = []
    pdfs: list[tuple[Job, Path, str]] = []
    try:
        if existing:
            from dvk.ledger.backup import backup_before_overwrite, backup_dir

            kept = backup_before_overwrite(led, existing)
            if kept is not None:
                result.notes.append(f"Đã sao lưu sổ và {len(existing)} tệp sắp bị ghi đè vào “{kept.parent}”.")
            else:  # a login that reads only part of a server ledger: the files, not the ledger
                result.notes.append(f"Đã giữ bản sao {len(existing)} tệp sắp bị ghi đè trong “{backup_dir(led)}”.")
        try:
            with led.read() as conn:
                if _state_mark(conn) != mark:
                    raise OutputError("Sổ vừa có thay đổi trong lúc chuẩn bị văn bản; hãy chạy lại lệnh.")
                for j in jobs:
                    written.append((j, _write_staged(j, conn, staging.path, out, opts.templates)))
            if soffice:
                pdfs = _convert_all([(j, r) for j, r in written if j.template is not None], staging.path, out,
                                    result)
            _record(led, written, pdfs, user=user, command=command, summary=summary)
        except DvkError as exc:
            if NOTHING_WRITTEN not in exc.message:
                exc.message = f"{exc.message} {NOTHING_WRITTEN}"
            raise
        _publish_all([(r.path, out / j.name) for j, r in written]
                     + [(p, out / p.name) for _, p, _ in pdfs], out, force=force)
    except BaseException:
        staging.remove()
        if not any(t.exists() for t in targets):
            _remove_created(created)
        raise
    finally:
        staging.remove()
    for j, r in written:
        result.files.append(Written(out / j.name, j.kind, r.sha256, tuple(r.warnings)))
    for j, path, digest in pdfs:
        result.files.append(Written(out / path.name, j.kind, digest))
    return result


def _convert_all(items: list[tuple[Job, RenderResult]], staging: Path, out: Path,
                 result: ExportResult) -> list[tuple[Job, Path, str]]:
    """Convert the staged Word files to PDF in the staging folder, a few LibreOffice processes at a
    time (each has its own profile).  A conversion LibreOffice cannot do is a note; a write error
    (a full disk) stops the export."""
    from concurrent.futures import ThreadPoolExecutor

    from dvk.ledger.failures import os_reason

    def one(item):
        j, r = item
        try:
            return j, docx_to_pdf(r.path, staging, force=False), r.sha256
        except PdfConversionError as exc:
            return j, exc, r.sha256
        except OSError as exc:
            name = Path(j.name).stem + ".pdf"
            return j, OutputError(f"Không ghi được tệp “{out / name}”: {os_reason(exc)}."), r.sha256

    workers = max(1, min(4, os.cpu_count() or 1, len(items)))
    done: list[tuple[Job, Path, str]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(one, items))
    for j, res, src in outcomes:
        if isinstance(res, OutputError) and not isinstance(res, PdfConversionError):
            raise res
        if isinstance(res, Exception):
            result.notes.append(res.message if isinstance(res, DvkError) else str(res))
            continue
        done.append((j, res, src))
    return [(j, p, sha256_file(p)) for j, p, _ in done] if done else []



def _record(led: Ledger, written, pdfs, *, user: str, command: str, summary: str) -> None:
    """One history record listing every file written, with its SHA-256."""
    sources = {j.name: r.sha256 for j, r in written}
    from dvk.cycle.orgs import current as org_of

    with led.write(user=user, command=command, summary=summary) as tx:
        org = org_of(tx.conn)
        for j, r in written:
            tx.upsert("document", {"org_code": org, "sha256": r.sha256, "name": j.name, "kind": j.kind,
                                   "year": j.key if isinstance(j.key, int) else None,
                                   "phase": j.key if isinstance(j.key, str) else None,
                                   "decision_id": j.decision_id,
                                   "params": json.dumps(j.params, ensure_ascii=False, sort_keys=True)})
        for j, path, digest in pdfs:
            tx.upsert("document", {"org_code": org, "sha256": digest, "name": path.name, "kind": j.kind,
                                   "year": j.key if isinstance(j.key, int) else None,
                                   "phase": j.key if isinstance(j.key, str) else None,
                                   "decision_id": j.decision_id,
                                   "params": json.dumps({"pdf_of": sources[j.name]}, sort_keys=True)})


def export_year(led: Ledger, year: int, out: Path, opts: Options = Options(), *, user: str, command: str,
                force: bool = False, pdf: bool = False, kinds: Sequence[str] | None = None) -> ExportResult:
    """Write a year's documents (or only the ``kinds`` named) into ``out`` and record them (see the
    module docstring)."""
    check_year(year)
    return _run(led, lambda conn, o: plan_year(conn, year, o, kinds=kinds), out, opts, user=user, command=command,
                force=force, pdf=pdf, summary=f"Xuất văn bản năm {year}")


def export_phase(led: Ledger, phase: str, out: Path, opts: Options = Options(), *, user: str, command: str,
                 force: bool = False, pdf: bool = False) -> ExportResult:
    """Write the phase summary (reward proposal and workbook) into ``out`` and record them."""
    phase, _ = parse_phase(phase)
    return _run(led, lambda conn, o: plan_phase(conn, phase, o), out, opts, user=user, command=command,
                force=force, pdf=pdf, summary=f"Xuất văn bản tổng kết giai đoạn {phase}")


def demo_documents(path: Path, out: Path, *, years: Sequence[int], phase: str | None, force: bool = False,
                   echo: Callable[[str], None] = print, user: str | None = None) -> list[Path]:
    """`dvk demo`: write every document of the demo ledger at ``path`` into ``out``.  Returns the
    files written.

    The demo's years are all recognised, so the reminder letter of each year is written as it
    stood a month before the recognition day (before the decision), listing what the units then
    still owed; `verify-doc` checks it the same way.
    """
    from dvk.ledger.paths import current_user

    who = current_user(user)
    written: list[Path] = []
    from dvk.ledger.stores import open_ledger

    with open_ledger(path) as led:
        for y in years:
            res = export_year(led, y, out, Options(), user=who, command="dvk demo", force=force)
            _echo_result(res, echo)
            written += [f.path for f in res.files]
            with led.read() as conn:
                day = criteria_for(conn, y).recognition_day(y) - dt.timedelta(days=30)
            res = _run(led, lambda conn, o, y=y: plan_year(conn, y, o, kinds=("reminder",), before_decision=True),
                       out, Options(on=day, reminders=True), user=who, command="dvk demo", force=force, pdf=False,
                       summary=f"Xuất công văn đôn đốc năm {y} (trước quyết định)")
            _echo_result(res, echo)
            written += [f.path for f in res.files]
        if phase:
            res = export_phase(led, phase, out, Options(), user=who, command="dvk demo", force=force)
            _echo_result(res, echo)
            written += [f.path for f in res.files]
    return written


def _echo_result(res: ExportResult, echo: Callable[[str], None]) -> None:
    for f in res.files:
        echo(f"  {f.path.name}  {f.sha256[:12]}  {f.label}")
    for n in res.notes:
        echo(f"  Lưu ý: {n}")
    for w in res.warnings:
        echo(f"  Cảnh báo: {w}")
