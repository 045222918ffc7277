"""Settings from the environment.

CCER_DATABASE_URL   SQLAlchemy URL; default: an SQLite file under instance/ (the embedded default).
                    PostgreSQL: postgresql+psycopg://user@host:5432/dbname
CCER_SECRET_KEY     Flask secret; generated once and kept in instance/secret_key when unset.
CCER_INSTANCE_PATH  where instance files live; default ./instance
CCER_PUBLIC_URL     the address the public reaches the platform at, printed in certificates' QR codes;
                    default http://127.0.0.1:5000
CCER_MAX_…          bounded work per request (`Limits`): request size, archives, parcels, vertices, overlaps
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

TIME_ZONE = "Asia/Shanghai"


def instance_path() -> Path:
    return Path(os.environ.get("CCER_INSTANCE_PATH", "instance")).resolve()


def _secret_key(folder: Path) -> str:
    key = os.environ.get("CCER_SECRET_KEY")
    if key:
        return key
    keyfile = folder / "secret_key"
    if not keyfile.exists():
        folder.mkdir(parents=True, exist_ok=True)
        keyfile.write_text(secrets.token_hex(32))
        keyfile.chmod(0o600)
    return keyfile.read_text().strip()


@dataclass(frozen=True)
class Limits:
    """Bounded work per request (issue 15): how much one request may make the server read, unpack and compute.
    Each is set by its environment variable; a refusal names the field and the variable."""

    #: CCER_MAX_REQUEST_BYTES: the largest request body (Flask MAX_CONTENT_LENGTH); larger ones are answered 413
    request_bytes: int = 50 * 2**20
    #: CCER_MAX_ARCHIVE_BYTES: the uncompressed size of any zip (zipped Shapefile, XLSX, methodology package),
    #: read from its central directory before anything is inflated
    archive_bytes: int = 100 * 2**20
    #: CCER_MAX_SPREADSHEET_BYTES: the uncompressed size of an uploaded XLSX (its XML is parsed into memory)
    spreadsheet_bytes: int = 10 * 2**20
    #: CCER_MAX_ARCHIVE_MEMBERS: files in any zip
    archive_members: int = 1000
    #: CCER_MAX_PARCELS: parcels in one boundary upload
    parcels: int = 10_000
    #: CCER_MAX_VERTICES: vertices of all the parcels of one boundary upload together
    vertices: int = 2_000_000
    #: CCER_MAX_UPLOAD_ROWS: rows of one CSV/XLSX monitoring upload
    upload_rows: int = 1000
    #: CCER_OVERLAP_DETAILS: overlapping pairs listed in a boundary report (all are counted)
    overlap_details: int = 1000
    #: CCER_MAX_OVERLAP_WORK: pairs of parcels one boundary check may intersect before it is refused
    overlap_work: int = 200_000

    #: CCER_SANDBOX_CPU_SECONDS, CCER_SANDBOX_MEMORY_BYTES (address space), CCER_SANDBOX_WALL_SECONDS,
    #: CCER_SANDBOX_FILE_BYTES: the sandbox a submitted methodology package is checked in (methodologies/sandbox.py)
    sandbox_cpu_seconds: int = 30
    sandbox_memory_bytes: int = 2 * 2**30
    sandbox_wall_seconds: int = 60
    sandbox_file_bytes: int = 16 * 2**20

    ENV = {"request_bytes": "CCER_MAX_REQUEST_BYTES", "archive_bytes": "CCER_MAX_ARCHIVE_BYTES",
           "spreadsheet_bytes": "CCER_MAX_SPREADSHEET_BYTES", "archive_members": "CCER_MAX_ARCHIVE_MEMBERS", "parcels": "CCER_MAX_PARCELS", "vertices": "CCER_MAX_VERTICES",
           "upload_rows": "CCER_MAX_UPLOAD_ROWS", "overlap_details": "CCER_OVERLAP_DETAILS",
           "overlap_work": "CCER_MAX_OVERLAP_WORK", "sandbox_cpu_seconds": "CCER_SANDBOX_CPU_SECONDS",
           "sandbox_memory_bytes": "CCER_SANDBOX_MEMORY_BYTES", "sandbox_wall_seconds": "CCER_SANDBOX_WALL_SECONDS",
           "sandbox_file_bytes": "CCER_SANDBOX_FILE_BYTES"}

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> "Limits":
        """The environment's limits; `overrides` (e.g. {"parcels": 10}) win over it."""
        values = {}
        for name, variable in cls.ENV.items():
            raw = (overrides or {}).get(name, os.environ.get(variable))
            if raw is None or raw == "":
                continue
            try:
                value = int(raw)
            except (TypeError, ValueError):
                value = 0
            if value < 1:
                raise ValueError(f"{variable} must be a positive whole number, got {raw!r}")
            values[name] = value
        return cls(**values)


@dataclass
class Settings:
    database_url: str
    secret_key: str
    instance_path: Path
    time_zone: str = TIME_ZONE
    public_url: str = "http://127.0.0.1:5000"
    limits: Limits = field(default_factory=Limits)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> "Settings":
        overrides = dict(overrides or {})
        folder = Path(overrides.pop("instance_path", instance_path()))
        url = overrides.pop("database_url", None) or os.environ.get("CCER_DATABASE_URL")
        if not url:
            folder.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{folder / 'ccer.sqlite3'}"
        secret = overrides.pop("secret_key", None) or _secret_key(folder)
        public = (overrides.pop("public_url", None) or os.environ.get("CCER_PUBLIC_URL") or cls.public_url).rstrip("/")
        limits = overrides.pop("limits", None)
        if not isinstance(limits, Limits):
            limits = Limits.from_env(limits)
        return cls(database_url=url, secret_key=secret, instance_path=folder, public_url=public, limits=limits, extra=overrides)
