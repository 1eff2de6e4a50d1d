"""Run Alembic programmatically on dvk's own connection."""

from __future__ import annotations

from sqlalchemy.engine import Connection


def _config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "dvk.ledger:migrations")
    return cfg


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def upgrade(conn: Connection, target: str = "head") -> None:
    """Upgrade inside the caller's transaction (the caller commits or rolls back)."""
    from alembic import command

    cfg = _config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
