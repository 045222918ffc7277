"""The registry's own acts on CCERs as maker–checker operations between two registry users (issue 15; the
Registry Rules' 发起代表/确认代表 applied to the registry itself, ccer-rules.md §6): issuing a registered batch,
judicial freeze, release and deduction, non-trade transfers, forced cancellation and a fraud case's
enforcement. One registry user proposes (the API, `ccer registry …`, the pages); the request is checked at
once so that a bad one never waits; a *second* registry user confirms (POST /api/v1/approvals/<id>/confirm,
`ccer registry confirm`), and only then does the act run — the executing service (issuing.issue_batch,
services.freeze, …, the one implementation) in the confirming transaction, its events vouching for the
approved request. The executing services refuse to run otherwise (services.require_confirmed), so neither
one registry user nor the system actor acts alone. A confirmation re-checks everything under locks: a request
whose batch was issued meanwhile, or whose freeze was released, is refused with the rule and stays pending
(to be rejected).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..auth import makerchecker
from ..infra.actor import Actor
from ..infra.errors import ValidationError
from . import fraud, issuing, retirements, services
from .accounts import get_account

SPEC_KEYS = ("quantity", "project_no", "vintage", "serial")

ISSUE, FREEZE, RELEASE, DEDUCT = "registry.issue", "registry.freeze", "registry.release", "registry.deduct"
NON_TRADE, FORCE_CANCEL, ENFORCE = "registry.non_trade", "registry.force_cancel", "registry.fraud_enforce"
#: every operation of this module (the role × action matrix and the pages list them)
KINDS = (ISSUE, FREEZE, RELEASE, DEDUCT, NON_TRADE, FORCE_CANCEL, ENFORCE)


def _spec(spec: dict) -> dict:
    return {k: spec[k] for k in SPEC_KEYS if spec.get(k) is not None}


def _id(target: str, kind: str) -> int:
    name, _, value = str(target).partition(":")
    if name != kind or not value.isdigit():
        raise ValidationError(f"target must be {kind}:<id>, got {target!r}", field="target")
    return int(value)


# ---- proposing (the maker's half) ------------------------------------------------------------------------


def propose_issue(session: Session, actor: Actor, monitoring_period_id: int) -> makerchecker.ApprovalRequest:
    """Issue a registered batch (Measures Art. 22) once a second registry user confirms."""
    return makerchecker.propose(session, actor, ISSUE, f"monitoring_period:{services._whole(monitoring_period_id, 'monitoring_period_id')}", {})


def propose_freeze(session: Session, actor: Actor, account_ref, *, authority: str, order_ref: str, **spec) -> makerchecker.ApprovalRequest:
    """Freeze units on a court order (Registry Rules Art. 16)."""
    account = get_account(session, account_ref)
    return makerchecker.propose(session, actor, FREEZE, f"account:{account.id}",
                                {"authority": authority, "order_ref": order_ref, **_spec(spec)})


def propose_release(session: Session, actor: Actor, freeze_id: int, reason: str) -> makerchecker.ApprovalRequest:
    return makerchecker.propose(session, actor, RELEASE, f"freeze:{services._whole(freeze_id, 'freeze_id')}", {"reason": reason})


def propose_deduct(session: Session, actor: Actor, freeze_id: int, to_account, evidence: str) -> makerchecker.ApprovalRequest:
    """司法扣划 of a freeze's units to the account a judgment names (Registry Rules Art. 16)."""
    return makerchecker.propose(session, actor, DEDUCT, f"freeze:{services._whole(freeze_id, 'freeze_id')}",
                                {"to_account": to_account, "evidence": evidence})


def propose_non_trade(session: Session, actor: Actor, kind: str, from_account, to_account, evidence: str,
                      **spec) -> makerchecker.ApprovalRequest:
    """Succession or compulsory enforcement on evidence (Registry Rules Art. 14)."""
    sender = get_account(session, from_account)
    return makerchecker.propose(session, actor, NON_TRADE, f"account:{sender.id}",
                                {"kind": kind, "to_account": to_account, "evidence": evidence, **_spec(spec)})


def propose_force_cancel(session: Session, actor: Actor, account_ref, *, order: str, **spec) -> makerchecker.ApprovalRequest:
    """强制注销 on a department's order (Measures Art. 43)."""
    account = get_account(session, account_ref)
    return makerchecker.propose(session, actor, FORCE_CANCEL, f"account:{account.id}", {"order": order, **_spec(spec)})


