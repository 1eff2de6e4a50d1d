"""The ledger's own settings (`dvk settings`): what each means and which values it takes."""

from __future__ import annotations

from dvk.errors import InvalidInput, LedgerError
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dvk.ledger.sqlite import Ledger


BUSY_TIMEOUT_MS = 60_000  # how long a writer waits for another one before saying the ledger is busy
BACKUP_KEEP_DEFAULT = 10


SETTINGS: dict[str, str] = {
    "backup_keep": "Số bản sao lưu tự động giữ lại bên cạnh sổ (1–1000, mặc định 10).",
}


def check_setting(key: str, value: str) -> str:
    """Validate a ledger setting (`dvk settings set`); returns the value to store."""
    if key not in SETTINGS:
        raise InvalidInput(f"Không có cài đặt “{key}” (các cài đặt: {', '.join(SETTINGS)}).")
    if key == "backup_keep":
        try:
            n = int(str(value).strip())
        except ValueError:
            raise InvalidInput(f"backup_keep phải là một số nguyên (nhận được “{value}”).")
        if not 1 <= n <= 1000:
            raise InvalidInput(f"backup_keep phải từ 1 đến 1000 (nhận được {n}).")
        return str(n)
    return value  # pragma: no cover


def _backup_keep(ledger: "Ledger") -> int:
    try:
        value = ledger.setting("backup_keep")
        return max(1, int(value)) if value else BACKUP_KEEP_DEFAULT
    except (LedgerError, ValueError):
        return BACKUP_KEEP_DEFAULT
