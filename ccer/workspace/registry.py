"""Workspace pages of 注册登记机构 (the registry) (issue 16): the review queue ordered by its working-day deadline
(overdue marked), the checklist of each application with its evidence, decisions with reasons (register, return,
refuse), and the moderation of public comments."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..infra import clock
from ..infra.errors import DomainError
from ..projects import comments, lifecycle, records
from ..projects.models import Comment, MonitoringPeriod, Project
from ..requests import current_actor, db_session
from ..validation import services as vv
from . import errors as refusals
from . import labels
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt, flash_outcome
from .panels import Item, Panel, provides

ACTION = "workspace.registry"
#: the decisions on an application (Measures Art. 15) and whether they need reasons
DECISIONS = {"register": False, "return": True, "refuse": True}


def _queue(session) -> list[dict]:
    """Applications waiting for a decision — projects (Measures Art. 15) and reduction batches (Art. 21) — the nearest
    working-day deadline first."""
    rows = [{"record": p, "title": p.title, "kind": _("项目登记申请"), "project": p,
             "url": url_for("workspace.registry_project", project_id=p.id)}
            for p in session.execute(select(Project).where(Project.status == "applied")).scalars()]
    rows += [{"record": mp, "title": f"{mp.project.title} · {_('批次')} {mp.number}", "kind": _("减排量登记申请"),
              "project": mp.project, "url": url_for("workspace.registry_batch", batch_id=mp.id)}
             for mp in session.execute(select(MonitoringPeriod).where(MonitoringPeriod.status == "applied")).scalars()]
    return sorted(rows, key=lambda r: (r["record"].review_due is None, r["record"].review_due, r["url"]))


def _pending_comments(session) -> list[Comment]:
    return list(session.execute(select(Comment).where(Comment.status == "pending").order_by(Comment.id)).scalars())


@provides("registry_operator")
def panel(session, actor) -> Panel:
    out = Panel("registry_operator", _("注册登记机构"))
    for row in _queue(session):
        out.waiting.append(Item(row["title"], row["url"], deadline=row["record"].review_due, note=row["kind"]))
    for a in _accounts_pending(session):
        out.waiting.append(Item(f"{a.organisation.name} · {a.number}", url_for("workspace.registry_index") + "#accounts",
                                deadline=a.review_due, note=_("开户申请")))
    for r in _acts(session, actor, True):
        if r.initiated_by != actor.user_id:
            out.waiting.append(Item(f"{ACT_LABELS.get(r.kind, r.kind)} · {r.target}", url_for("workspace.registry_index") + "#acts",
                                    note=_("待您确认")))
    for case in _open_cases(session):  # after its deadline the registry enforces (Measures Art. 43)
        out.waiting.append(Item(f"{case.project.title} · {_('欺诈案件')} #{case.id}", url_for("workspace.registry_acts") + "#fraud",
                                deadline=case.cancel_by, note=_("尚欠 %(q)s 吨", q=case.outstanding)))
    for ch in _changes_pending(session):  # 15 working days (Registry Rules Art. 8)
        out.waiting.append(Item(f"{_('账户信息变更申请')} #{ch.id}", url_for("workspace.registry_acts") + "#changes", deadline=ch.review_due))
    out.start.append(Item(_("冻结、扣划、非交易过户、强制注销、欺诈处置"), url_for("workspace.registry_acts")))
    n = len(_pending_comments(session))
    if n:
        out.waiting.append(Item(_("待审核的公众意见") + f" ({n})", url_for("workspace.registry_index") + "#comments"))
    return out


@bp.get("/registry/")
@pages_of(ACTION)
def registry_index():
    session = db_session()
    subjects = {}
    for c in _pending_comments(session):
        record = comments.subject(session, c.subject_type, c.subject_id)
        subjects[c.id] = record.title if c.subject_type == "project" else f"{record.project.title} · {_('批次')} {record.number}"
    return render_template("workspace/registry/index.html", queue=_queue(session), today=clock.today(session),
                           accounts=_accounts_pending(session), acts=_acts(session, current_actor(), True),
                           done_acts=_acts(session, current_actor(), False), act_labels=ACT_LABELS,
                           usernames=_usernames(session),
                           pending=_pending_comments(session), subjects=subjects, form=request.form, errors=Errors())


def _usernames(session) -> dict[int, str]:
    from ..auth.models import User

    return dict(session.execute(select(User.id, User.username).where(User.organisation_id == current_actor().organisation_id)).all())


def _accounts_pending(session) -> list:
    from ..issuance.models import Account

    return list(session.execute(select(Account).where(Account.status == "pending").order_by(Account.review_due, Account.id)).scalars())


@bp.post("/registry/accounts/<int:account_id>/decide")
@pages_of(ACTION)
def registry_account(account_id: int):
    """Open or refuse an application for a registry account (Registry Rules Art. 6–7; reasons for a refusal)."""
    from ..issuance import accounts

    session = db_session()
    action = request.form.get("action", "")
    flash_outcome(lambda: accounts.decide_account(session, current_actor(), account_id, action, request.form.get("reason") or None),
                  lambda a: _("账户 %(number)s：%(status)s", number=a.number, status=labels.account_status(a.status)),
                  lambda err: f"#{account_id}: {refusals.text(err)}")
    return redirect(url_for("workspace.registry_index") + "#accounts")


# ---- the registry's acts on CCERs: one user proposes, a second confirms (issuance/registry_acts.py) -------------


def _acts(session, actor, pending: bool) -> list:
    from ..auth.makerchecker import ApprovalRequest, visible_to
    from ..issuance.registry_acts import KINDS

    stmt = select(ApprovalRequest).where(ApprovalRequest.kind.in_(KINDS), visible_to(actor))
    if pending:
        return list(session.execute(stmt.where(ApprovalRequest.status == "pending").order_by(ApprovalRequest.id)).scalars())
    # what was decided lately: issuances, freezes and their releases, deductions, forced cancellations, fraud enforcement
    return list(session.execute(stmt.where(ApprovalRequest.status != "pending").order_by(ApprovalRequest.id.desc()).limit(30)).scalars())


#: what a registry act's request names, in words (the confirmer sees what they confirm)
PAYLOAD_LABELS = {"authority": "作出裁定的法院", "order_ref": "文书编号", "quantity": "数量（吨二氧化碳当量）", "project_no": "项目登记编号",
                  "vintage": "减排量产生年份", "serial": "序列号区间", "reason": "解除冻结的依据", "to_account": "划入账户",
                  "evidence": "依据文件", "kind": "过户类型", "order": "主管部门的决定"}


@bp.app_template_filter("act_payload")
def act_payload(payload_json: str) -> list[tuple[str, str]]:
    """(label, value) of a request's payload, in the page's language."""
    import json

    return [(_(PAYLOAD_LABELS[k]) if k in PAYLOAD_LABELS else k, str(v)) for k, v in json.loads(payload_json or "{}").items()]


#: the registry acts in words
ACT_LABELS = {"registry.issue": "签发减排量", "registry.freeze": "冻结", "registry.release": "解除冻结", "registry.deduct": "扣减",
              "registry.non_trade": "非交易过户", "registry.force_cancel": "强制注销", "registry.fraud_enforce": "欺诈处置"}


@bp.post("/registry/requests/<int:request_id>/<verb>")
@pages_of(ACTION)
def registry_request(request_id: int, verb: str):
    """Confirm (as the second registry user) or reject a registry act; the confirmation runs it."""
    from ..auth import makerchecker

    if verb not in ("confirm", "reject"):
        abort(404)
    session = db_session()
    try:
        if verb == "confirm":
            makerchecker.confirm(session, current_actor(), request_id)
        else:
            makerchecker.reject(session, current_actor(), request_id, (request.form.get("reason") or "").strip())
    except DomainError as err:
        if err.status == 404:
            raise
        flash(f"#{request_id}: {refusals.text(err)}")
    else:
        flash(_("已确认并执行。") if verb == "confirm" else _("已拒绝。"))
    return redirect(url_for("workspace.registry_index") + "#acts")


@bp.post("/registry/comments/<int:comment_id>/moderate")
@pages_of(ACTION)
def registry_moderate(comment_id: int):
    session = db_session()
    publish = request.form.get("publish") == "yes"
    flash_outcome(lambda: comments.moderate(session, current_actor(), comment_id, publish, request.form.get("reason") or None),
                  lambda _c: _("已发布公众意见。") if publish else _("已不予发布。"),
                  lambda err: f"#{comment_id}: {refusals.text(err)}")
    return redirect(url_for("workspace.registry_index") + "#comments")


def _evidence(session, p: Project) -> dict:
    """The documents behind the checklist: the design document, the validation report, both commitments."""
    return {"pdd": records.latest(session, "pdd", "project", p.id),
            "report": records.latest(session, "validation_report", "project", p.id),
            "vvb_commitment": (vv.commitments_of(session, "project", p.id, "vvb_validation") or [None])[-1],
            "owner_commitment": (vv.commitments_of(session, "project", p.id, "owner_project") or [None])[-1]}


def _page(p: Project, errors: Errors | None = None, status: int = 200):
    session = db_session()
    return render_template("workspace/registry/project.html", p=p, checklist=lifecycle.checklist(session, p),
                           evidence=_evidence(session, p), findings=vv.findings_of(session, "project", p.id),
                           comments=comments.of(session, "project", p.id), today=clock.today(session),
                           form=request.form, errors=errors or Errors()), status


@bp.get("/registry/projects/<int:project_id>")
@pages_of(ACTION)
def registry_project(project_id: int):
    return _page(lifecycle.get(db_session(), project_id))


@bp.post("/registry/projects/<int:project_id>/decide")
@pages_of(ACTION)
def registry_decide(project_id: int):
    session = db_session()
    p = lifecycle.get(session, project_id)
    decision = request.form.get("decision", "")
    errors = Errors()
    if decision not in DECISIONS:
        abort(404)
    attempt(lambda: lifecycle.fire(session, current_actor(), p.id, decision, reason=request.form.get("reason", "")),
            errors, {"reason", "status"})
    if errors:
        session.refresh(p)
        return _page(p, errors, 422)
    flash({"register": _("已登记。"), "return": _("已退回补充。"), "refuse": _("已不予登记。")}[decision])
    return redirect(url_for("workspace.registry_project", project_id=p.id))


# ---- starting the registry's acts: freeze, release, deduction, non-trade transfer, forced cancellation, a fraud
# case's enforcement — each a proposal that a second registry user confirms (issuance/registry_acts.py) ----------

#: the form fields of each proposal (errors of other fields go to the top of its form)
ACT_FIELDS = {
    "freeze": {"account", "authority", "order_ref", "quantity", "project_no", "vintage", "serial"},
    "release": {"freeze_id", "reason"},
    "deduct": {"freeze_id", "to_account", "evidence"},
    "non_trade": {"kind", "account", "to_account", "evidence", "quantity", "project_no", "vintage", "serial"},
    "force_cancel": {"account", "order", "quantity", "project_no", "vintage", "serial"},
    "enforce": {"case_id", "order"},
    "change": {"reason", "status"},
}


def _units(form) -> dict:
    """quantity / project_no / vintage / serial as typed: whole numbers as numbers, the rest as written so that the
    service names the field it refuses (services.unit_spec)."""
    out = {}
    for key in ("quantity", "project_no", "vintage", "serial"):
        raw = (form.get(key) or "").strip()
        if raw:
            out[key] = int(raw) if key != "serial" and raw.isascii() and raw.isdigit() else raw
    return out


def _propose(kind: str, session, actor, form):
    from ..issuance import registry_acts as acts

    text = lambda key: (form.get(key) or "").strip()
    if kind == "freeze":
        return acts.propose_freeze(session, actor, text("account"), authority=text("authority"), order_ref=text("order_ref"), **_units(form))
    if kind == "release":
        return acts.propose_release(session, actor, text("freeze_id"), text("reason"))
    if kind == "deduct":
        return acts.propose_deduct(session, actor, text("freeze_id"), text("to_account"), text("evidence"))
    if kind == "non_trade":
        return acts.propose_non_trade(session, actor, text("kind"), text("account"), text("to_account"), text("evidence"), **_units(form))
    if kind == "force_cancel":
        return acts.propose_force_cancel(session, actor, text("account"), order=text("order"), **_units(form))
    return acts.propose_enforcement(session, actor, text("case_id"), text("order"))


def _open_cases(session) -> list:
    from ..issuance.fraud_models import OPEN, FraudCase

    return list(session.execute(select(FraudCase).where(FraudCase.status == OPEN).order_by(FraudCase.cancel_by, FraudCase.id)).scalars())


def _changes_pending(session) -> list:
    from ..issuance.models import AccountChange

    return list(session.execute(select(AccountChange).where(AccountChange.status == "pending")
                                .order_by(AccountChange.review_due, AccountChange.id)).scalars())


def _acts_page(errors: Errors | None = None, active: str = "", status: int = 200):
    from ..issuance import services
    from ..issuance.models import Freeze

    session = db_session()
    freezes = list(session.execute(select(Freeze).where(Freeze.status == "active").order_by(Freeze.id)).scalars())
    cases, changes = _open_cases(session), _changes_pending(session)
    return render_template("workspace/registry/acts.html", freezes=freezes, cases=cases, changes=changes, today=clock.today(session),
                           non_trade=services.NON_TRADE, accounts=_account_numbers(session, freezes, changes),
                           form=request.form, errors=errors or Errors(), active=active), status


def _account_numbers(session, freezes, changes) -> dict:
    from ..issuance.models import Account

    ids = {f.account_id for f in freezes} | {c.account_id for c in changes}
    return {a.id: a for a in session.execute(select(Account).where(Account.id.in_(sorted(ids)))).scalars()} if ids else {}


@bp.get("/registry/acts")
@pages_of(ACTION)
def registry_acts():
    return _acts_page()


@bp.post("/registry/acts/<kind>")
@pages_of(ACTION)
def registry_propose(kind: str):
    """Propose one act; it waits on the registry's page until a second registry user confirms or rejects it."""
    if kind not in ACT_FIELDS or kind == "change":
        abort(404)
    session, errors = db_session(), Errors()
    req = attempt(lambda: _propose(kind, session, current_actor(), request.form), errors, ACT_FIELDS[kind])
    if errors:
        return _acts_page(errors, kind, 422)
    flash(_("已发起“%(act)s”（请求 %(id)s），待另一位登记人员确认。", act=_(ACT_LABELS[req.kind]), id=req.id))
    return redirect(url_for("workspace.registry_index") + "#acts")


