"""Projects as the registry knows them. The lifecycle (design document, publicity, validation) grows on
this table; the registry needs only the registered facts: who owns it, under which methodology, its
registry number and crediting period."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..db import Base


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: registry number, given at registration (Measures Art. 15); the PPPPPP of serial numbers
    registry_no: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    #: e.g. CCER-14-001-V01
    methodology_code: Mapped[str] = mapped_column(String(20), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    province: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: draft | publicity | validation | applied | registered | returned | refused | cancelled | revoked
    status: Mapped[str] = mapped_column(String(16), default="draft")
    crediting_start: Mapped[date | None] = mapped_column(nullable=True)
    crediting_end: Mapped[date | None] = mapped_column(nullable=True)
    registered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: "platform" for projects that went through this platform, "listing" for ones imported from the
    #: public registry listing (data/ccer_registry_projects.csv) with their published status
    origin: Mapped[str] = mapped_column(String(12), default="platform")
    created_at: Mapped[datetime]

    owner: Mapped[Organisation] = relationship()

    @property
    def sector(self) -> str:
        """The methodology's field, e.g. "14" of CCER-14-001-V01."""
        return self.methodology_code.split("-")[1]
