"""The `jobs` table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..infra.db import Base, UTCDateTime


class Job(Base):
    __tablename__ = "jobs"

    #: a random hex id: job ids appear in URLs and must not be guessable
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: a registered kind, e.g. "certificates.bundle"
    kind: Mapped[str] = mapped_column(String(64), index=True)
    #: queued → running → done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: 0.0 … 1.0, with a line saying what is being done
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(400), default="")
    #: who asked: only they (and the registry) see the job
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(JSON)
    #: a file the job produced, relative to the instance folder's jobs/ directory
    artifact: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "status": self.status, "progress": round(self.progress, 4),
                "message": self.message, "result": self.result, "error": self.error,
                "artifact": bool(self.artifact)}
