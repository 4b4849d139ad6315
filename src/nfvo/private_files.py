"""Owner-only files and directories: everything nfvo creates in its data directory.

The data directory holds the database (accounts, encrypted credentials), the vault
key and package archives, so nothing in it is readable by other local users: files are
created 0600 and directories 0700 whatever the umask, and what an older version created
more openly is narrowed when it is next opened.
"""

from __future__ import annotations

import os
from pathlib import Path

# SQLite gives a database's -wal and -shm files the mode of the database file itself, so a
# database created 0600 keeps its journal private too.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as a directory only its owner can enter; an
    existing one is narrowed to mode 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path | str) -> None:
    """Create ``path`` empty with mode 0600 if it is missing; narrow it to 0600 if it is not."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    else:
        os.close(fd)


def private_sqlite_file(path: Path | str) -> None:
    """Make a SQLite database file (and any journal already beside it) owner-only before
    SQLite opens it, so the files it creates later (-wal, -shm) are owner-only as well."""
    if not Path(path).parent.is_dir():
        return  # SQLite reports the missing directory itself
    private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        _narrow(f"{path}{suffix}")


def _narrow(path: str) -> None:
    """Narrow an existing file to 0600; never create it. SQLite's side files come and go
    (another connection may remove a rollback journal at any moment), so a missing one is
    not an error, and creating one would leave a stray file."""
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except FileNotFoundError:
        pass
