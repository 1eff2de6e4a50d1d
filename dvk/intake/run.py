"""Bulk intake (nhập hàng loạt): registrations, reports, confirmations and scores from files.

The 34 grassroots unions send Excel/CSV/JSON files; `dvk register|report|confirm|score --from FILE`
brings them in. One import is:

1. **read** — `dvk.tabular.read_table` streams the rows (headers matched regardless of case,
   diacritics and spacing; legacy TCVN3/VNI text converted; every cell NFC);
2. **check** — every row is checked with the same rules as the single-entry commands, and every
   problem is collected as a `Problem(reason, file, row, column, value)`;
3. **plan** — rows are decided by batches of `BATCH` inside a READ transaction (a snapshot of the
   ledger; no write lock): what each row matches, new ids, conflicts. The writes decided go to a
   `dvk.ledger.plan.WritePlan` on disk (a temporary SQLite file), which also answers "was this key planned already?"
   for the later rows of the file, as the ledger would if they had been written;
4. **write** — only then is the write lock taken, the ledger checked unchanged since the snapshot
   (its last history record), and the planned batches applied in ONE transaction, in their order:
   new rows through `dvk.ledger.bulk.insert_rows` (executemany; each row recorded in the history exactly as
   `Tx.insert_many` records it), changed rows (`--update`) through `Tx.update_many`. If another
   command wrote meanwhile, the file is planned again; when that keeps happening, the last of
   `REPLANS` plans is made under the lock from the rows the plan before kept on disk (never from
   the file itself), so an import always ends.

So the input file is read and checked without holding the lock: a slow disk, a huge file or a
refused one never makes another writer wait, and a dry run never takes the lock at all.

All or nothing: if any row is bad (and `--skip-invalid` is not given) nothing is written and
`ValidationFailed` lists every problem. A dry run runs the very same planning, so its counts and
ids are exactly those of the real run. An import that changes nothing writes nothing (no empty
history record).

Idempotent: a registration is matched to the ledger by `ops.match_key` (folded unit, title and
person, indexed by year); reports and confirmations by entry id; scores by entry id and council
member. The same row again is "already there"; the same key with different values is a conflict
(listed, not written) unless `--update`.

Memory stays bounded: rows are streamed, only the current batch is held, existing rows are looked
up per batch with an indexed IN query (rows planned by earlier batches of the same import, in the
plan's index), planned writes and rejected rows are spooled to temporary files, and only a capped
number of problems, conflicts and new ids is kept for the report.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dvk.cycle.common import check_year
from dvk.errors import InvalidInput, ValidationFailed
from dvk.ledger.history import last_record
from dvk.ledger.plan import WritePlan
from dvk.intake.columns import KIND_LABELS
from dvk.intake.confirmations import _Confirmations
from dvk.intake.engine import PLAN_GROUPS, PLAN_KEYS, _Importer, _Spool, _progress
from dvk.intake.registrations import _Registrations
from dvk.intake.reports import _Reports
from dvk.intake.result import ImportOptions, ImportResult
from dvk.intake.scores import _Scores


REPLANS = 3  # plans of one import when other commands keep writing meanwhile


IMPORTERS: dict[str, type[_Importer]] = {
    "registrations": _Registrations,
    "reports": _Reports,
    "confirmations": _Confirmations,
    "scores": _Scores,
}


class _Changed(Exception):
    """The ledger changed between the plan (a snapshot) and the write lock: plan again."""


def _rejects_format(path: Path, table_format: str) -> str:
    ext = path.suffix.lower().lstrip(".")
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    if ext in ("xlsx", "xlsm"):
        return "xlsx"
    if ext == "json":
        return "json"
    return table_format


def check_options(opts: ImportOptions) -> None:
    if opts.year is not None:
        check_year(opts.year)
    if opts.rejects is not None and not opts.skip_invalid:
        raise InvalidInput("--rejects chỉ dùng cùng --skip-invalid (nhập các dòng hợp lệ, ghi các dòng bị loại "
                           "ra tệp).")


def _samefile(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return p.absolute()


def check_rejects_target(rejects: Path, *, ledger: Path, source: Path, force: bool) -> Path:
    """The --rejects file, refused (InvalidInput) before anything is read or written when it is —
    whatever `force` says — the ledger, one of its side files (-wal, -shm, -journal), anything in
    its backups folder, any SQLite database (another ledger, a backup copied elsewhere), the input
    file (also through a hard or symbolic link), a directory or a special file; when it exists
    (unless `force`); or when its folder is missing or not writable.
    """
    from dvk.ledger.backup import backup_dir
    from dvk.ledger.paths import SQLITE_MAGIC

    target = Path(rejects).expanduser()
    what = f"Tệp ghi dòng bị loại (--rejects) “{target}”"
    real = _resolved(target)
    ledger_files = [Path(f"{q}{side}") for q in {Path(ledger).absolute(), _resolved(Path(ledger))}
                    for side in ("", "-wal", "-shm", "-journal")]
    if real in ledger_files or target.absolute() in ledger_files or any(_samefile(target, q) for q in ledger_files):
        raise InvalidInput(f"{what} là chính sổ “{ledger}” hoặc tệp đi kèm của sổ; dvk không bao giờ ghi đè sổ. "
                           "Hãy chọn tệp khác.")
    backups = {backup_dir(Path(ledger).absolute()), backup_dir(_resolved(Path(ledger)))}
    for folder in backups | {_resolved(b) for b in backups}:
        if real == folder or folder in real.parents or folder in target.absolute().parents:
            raise InvalidInput(f"{what} nằm trong thư mục sao lưu “{folder}” của sổ; dvk không ghi vào đó. "
                               "Hãy chọn tệp khác.")
    if real == _resolved(source) or _samefile(target, source):
        raise InvalidInput(f"{what} không được trùng với tệp nhập “{source.name}”.")
    if os.path.lexists(target):
        try:
            st = os.stat(target)
        except OSError:
            st = None  # a symbolic link to nothing: replacing the link itself writes nowhere else
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                raise InvalidInput(f"{what} là một thư mục; hãy nêu tên tệp (ví dụ “{target / 'loai.csv'}”).")
            if not stat.S_ISREG(st.st_mode):
                raise InvalidInput(f"{what} không phải là tệp thường; hãy chọn tệp khác.")
            try:
                with open(target, "rb") as fh:
                    head = fh.read(len(SQLITE_MAGIC))
            except OSError:
                head = b""
            if head == SQLITE_MAGIC:
                raise InvalidInput(f"{what} là một cơ sở dữ liệu SQLite (một sổ hay một bản sao lưu?); dvk không ghi "
                                   "đè tệp này, kể cả với --force. Hãy chọn tệp khác.")
        if not force:
            raise InvalidInput(f"{what} đã tồn tại; dvk không ghi đè. Hãy chọn tên khác, hoặc dùng --force để ghi đè "
                               "tệp đó. Chưa nhập gì.")
    folder = target.parent
    if not folder.exists():
        raise InvalidInput(f"Thư mục “{folder}” của tệp ghi dòng bị loại (--rejects) không tồn tại. Chưa nhập gì.")
    if not folder.is_dir():
        raise InvalidInput(f"“{folder}” (thư mục của tệp --rejects) không phải là thư mục. Chưa nhập gì.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"Không có quyền ghi vào thư mục “{folder}” của tệp ghi dòng bị loại (--rejects). "
                           "Chưa nhập gì.")
    return target


@dataclass
class _Planned:
    """One plan of an import: the importer (its table, rejects headers), the result, the writes."""

    importer: _Importer
    res: ImportResult
    plan: WritePlan
    spool: _Spool | None
    mark: int

    def close(self) -> None:
        try:
            self.plan.close()
        finally:
            if self.spool is not None:
                self.spool.close()


def _plan(conn: Any, kind: str, path: Path, opts: ImportOptions, *, replay: Any = None,
          keep_rows: _Spool | None = None) -> _Planned:
    """Read, check and decide the whole file on `conn` (a read transaction: no write lock), or with
    `replay` = (table, rows) the rows an earlier plan read from it (`keep_rows` keeps them)."""
    spool = _Spool() if (opts.skip_invalid and opts.rejects is not None) else None
    plan = WritePlan(PLAN_KEYS, PLAN_GROUPS)
    try:
        importer = IMPORTERS[kind](conn, path, opts, spool, plan)
        importer.replay, importer.keep_rows = replay, keep_rows
        res = importer.run()
        mark = last_record(conn)
    except BaseException:
        plan.close()
        if spool is not None:
            spool.close()
        raise
    return _Planned(importer, res, plan, spool, mark)


def _write_plan(tx: Any, planned: _Planned, opts: ImportOptions, before_commit: Any) -> None:
    """Apply the planned batches in `tx`, in their order, through the calls that would have made them."""
    progress = _progress(opts, "Đang ghi vào sổ")
    try:
        planned.plan.apply(tx, lambda done: progress.update(done - done % 1000))
    finally:
        progress.close()
    planned.res.changes = tx.n
    tx.note(planned.res.summary_line())
    if before_commit is not None:
        before_commit()


def _refuse_problems(res: ImportResult, path: Path, opts: ImportOptions) -> None:
    if res.problem_count and not opts.skip_invalid:
        raise ValidationFailed(
            problems=res.problems,
            headline=f"Tệp “{path.name}” có {res.problem_count} lỗi ở {res.rejected} dòng; không ghi gì vào sổ. "
                     "Sửa tệp rồi nhập lại (hoặc dùng --skip-invalid --rejects TỆP để nhập các dòng hợp lệ và ghi "
                     "các dòng lỗi ra tệp).",
        )


class _NothingToWrite(Exception):
    """Raised inside a write transaction to leave it without a trace (the import changes nothing)."""


def _stage_rejects(target: Path, planned: _Planned) -> Path:
    """Write the rejected rows to a new temporary file beside `target` (published after the commit)."""
    from dvk.intake.tables.base import TableError
    from dvk.intake.tables.rejects import write_rejects

    importer = planned.importer
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp{target.suffix}")
    fmt = _rejects_format(target, importer.table.format)
    try:
        write_rejects(tmp, fmt, importer.reject_headers, planned.spool.rows() if planned.spool else [],
                      importer.reason_key, delimiter=importer.table.delimiter if fmt == "csv" else None,
                      reason_header=importer.reason_key)
    except TableError as exc:
        raise InvalidInput(exc.message.replace(str(tmp), str(target)) + " Chưa nhập gì vào sổ.")
    return tmp


def _publish_rejects(tmp: Path, target: Path, force: bool) -> None:
    """Give the rejects file its name: never over another file unless `force` (no clobbering race:
    a hard link fails if the name was taken meanwhile)."""
    from dvk.ledger.failures import os_reason

    kept = f" Các dòng hợp lệ đã được ghi vào sổ; các dòng bị loại được giữ ở tệp “{tmp}”."
    try:
        if force:
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise InvalidInput(f"Tệp “{target}” vừa được tạo trong lúc nhập; dvk không ghi đè." + kept)
        except OSError:  # a file system without hard links (FAT, some network shares)
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            os.replace(tmp, target)
            return
        os.unlink(tmp)
    except FileExistsError:
        raise InvalidInput(f"Tệp “{target}” vừa được tạo trong lúc nhập; dvk không ghi đè." + kept)
    except OSError as exc:
        raise InvalidInput(f"Không ghi được tệp “{target}”: {os_reason(exc)}." + kept)


def run_import(led: Any, kind: str, path: Path, opts: ImportOptions, *, user: str, command: str,
               before_commit: Any = None) -> ImportResult:
    """Import one file into the ledger `led` (a dvk.ledger.store.Store); all or nothing, in one transaction.

    The file is read, checked and planned without the write lock (see the module's docstring);
    the lock is held only to write the plan. If other commands wrote meanwhile, the file is
    planned again; the last of `REPLANS` plans is made under the write lock from the rows the
    one before read and kept (not from the file), so an import always ends.
    `before_commit()`, if given, is called as the last thing inside the write transaction (the
    CLI makes Ctrl-C wait from there: a commit is whole).

    Raises ValidationFailed (every problem listed) when a row is bad and `skip_invalid` is off,
    LockedYear when it would change a decided year, InvalidInput for an unreadable file or a
    refused --rejects file (checked before anything else).
    """
    if kind not in IMPORTERS:
        raise ValueError(kind)
    check_options(opts)
    path = Path(path)
    target = None
    if opts.rejects is not None:
        target = check_rejects_target(opts.rejects, ledger=led.path, source=path, force=opts.force)
    summary = f"Nhập {KIND_LABELS[kind]} từ {path.name}"
    gc_was = _fewer_collections()
    kept: tuple[Any, _Spool] | None = None  # (table, rows) read by the last plan made without the lock
    try:
        for attempt in range(1, REPLANS):
            keep = _Spool() if attempt == REPLANS - 1 else None
            try:
                with led.read() as conn:
                    planned = _plan(conn, kind, path, opts, keep_rows=keep)
            except BaseException:
                if keep is not None:
                    keep.close()
                raise
            if keep is not None:
                kept = (planned.importer.table, keep)
            staged: Path | None = None
            try:
                res = planned.res
                _refuse_problems(res, path, opts)
                if opts.dry_run:
                    return res
                if target is not None:
                    staged = _stage_rejects(target, planned)
                if planned.plan.n_ops:
                    with led.write(user=user, command=command, summary=summary) as tx:
                        if last_record(tx.conn, below=tx.history_id) != planned.mark:
                            raise _Changed
                        _write_plan(tx, planned, opts, before_commit)
                if staged is not None:
                    tmp, staged = staged, None  # kept (and named in the message) if it cannot be published
                    _publish_rejects(tmp, target, opts.force)  # type: ignore[arg-type]
                    res.rejects_file = str(target)
                return res
            except _Changed:
                continue
            finally:
                if staged is not None:
                    _unlink(staged)
                planned.close()
        # Other commands wrote during every plan: the last one under the lock, from the rows kept.
        staged = None
        locked: _Planned | None = None
        try:
            try:
                with led.write(user=user, command=command, summary=summary) as tx:
                    locked = _plan(tx.conn, kind, path, opts, replay=kept)
                    _refuse_problems(locked.res, path, opts)
                    if target is not None:
                        staged = _stage_rejects(target, locked)
                    if not locked.plan.n_ops:
                        raise _NothingToWrite
                    _write_plan(tx, locked, opts, before_commit)
            except _NothingToWrite:
                pass
            res = locked.res
            if staged is not None:
                tmp, staged = staged, None
                _publish_rejects(tmp, target, opts.force)  # type: ignore[arg-type]
                res.rejects_file = str(target)
            return res
        finally:
            if staged is not None:
                _unlink(staged)
            if locked is not None:
                locked.close()
    finally:
        if kept is not None:
            kept[1].close()
        _fewer_collections(gc_was)


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def _fewer_collections(restore: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
    """Run the cyclic garbage collector less often during an import, or restore its thresholds.

    An import allocates a few dicts and tuples per row, none in a cycle, and frees them batch by
    batch; with the default threshold (a young collection every 700 allocations, and full ones
    that walk every object SQLAlchemy and Typer keep alive) the collector took about a sixth of
    the CPU time of a 100,000-row import. Reference counting still frees everything at once.
    """
    import gc

    if restore is not None:
        gc.set_threshold(*restore)
        return restore
    was = gc.get_threshold()
    gc.set_threshold(max(was[0], 50_000), max(was[1], 20), max(was[2], 100))
    return was
