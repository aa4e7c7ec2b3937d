"""Files and folders only the bot's own user may read: the database, its journals, the e-mail
outbox and the secret key hold a family's data, whatever umask the process was started with."""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """`path` as a folder, made owner-only when this call creates it. A folder that already
    exists is left as it is: it may be the operator's own (DATA_DIR=.), and the files the bot
    puts in it are owner-only anyway."""
    if not path.is_dir():
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        # mkdir's mode passes through the umask, which may take away the owner's own bits.
        os.chmod(path, FOLDER_MODE)
    return path


def create_private(path: Path) -> int:
    """A new file at `path`, owner-only from its first moment, open for writing (a descriptor
    to close); FileExistsError when there is one already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        # The umask may only take bits away; be explicit anyway.
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_private(path: Path) -> None:
    """`path` exists and is owner-only: made empty when missing, narrowed when it was made by
    a release that left it to the umask."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
