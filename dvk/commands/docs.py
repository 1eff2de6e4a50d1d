"""Documents and the demo: export, verify-doc, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from dvk.commands.common import add, UserOpt, say


def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Thư mục ghi sổ mẫu và văn bản.")],
    user: UserOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè sổ mẫu đã có trong thư mục.")] = False,
) -> None:
    """Chạy trọn một năm trên dữ liệu mẫu (khoảng 30 đơn vị, 60 mô hình) và ghi văn bản."""
    from dvk import demo

    demo.run(out, user=user, force=force, echo=say)


def register(app: typer.Typer) -> None:
    add(app, "demo", demo_cmd)
