"""Zip archives from outside — zipped Shapefiles, XLSX workbooks (a zip of XML), methodology packages — vetted
from the central directory before a byte is inflated: the number of members, each member's and the total
declared uncompressed size, and (for packages unpacked to disk) safe member names. Python's zipfile and
GDAL's /vsizip/ never inflate a member past its declared size (a member that lies fails its CRC), so the
declared sizes bound the work; a 1 MB zip declaring a 1 GiB member is refused here without being unpacked."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import TooLarge, ValidationError

RULE_BYTES = "uncompressed size of an archive (CCER_MAX_ARCHIVE_BYTES)"
RULE_MEMBERS = "files in an archive (CCER_MAX_ARCHIVE_MEMBERS)"


def vet(source: bytes | str | Path | BinaryIO, *, field: str, max_bytes: int, max_members: int,
        name: str | None = None, rule: str = RULE_BYTES) -> list[zipfile.ZipInfo]:
    """The members of the zip `source` (bytes, a path or a file object), refused with `field` named when it is
    not a zip or would unpack to more than `max_bytes` or `max_members`. Reads the central directory only."""
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the archive")
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ValidationError(f"{label} is not a readable zip archive", field=field) from None
    if len(infos) > max_members:
        raise TooLarge(f"{label} holds {len(infos):,} files; the limit is {max_members:,}", field=field, rule=RULE_MEMBERS)
    total = 0
    for info in infos:
        total += info.file_size
        if total > max_bytes:
            raise TooLarge(f"{label} unpacks to more than {max_bytes:,} bytes ({info.filename} alone declares "
                           f"{info.file_size:,}); nothing was unpacked", field=field, rule=rule)
    return infos


def safe_name(name: str, field: str) -> PurePosixPath:
    """A member name that stays inside the folder it is unpacked into."""
    path = PurePosixPath(name)
    if not name or "\\" in name or "\x00" in name or path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        raise ValidationError(f"unsafe path in the archive: {name!r}", field=field, rule="members stay inside the folder")
    return path


def extract(source: bytes | str | Path, target: Path, *, field: str, max_bytes: int, max_members: int,
            strip: str = "") -> list[Path]:
    """Vet `source`, then unpack its files (those under `strip`, with `strip` removed) into `target`, streaming
    each member (never more than its declared size). Returns the files written."""
    infos = vet(source, field=field, max_bytes=max_bytes, max_members=max_members)
    written = []
    with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
        for info in infos:
            if info.is_dir() or not info.filename.startswith(strip):
                continue
            relative = safe_name(info.filename[len(strip):], field)
            dest = target.joinpath(*relative.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ValidationError(f"cannot unpack {info.filename}: {exc}", field=field) from None
            written.append(dest)
    return written
