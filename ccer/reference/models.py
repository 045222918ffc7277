"""Reference data sets the registry loaded: one row per version of a (kind, edition), never changed after."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..infra.db import Base, UTCDateTime


class ReferenceDataset(Base):
    __tablename__ = "reference_datasets"
    __table_args__ = (UniqueConstraint("kind", "edition", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: grid-factors | fuels | calendar | offset-ratio (ccer.reference.datasets.KINDS)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    #: the edition's key: a year for grid factors and calendars, e.g. "2027"; "ndrc-2013" for fuel defaults
    edition: Mapped[str] = mapped_column(String(40))
    #: 1, 2, …: a later version of the same edition replaces the earlier one (a correction, the official table)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    #: where it was read: the publisher, notice number, URL or page
    source: Mapped[str] = mapped_column(Text)
    published: Mapped[date]
    #: VERIFIED (read from the official text) | UNCONFIRMED
    status: Mapped[str] = mapped_column(String(12))
    #: the parsed content, JSON (ccer.reference.datasets)
    content_json: Mapped[str] = mapped_column(Text)
    #: the file as loaded, and its SHA-256
    file_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    #: who loaded it (user id, None for the platform operator at the console) and when
    loaded_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    loaded_by: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
