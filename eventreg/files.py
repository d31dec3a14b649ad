"""Files the app writes for itself in its instance folder."""

import os
import tempfile
from contextlib import suppress
from pathlib import Path


def write_once(path: Path, content: str) -> None:
    """Create `path` holding `content` unless it exists. When several processes start at once, exactly one file
    wins and every process then reads that one: a complete file is written under a temporary name and linked into
    place."""
    if path.exists():
        return
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: create exclusively instead
        with suppress(FileExistsError), open(path, "x") as handle:
            handle.write(content)
    finally:
        os.unlink(temp)