@bp.post("/registry/account-changes/<int:change_id>/decide")
@pages_of(ACTION)
def registry_account_change(change_id: int):
    """Approve or refuse a holder's changed particulars (Registry Rules Art. 8; a refusal gives its reason)."""
    from ..issuance import accounts

    session, errors = db_session(), Errors()
    approve = request.form.get("action") == "approve"
    attempt(lambda: accounts.decide_change(session, current_actor(), change_id, approve, request.form.get("reason") or None),
            errors, ACT_FIELDS["change"])
    if errors:
        return _acts_page(errors, f"change-{change_id}", 422)
    flash(_("已批准变更。") if approve else _("已拒绝变更。"))
    return redirect(url_for("workspace.registry_acts") + "#changes")


@bp.get("/registry/accounts/<int:account_id>")
@pages_of(ACTION)
def registry_account_view(account_id: int):
    """One account: its holdings by project, vintage and status (Registry Rules Art. 12) and its active freezes."""
    from ..issuance import accounts, holdings
    from ..issuance.models import Freeze

    session = db_session()
    a = accounts.get_account(session, account_id)
    freezes = list(session.execute(select(Freeze).where(Freeze.account_id == a.id).order_by(Freeze.id.desc())).scalars())
    return render_template("workspace/registry/account.html", a=a, rows=holdings.holdings(session, a.id), freezes=freezes)


@bp.get("/registry/account")
@pages_of(ACTION)
def registry_account_find():
    """The account a registry user types (an id or RA + 8 digits)."""
    from ..issuance import accounts

    ref = (request.args.get("ref") or "").strip()
    try:
        a = accounts.get_account(db_session(), ref)
    except DomainError as err:
        flash(refusals.text(err))
        return redirect(url_for("workspace.registry_acts"))
    return redirect(url_for("workspace.registry_account_view", account_id=a.id))
