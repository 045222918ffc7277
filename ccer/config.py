"""Settings from the environment.

CCER_DATABASE_URL   SQLAlchemy URL; default: an SQLite file under instance/ (the embedded default).
                    PostgreSQL: postgresql+psycopg://user@host:5432/dbname
CCER_SECRET_KEY     Flask secret; generated once and kept in instance/secret_key when unset.
CCER_INSTANCE_PATH  where instance files live; default ./instance
CCER_PUBLIC_URL     the address the public reaches the platform at, printed in certificates' QR codes;
                    default http://127.0.0.1:5000
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


@dataclass
class Settings:
    database_url: str
    secret_key: str
    instance_path: Path
    time_zone: str = TIME_ZONE
    public_url: str = "http://127.0.0.1:5000"
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
        return cls(database_url=url, secret_key=secret, instance_path=folder, public_url=public, extra=overrides)
