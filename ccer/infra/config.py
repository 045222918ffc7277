"""Settings from the environment.

CCER_DATABASE_URL   SQLAlchemy URL; default: an SQLite file under instance/ (the embedded default).
                    PostgreSQL: postgresql+psycopg://user@host:5432/dbname
CCER_SECRET_KEY     Flask secret; generated once and kept in instance/secret_key when unset.
CCER_INSTANCE_PATH  where instance files live; default ./instance
CCER_PUBLIC_URL     the address the public reaches the platform at, printed in certificates' QR codes;
                    default http://127.0.0.1:5000
CCER_MAX_…          bounded work per request (`Limits`): request size, archives, parcels, vertices, overlaps
CCER_SESSION_…, CCER_SECURE_COOKIES, CCER_REDIS_URL, CCER_RATE_…
                    web sessions, cookies and rate limits (`Web`)
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


@dataclass(frozen=True)
class Web:
    """Sessions, cookies and rate limits of the pages and the API (issue 15, item 5)."""

    #: CCER_SESSION_IDLE_MINUTES: a web session unused this long (platform clock) is over
    session_idle_minutes: int = 30
    #: CCER_SESSION_HOURS: a web session is over this long after the login, however busy
    session_hours: int = 12
    #: CCER_SECURE_COOKIES=1: cookies only over HTTPS (Secure flag) and Strict-Transport-Security sent;
    #: set it whenever the platform is served over HTTPS
    secure_cookies: bool = False
    #: CCER_RATE_LIMITS=0 turns the rate limits off (the test suite does; one test turns them on)
    rate_limits: bool = True
    #: CCER_REDIS_URL: rate-limit counters shared by every worker; in-memory (per process) when unreachable
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: CCER_RATE_LOGIN: wrong or right, logins (pages and API tokens together) per client address
    rate_login: str = "10 per minute; 50 per hour"
    #: CCER_RATE_COMMENT: public comments per client address
    rate_comment: str = "10 per minute; 100 per day"

    ENV = {"session_idle_minutes": "CCER_SESSION_IDLE_MINUTES", "session_hours": "CCER_SESSION_HOURS",
           "secure_cookies": "CCER_SECURE_COOKIES", "rate_limits": "CCER_RATE_LIMITS", "redis_url": "CCER_REDIS_URL",
           "rate_login": "CCER_RATE_LOGIN", "rate_comment": "CCER_RATE_COMMENT"}

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> "Web":
        """The environment's settings; `overrides` (e.g. {"rate_limits": True}) win over it."""
        values = {}
        for name, variable in cls.ENV.items():
            raw = (overrides or {}).get(name, os.environ.get(variable))
            if raw is None or raw == "":
                continue
            default = getattr(cls, name)
            if isinstance(default, bool):
                values[name] = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                try:
                    values[name] = int(raw)
                except (TypeError, ValueError):
                    values[name] = 0
                if values[name] < 1:
                    raise ValueError(f"{variable} must be a positive whole number, got {raw!r}")
            else:
                values[name] = str(raw)
        return cls(**values)


@dataclass
class Settings:
    database_url: str
    secret_key: str
    instance_path: Path
    time_zone: str = TIME_ZONE
    public_url: str = "http://127.0.0.1:5000"
    limits: Limits = field(default_factory=Limits)
    web: Web = field(default_factory=Web)
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
        web = overrides.pop("web", None)
        if not isinstance(web, Web):
            web = Web.from_env(web)
        return cls(database_url=url, secret_key=secret, instance_path=folder, public_url=public, limits=limits, web=web,
                   extra=overrides)
