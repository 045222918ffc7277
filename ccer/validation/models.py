"""Engagements of validation and verification bodies, their findings, and commitments (Measures Art. 13,
14, 18–21; CNCA-CCER-01:2023 §4–5)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..infra.db import Base


class Engagement(Base):
    """An owner's entrustment of a VVB (委托), accepted or declined by the VVB (CNCA-CCER-01 §4.1–4.2)."""

    __tablename__ = "engagements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: validation (of a project) | verification (of a monitoring period)
    role: Mapped[str] = mapped_column(String(12))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    vvb_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: proposed | accepted | declined
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    proposed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Finding(Base):
    """A corrective action request (CAR, 整改要求), clarification (CL) or observation (OBS, 观察项)."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    vvb_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: CAR | CL | OBS
    kind: Mapped[str] = mapped_column(String(4))
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: open | answered | closed
    status: Mapped[str] = mapped_column(String(12), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Commitment(Base):
    """A signed commitment (承诺): the VVB's in its report, the owner's letter with its application. It
    records the signer, the organisation, the time and the SHA-256 of the exact documents it vouches for."""

    __tablename__ = "commitments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: vvb_validation | owner_project | vvb_verification | owner_reduction
    kind: Mapped[str] = mapped_column(String(20))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    signed_at: Mapped[datetime]
    #: canonical JSON [{"kind": …, "sha256": …}] of the documents vouched for
    documents_json: Mapped[str] = mapped_column(Text)
    #: the words committed to
    text: Mapped[str] = mapped_column(Text)
