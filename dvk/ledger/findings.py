"""What `dvk verify` finds (`Report`) and each disagreement in it (`Problem`): shared by its passes
(`dvk.ledger.verify`: the chain and the schema; `dvk.ledger.replay`: the state)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dvk.text.numbers import thousands

MAX_KEPT = 1000  # problems kept with their details; the rest are only counted


@dataclass
class Problem:
    """One disagreement, with where it is and what differs."""

    kind: str  # chain | missing | extra | differs
    message: str
    table: str | None = None
    key: str | None = None
    column: str | None = None
    expected: Any = None
    found: Any = None
    history_id: int | None = None


@dataclass
class Report:
    """What `verify` found. `ok` when the chain holds and every row agrees with the history."""

    records: int = 0
    changes: int = 0
    rows: int = 0
    head_id: int | None = None
    head_hash: str | None = None
    n_problems: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.n_problems == 0

    def add(self, problem: Problem) -> None:
        self.n_problems += 1
        if len(self.problems) < MAX_KEPT:
            self.problems.append(problem)

    def summary(self) -> str:
        """One Vietnamese line."""
        if self.ok:
            head = f" Mã kiểm tra cuối: #{self.head_id} {self.head_hash[:16]}." if self.head_hash else ""
            return (f"Sổ toàn vẹn: {thousands(self.records)} bản ghi lịch sử nối liền, "
                    f"{thousands(self.changes)} thay đổi; {thousands(self.rows)} dòng dữ liệu khớp với lịch sử.{head}")
        kinds = {p.kind for p in self.problems}
        against = ("cấu trúc dvk tạo ra (lược đồ)" if kinds == {"schema"} else
                   "lịch sử và cấu trúc dvk tạo ra" if "schema" in kinds else "lịch sử")
        return (f"Sổ có {thousands(self.n_problems)} chỗ không khớp với {against} — có thể đã bị sửa ngoài dvk "
                f"(đã kiểm {thousands(self.records)} bản ghi lịch sử, {thousands(self.rows)} dòng dữ liệu).")

    def details(self) -> list[str]:
        out = [p.message for p in self.problems]
        if self.n_problems > len(self.problems):
            out.append(f"… và {thousands(self.n_problems - len(self.problems))} chỗ khác.")
        return out

    def as_dict(self) -> dict:
        return {"ok": self.ok, "summary": self.summary(), "records": self.records, "changes": self.changes,
                "rows": self.rows, "head_id": self.head_id, "head_hash": self.head_hash,
                "n_problems": self.n_problems, "problems": [asdict(p) for p in self.problems]}
