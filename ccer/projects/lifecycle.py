"""The project lifecycle (Measures Art. 11–16, 43):

    draft ─publicise→ publicity ─validate→ validated ─apply→ applied ─register→ registered ─cancel→ cancelled
      ↑      (20 working days)  └reject→ rejected          │  ↑         └refuse→ refused      └revoke→ revoked
      └──────withdraw────────┘                      return↓  │reapply
                                                        returned

Each transition names who may fire it and its guards; `fire` refuses with the failed guard and its rule.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar, clock
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, ValidationError
from ..infra.actor import Actor
from ..issuance import fraud
from ..methodologies import inputs, registry as methodologies
from ..proposals import superseded
from ..validation import services as vv
from ..workflow import Guard, Machine
from . import boundaries, cancelled, comments, eligibility, green_certificates, records
from .boundaries import LAND_ELIGIBLE
from .eligibility import PROJECT_GATES
from .guards import COMMENTS_HANDLED, ENGAGED, FINDINGS_CLOSED, PUBLICITY_OVER, REASON, WITHIN_100_DAYS, deadline
from .models import Project
from .services import PROJECT_FIELDS, next_registry_no

#: publicity of the design document: 20 working days (Measures Art. 12)
PUBLICITY_WORKDAYS = 20
#: registry decision: 15 working days from receipt (Measures Art. 15)
REVIEW_WORKDAYS = 15


def owns(actor: Actor, record) -> bool:
    owner = record.owner_id if isinstance(record, Project) else record.project.owner_id
    return actor.organisation_id == owner


def is_engaged(actor: Actor, record) -> bool:
    return actor.organisation_id is not None and actor.organisation_id == vv.engaged_vvb(record)


# ---- the registry's checklist (Measures Art. 14–15: completeness and conformity) ---------------------------


def checklist(session: Session, project: Project) -> list[dict]:
    pdd = records.latest(session, "pdd", "project", project.id)
    report = records.latest(session, "validation_report", "project", project.id)
    vvb_commit = (vv.commitments_of(session, "project", project.id, "vvb_validation") or [None])[-1]
    owner_commit = (vv.commitments_of(session, "project", project.id, "owner_project") or [None])[-1]
    wanted = sorted(d.sha256 for d in (pdd, report) if d)
    vouched = sorted(d["sha256"] for d in json.loads(owner_commit.documents_json)) if owner_commit else []
    items = [
        ("design document published", pdd is not None, "Measures Art. 11–12"),
        ("publicity of 20 working days completed before the application", project.publicity_end is not None
         and project.applied_at is not None and clock.local(project.applied_at).date() > project.publicity_end, "Measures Art. 12"),
        ("validation report with a positive conclusion", report is not None and project.status in ("applied", "returned", "registered"), "Measures Art. 13"),
        ("VVB's commitment in the report", vvb_commit is not None and report is not None and report.sha256 in vvb_commit.documents_json, "Measures Art. 13"),
        ("owner's commitment letter vouching for these exact documents", bool(wanted) and vouched == wanted, "Measures Art. 14"),
        ("every public comment handled", not comments.unhandled(session, "project", project.id), "Measures Art. 12–13"),
        ("all findings closed", not vv.unclosed(session, "project", project.id), "CNCA-CCER-01 §4.7"),
    ]
    out = [{"item": name, "ok": bool(ok), "rule": rule} for name, ok, rule in items]
    for g in PROJECT_GATES:
        why = g.check(session, project, {})
        out.append({"item": g.name, "ok": why is None, "rule": g.rule, **({"detail": why} if why else {})})
    vvb = eligibility.vvb_problem(session, project.validator_id, project) if project.validator_id else ("no VVB", "Measures Art. 30")
    out.append({"item": "VVB accredited for the field and independent", "ok": vvb is None, "rule": "Measures Art. 18, 30, 37",
                **({"detail": vvb[0]} if vvb else {})})
    return out


def _checklist_passes(session: Session, project: Project, ctx: dict) -> str | None:
    failed = [i["item"] for i in checklist(session, project) if not i["ok"]]
    return f"checklist items not met: {'; '.join(failed)}" if failed else None


CHECKLIST = Guard("completeness and conformity checklist", _checklist_passes, "Measures Art. 15", "checklist")


def _boundary_checked(session: Session, project: Project, ctx: dict) -> str | None:
    if project.methodology_code in boundaries.SINK_METHODOLOGIES and boundaries.latest(session, project.id) is None:
        return ("no boundary checked: a sink project attaches its parcels and their land-eligibility check before its "
                "design document is published")
    return None


def _not_cancelled_before(session: Session, project: Project, ctx: dict) -> str | None:
    return cancelled.problem(session, project)


#: Measures Art. 16, 43: a cancelled or revoked project re-entered as a new record is refused (checked again before registration)
NOT_CANCELLED_BEFORE = Guard("not a cancelled or revoked project entered again", _not_cancelled_before, cancelled.RULE, "project")

#: sink projects: land eligibility is required, not optional — no boundary checked, no publicity
BOUNDARY_CHECKED = Guard("the boundary and its land eligibility are checked", _boundary_checked,
                         "CCER-14-001-V01 §2 a), §5.2; CCER-14-002-V01 §2 a)", "boundary")


# ---- effects ---------------------------------------------------------------------------------------------


def _start_publicity(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    today = clock.today(session)
    p.publicity_start, p.publicity_end = today, calendar.add_workdays(today, PUBLICITY_WORKDAYS)
    records.store(session, actor, "pdd", "project", p.id, render_pdd(session, p))


def _stop_publicity(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    p.publicity_start = p.publicity_end = None


def _report(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    doc = records.store(session, actor, "validation_report", "project", p.id, render_validation_report(session, p, ctx))
    pdd = records.latest(session, "pdd", "project", p.id)
    vv.commit(session, actor, "vvb_validation", "project", p.id, [pdd, doc], VVB_COMMITMENT)


def _apply(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    docs = [records.latest(session, "pdd", "project", p.id), records.latest(session, "validation_report", "project", p.id)]
    vv.commit(session, actor, "owner_project", "project", p.id, docs, OWNER_COMMITMENT)
    p.applied_at = clock.now(session)
    p.review_due = calendar.add_workdays(clock.today(session), REVIEW_WORKDAYS)
    p.reason = None


def _register(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    ledger.lock_head(session)  # registry numbers are a registry-wide sequence
    p.registry_no, p.registered_at = next_registry_no(session), clock.now(session)
    green_certificates.freeze(session, actor, p)  # MEE/NEA 2024-09-11: untraded GECs frozen at project registration


def _with_reason(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    p.reason = ctx["reason"].strip()


def _revoke(session: Session, actor: Actor, p: Project, ctx: dict) -> None:
    _with_reason(session, actor, p, ctx)
    # Measures Art. 43: the fraud case — CCERs suspended, the quantity owed, the owner barred (issuance/fraud.py)
    fraud.open_case(session, actor, p, finding=p.reason, owed=ctx.get("owed"), owed_reason=ctx.get("owed_reason"),
                    cancel_by=ctx.get("cancel_by"))


VVB_COMMITMENT = ("本机构承诺：本报告所依据的审定/核查活动符合国家有关规定和技术规范，报告内容真实、准确。"
                  "We commit that the validation/verification behind this report complies with the applicable rules and "
                  "technical specifications and that the report is true and accurate (Measures Art. 13, 20).")
OWNER_COMMITMENT = ("本单位承诺：项目具有唯一性，申请材料真实、完整、有效，并承担相应法律责任。"
                    "We commit that the project is unique and that the materials submitted are true, complete and valid, "
                    "and accept legal responsibility for them (Measures Art. 14).")

PROJECT = Machine("project", states=("draft", "publicity", "validated", "rejected", "applied", "returned", "registered",
                                     "refused", "cancelled", "revoked"), recorded=("reason", "conclusion"))
PROJECT.transition("publicise", "draft", "publicity", permission="project.owner", guards=[*PROJECT_GATES, ENGAGED, BOUNDARY_CHECKED, LAND_ELIGIBLE, NOT_CANCELLED_BEFORE],
                   effect=_start_publicity, label="公示 publish the design document for 20 working days")
PROJECT.transition("withdraw", "publicity", "draft", permission="project.owner", effect=_stop_publicity, label="撤回 withdraw from publicity")
PROJECT.transition("validate", "publicity", "validated", permission="project.report",
                   guards=[PUBLICITY_OVER, COMMENTS_HANDLED, FINDINGS_CLOSED, WITHIN_100_DAYS], effect=_report,
                   label="审定报告（肯定） positive validation report", defaults={"conclusion": "positive"})
PROJECT.transition("reject", "publicity", "rejected", permission="project.report",
                   guards=[PUBLICITY_OVER, COMMENTS_HANDLED, REASON], effect=_report, label="审定报告（否定） negative validation report",
                   defaults={"conclusion": "negative"})
PROJECT.transition("apply", "validated", "applied", permission="project.owner", guards=[*PROJECT_GATES], effect=_apply,
                   label="申请登记 apply for registration with the commitment letter")
PROJECT.transition("return", "applied", "returned", permission="project.review", guards=[REASON], effect=_with_reason,
                   label="退回 return for completion")
PROJECT.transition("reapply", "returned", "applied", permission="project.owner", guards=[*PROJECT_GATES], effect=_apply,
                   label="重新申请 re-apply")
PROJECT.transition("register", "applied", "registered", permission="project.review", guards=[CHECKLIST, *PROJECT_GATES, NOT_CANCELLED_BEFORE],
                   effect=_register, label="登记 register")
PROJECT.transition("refuse", "applied", "refused", permission="project.review", guards=[REASON], effect=_with_reason,
                   label="不予登记 refuse")
PROJECT.transition("cancel", ("draft", "publicity", "validated", "applied", "returned", "registered"), "cancelled",
                   permission="project.cancel", guards=[REASON], effect=_with_reason, label="注销 cancel (never re-registered)")
PROJECT.transition("revoke", "registered", "revoked", permission="project.revoke", guards=[REASON], effect=_revoke,
                   label="撤销 revoke for fraud: its CCERs suspended, the owner barred and ordered to cancel")


# ---- services ---------------------------------------------------------------------------------------------


def estimate(code: str, facts: dict, periods: list[dict]) -> dict:
    """The plug-in's ex-ante calculation, with its trace."""
    m = methodologies.get(code)
    return m.calculate({"stage": "ex-ante", "project": facts, "periods": periods}).to_dict()


