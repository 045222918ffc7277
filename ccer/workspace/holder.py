"""Workspace pages of holders and buyers (issue 16, item 5): holdings by project, vintage and status; moves into and
out of the bound trading account; the confirmer's inbox of the organisation's maker–checker requests; retirements
with purpose and beneficiary, their certificates, and every certificate as one ZIP through the job queue.

Every act on the account is the maker's half of a maker–checker request (Registry Rules: 发起代表/确认代表): the page
proposes, a second user of the organisation confirms here, and only the confirmation runs the service."""
from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth import makerchecker
from ..auth.models import User
from ..infra import clock
from ..infra.errors import DomainError, NotFound
from ..issuance import bundles, purposes, retirements, trading
from ..issuance.accounts import account_of
from ..issuance.holdings import holdings
from ..issuance.models import Retirement
from ..requests import current_actor, db_session
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt
from .panels import Item, Panel, provides

ACTION = "workspace.holder"

#: maker–checker operations a holder's organisation proposes, in the page's language
KINDS = {"registry.retire": _l("注销申请"), "registry.to_trading": _l("转入交易账户"), "registry.from_trading": _l("转出交易账户"),
         "organisation.change_profile": _l("变更机构信息")}

#: states of CCER units in an account (issuance.models)
UNIT_STATUS = {"available": _l("可用"), "trading": _l("在交易账户"), "frozen": _l("已冻结"), "retired": _l("已用于注销"),
               "cancelled": _l("已强制注销")}

#: what a request's payload names, in the page's language (the form's own labels)
FIELD_LABELS = {"quantity": _l("数量（吨）"), "project_no": _l("项目编号"), "vintage": _l("年份"), "serial": _l("序列号"),
                "purpose": _l("注销用途"), "beneficiary_name": _l("受益方名称"), "beneficiary_uscc": _l("受益方统一社会信用代码"),
                "compliance_year": _l("履约年度"), "event_name": _l("活动名称"), "event_start": _l("活动开始日期"),
                "event_end": _l("活动结束日期"), "note": _l("备注")}

UNIT_FIELDS = ("quantity", "project_no", "vintage")
RETIRE_FIELDS = UNIT_FIELDS + ("purpose", "beneficiary_name", "beneficiary_uscc", "compliance_year", "event_name",
                               "event_start", "event_end", "note")


def _account(session, actor):
    return account_of(session, actor.organisation_id) if actor.organisation_id else None


def _pending(session, actor) -> list:
    stmt = (select(makerchecker.ApprovalRequest)
            .where(makerchecker.ApprovalRequest.organisation_id == actor.organisation_id,
                   makerchecker.ApprovalRequest.status == "pending")
            .order_by(makerchecker.ApprovalRequest.id))
    return list(session.execute(stmt).scalars())


def _retirements(session, account) -> list[Retirement]:
    if account is None:
        return []
    stmt = select(Retirement).where(Retirement.account_id == account.id).order_by(Retirement.id.desc())
    return list(session.execute(stmt).scalars())


def _panel(session, actor) -> Panel:
    out = Panel("holder", _("持有与注销"))
    me = actor.user_id
    for r in _pending(session, actor):
        note = _("待他人确认") if r.initiated_by == me else _("待我确认")
        out.waiting.append(Item(f"{KINDS.get(r.kind, r.kind)} #{r.id}", url_for("workspace.holder_index") + "#inbox", note=note))
    out.start.append(Item(_("持有与注销"), url_for("workspace.holder_index")))
    return out


# the holder's panel is the key emitter's home; owners and traders reach the page from theirs and from the menu
provides("key_emitter")(_panel)


def _page(which: str = "", errors: Errors | None = None, status: int = 200):
    session, actor = db_session(), current_actor()
    account = _account(session, actor)
    requests = _pending(session, actor)
    # the national ETS offset ratio in force today (reference data, ETS Measures Art. 29), shown beside the purpose
    ratio, ratio_source = purposes.offset_ratio(session, clock.today(session))
    users = dict(session.execute(select(User.id, User.username).where(User.organisation_id == actor.organisation_id)).all())
    return render_template(
        "workspace/holder/index.html", account=account, rows=holdings(session, account.id) if account else [],
        binding=trading.binding_of(session, account.id) if account else None, requests=requests, kinds=KINDS,
        payloads={r.id: json.loads(r.payload_json) for r in requests}, field_labels=FIELD_LABELS,
        usernames=users, retired=_retirements(session, account), purposes=purposes.PURPOSES,
        holder_purposes=purposes.HOLDER_PURPOSES, cap=f"{ratio * 100:f}".rstrip("0").rstrip("."), cap_source=ratio_source, which=which, unit_status=UNIT_STATUS,
        form=request.form if which else {}, errors=errors or Errors()), status