def propose_enforcement(session: Session, actor: Actor, case_id: int, order: str) -> makerchecker.ApprovalRequest:
    """A fraud case's enforcement after its deadline (Measures Art. 43)."""
    return makerchecker.propose(session, actor, ENFORCE, f"fraud_case:{services._whole(case_id, 'case_id')}", {"order": order})


def pending_issue(session: Session, monitoring_period_id: int) -> makerchecker.ApprovalRequest | None:
    """The pending issuance request of a batch (its `register` transition proposed it), if any."""
    from sqlalchemy import select

    R = makerchecker.ApprovalRequest
    return session.execute(select(R).where(R.kind == ISSUE, R.target == f"monitoring_period:{monitoring_period_id}", R.status == "pending")
                           .order_by(R.id.desc()).limit(1)).scalar_one_or_none()


# ---- checks at proposal (read-only; the confirmation re-checks under locks) --------------------------------


def _issue_check(session: Session, target: str, payload: dict) -> None:
    issuing.issuable(session, _id(target, "monitoring_period"))


def _freeze_check(session: Session, target: str, payload: dict) -> None:
    account, spec = services.freeze_inputs(session, _id(target, "account"), payload.get("authority"), payload.get("order_ref"), payload)
    services._pick(session, account, spec, services.FREEZABLE)


def _release_check(session: Session, target: str, payload: dict) -> None:
    services.release_inputs(session, _id(target, "freeze"), payload.get("reason"))


def _deduct_check(session: Session, target: str, payload: dict) -> None:
    services.deduct_inputs(session, _id(target, "freeze"), payload.get("to_account"), payload.get("evidence"))


def _non_trade_check(session: Session, target: str, payload: dict) -> None:
    sender, _recipient, spec = services.non_trade_inputs(session, payload.get("kind"), _id(target, "account"), payload.get("to_account"),
                                                         payload.get("evidence"), payload)
    services._pick(session, sender, spec)


def _force_cancel_check(session: Session, target: str, payload: dict) -> None:
    account, spec, _order = retirements.force_cancel_inputs(session, _id(target, "account"), payload.get("order"), payload)
    services._pick(session, account, spec, retirements.FORCEABLE)


def _enforce_check(session: Session, target: str, payload: dict) -> None:
    fraud.enforceable(session, _id(target, "fraud_case"), payload.get("order"))


# ---- carrying out (the checker's half): the one executing service, vouching for the request ---------------


def _issue(session, actor, target, payload, vouch=()):
    return issuing.issue_batch(session, actor, _id(target, "monitoring_period"), vouch=vouch)


def _freeze(session, actor, target, payload, vouch=()):
    return services.freeze(session, actor, _id(target, "account"), authority=payload["authority"], order_ref=payload["order_ref"],
                           vouch=vouch, **_spec(payload))


def _release(session, actor, target, payload, vouch=()):
    return services.release_freeze(session, actor, _id(target, "freeze"), payload["reason"], vouch=vouch)


def _deduct(session, actor, target, payload, vouch=()):
    return services.deduct(session, actor, _id(target, "freeze"), payload["to_account"], payload["evidence"], vouch=vouch)


def _non_trade(session, actor, target, payload, vouch=()):
    return services.non_trade_transfer(session, actor, payload["kind"], _id(target, "account"), payload["to_account"],
                                       payload["evidence"], vouch=vouch, **_spec(payload))


def _force_cancel(session, actor, target, payload, vouch=()):
    return retirements.force_cancel(session, actor, _id(target, "account"), order=payload["order"], vouch=vouch, **_spec(payload))


def _enforce(session, actor, target, payload, vouch=()):
    return fraud.enforce(session, actor, _id(target, "fraud_case"), payload["order"], vouch=vouch)


__all__ = ["pending_issue", "propose_issue", "propose_freeze", "propose_release", "propose_deduct", "propose_non_trade", "propose_force_cancel",
           "propose_enforcement", "KINDS"]


def wire() -> None:
    """This module's maker–checker operations (ccer.load_models, once): each under the permission its executing
    service requires, so initiator and confirmer are both registry users."""
    for kind, apply, permission, check in (
            (ISSUE, _issue, "registry.issue", _issue_check),
            (FREEZE, _freeze, "registry.judicial", _freeze_check),
            (RELEASE, _release, "registry.judicial", _release_check),
            (DEDUCT, _deduct, "registry.judicial", _deduct_check),
            (NON_TRADE, _non_trade, "registry.judicial", _non_trade_check),
            (FORCE_CANCEL, _force_cancel, "registry.force_cancel", _force_cancel_check),
            (ENFORCE, _enforce, "registry.fraud.enforce", _enforce_check)):
        makerchecker.operation(kind, apply, permission, check, one_event=True)
