"""Methodology proposals' table."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..infra.db import Base


class MethodologyProposal(Base):
    __tablename__ = "methodology_proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. CCER-14-003-V01
    code: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: submitted | consultation | approved | active | rejected | superseded
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    #: the zipped module as submitted, and its SHA-256
    package: Mapped[bytes] = mapped_column(LargeBinary)
    package_sha256: Mapped[str] = mapped_column(String(64))
    #: the conformance report at submission, JSON
    conformance_json: Mapped[str] = mapped_column(Text)
    #: the consultation window (named like the publicity windows so comments work the same way)
    publicity_start: Mapped[date | None] = mapped_column(nullable=True)
    publicity_end: Mapped[date | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @property
    def base_code(self) -> str:
        """The code without its version: CCER-14-003."""
        return self.code.rsplit("-", 1)[0]
