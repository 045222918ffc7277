"""Checkpoints: the chain head with the Merkle roots of the states it vouches for (e.g. every live serial
block), taken after every CHECKPOINT_EVERY events off the append path, signed with the registry's key
(signing.py), exportable and checkable offline."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..infra import clock
from . import signing
from .append import CHECKPOINT_LOCK, seal
from .codec import canonical
from .models import Checkpoint, LedgerHead
from .subjects import root_now, rooted_types


def roots_now(session: Session) -> str | None:
    kinds = rooted_types()
    return canonical({k.name: root_now(session, k) for k in kinds}) if kinds else None


def checkpoint_when_due(session: Session) -> None:
    """After a commit whose sealing passed a multiple of CHECKPOINT_EVERY: take a checkpoint."""
    if session.info.pop("checkpoint_due", False):
        take_checkpoint(session)


def take_checkpoint(session: Session) -> Checkpoint:
    """Seal every pending event and record the head with the Merkle roots of the states it vouches for,
    from one view of the database. On PostgreSQL: hold the checkpoint lock (sealers then stand aside, so
    no writer waits), then seal and root inside one REPEATABLE READ snapshot taken after it. The session
    must have no transaction open."""
    if session.get_bind().dialect.name != "postgresql":
        cp = checkpoint(session)
        session.commit()
        return cp
    with session.get_bind().connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({CHECKPOINT_LOCK})")
        conn.commit()
        try:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with Session(bind=conn, expire_on_commit=False) as snapshot:
                cp = checkpoint(snapshot)
                snapshot.commit()
            return cp
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({CHECKPOINT_LOCK})")
            conn.commit()


def checkpoint(session: Session) -> Checkpoint:
    """Seal, then record the current head as a checkpoint (idempotent for an unchanged head). The reads
    must see one state of the database: a snapshot, or no other writer (`take_checkpoint` arranges it)."""
    seal(session, wait=True)  # (a session holding the checkpoint lock is granted the shared one it asks for)
    session.info.pop("checkpoint_due", None)  # this is the checkpoint
    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()
    existing = session.execute(select(Checkpoint).where(Checkpoint.seq == head.seq)).scalar_one_or_none()
    if existing:
        return existing
    roots_json = roots_now(session)
    signature, kid = signing.signing_key().sign(head.seq, head.hash, json.loads(roots_json) if roots_json else {})
    cp = Checkpoint(seq=head.seq, head_hash=head.hash, created_at=clock.now(session), roots_json=roots_json,
                    signature=signature, key_id=kid)
    session.add(cp)
    session.flush()
    return cp


def sign_unsigned(session: Session) -> int:
    """Sign the checkpoints taken before checkpoints were signed (after a verification of the chain they
    anchor: `ccer ledger sign-checkpoints` runs one first); how many."""
    key, n = signing.signing_key(), 0
    for cp in session.execute(select(Checkpoint).where(Checkpoint.signature.is_(None)).order_by(Checkpoint.seq)).scalars():
        cp.signature, cp.key_id = key.sign(cp.seq, cp.head_hash, cp.roots)
        n += 1
    session.flush()
    return n
