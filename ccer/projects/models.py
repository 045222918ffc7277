"""Projects, their design documents, monitoring periods (reduction batches), public comments, published
documents, and owners barred after fraud (Measures Art. 11–22, 43)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..infra.db import Base


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
    #: draft | publicity | validated | rejected | applied | returned | registered | refused | cancelled | revoked;
    #: "listed" for an entry imported from the public listing that is not registered
    status: Mapped[str] = mapped_column(String(16), default="draft")
    crediting_start: Mapped[date | None] = mapped_column(nullable=True)
    crediting_end: Mapped[date | None] = mapped_column(nullable=True)
    registered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: 开工建设 date: must be after 2012-11-08 (Measures Art. 10)
    construction_start: Mapped[date | None] = mapped_column(nullable=True)
    #: the methodology's project facts (applicability), JSON
    facts_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the design document's ex-ante periods (parameters by symbol), JSON
    design_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the ex-ante estimate: the plug-in's calculation with its trace, JSON
    estimate_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: estimated tCO2e over the crediting period (ER_credited of the ex-ante calculation)
    estimate_tco2e: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: the organisation that wrote the design document (a VVB may not: Measures Art. 37)
    pdd_author_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    #: declared by the owner: registered under another GHG mechanism (uniqueness, Art. 48)
    other_mechanism: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: declared: the emissions are under national or local ETS allowance management (Art. 9)
    ets_covered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the engaged validation body
    validator_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    publicity_start: Mapped[date | None] = mapped_column(nullable=True)
    publicity_end: Mapped[date | None] = mapped_column(nullable=True)
    #: registry decision due (15 working days after the application, Art. 15)
    review_due: Mapped[date | None] = mapped_column(nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: why returned, refused, cancelled or revoked
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: "platform" for projects that went through this platform, "listing" for ones imported from the
    #: public registry listing (data/ccer_registry_projects.csv) with their published status
    origin: Mapped[str] = mapped_column(String(12), default="platform")
    created_at: Mapped[datetime]

    owner: Mapped[Organisation] = relationship(foreign_keys=[owner_id])

    @property
    def sector(self) -> str:
        """The methodology's field, e.g. "14" of CCER-14-001-V01."""
        return self.methodology_code.split("-")[1]


class MonitoringPeriod(Base):
    """One accounting period (核算期) of a registered project: a reduction batch (Measures Art. 18–22)."""

    __tablename__ = "monitoring_periods"
    __table_args__ = (UniqueConstraint("project_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    #: the batch number, 1, 2, … (the BBB of serial numbers)
    number: Mapped[int] = mapped_column(Integer)
    start: Mapped[date]
    end: Mapped[date]
    #: draft | publicity | verified | rejected | applied | returned | registered | refused
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: monitored data: the methodology's periods (parameters by symbol), JSON
    data_json: Mapped[str] = mapped_column(Text)
    #: the ex-post calculation with its trace, JSON
    calculation_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: {vintage: whole tCO2e} from the calculation, JSON
    vintages_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: electricity of the period already claimed as green certificates, MWh (MEE/NEA notice 2024-09-11)
    green_certificates_mwh: Mapped[int] = mapped_column(BigInteger, default=0)
    verifier_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    publicity_start: Mapped[date | None] = mapped_column(nullable=True)
    publicity_end: Mapped[date | None] = mapped_column(nullable=True)
    #: fixed by the verification report (Art. 20)
    verified_quantity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    applied_quantity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(nullable=True)
    review_due: Mapped[date | None] = mapped_column(nullable=True)
    registered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    #: "platform" for a batch walked through this platform's workflow, "listing" for a batch the registry
    #: recorded from the public listing (a listed project's registered reductions, Measures Art. 49)
    origin: Mapped[str] = mapped_column(String(12), default="platform", server_default="platform")
    #: listed batches: where the figures come from (the listing entry, the registry's notice)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)

    project: Mapped[Project] = relationship()


class Comment(Base):
    """A public comment on a document in publicity (Art. 12, 19), moderated (Registry Rules Art. 19) and
    answered by the owner."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: project | monitoring_period
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    #: pending | published | refused
    status: Mapped[str] = mapped_column(String(12), default="pending")
    moderation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Document(Base):
    """A generated document (design document, reports, commitment letters), immutable once stored: the
    SHA-256 of its bytes is what commitments vouch for."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: pdd | validation_report | accounting_report | verification_report | commitment
    kind: Mapped[str] = mapped_column(String(24))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(40), default="application/pdf")
    created_at: Mapped[datetime]


class OwnerBar(Base):
    """An owner barred from applying after fraud (Measures Art. 43): 3 years after a revocation for tampering
    or forgery; for good (until None) once it failed to cancel CCERs obtained by fraud as ordered."""

    __tablename__ = "owner_bars"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: the last barred day; None: barred permanently (不再受理)
    until: Mapped[date | None] = mapped_column(nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProjectParcel(Base):
    __tablename__ = "project_parcels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    parcel_id: Mapped[str] = mapped_column(String(80))
    #: WKB in WGS 84 (EPSG:4326)
    wkb: Mapped[bytes] = mapped_column(LargeBinary)
    area_ha: Mapped[float | None]
    #: the parcel's box in WGS 84 degrees: SQLite's R*Tree (parcel_boxes, kept by triggers) is built from it;
    #: on PostgreSQL the PostGIS column `geom` (generated from wkb, GiST-indexed; migration a19c0de00019) serves
    min_lon: Mapped[float | None]
    min_lat: Mapped[float | None]
    max_lon: Mapped[float | None]
    max_lat: Mapped[float | None]
    #: what the stored check found, comma-separated (invalid, ineligible, overlap): the VVBs' and registry's map
    flags: Mapped[str | None] = mapped_column(String(80), nullable=True)


class ProjectFootprint(Base):
    """A sink project's footprint: the convex hull of its parcels (WKB, WGS 84), what the map draws at low zooms
    (ccer/maps/tiles.py); on PostgreSQL also as a generated Web Mercator column (migration a19c0de00021)."""

    __tablename__ = "project_footprints"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    wkb: Mapped[bytes] = mapped_column(LargeBinary)
    parcels: Mapped[int] = mapped_column(Integer)


class BoundaryCheck(Base):
    __tablename__ = "boundary_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    #: the gis.checks report plus cross-project overlaps, JSON
    report_json: Mapped[str] = mapped_column(Text)
    eligible_parcels: Mapped[int] = mapped_column(Integer)
    parcels: Mapped[int] = mapped_column(Integer)
    cross_overlaps: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