def _after(which: str, errors: Errors, done: str):
    """Refused: the page again (422), the error beside its field and what was typed kept (the service rolled back);
    done: the message and a redirect (no re-POST on reload)."""
    if errors:
        return _page(which, errors, 422)
    flash(done)
    return redirect(url_for("workspace.holder_index"))


def _values(names) -> dict:
    """The form's fields, blank ones left out (the services treat an absent field as not given)."""
    return {k: request.form[k].strip() for k in names if request.form.get(k, "").strip()}


def _my_account():
    account = _account(db_session(), current_actor())
    if account is None:
        abort(404)
    return account


@bp.get("/holder/")
@pages_of(ACTION)
def holder_index():
    return _page()


@bp.post("/holder/retire")
@pages_of(ACTION)
def holder_retire():
    """The initiator's half of a retirement (抵消及注销申请), with purpose and beneficiary (Measures Art. 28)."""
    session, account = db_session(), _my_account()
    errors = Errors()
    values = _values(RETIRE_FIELDS)
    if values.get("purpose") == "national_ets" and "beneficiary_uscc" not in values:
        errors["beneficiary_uscc"] = _("全国碳市场抵销须填写重点排放单位的统一社会信用代码")  # ETS Measures Art. 29
    else:
        attempt(lambda: retirements.propose_retirement(session, current_actor(), account.id, **values), errors, set(RETIRE_FIELDS))
    return _after("retire", errors, _("注销申请已提交，待本机构另一位用户确认。"))


@bp.post("/holder/trading")
@pages_of(ACTION)
def holder_trading():
    """Propose a move into (转入) or out of (转出) the bound trading account; confirmed by a second user on a trading
    day 9:30–15:00 (the services check both)."""
    session, account = db_session(), _my_account()
    errors = Errors()
    direction = request.form.get("direction")
    verb = {"in": trading.propose_to_trading, "out": trading.propose_from_trading}.get(direction)
    if verb is None:
        errors["direction"] = _("请选择转入或转出")
    else:
        attempt(lambda: verb(session, current_actor(), account.id, **_values(UNIT_FIELDS)), errors, set(UNIT_FIELDS))
    return _after("trading", errors, _("划转申请已提交，待本机构另一位用户确认。"))


@bp.post("/holder/requests/<int:request_id>/<any(confirm, reject):verb>")
@pages_of(ACTION)
def holder_request(request_id: int, verb: str):
    """The confirmer's half: a second user of the organisation confirms (the operation runs) or rejects with a reason."""
    session, actor = db_session(), current_actor()
    errors = Errors()
    try:
        if verb == "confirm":
            done = makerchecker.confirm(session, actor, request_id)
            message = (_("已确认注销，注销编号 %(number)s。", number=done.number) if isinstance(done, Retirement)
                       else _("已确认，操作已执行。"))
        else:
            makerchecker.reject(session, actor, request_id, request.form.get("reason", "").strip())
            message = _("已拒绝申请。")
    except NotFound:
        raise
    except DomainError as err:
        # a refused confirmation (not a second user, too late, the units gone) is shown beside the request itself
        errors[f"request-{request_id}"] = err.message + (f" [{err.rule}]" if err.rule else "")
    return _after("request", errors, message)


@bp.post("/holder/certificates")
@pages_of(ACTION)
def holder_bundle():
    """Every certificate of the account as one ZIP, made by a job; the job's page shows its progress."""
    session, account = db_session(), _my_account()
    job = bundles.request_bundle(session, current_actor(), account.id, instance=current_app.instance_path,
                                 public_url=current_app.config["CCER_SETTINGS"].public_url)
    url = url_for("jobs_pages.show", job_id=job.id)
    # end this request's read transaction now: on SQLite it would hold back the job's first commit until the request ends
    session.rollback()
    return redirect(url)
