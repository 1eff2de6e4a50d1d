"""Console-script entry point with a fast path: `dvk --version` answers before importing Typer.

Everything else goes to `dvk.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from dvk import __version__

        sys.stdout.write(f"dvk {__version__}\n")
        return
    from dvk.cli import main as cli_main

    cli_main()
