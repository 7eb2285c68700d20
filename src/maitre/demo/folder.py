"""What a demo keeps in its folder: a lock (one demo per folder) and its signing secret.

The lock is an advisory `flock` on `maitre-demo.lock`, held for the demo's life and released by the
kernel however the process ends, so a crashed demo never leaves the folder locked. The file says
who holds it (pid and address), for the message a second demo prints.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
from pathlib import Path
from typing import IO

LOCK_FILE = "maitre-demo.lock"
SECRET_FILE = "maitre-demo.secret"  # noqa: S105 (a file name, not a secret)


class DemoRunning(Exception):
    """Another demo holds this folder; the message says which and what to do."""


class FolderLock:
    """Held while the demo runs; `release` (or process exit) lets the next one start."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    def release(self) -> None:
        self._handle.close()  # closing the file drops the flock


def lock_folder(folder: Path, address: str) -> FolderLock:
    """Take the folder's demo lock before touching anything in it; DemoRunning if another demo has it."""
    path = folder / LOCK_FILE
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DemoRunning(
            f"a demo is already running in this folder ({holder}); "
            "open its links, stop it with Ctrl-C, or start this one in another folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, {address}\n")
    handle.flush()
    return FolderLock(handle)


def port_free(host: str, port: int) -> bool:
    """Whether an HTTP server could listen on host:port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def demo_secret(folder: Path) -> str:
    """The demo's signing secret, made once and kept (owner-only) in the folder: a restarted demo's
    screens stay signed in."""
    path = folder / SECRET_FILE
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if len(kept) >= 32:
        return kept
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret
