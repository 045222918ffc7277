"""Reduction batches (monitoring periods, 核算期), Measures Art. 17–22:

    draft ─publicise→ publicity ─verify→ verified ─apply→ applied ─register→ registered  (→ issuance)
              (20 working days)  └reject→ rejected         │ ↑      └refuse→ refused
                                                     return↓ │reapply
                                                        returned

Monitored data (the methodology's parameters per sub-period, from JSON, CSV or XLSX rows) are checked and
calculated ex post by the plug-in when the period is entered; the verification report fixes the verified
quantity as the recomputation of those data; the owner applies for exactly that quantity; registration
hands it to the registry's issuance as serial blocks, one per vintage (year of generation).
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar, clock
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, ValidationError
from ..infra.actor import Actor
from ..issuance import issuing, registry_acts
from ..methodologies import inputs, registry as methodologies
from ..validation import services as vv
from ..workflow import Guard, Machine
from . import comments, eligibility, green_certificates, records, reversals
from .eligibility import OWNER_FREE, QUANTITY_IS_VERIFIED, VERIFIER_DIFFERS, WITHIN_FIVE_YEARS
from .green_certificates import NO_GREEN_CERTIFICATES
from .lifecycle import (COMMENTS_HANDLED, ENGAGED, FINDINGS_CLOSED, OWNER_COMMITMENT, PUBLICITY_OVER, PUBLICITY_WORKDAYS,
                        REASON, REVIEW_WORKDAYS, VVB_COMMITMENT, WITHIN_100_DAYS, render_report)
from .models import MonitoringPeriod, Project

MP_FIELDS = ("project_id", "number", "start", "end", "status", "verifier_id", "publicity_start", "publicity_end",
             "verified_quantity", "applied_quantity", "review_due", "green_certificates_mwh", "reason")


def mp_state(session: Session, mid: str) -> dict | None:
    mp = session.get(MonitoringPeriod, int(mid))
    if mp is None:
        return None
    state = {**{f: getattr(mp, f) for f in MP_FIELDS}, "vintages": mp.vintages_json}
    if mp.origin != "platform":  # a listed batch also vouches for its provenance (platform batches' states are as before)
        state.update(origin=mp.origin, source=mp.source)
    return state


def _mp_row_state(row) -> dict:
    """mp_state of a row of `mp_states`' scan."""
    state = {**dict(zip(MP_FIELDS, row[1:])), "vintages": row.vintages_json}
    if row.origin != "platform":
        state.update(origin=row.origin, source=row.source)
    return state


#: mp_state of every monitoring period in one ordered scan (ledger verify)
mp_states = ledger.scan([MonitoringPeriod.id, *(getattr(MonitoringPeriod, f) for f in MP_FIELDS), MonitoringPeriod.vintages_json,
                         MonitoringPeriod.origin, MonitoringPeriod.source], _mp_row_state)


# ---- guards ------------------------------------------------------------------------------------------------


def _dates_ok(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    problem = eligibility.period_problem(session, mp)
    return problem[0] if problem else None


def _project_registered(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    return None if mp.project.status == "registered" else f"the project is {mp.project.status}"


def _verified_matches_data(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    q = ctx.get("verified_quantity")
    if q is not None and q != mp_quantity(mp):
        return (f"the report says {q} tCO2e; the monitored data recompute to {mp_quantity(mp)} — raise a CAR and have the owner "
                "correct the data instead")
    return None


def _checklist(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    failed = [i["item"] for i in checklist(session, mp) if not i["ok"]]
    return f"checklist items not met: {'; '.join(failed)}" if failed else None


def _netting_current(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    """A sink batch's stored netting against today's count, in whole tCO2e by vintage — what is verified,
    registered and issued (not the exact digits): renet keeps it current, this confirms it where it matters;
    and a verification report that fixed a quantity before the netting was recomputed no longer stands."""
    calc = json.loads(mp.calculation_json or "{}")
    if "netting" not in calc:
        return None
    stored, now = json.loads(mp.vintages_json), vintages(calc, reversals.current(session, mp)["credited"])
    if now != stored:
        return (f"its netting no longer matches the project's counted batches (it credits {sum(stored.values())} tCO2e; they "
                f"now give {sum(now.values())}): the VVB rejects or the registry refuses it and the owner enters it again")
    if mp.verified_quantity is not None and mp.verified_quantity != mp_quantity(mp):
        return (f"the netting was recomputed after the verification: the batch now credits {mp_quantity(mp)} tCO2e, the "
                f"verification report fixed {mp.verified_quantity} — the registry refuses this batch and the owner enters it "
                "again for a new verification")
    return None


DATES_OK = Guard("inside the crediting period, after 2020-09-22, not overlapping another batch", _dates_ok, "Measures Art. 17", "start")
PROJECT_REGISTERED = Guard("the project is registered", _project_registered, "Measures Art. 18", "project_id")
VERIFIED_MATCHES = Guard("verified quantity is the recomputation of the monitored data", _verified_matches_data, "Measures Art. 20", "verified_quantity")
MP_CHECKLIST = Guard("completeness and conformity checklist", _checklist, "Measures Art. 22", "checklist")
#: a sink batch is verified and registered on the netting of the batches that count now
NETTING_CURRENT = Guard("the sink netting is current", _netting_current, "methodologies.md §5.5; Measures Art. 20, 48", "netting")


# ---- effects -----------------------------------------------------------------------------------------------


def _start_publicity(session: Session, actor: Actor, mp: MonitoringPeriod, ctx: dict) -> None:
    today = clock.today(session)
    mp.publicity_start, mp.publicity_end = today, calendar.add_workdays(today, PUBLICITY_WORKDAYS)
    records.store(session, actor, "accounting_report", "monitoring_period", mp.id, render_accounting_report(session, mp))


def _report(session: Session, actor: Actor, mp: MonitoringPeriod, ctx: dict) -> None:
    if ctx.get("conclusion") == "positive":
        mp.verified_quantity = mp_quantity(mp)
    doc = records.store(session, actor, "verification_report", "monitoring_period", mp.id, render_report(
        session, "verification_report", "monitoring_period", mp, f"VER-{mp.project_id:06d}-{mp.number:03d}", [
            ("项目 Project", mp.project.title), ("核算期 Period", f"{mp.start} – {mp.end}"),
            ("结论 Conclusion", "肯定 positive" if ctx.get("conclusion") == "positive" else f"否定 negative — {ctx.get('reason')}"),
            ("核证减排量 Verified quantity", mp.verified_quantity and f"{mp.verified_quantity:,} tCO2e"),
            ("按年度 By vintage", mp.vintages_json),
            ("碳汇损失与遥感预警 Sink loss and GIS flags", _loss_line(mp)),
            ("评论处理 Handling of comments", ctx.get("comment_handling") or "见下表 see the table below")],
        calculation=json.loads(mp.calculation_json)))
    account = records.latest(session, "accounting_report", "monitoring_period", mp.id)
    vv.commit(session, actor, "vvb_verification", "monitoring_period", mp.id, [account, doc], VVB_COMMITMENT)


def _apply(session: Session, actor: Actor, mp: MonitoringPeriod, ctx: dict) -> None:
    docs = [records.latest(session, k, "monitoring_period", mp.id) for k in ("accounting_report", "verification_report")]
    vv.commit(session, actor, "owner_reduction", "monitoring_period", mp.id, docs, OWNER_COMMITMENT.replace("Art. 14", "Art. 21"))
    mp.applied_quantity, mp.applied_at = ctx["quantity"], clock.now(session)
    mp.review_due = calendar.add_workdays(clock.today(session), REVIEW_WORKDAYS)
    mp.reason = None


def _register(session: Session, actor: Actor, mp: MonitoringPeriod, ctx: dict) -> None:
    # Measures Art. 22: registered reductions are CCERs — the batch is registered, and the registering user
    # proposes its issuance (exactly its verified vintages as serial blocks), which a second registry user
    # confirms (issue 15: the registry's acts on CCERs are maker–checker, ccer/issuance/registry_acts.py).
    # The system actor names no one to propose: the operator proposes with `ccer registry issue --as USER`.
    mp.registered_at, mp.status = clock.now(session), "registered"
    green_certificates.cancel(session, actor, mp)  # MEE/NEA 2024-09-11: the matching untraded GECs cancelled
    if mp_quantity(mp) > 0 and actor.user_id is not None:  # a batch that only records a sink's loss (or its making good) issues nothing
        registry_acts.propose_issue(session, actor, mp.id)


def _with_reason(session: Session, actor: Actor, mp: MonitoringPeriod, ctx: dict) -> None:
    mp.reason = ctx["reason"].strip()


MONITORING = Machine("monitoring_period", states=("draft", "publicity", "verified", "rejected", "applied", "returned",
                                                  "registered", "refused"),
                     recorded=("reason", "conclusion", "quantity", "verified_quantity"))
MONITORING.transition("publicise", "draft", "publicity", permission="project.owner",
                      guards=[PROJECT_REGISTERED, DATES_OK, ENGAGED, VERIFIER_DIFFERS, NO_GREEN_CERTIFICATES, OWNER_FREE],
                      effect=_start_publicity, label="公示 publish the accounting report for 20 working days")
MONITORING.transition("verify", "publicity", "verified", permission="project.report",
                      guards=[PUBLICITY_OVER, COMMENTS_HANDLED, FINDINGS_CLOSED, WITHIN_100_DAYS, NETTING_CURRENT, VERIFIED_MATCHES],
                      effect=_report, label="核查报告（肯定） positive verification report", defaults={"conclusion": "positive"})
MONITORING.transition("reject", "publicity", "rejected", permission="project.report", guards=[PUBLICITY_OVER, COMMENTS_HANDLED, REASON],
                      effect=_report, label="核查报告（否定） negative verification report", defaults={"conclusion": "negative"})
MONITORING.transition("apply", "verified", "applied", permission="project.owner",
                      guards=[QUANTITY_IS_VERIFIED, WITHIN_FIVE_YEARS, DATES_OK, OWNER_FREE], effect=_apply,
                      label="申请减排量登记 apply for exactly the verified quantity")
MONITORING.transition("return", "applied", "returned", permission="project.review", guards=[REASON], effect=_with_reason)
MONITORING.transition("reapply", "returned", "applied", permission="project.owner",
                      guards=[QUANTITY_IS_VERIFIED, WITHIN_FIVE_YEARS, DATES_OK, OWNER_FREE], effect=_apply)
MONITORING.transition("register", "applied", "registered", permission="project.review",
                      guards=[MP_CHECKLIST, PROJECT_REGISTERED, WITHIN_FIVE_YEARS, NETTING_CURRENT], effect=_register, label="登记 register: CCERs are issued")
MONITORING.transition("refuse", "applied", "refused", permission="project.review", guards=[REASON], effect=_with_reason)


# ---- the calculation -----------------------------------------------------------------------------------


def vintages(calc: dict, credited: list | None = None) -> dict[str, int]:
    """Whole tCO2e per year of generation (Trading Rules Art. 10: instruments by project and vintage). A
    sub-period inside one year adds its exact ER to that year; one spanning several years (a sink's
    multi-year monitoring interval) is apportioned to them by days, i.e. assuming linear accrual. Each
    year is rounded down (conservative), so the batch's quantity is the sum of the years' floors.
    `credited`: the creditable amount of each period after netting a sink's reversals (reversals.net)."""
    per_year: dict[int, Decimal] = defaultdict(Decimal)
    for i, p in enumerate(calc["periods"]):
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        er = Decimal(p["exact"]["ER"] if credited is None else credited[i])
        days = Decimal((end - start).days + 1)
        for year in range(start.year, end.year + 1):
            first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
            per_year[year] += er * Decimal((last - first).days + 1) / days
    return {str(y): max(0, int(v.to_integral_value(rounding=ROUND_FLOOR))) for y, v in sorted(per_year.items())}


def _loss_line(mp: MonitoringPeriod) -> str | None:
    """For the verification report of a sink batch: the loss recorded and the parcels the imagery flagged."""
    netting = json.loads(mp.calculation_json or "{}").get("netting")
    if not netting:
        return None
    return (f"损失 loss {netting['loss']} tCO2e; 待弥补 to make good {netting['after']['outstanding_loss']} tCO2e; "
            f"预警地块 flagged parcels: {', '.join(map(str, netting_flags(mp))) or '无 none'}")


def netting_flags(mp: MonitoringPeriod) -> list:
    """Parcels whose forest share fell beyond the threshold in the batch's GIS change check."""
    return (json.loads(mp.calculation_json or "{}").get("gis_change") or {}).get("flagged") or []


def mp_quantity(mp: MonitoringPeriod) -> int:
    return sum(json.loads(mp.vintages_json).values())


def _calculate(project: Project, periods: list[dict]) -> dict:
    m = methodologies.get(project.methodology_code)
    return m.calculate({"stage": "ex-post", "project": json.loads(project.facts_json or "{}"), "periods": periods}).to_dict()


def creatable(session: Session, actor: Actor, project_id: int) -> Project:
    """The project `actor` may enter monitored data for now — asked before an upload is read."""
    project = fetch(session, Project, project_id, "project", "project_id")
    policy.require(actor, "project.owner", project)
    if project.status != "registered":
        raise Conflict(f"the project is {project.status}; reductions are monitored for registered projects", field="project_id", rule="Measures Art. 18")
    if project.origin == "legacy":  # Measures Art. 49: an old-regime project re-applies as a new project for new CCERs
        raise Conflict(f"{project.title} was filed under the old regime: it re-applies as a new project for new reductions",
                       field="project_id", rule="Measures Art. 49")
    return project


@mutating
def create(session: Session, actor: Actor, project_id: int, periods: list[dict], green_certificates_mwh: int = 0,
           landcover: tuple | None = None) -> MonitoringPeriod:
    """Enter a batch's monitored data; its dates run from the first sub-period's start to the last one's end.
    A sink batch also names the land-cover rasters (before, after) of its period: the GIS change of its parcels
    is checked and kept with the batch (reversals.gis_change)."""
    project = creatable(session, actor, project_id)
    if not periods:
        raise ValidationError("give the monitored data of at least one sub-period", field="periods")
    calc = _calculate(project, periods)
    credited = None
    if reversals.is_sink(project):  # a sink's losses are netted against its earlier batches (reversals.py)
        first = date.fromisoformat(calc["periods"][0]["start"])
        # a batch for an earlier period (one re-entered after its rejection) is netted in before the later open
        # batches, which are recomputed (renet); not before a registered one — its CCERs were issued
        # on a netting without this period and stand, so the project's netting could not take it in
        fixed = session.execute(select(MonitoringPeriod.number).where(
            MonitoringPeriod.project_id == project.id, MonitoringPeriod.start > first,
            MonitoringPeriod.status.not_in((*reversals.NOT_COUNTED, *reversals.OPEN)))).scalars().first()
        if fixed is not None:
            raise ValidationError(f"batch {fixed} covers a later period and is registered: its CCERs were issued on a netting "
                                  "without this period, so a sink's batch is not entered before it", field="periods",
                                  rule="reversals netted (methodologies.md §5.5)")
        calc["netting"] = reversals.net(calc, *reversals.standing(reversals.earlier(session, project.id, first, None)))
        credited = calc["netting"]["credited"]
        calc["gis_change"] = reversals.gis_change(session, project, landcover)
    number = (session.execute(select(func.max(MonitoringPeriod.number)).where(MonitoringPeriod.project_id == project.id)).scalar_one() or 0) + 1
    mp = MonitoringPeriod(project_id=project.id, number=number, start=date.fromisoformat(calc["periods"][0]["start"]),
                          end=date.fromisoformat(calc["periods"][-1]["end"]), status="draft", data_json=ledger.canonical(periods),
                          calculation_json=json.dumps(calc, ensure_ascii=False), vintages_json=ledger.canonical(vintages(calc, credited)),
                          green_certificates_mwh=int(green_certificates_mwh or 0), created_at=clock.now(session))
    mp.project = project
    problem = eligibility.period_problem(session, mp)
    if problem:
        raise ValidationError(problem[0], field=problem[2], rule=problem[1])
    session.add(mp)
    session.flush()
    ledger.record(session, actor, "monitoring_period.created", "monitoring_period", mp.id)
    netting = calc.get("netting")
    if netting and Decimal(netting["after"]["outstanding_loss"]) > 0:
        # a loss (reversal) is flagged in the public ledger for the VVB and the registry, with what remains to make good
        ledger.record(session, actor, "monitoring_period.loss_recorded", "monitoring_period", mp.id,
                      {"loss": netting["loss"], "net_change": netting["net_change"],
                       "outstanding_loss": netting["after"]["outstanding_loss"]})
    flagged = (calc.get("gis_change") or {}).get("flagged")
    if flagged:  # the imagery shows a loss on these parcels: flagged to the VVB and the registry, whatever the plots say
        ledger.record(session, actor, "monitoring_period.gis_loss_flagged", "monitoring_period", mp.id,
                      {"parcels": flagged, "rasters": calc["gis_change"]["rasters"]})
    if netting:  # entered for an earlier period than some open batches: they are netted again with it
        renet(session, actor, project, mp.start, f"batch {mp.number} entered for the earlier period {mp.start}–{mp.end}")
    return mp


def renet(session: Session, actor: Actor, project: Project, after: date, cause: str) -> list[MonitoringPeriod]:
    """Recompute the netting of the project's open batches starting after `after`, in order, because the
    count changed (`cause`: a batch rejected or refused, or one entered for an earlier period); one event per
    batch whose netting changed, with its credited figures before and after. In the caller's transaction.

    Why here, once, when the count changes, rather than only checking at verification or registration: the
    netting is what the accounting report publishes and the VVB verifies, so it is kept current before either,
    and the ledger names the cause; NETTING_CURRENT still confirms it at both (methodologies.md §5.5).
    Registered batches are never touched: their CCERs are issued and stand (reversals.standing counts what
    they credited, so a later batch makes good any excess). A batch in publicity is published again with the
    new figures and its 20 working days start over (Measures Art. 19: the public sees what it credits); one
    whose verification report already fixed a quantity keeps it, and NETTING_CURRENT refuses its
    registration (Measures Art. 20: the verified quantity is not changed without a verification)."""
    changed = []
    later = session.execute(select(MonitoringPeriod).where(
        MonitoringPeriod.project_id == project.id, MonitoringPeriod.start > after,
        MonitoringPeriod.status.in_(reversals.OPEN)).order_by(MonitoringPeriod.start)).scalars().all()
    for mp in later:
        calc = json.loads(mp.calculation_json or "{}")
        if "netting" not in calc:
            continue
        old, old_vintages = calc["netting"], json.loads(mp.vintages_json)
        calc["netting"] = reversals.current(session, mp)
        if calc["netting"] == old:
            continue
        mp.calculation_json = json.dumps(calc, ensure_ascii=False)
        mp.vintages_json = ledger.canonical(vintages(calc, calc["netting"]["credited"]))
        ledger.record(session, actor, "monitoring_period.netting_recomputed", "monitoring_period", mp.id, {
            "cause": cause, "credited_before": old["credited"], "credited_after": calc["netting"]["credited"],
            "vintages_before": old_vintages, "vintages_after": json.loads(mp.vintages_json),
            "outstanding_loss": calc["netting"]["after"]["outstanding_loss"]})
        if mp.status == "publicity":
            _start_publicity(session, actor, mp, {})
        changed.append(mp)
    return changed


@mutating
def import_listed_batch(session: Session, actor: Actor, project_id: int, start, end, vintages: dict, source: str,
                        number: int | None = None) -> MonitoringPeriod:
    """Record a reduction batch that the registry registered for a listed project (one imported from the public
    listing, services.import_listed) as a registered monitoring period with its provenance: its period, its
    quantity by vintage and where the figures come from. The registry then issues it with
    issuing.issue_batch like any other batch. A platform project's batches are monitored, verified and applied
    for here instead (Measures Art. 18–21)."""
    policy.require(actor, "reductions.import")
    project = fetch(session, Project, project_id, "project", "project_id")
    if project.origin not in ("listing", "legacy"):
        raise Conflict(f"{project.title} is a platform project: its batches are monitored, verified and applied for here",
                       field="project_id", rule="Measures Art. 18–21")
    if project.status != "registered":
        raise Conflict(f"the project is {project.status}; reductions are registered for registered projects", field="project_id",
                       rule="Measures Art. 22")
    if not (source or "").strip():
        raise ValidationError("name where the batch's figures come from (the listing entry, the registry's notice)", field="source",
                              rule="Measures Art. 22: registered with all materials disclosed")
    start, end = inputs.a_date(start, "start"), inputs.a_date(end, "end")
    if not isinstance(vintages, dict) or not vintages:
        raise ValidationError("give the quantity of at least one vintage", field="vintages", rule="Trading Rules Art. 10")
    checked = {}
    for year, quantity in vintages.items():
        if not str(year).isdigit() or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValidationError(f"{year}: {quantity!r} is not a year and a whole number of tCO2e ≥ 1", field="vintages",
                                  rule="Trading Rules Art. 10")
        if not start.year <= int(year) <= end.year:
            raise ValidationError(f"vintage {year} is outside the batch's period {start}–{end}", field="vintages", rule="Measures Art. 17")
        checked[str(int(year))] = quantity
    taken = select(MonitoringPeriod.id).where(MonitoringPeriod.project_id == project.id)
    if number is None:
        number = (session.execute(select(func.max(MonitoringPeriod.number)).where(MonitoringPeriod.project_id == project.id)).scalar_one() or 0) + 1
    elif isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValidationError("must be a whole number ≥ 1", field="number")
    elif session.execute(taken.where(MonitoringPeriod.number == number)).first():
        raise Conflict(f"batch {number} of project {project.registry_no:06d} is already recorded", field="number",
                       rule="Measures Art. 17, 22: the same reductions are registered and issued once")
    now, total = clock.now(session), sum(checked.values())
    mp = MonitoringPeriod(project_id=project.id, number=number, start=start, end=end, status="registered", data_json="[]",
                          vintages_json=ledger.canonical(dict(sorted(checked.items()))), green_certificates_mwh=0,
                          verified_quantity=total, applied_quantity=total, registered_at=now, created_at=now,
                          origin="legacy" if project.origin == "legacy" else "listing", source=source.strip())
    mp.project = project
    # Measures Art. 17: after 2020-09-22, in the crediting period, no overlap — an old-regime batch (Art. 49) predates the rule
    problem = eligibility.period_problem(session, mp)
    if problem and not (project.origin == "legacy" and "must be generated after" in problem[0]):
        raise ValidationError(problem[0], field=problem[2], rule=problem[1])
    session.add(mp)
    session.flush()
    ledger.record(session, actor, "monitoring_period.imported", "monitoring_period", mp.id)
    return mp


def get(session: Session, mp_id: int) -> MonitoringPeriod:
    return fetch(session, MonitoringPeriod, mp_id, "monitoring period", "monitoring_period_id")


@mutating
def fire(session: Session, actor: Actor, mp_id: int, transition: str, **context) -> MonitoringPeriod:
    mp = MONITORING.fire(session, actor, get(session, mp_id), transition, context)
    if mp.status in reversals.NOT_COUNTED and reversals.is_sink(mp.project):
        # a rejected or refused sink batch no longer counts: the later open batches are netted without it, in
        # this transaction, after the event that says why (renet; methodologies.md §5.5)
        renet(session, actor, mp.project, mp.start, f"batch {mp.number} {mp.status}")
    return mp


def checklist(session: Session, mp: MonitoringPeriod) -> list[dict]:
    acc = records.latest(session, "accounting_report", "monitoring_period", mp.id)
    rep = records.latest(session, "verification_report", "monitoring_period", mp.id)
    owner = (vv.commitments_of(session, "monitoring_period", mp.id, "owner_reduction") or [None])[-1]
    vvb = (vv.commitments_of(session, "monitoring_period", mp.id, "vvb_verification") or [None])[-1]
    wanted = sorted(d.sha256 for d in (acc, rep) if d)
    vouched = sorted(d["sha256"] for d in json.loads(owner.documents_json)) if owner else []
    items = [
        ("accounting report published for 20 working days before the application", mp.publicity_end is not None and mp.applied_at is not None
         and clock.local(mp.applied_at).date() > mp.publicity_end, "Measures Art. 19"),
        ("verification report with the VVB's commitment", rep is not None and vvb is not None and rep.sha256 in vvb.documents_json, "Measures Art. 20"),
        ("verifier differs from the validator", mp.verifier_id is not None and mp.verifier_id != mp.project.validator_id, "Measures Art. 18"),
        ("applied quantity equals the verified quantity", mp.applied_quantity is not None and mp.applied_quantity == mp.verified_quantity, "Measures Art. 21"),
        ("owner's commitment letter vouching for these exact documents", bool(wanted) and vouched == wanted, "Measures Art. 21"),
        ("every public comment handled", not comments.unhandled(session, "monitoring_period", mp.id), "Measures Art. 19–20"),
        ("all findings closed", not vv.unclosed(session, "monitoring_period", mp.id), "CNCA-CCER-01 §5.7"),
    ]
    return [{"item": n, "ok": bool(ok), "rule": r} for n, ok, r in items]


def render_accounting_report(session: Session, mp: MonitoringPeriod) -> bytes:
    p = mp.project
    sections = [{"heading": "核算期 Accounting period", "rows": [
        ("项目 Project", p.title), ("登记编号 Registry No.", f"{p.registry_no:06d}" if p.registry_no else None),
        ("方法学 Methodology", p.methodology_code), ("批次 Batch", mp.number), ("期间 Period", f"{mp.start} – {mp.end}"),
        ("按年度 By vintage (tCO2e)", ", ".join(f"{y}: {q:,}" for y, q in json.loads(mp.vintages_json).items())),
        ("核查机构 Verification body", mp.verifier_id and session.get(type(p.owner), mp.verifier_id).name),
        ("绿证 Green certificates claimed (MWh)", mp.green_certificates_mwh)]}]
    netting = json.loads(mp.calculation_json or "{}").get("netting")
    if netting:  # a sink: what the VVB verifies and the registry registers is the netted figure, a loss shown plainly
        sections.append({"heading": "碳汇净变化与逆转 Net change and reversals (methodologies.md §5.5)", "rows": [
            ("本批净变化 Net change of the batch (tCO2e)", netting["net_change"]),
            ("本批损失 Loss recorded (tCO2e)", netting["loss"]),
            ("此前最高净储量 Highest net stock before (tCO2e)", netting["before"]["highest_net_stock"]),
            ("待弥补损失 Loss still to make good (tCO2e)", netting["after"]["outstanding_loss"]),
            ("规则 Rule", netting["rule"]),
            ("遥感变化预警地块 Parcels flagged by the GIS change check",
             ", ".join(map(str, netting_flags(mp))) or "无 none")]})
    return records.render(session, "accounting_report", f"AR-{p.id:06d}-{mp.number:03d}", sections, calculation=json.loads(mp.calculation_json))


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_subject("monitoring_period", mp_state, lambda s: s.execute(select(MonitoringPeriod.id)).scalars(), snapshot_all=mp_states)
    policy.allow("reductions.import", Role.REGISTRY_OPERATOR, cites="Measures Art. 22, 49: the registry records registered reductions")