def _date(value, field: str) -> date | None:
    return None if value in (None, "") else inputs.a_date(value, field)


@mutating
def create(session: Session, actor: Actor, *, title: str, methodology_code: str, province: str | None,
           construction_start, facts: dict, periods: list[dict], pdd_author_id: int | None = None,
           other_mechanism: bool = False, ets_covered: bool = False, owner_id: int | None = None) -> Project:
    """A design document in draft, with the ex-ante estimate from the methodology plug-in."""
    policy.require(actor, "project.create")
    owner_id = owner_id if actor.user_id is None and owner_id else actor.organisation_id
    if owner_id is None:
        raise ValidationError("the owner is required", field="owner_id")
    if not (title or "").strip():
        raise ValidationError("is required", field="title")
    if not isinstance(facts, dict):
        raise ValidationError("must be an object of the methodology's project facts", field="facts")
    if superseded(session, methodology_code):
        raise ValidationError(f"{methodology_code} has been superseded; new projects use the active version", field="methodology_code",
                              rule="methodology versions")
    for key in ("crediting_start", "crediting_end"):  # no project without its crediting period (计入期)
        if not facts.get(key):
            raise ValidationError("the crediting period (计入期) is required: give crediting_start and crediting_end",
                                  field=f"facts.{key}", rule="Measures Art. 8, 17; CNCA-CCER-01 §2.2")
    calc = estimate(methodology_code, facts, periods)
    project = Project(title=title.strip(), methodology_code=methodologies.get(methodology_code).code, owner_id=owner_id,
                      province=province, status="draft", origin="platform", created_at=clock.now(session),
                      construction_start=_date(construction_start, "construction_start"),
                      crediting_start=_date(facts.get("crediting_start"), "facts.crediting_start"),
                      crediting_end=_date(facts.get("crediting_end"), "facts.crediting_end"),
                      facts_json=ledger.canonical(facts), design_json=ledger.canonical(periods),
                      estimate_json=json.dumps(calc, ensure_ascii=False), estimate_tco2e=calc["total"]["ER_credited"],
                      pdd_author_id=pdd_author_id or owner_id, other_mechanism=bool(other_mechanism), ets_covered=bool(ets_covered))
    again = cancelled.refusal(session, project)
    if again:
        raise Conflict(again[0], field="project", rule=again[1])
    session.add(project)
    session.flush()
    ledger.record(session, actor, "project.created", "project", project.id)
    return project


