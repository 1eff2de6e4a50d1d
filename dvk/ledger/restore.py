"""`dvk restore`: a checked backup replaces the ledger, the replaced ledger kept, no decision lost
without `--force`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from dvk.errors import LedgerError
from dvk.ledger.backup import _STAMP, _copy_database, backup_before, backup_dir
from dvk.ledger.failures import os_reason, translate
from dvk.ledger.paths import _check_header, _exists, _fsync_dir, check_path_text
from dvk.ledger.settings import BUSY_TIMEOUT_MS
from dvk.ledger.sqlite import Ledger, _has_table


@dataclass
class RestoreResult:
    """What `restore` did."""

    source: Path
    ledger: Path
    replaced: Path | None  # where the replaced ledger was kept (None: there was none)
    ledger_id: str | None
    other_ledger: bool  # the backup came from another ledger (allowed by --force)
    migrated_from: str | None
    records: int
    rows: int
    notes: list[str]
    decisions_lost: list[str] = field(default_factory=list)  # decisions dropped or changed (allowed by --force)


def restore(backup: Path, ledger_path: Path, *, force: bool = False, user: str, command: str) -> RestoreResult:
    """Replace the ledger by a checked backup, keeping the replaced ledger beside it.

    The backup is copied to a private staging file next to the ledger (the backup itself is
    never modified), upgraded if it is older, then must pass `PRAGMA integrity_check` and
    `dvk verify` (its history and its schema). Refused unless `force`: a backup of another ledger
    (another ledger id), and a backup that would drop or change a recognition decision the current
    ledger holds (absent, another number, date or year, another revoked state) — restoring must not
    undo a decision without a revocation; with `force` each such decision is named in the history.
    The restore's own history record is written into the staged copy, so the ledger is replaced
    together with it. The current ledger is kept in `<ledger>.backups/` (never rotated away), then
    overwritten through SQLite's backup API (one transaction, other processes wait) — or, when the
    current file cannot be opened at all, moved aside and replaced by a rename.
    """
    from dvk.ledger.verify import verify

    backup = Path(backup)
    ledger_path = Path(ledger_path)
    check_path_text(backup, "Tệp sao lưu")
    check_path_text(ledger_path)
    if not _exists(backup, backup):
        raise LedgerError(f"Không có tệp sao lưu “{backup}”.")
    if backup.is_dir():
        raise LedgerError(f"“{backup}” là một thư mục, không phải tệp sao lưu.")
    _check_header(backup, str(backup), empty_ok=False)
    if _exists(ledger_path, ledger_path) and os.path.samefile(backup, ledger_path):
        raise LedgerError(f"Tệp “{backup}” chính là sổ đang dùng; hãy chọn một tệp sao lưu.")
    if not _exists(ledger_path.parent, ledger_path.parent):
        raise LedgerError(f"Thư mục “{ledger_path.parent}” không tồn tại; hãy tạo thư mục trước.")

    staged = ledger_path.with_name(f".{ledger_path.name}.restore-{os.getpid()}.tmp")
    _remove_db_files(staged)
    notes: list[str] = []
    lost: list[str] = []
    try:
        try:
            _copy_database(backup, staged)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"Tệp sao lưu “{backup}” bị hỏng hoặc không phải là sổ dvk ({os_reason(exc)}); "
                              "không khôi phục. Sổ hiện tại giữ nguyên.")
        except OSError as exc:
            raise LedgerError(f"Không đọc được tệp sao lưu “{backup}”: {os_reason(exc)}. Sổ hiện tại giữ nguyên.")
        _refuse_odd_schema(staged, backup)  # before an upgrade runs anything a trigger could hook into
        with Ledger.open(staged, backup_on_migrate=False, shown=str(backup)) as st:
            migrated_from = None
            with st.read() as conn:
                last = conn.exec_driver_sql("SELECT command, summary FROM history ORDER BY id DESC LIMIT 1").first()
            if last is not None and last[0] == "migrate":
                migrated_from = last[1]
            problems = st.integrity_errors()
            if problems:
                raise LedgerError(f"Tệp sao lưu “{backup}” bị hỏng (kiểm tra toàn vẹn SQLite không đạt); "
                                  "không khôi phục.", details=problems[:50])
            report = verify(st)
            _refuse_odd_schema(staged, backup, [p.message for p in report.problems if p.kind == "schema"])
            if not report.ok:
                raise LedgerError(f"Tệp sao lưu “{backup}” không khớp với lịch sử của chính nó "
                                  f"({report.n_problems} chỗ sai); không khôi phục.",
                                  details=[p.message for p in report.problems[:50]])
            backup_id = st.setting("ledger_id")
            backup_decisions = _decisions(st)
        st.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{staged}{suffix}").unlink()

        replaced: Path | None = None
        other = False

        def summary(replaced: Path | None) -> str:
            """The restore's history record: from where, where the replaced ledger went, what --force allowed."""
            text = f"Khôi phục sổ từ bản sao lưu “{backup}”"
            if replaced:
                text += f"; sổ bị thay được giữ tại “{replaced}”"
            if other:
                text += f" (bản sao lưu của sổ khác, mã {backup_id}, khôi phục với --force)"
            if lost:
                text += (f"; bỏ hoặc thay đổi {len(lost)} quyết định mà sổ bị thay đang giữ (khôi phục với --force): "
                         + "; ".join(lost))
            return text

        if _exists(ledger_path, ledger_path):
            try:
                cur = Ledger.open(ledger_path)
            except LedgerError as exc:
                cur = None
                notes.append(f"Sổ hiện tại không mở được ({exc.message}); đã chuyển nguyên tệp sang thư mục sao lưu.")
            if cur is not None:
                with cur:
                    cur_id = cur.setting("ledger_id")
                    if cur_id and backup_id and cur_id != backup_id:
                        if not force:
                            raise LedgerError(
                                f"Tệp sao lưu “{backup}” là của một sổ khác (mã sổ {backup_id}, sổ hiện tại "
                                f"{cur_id}); không khôi phục. Nếu chắc chắn, chạy lại với --force "
                                "(sổ hiện tại vẫn được giữ lại)."
                            )
                        other = True
                    lost = decisions_lost(_decisions(cur), backup_decisions)
                    if lost and not force:
                        raise LedgerError(
                            f"Khôi phục bản sao lưu “{backup}” sẽ xóa hoặc thay đổi {len(lost)} quyết định công nhận "
                            "mà sổ hiện tại đang giữ, không qua quyết định thu hồi; không khôi phục. Sổ và bản sao lưu "
                            "giữ nguyên. Muốn sửa một quyết định, hãy thu hồi nó: dvk recognize --revoke. Nếu chắc "
                            "chắn muốn khôi phục, chạy lại với --force (sổ hiện tại vẫn được giữ lại, các quyết định "
                            "được ghi vào lịch sử).", details=lost)
                    aside = _aside_name(ledger_path)
                    _record_restore(staged, str(backup), user, command, summary(aside))
                    replaced = backup_before(cur, "replaced", dest=aside)
                    src = sqlite3.connect(str(staged))
                    try:
                        dst = sqlite3.connect(str(ledger_path), timeout=BUSY_TIMEOUT_MS / 1000)
                        try:
                            dst.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                            src.backup(dst)
                        finally:
                            dst.close()
                    except sqlite3.Error as exc:
                        raise translate(exc, ledger_path)
                    finally:
                        src.close()
            else:
                aside = _aside_name(ledger_path)
                _record_restore(staged, str(backup), user, command, summary(aside))
                replaced = _move_aside(ledger_path, aside)
                os.replace(staged, ledger_path)
                _fsync_dir(ledger_path.parent)
        else:
            _record_restore(staged, str(backup), user, command, summary(None))
            os.replace(staged, ledger_path)
            _fsync_dir(ledger_path.parent)
    finally:
        _remove_db_files(staged)

    with Ledger.open(ledger_path) as led:
        with led.read() as conn:
            records = conn.exec_driver_sql("SELECT count(*) FROM history").scalar() or 0
            rows = conn.exec_driver_sql("SELECT count(*) FROM entry").scalar() or 0
    if lost:
        notes.append(f"Đã bỏ hoặc thay đổi {len(lost)} quyết định mà sổ bị thay đang giữ (--force): "
                     + "; ".join(lost) + ".")
    return RestoreResult(source=backup, ledger=ledger_path, replaced=replaced, ledger_id=backup_id,
                         other_ledger=other, migrated_from=migrated_from, records=records, rows=rows, notes=notes,
                         decisions_lost=lost)


def _refuse_odd_schema(staged: Path, backup: Path, problems: list[str] | None = None) -> None:
    """Refuse a backup whose tables, columns, indexes, triggers or views are not what the migrations
    of its revision make (read from the staged copy itself when `problems` is not given)."""
    if problems is None:
        from dvk.ledger.verify import schema_problems

        try:
            raw = sqlite3.connect(f"{staged.resolve().as_uri()}?mode=ro", uri=True)
            try:
                problems = [p.message for p in schema_problems(raw)]
            finally:
                raw.close()
        except sqlite3.Error:
            return  # not readable as a ledger: opening it says why
    if problems:
        raise LedgerError(f"Tệp sao lưu “{backup}” có lược đồ khác với lược đồ dvk tạo ({len(problems)} chỗ: bảng, "
                          "cột, chỉ mục, trigger hoặc view lạ hay bị xóa); không khôi phục. Sổ hiện tại giữ nguyên.",
                          details=problems[:50])


def _record_restore(staged: Path, shown: str, user: str, command: str, summary: str) -> None:
    """Write the restore's history record into the staged copy (it replaces the ledger with it)."""
    with Ledger.open(staged, backup_on_migrate=False, shown=shown) as st:
        with st.write(user=user, command=command, summary=summary):
            pass
    raw = sqlite3.connect(str(staged))
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file: it is copied or renamed
    finally:
        raw.close()
    for suffix in ("-wal", "-shm"):
        side = Path(f"{staged}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            if suffix == "-shm" or side.stat().st_size == 0:
                side.unlink()


@dataclass(frozen=True)
class DecisionRow:
    """A recognition decision as `restore` compares it, with its Vietnamese title."""

    id: int
    year: int
    number: int
    decided_on: str
    revoked: bool
    title: str


def _decisions(ledger: Ledger) -> dict[int, DecisionRow]:
    """The decisions a ledger holds, by id, each titled "Quyết định số 07/QĐ-CĐN ngày 15/10/2026 (năm 2026)"
    with the symbol of the organisation profile of its year."""
    from dvk.wording import decision_title

    out: dict[int, DecisionRow] = {}
    with ledger.read() as conn:
        if not _has_table(conn, "decision"):
            return out
        rows = conn.exec_driver_sql("SELECT id, year, number, decided_on, revoked FROM decision ORDER BY id").all()
        for id_, year, number, decided_on, revoked in rows:
            try:
                symbol = _symbol_of_year(conn, int(year))
            except Exception:  # noqa: BLE001 - a damaged profile must not hide the decision
                symbol = "…"
            # a number or a date edited into nonsense is shown as stored
            title = f"{decision_title(number, symbol, str(decided_on))} (năm {year})"
            out[id_] = DecisionRow(id_, year, number, str(decided_on), bool(revoked), title)
    return out


def decisions_lost(current: dict[int, DecisionRow], backup: dict[int, DecisionRow]) -> list[str]:
    """Each decision of `current` that `backup` lacks or holds otherwise (year, number, date, revoked
    state), named, with the year it would unlock."""
    locked_after = {d.year for d in backup.values() if not d.revoked}
    out = []
    for d in current.values():
        b = backup.get(d.id)
        if b is None:
            why = "không có trong bản sao lưu"
        elif (b.year, b.number, b.decided_on) != (d.year, d.number, d.decided_on):
            why = f"bản sao lưu ghi thành {b.title}"
        elif b.revoked != d.revoked:
            why = "đã thu hồi, bản sao lưu ghi còn hiệu lực" if d.revoked else "bản sao lưu ghi đã thu hồi"
        else:
            continue
        if not d.revoked and d.year not in locked_after:
            why += f"; năm {d.year} sẽ không còn bị khóa"
        out.append(f"{d.title}: {why}")
    return out


def _remove_db_files(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"), Path(f"{path}.tmp")):
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            p.unlink()


def _aside_name(ledger_path: Path) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime(_STAMP)
    return backup_dir(ledger_path) / f"{ledger_path.stem}-{stamp}-replaced.sqlite"


def _move_aside(ledger_path: Path, dest: Path) -> Path:
    """Keep a ledger file that cannot be opened (with its -wal/-shm) in the backups folder, as `dest`."""
    folder = dest.parent
    folder.mkdir(mode=0o700, exist_ok=True)
    os.replace(ledger_path, dest)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{ledger_path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{dest}{suffix}"))
    _fsync_dir(folder)
    return dest


def _symbol_of_year(conn, year: int) -> str:
    """The document symbol ("CĐN") of the organisation profile in force for `year` (the newest from_year ≤ year,
    else the first one) — what `dvk.cycle.config.profile_for` reads, without the cycle's layer."""
    row = conn.exec_driver_sql("SELECT symbol FROM org_profile WHERE from_year <= ? ORDER BY from_year DESC LIMIT 1",
                               (year,)).first() or conn.exec_driver_sql(
        "SELECT symbol FROM org_profile ORDER BY from_year LIMIT 1").first()
    if row is None:
        raise LookupError("no organisation profile")
    return row[0]
