"""Making writes survive a power cut, not only a killed process.

A rename is durable only once the directory that holds the name is fsynced (POSIX keeps
directory entries in the directory's own data), and a file's bytes only once the file is. Used by
the WARC writer, the work folder, the local store and request packages: every step a rerun after a
crash relies on.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(*paths: Path) -> None:
    """fsync each file or directory."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