def get(session: Session, project_id: int) -> Project:
    return fetch(session, Project, project_id, "project", "project_id")


@mutating
def fire(session: Session, actor: Actor, project_id: int, transition: str, **context) -> Project:
    """Fire a lifecycle transition by name (publicise, withdraw, validate, reject, apply, return, reapply,
    register, refuse, cancel, revoke); context carries reason / conclusion / comment_handling."""
    return PROJECT.fire(session, actor, get(session, project_id), transition, context)


def crediting_text(p: Project) -> str:
    """The crediting period as documents print it — never "None – None"."""
    if p.crediting_start and p.crediting_end:
        return f"{p.crediting_start} – {p.crediting_end}"
    return "未载明 not stated"


def render_pdd(session: Session, p: Project) -> bytes:
    facts = json.loads(p.facts_json or "{}")
    m = methodologies.get(p.methodology_code)
    sections = [
        {"heading": "项目基本信息 Project", "rows": [
            ("项目名称 Title", p.title), ("项目业主 Owner", p.owner.name), ("统一社会信用代码 USCC", p.owner.uscc),
            ("所在省份 Province", p.province), ("方法学 Methodology", f"{m.code} {m.name_zh} / {m.name_en}"),
            ("开工建设 Construction start", p.construction_start), ("计入期 Crediting period", crediting_text(p)),
            ("审定机构 Validation body", p.validator_id and session.get(type(p.owner), p.validator_id).name),
            ("其他减排机制 Other mechanism", "否 No" if not p.other_mechanism else "是 Yes"),
            ("纳入碳排放权交易 ETS-covered", "否 No" if not p.ets_covered else "是 Yes")]},
        {"heading": "适用条件 Applicability facts", "rows": sorted(facts.items())},
    ]
    check = boundaries.latest(session, p.id)
    if check is not None:  # sink projects: the parcels and their land eligibility (CCER-14-001-V01 §4)
        report = json.loads(check.report_json)
        s = report["summary"]
        sections.append({"heading": "项目边界与土地合格性 Boundary and land eligibility", "rows": [
            ("地块 Parcels", f"{s['eligible']}/{s['parcels']} eligible"), ("面积 Area (ha)", f"{s['eligible_area_ha']} of {s['area_ha']}"),
            ("土地覆盖 Land cover", ", ".join(report["rasters"])), ("与其他项目重叠 Overlaps with other projects", check.cross_overlaps)]})
    return records.render(session, "pdd", f"PDD-{p.id:06d}", sections, calculation=json.loads(p.estimate_json))


