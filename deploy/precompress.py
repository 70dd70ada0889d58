"""Write a .gz copy next to every compressible static file, for nginx's gzip_static."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

SUFFIXES = {".html", ".css", ".js", ".svg", ".xml", ".txt", ".json", ".ico", ".map"}
# Below this size the gzip header and the extra request for Vary cost more than they save.
MIN_BYTES = 256


def precompress(root: Path) -> int:
    """Compress every eligible file under root (keeping its mtime) and return how many."""
    count = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in SUFFIXES:
            continue
        data = path.read_bytes()
        if len(data) < MIN_BYTES:
            continue
        target = path.with_name(path.name + ".gz")
        target.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        stat = path.stat()
        # gzip_static serves the .gz whatever its mtime, but equal times keep ETags stable.
        os.utime(target, (stat.st_atime, stat.st_mtime))
        count += 1
    return count


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "output")
    print(f"precompressed {precompress(folder)} files under {folder}")
