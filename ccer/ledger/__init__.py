"""The ledger: an append-only, SHA-256 hash-chained event log, and the checkpoints anyone can keep.

Every state change is an event (actor, time, subject, action, payload). Its hash covers its own content
and the previous event's hash, so editing, deleting or reordering any stored event breaks the chain from
there on. Events about a *subject* (an organisation, a serial block, …) also carry the subject's state
after the change; `verify` compares the latest vouched state of every subject with the tables, so a row
edited behind the platform's back is caught too.

    codec        canonical JSON and the event hash — the public format (docs/ledger-format.md)
    models       events, the chain head, checkpoints
    subjects     what an event vouches for; Merkle roots of those states
    append       record an event; seal pending events into the chain
    checkpoints  the head with its Merkle roots, every CHECKPOINT_EVERY events, signed
    signing      the registry's Ed25519 key and what a checkpoint signature covers
    verify       recompute everything (set-based, or since a trusted checkpoint) and name the first thing wrong
    export       the public ledger as JSON lines, streamed (what the stand-alone verifier in verifier/ reads)
"""
from __future__ import annotations

from ..infra import db
from .append import (CHECKPOINT_EVERY, CHECKPOINT_LOCK, count, head, keep_sealing, lock_head, passed_checkpoint,
                     payload, pending, record, record_many, seal, seal_pending)
from .checkpoints import checkpoint, checkpoint_when_due, roots_now, take_checkpoint
from .codec import GENESIS, canonical, event_hash, is_canonical, plain, sha256
from .models import CREDIT_ACTIONS, CREDIT_EVENTS, RETIREMENT_EVENTS, Checkpoint, Event, LedgerHead
from .signing import PublicKey, public_key, signing_key
from .subjects import (INVARIANTS, SCAN_PAGE, SUBJECT_TYPES, KeptWhen, SubjectType, fields_scan, merkle_leaves, merkle_roots, register_fields,
                       register_invariant, register_subject, root_now, scan)
from .verify import Problem, VerifyReport, chain_rows, iter_events, replayed_states, verify, vouched



def wire() -> None:
    """A commit whose sealing passed a multiple of CHECKPOINT_EVERY takes a checkpoint afterwards; once, by
    ccer.load_models."""
    if checkpoint_when_due not in db.AFTER_COMMIT:
        db.AFTER_COMMIT.append(checkpoint_when_due)

__all__ = [
    "wire",
    "CHECKPOINT_EVERY", "CHECKPOINT_LOCK", "count", "head", "keep_sealing", "lock_head", "passed_checkpoint", "payload", "pending", "record_many",
    "record", "seal", "seal_pending", "checkpoint", "checkpoint_when_due", "roots_now", "take_checkpoint", "GENESIS",
    "canonical", "event_hash", "is_canonical", "plain", "sha256", "CREDIT_ACTIONS", "CREDIT_EVENTS", "RETIREMENT_EVENTS",
    "Checkpoint", "Event", "LedgerHead", "INVARIANTS", "SUBJECT_TYPES", "SubjectType", "merkle_leaves", "merkle_roots",
    "register_fields", "register_invariant", "register_subject", "root_now", "Problem", "VerifyReport", "iter_events",
    "replayed_states", "verify", "vouched", "PublicKey", "public_key", "signing_key", "SCAN_PAGE", "fields_scan", "scan",
    "chain_rows", "KeptWhen",
]