def render_validation_report(session: Session, p: Project, ctx: dict) -> bytes:
    return render_report(session, "validation_report", "project", p, f"VR-{p.id:06d}", [
        ("项目 Project", p.title), ("方法学 Methodology", p.methodology_code),
        ("结论 Conclusion", "肯定 positive" if ctx.get("conclusion") == "positive" else f"否定 negative — {ctx.get('reason')}"),
        ("公示期 Publicity", f"{p.publicity_start} – {p.publicity_end}"
         + (" (暂定 provisional: the year's holiday calendar is not loaded yet)"
            if calendar.provisional_between(p.publicity_start, p.publicity_end) else "")),
        ("评论处理 Handling of comments", ctx.get("comment_handling") or "见下表 see the table below")],
        calculation=json.loads(p.estimate_json))


def render_report(session: Session, kind: str, subject_type: str, record, number: str, rows: list, calculation=None) -> bytes:
    """A validation or verification report: conclusion, the calculation, every finding with its answer, every
    public comment with its handling, and the VVB's commitment."""
    fs = vv.findings_of(session, subject_type, record.id)
    cs = comments.of(session, subject_type, record.id)
    tables = [
        {"heading": "发现及整改 Findings", "columns": ["#", "类型 Kind", "内容 Finding", "业主答复 Owner's answer", "状态 Status"],
         "rows": [[f.id, f.kind, f.text, f.response, f.status] for f in fs]},
        {"heading": "公众意见及处理 Public comments and their handling", "columns": ["#", "提出人 By", "意见 Comment", "状态 Status", "答复 Answer"],
         "rows": [[c.id, c.author_name, c.body, c.status + (f" ({c.moderation_reason})" if c.moderation_reason else ""), c.response] for c in cs]},
    ]
    return records.render(session, kind, number, [{"heading": "报告 Report", "rows": rows}], calculation=calculation,
                          tables=tables, commitment=VVB_COMMITMENT)


