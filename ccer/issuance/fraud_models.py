"""Fraud cases (Measures Art. 43): what the registry records when a project's registration is revoked for
fraud — the CCERs suspended, the quantity the owner must cancel, what it cancelled, what the registry
force-cancelled and the shortfall still owed. Services in fraud.py."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..infra.db import Base
from ..projects.models import Project
from .models import Retirement

#: open: the owner must cancel by `cancel_by` | settled: the owner cancelled what it owed (or nothing was
#: owed) | enforced: the deadline passed and the registry force-cancelled what the owner held
OPEN, SETTLED, ENFORCED = "open", "settled", "enforced"


class FraudCase(Base):
    """One revocation for fraud (撤销项目登记, Measures Art. 43), public with everything that follows it."""

    __tablename__ = "fraud_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the revoked project: its CCERs are suspended from trading and transfer while the case exists
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: the department's finding the revocation rests on (e.g. 省生态环境厅认定篡改监测数据（甘环〔2025〕7号）)
    finding: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    #: tCO2e issued for the project when the case was opened
    issued: Mapped[int] = mapped_column(BigInteger)
    #: tCO2e the owner must cancel: equal to the false CCERs (Art. 43), by default everything issued
    owed: Mapped[int] = mapped_column(BigInteger)
    #: why `owed` differs from `issued` (required then)
    owed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the owner cancels by this day; after it the registry force-cancels (逾期未按要求注销, Art. 43)
    cancel_by: Mapped[date]
    #: tCO2e the owner cancelled as ordered (责令注销), including any shortfall returned later
    cancelled: Mapped[int] = mapped_column(BigInteger, default=0)
    #: tCO2e the registry force-cancelled from the owner's holdings (强制注销)
    force_cancelled: Mapped[int] = mapped_column(BigInteger, default=0)
    #: tCO2e still owed when the registry force-cancelled: the part ordered returned (不足部分责令退回)
    shortfall: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: one of OPEN, SETTLED, ENFORCED
    status: Mapped[str] = mapped_column(String(12), default=OPEN)
    #: the registry's enforcement: the department's notice it acts on
    enforcement_order: Mapped[str | None] = mapped_column(Text, nullable=True)
    enforced_at: Mapped[datetime | None] = mapped_column(nullable=True)

    project: Mapped[Project] = relationship()
    owner: Mapped[Organisation] = relationship()

    @property
    def outstanding(self) -> int:
        """tCO2e still to be cancelled or returned."""
        return max(0, self.owed - self.cancelled - self.force_cancelled)


class FraudCancellation(Base):
    """A cancellation counted against a fraud case: the owner's (purpose fraud_cancellation) or the
    registry's (forced_cancellation)."""

    __tablename__ = "fraud_cancellations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("fraud_cases.id"), index=True)
    retirement_id: Mapped[int] = mapped_column(ForeignKey("retirements.id"), unique=True)

    retirement: Mapped[Retirement] = relationship()
