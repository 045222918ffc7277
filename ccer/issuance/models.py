"""Registry records (Measures Art. 6: the registry's records are the final word on ownership and status).

Units live in serial blocks. A block's range never changes: moving, freezing or retiring part of a block
supersedes it (``active = False``) and creates child blocks that partition its range, each pointing at
its parent. So the active blocks of an issuance always partition its range, and every unit is in exactly
one account and one status; `invariants.py` proves it over the whole registry.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..infra.clock import CST
from ..infra.db import Base
from ..projects.models import Project

#: holding statuses (Registry Rules Art. 12 持有状态)
AVAILABLE, TRADING, FROZEN, RETIRED, CANCELLED = "available", "trading", "frozen", "retired", "cancelled"
STATUSES = (AVAILABLE, TRADING, FROZEN, RETIRED, CANCELLED)
#: statuses out of which units never move again
FINAL = (RETIRED, CANCELLED)


class Account(Base):
    """A registry account: one per legal entity (Registry Rules Art. 5–6)."""

    __tablename__ = "registry_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: account number shown to holders, e.g. RA00000012
    number: Mapped[str] = mapped_column(String(16), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    #: project_owner | key_emitter | participant | vvb | province (Art. 5 (1)–(5))
    kind: Mapped[str] = mapped_column(String(16))
    #: pending | open | refused | restricted | closed (Art. 7, 10, 11)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    applied_at: Mapped[datetime]
    #: the registry decides within 15 working days (Art. 7)
    review_due: Mapped[date]
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: why refused, restricted or closed
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    organisation: Mapped[Organisation] = relationship()

    @property
    def holds_only(self) -> bool:
        """VVBs and provincial departments hold accounts to read, not to trade or retire."""
        return self.kind in ("vvb", "province")


class AccountChange(Base):
    """A holder's change of registered particulars, reviewed by the registry within 15 working days (Art. 8)."""

    __tablename__ = "registry_account_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), index=True)
    #: canonical JSON of the changed fields
    changes_json: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    review_due: Mapped[date]
    #: pending | approved | refused
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Issuance(Base):
    """CCERs registered for one reduction batch and vintage (Measures Art. 22)."""

    __tablename__ = "issuances"
    # (id, project_id, vintage): what a serial block's foreign key names, so that a block cannot claim
    # another project or vintage than its issuance's
    __table_args__ = (UniqueConstraint("project_id", "batch", "vintage"), UniqueConstraint("id", "project_id", "vintage"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    #: the project's reduction batch (monitoring period) number
    batch: Mapped[int] = mapped_column(Integer)
    #: year the reductions were generated (产生年度)
    vintage: Mapped[int] = mapped_column(Integer)
    first: Mapped[int] = mapped_column(BigInteger)
    last: Mapped[int] = mapped_column(BigInteger)
    #: tCO2e = last − first + 1
    quantity: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"))
    issued_at: Mapped[datetime]
    #: the registered reduction batch it issues (Measures Art. 22: only registered reductions become CCERs)
    monitoring_period_id: Mapped[int] = mapped_column(ForeignKey("monitoring_periods.id"), index=True)

    project: Mapped[Project] = relationship()


class SerialBlock(Base):
    __tablename__ = "serial_blocks"
    # Live blocks only: every holding and serial lookup asks for active blocks, so the superseded ones — most
    # rows, in a busy registry — stay out of these indexes and superseding a block removes it from them
    # instead of adding an entry. Queries must say `active` as the predicate does (PostgreSQL does not prove
    # "active IS true" implies it): `where(SerialBlock.active)`, which SQLite gets as "active = 1".
    __table_args__ = (
        Index("ix_serial_blocks_holding", "account_id", "status", "project_id", "vintage",
              postgresql_where=text("active"), sqlite_where=text("active = 1")),
        Index("ix_serial_blocks_range", "first", "last", postgresql_where=text("active"), sqlite_where=text("active = 1")),
        # Every cut writes blocks, so each index and foreign key here is paid per transfer and retirement
        # (bench/README.md): the issuance, project and vintage are checked by one key; an issuance's blocks
        # are looked up by its first block only, a retirement's among retired blocks only, and no query
        # asks for a block's children (lineage is checked over all blocks at once, ccer.issuance.invariants).
        ForeignKeyConstraint(["issuance_id", "project_id", "vintage"], ["issuances.id", "issuances.project_id", "issuances.vintage"]),
        Index("ix_serial_blocks_issuance_id", "issuance_id",
              postgresql_where=text("parent_id IS NULL"), sqlite_where=text("parent_id IS NULL")),
        Index("ix_serial_blocks_retirement_id", "retirement_id",
              postgresql_where=text("retirement_id IS NOT NULL"), sqlite_where=text("retirement_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuance_id: Mapped[int] = mapped_column(Integer)
    #: the block this one was cut from (None for the block an issuance created)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("serial_blocks.id"), nullable=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"))
    #: the issuance's project and vintage (the foreign key above holds them to it)
    project_id: Mapped[int] = mapped_column(Integer)
    vintage: Mapped[int] = mapped_column(Integer)
    first: Mapped[int] = mapped_column(BigInteger)
    last: Mapped[int] = mapped_column(BigInteger)
    #: one of STATUSES
    status: Mapped[str] = mapped_column(String(12))
    #: False once superseded by the blocks cut from it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    freeze_id: Mapped[int | None] = mapped_column(ForeignKey("registry_freezes.id"), nullable=True)
    retirement_id: Mapped[int | None] = mapped_column(ForeignKey("retirements.id"), nullable=True)

    issuance: Mapped[Issuance] = relationship()

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


class Transfer(Base):
    """A change of holder: a transfer between accounts, or a non-trade transfer on evidence (Art. 14, 16)."""

    __tablename__ = "registry_transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: settlement (交易交收) | succession (承继) | enforcement (强制执行) | deduction (司法扣划); before 2026-12: transfer
    kind: Mapped[str] = mapped_column(String(16))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), index=True)
    to_account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: court decision, succession document … for non-trade transfers
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the exchange's trade number, for a settlement delivery (delivered once: unique)
    trade_ref: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    executed_at: Mapped[datetime]


class TradingMove(Base):
    """CCERs of one project and vintage moved into (+) or out of (−) a trading account: what the exchange
    takes into its positions ([S7] 转移至交易平台 / 转回注册登记账户)."""

    __tablename__ = "registry_trading_moves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    #: tCO2e, + into the trading account, − out of it
    quantity: Mapped[int] = mapped_column(BigInteger)
    moved_at: Mapped[datetime]


class TradingBinding(Base):
    """A registry account bound to the holder's trading account at the exchange (账户绑定, [S7]): CCERs move
    between the two only while the binding is active."""

    __tablename__ = "registry_trading_bindings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), unique=True)
    #: the exchange's trading account number
    trading_account: Mapped[str] = mapped_column(String(20), unique=True)
    #: active | closed
    status: Mapped[str] = mapped_column(String(8), default="active")
    bound_at: Mapped[datetime]


class Freeze(Base):
    """A judicial freeze (冻结) of units in an account (Registry Rules Art. 16)."""

    __tablename__ = "registry_freezes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: the court and its document number (e.g. （2026）京0105执123号)
    authority: Mapped[str] = mapped_column(String(200))
    order_ref: Mapped[str] = mapped_column(String(120))
    #: active | released | deducted
    status: Mapped[str] = mapped_column(String(12), default="active")
    frozen_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Retirement(Base):
    """A cancellation (注销) of CCERs for a use (Measures Art. 28; Registry Rules Art. 15), or a forced
    cancellation (Art. 43)."""

    __tablename__ = "retirements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: one of purposes.PURPOSES
    purpose: Mapped[str] = mapped_column(String(24))
    beneficiary_name: Mapped[str] = mapped_column(String(200))
    beneficiary_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    #: national/local ETS offsets: the compliance year
    compliance_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: large-event neutrality: the event and its dates
    event_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_start: Mapped[date | None] = mapped_column(nullable=True)
    event_end: Mapped[date | None] = mapped_column(nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    retired_at: Mapped[datetime]

    project: Mapped[Project] = relationship()
    account: Mapped[Account] = relationship()

    @property
    def number(self) -> str:
        """Certificate number: year of retirement and the record's id, e.g. CCER-R-2026-000042."""
        return f"CCER-R-{self.retired_at.astimezone(CST).year}-{self.id:06d}"


class ComplianceObligation(Base):
    """A key emitter's allowances to surrender for a compliance year (应清缴配额), the base of the cap
    on CCER offsets at the offset ratio in force (reference data; ETS Measures Art. 29)."""

    __tablename__ = "compliance_obligations"
    __table_args__ = (UniqueConstraint("organisation_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    #: tCO2e of allowances to surrender
    allowances: Mapped[int] = mapped_column(BigInteger)
    #: where the figure comes from (the provincial department's allocation notice)
    source: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime]