def public_view(session: Session, p: Project, actor: Actor) -> dict:
    """What the pages and the API show: the record, its deadlines and what this actor may do next."""
    return {**{f: getattr(p, f) for f in PROJECT_FIELDS}, "id": p.id, "sector": p.sector,
            "construction_start": p.construction_start, "publicity_start": p.publicity_start, "publicity_end": p.publicity_end,
            "validation_due": deadline(session, p), "review_due": p.review_due, "validator_id": p.validator_id,
            "publicity_provisional": calendar.provisional_between(p.publicity_start, p.publicity_end),
            "review_provisional": calendar.provisional_between(p.applied_at and clock.local(p.applied_at).date(), p.review_due),
            "estimate_tco2e": p.estimate_tco2e, "reason": p.reason,
            "transitions": PROJECT.available(session, actor, p)}


__all__ = ["PROJECT", "create", "fire", "checklist", "get", "public_view", "deadline", "render_report",
           "PUBLICITY_OVER", "COMMENTS_HANDLED", "FINDINGS_CLOSED", "WITHIN_100_DAYS", "REASON", "ENGAGED"]


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("project.create", Role.PROJECT_OWNER, cites="Measures Art. 11")
    policy.allow("project.owner", Role.PROJECT_OWNER, when=owns, text="the project's owner", cites="Measures Art. 11–14, 16")
    policy.allow("project.report", Role.VVB, when=is_engaged, text="the engaged validation/verification body", cites="Measures Art. 13, 20")
    policy.allow("project.review", Role.REGISTRY_OPERATOR, cites="Measures Art. 15, 22")
    policy.allow("project.cancel", Role.REGISTRY_OPERATOR, cites="Measures Art. 16")
    policy.allow("project.cancel", Role.PROJECT_OWNER, when=owns, text="the project's owner (voluntary)", cites="Measures Art. 16")
    policy.allow("project.revoke", Role.REGISTRY_OPERATOR, cites="Measures Art. 43")
