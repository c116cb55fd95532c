"""A throwaway PostgreSQL server (pgserver's bundled binaries), for the test suite and for
benchmarks: in a temporary folder, on a Unix socket only, deleted when stopped.

    python -m omni.core.testing.throwaway COMMAND [ARGS...]

runs COMMAND with DATABASE_URL pointing at a fresh server, then stops and deletes it (also
when the command fails), and exits with the command's status."""

import logging
import os
import subprocess
import sys
import tempfile
import warnings
from typing import Any
from urllib.parse import quote


def start_postgres() -> tuple[Any, str]:
    """Start a server; returns (server, DATABASE_URL). Call ``server.cleanup()`` to stop it."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on CI machines; /tmp is fine here.
        warnings.simplefilter("ignore")
        import pgserver
    # Its INFO lines would reach the console through Django's root logger at shutdown.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="omni-pg-")
    server = pgserver.get_server(folder, cleanup_mode="delete")
    return server, f"postgres://postgres@{quote(folder, safe='')}/postgres"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    server, url = start_postgres()
    try:
        return subprocess.call(argv, env={**os.environ, "DATABASE_URL": url})
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
