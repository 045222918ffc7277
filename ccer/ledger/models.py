"""The ledger's tables: events, the chain head, checkpoints."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..infra.db import Base
from .codec import event_hash

#: the events open data lists as credits (ccer.issuance.opendata): only these are in the credits index
CREDIT_ACTIONS = ("ccer.issued", "ccer.retired", "ccer.force_cancelled")
#: the partial indexes' predicates, written out as queries must say them to use the indexes (PostgreSQL does
#: not prove a predicate from a bound parameter)
CREDIT_EVENTS = "action IN (" + ", ".join(f"'{a}'" for a in CREDIT_ACTIONS) + ")"
RETIREMENT_EVENTS = "subject_type = 'retirement'"


class Event(Base):
    __tablename__ = "events"
    # Every registry operation writes an event, so each index here is paid per operation: the open-data
    # credits (issuances, retirements, cancellations, by seq) and a retirement's events (its certificate)
    # have partial indexes; other filters walk the chain by seq.
    __table_args__ = (
        Index("ix_events_pending", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
        Index("ix_events_credits", "seq", postgresql_where=text(CREDIT_EVENTS), sqlite_where=text(CREDIT_EVENTS)),
        Index("ix_events_retirement", "subject_id", postgresql_where=text(RETIREMENT_EVENTS), sqlite_where=text(RETIREMENT_EVENTS)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: position in the chain, 1, 2, 3, … without gaps; None while the event is pending (written, not yet sealed)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    occurred_at: Mapped[datetime]
    #: the user who acted, when a user did
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    #: who acted, readable: a username, or "system", or "cli"
    actor: Mapped[str] = mapped_column(String(120))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(80))
    #: canonical JSON, hashed exactly as stored
    payload_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: (not indexed: the chain is walked by seq, and writing a random key into an index on every event cost
    #: more than any lookup by hash would save)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def payload(self) -> dict:
        return json.loads(self.payload_json)

    def compute_hash(self) -> str:
        return event_hash(self.seq, self.occurred_at, self.actor_user_id, self.actor, self.subject_type, self.subject_id,
                          self.action, self.payload_json, self.prev_hash)


class LedgerHead(Base):
    """One row: the chain head. Updating it serialises sealing (a row lock on PostgreSQL)."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Checkpoint(Base):
    __tablename__ = "checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    #: canonical JSON {subject type: Merkle root of its vouched states} at this seq, e.g. the holdings
    roots_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the registry's Ed25519 signature (hex) of seq, head hash, roots and key id (signing.signed_text)
    signature: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: the id of the key that signed it: hex SHA-256 of the raw public key
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def roots(self) -> dict[str, str]:
        return json.loads(self.roots_json) if self.roots_json else {}

    def public(self) -> dict:
        """The checkpoint as published (exports, the public API, `export-checkpoint`)."""
        return {"seq": self.seq, "head_hash": self.head_hash, "created_at": self.created_at.isoformat(), "roots": self.roots,
                "key_id": self.key_id, "signature": self.signature}
