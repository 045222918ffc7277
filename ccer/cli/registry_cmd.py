"""ccer registry …: the registry operator's commands (accounts, issuance, judicial acts, certificates,
open-data exports). The registry's acts on CCERs (issue, freeze, release, deduct, non-trade, force-cancel,
fraud-enforce) are two-user operations like holders' transfers and retirements: a named registry user
proposes (`--as`), a second one confirms (`ccer registry confirm ID --as …`)."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from ..infra.actor import Actor
from . import main

OPERATOR = Actor.system("cli")
UNITS = [click.option("--quantity", type=int), click.option("--project-no", type=int), click.option("--vintage", type=int),
         click.option("--serial", help="CN-CCER-SS-PPPPPP-YYYY-BBB-F-L")]


def units(fn):
    for opt in reversed(UNITS):
        fn = opt(fn)
    return fn


def _spec(kw: dict) -> dict:
    return {k: kw.pop(k) for k in ("quantity", "project_no", "vintage", "serial")}


@main.group("registry")
def registry() -> None:
    """The registry: accounts, CCER issuance, freezes, forced cancellation, certificates, exports."""


@registry.command("accounts")
@click.option("--status", type=click.Choice(["pending", "open", "refused", "restricted", "closed"]))
@click.pass_obj
def list_accounts(obj, status) -> None:
    """Accounts with their status and review deadline."""
    from ..issuance.models import Account

    with obj.session() as session:
        stmt = select(Account).order_by(Account.id)
        if status:
            stmt = stmt.where(Account.status == status)
        for a in session.execute(stmt).scalars():
            click.echo(f"{a.number}  {a.status:<10} {a.kind:<13} due {a.review_due}  {a.organisation.name}")


@registry.command("decide")
@click.argument("account")
@click.argument("action", type=click.Choice(["open", "refuse", "restrict", "restore", "close"]))
@click.option("--reason")
@click.pass_obj
def decide(obj, account, action, reason) -> None:
    """Open/refuse an application, restrict/restore/close an account.

    Registry Rules Art. 7, 10, 11."""
    from ..issuance import accounts

    with obj.session() as session:
        a = accounts.decide_account(session, OPERATOR, account, action, reason)
        click.echo(f"{a.number} {a.status}")


@registry.command("holdings")
@click.argument("account")
@click.pass_obj
def show_holdings(obj, account) -> None:
    """Quantity by project, vintage and status."""
    from ..issuance import accounts
    from ..issuance.holdings import holdings

    with obj.session() as session:
        a = accounts.get_account(session, account)
        click.echo(f"{a.number} {a.organisation.name} ({a.status})")
        for r in holdings(session, a.id):
            click.echo(f"  {r['project_no'] or 0:06d} {r['vintage']} {r['status']:<10} {r['quantity']:>12,}  {r['project']}")


AS_USER = click.option("--as", "username", required=True,
                       help="the registry user proposing (a second registry user confirms: ccer registry confirm)")


def _user(session, username: str):
    """The named user as the actor: the registry's acts on CCERs are proposed and confirmed by two named
    registry users, at the console as through the API (issue 15) — never by the console's system actor."""
    from ..auth.models import User
    from ..auth.services import actor_for
    from ..infra.errors import NotFound

    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username}", field="as")
    return actor_for(user)


def _proposed(req, what: str) -> None:
    click.echo(f"request {req.id}: {what} — proposed by {req.initiated_by}; a second registry user confirms it: "
               f"ccer registry confirm {req.id} --as USER")


@registry.command("issue")
@click.option("--batch-id", type=int, help="the registered monitoring period (reduction batch)")
@click.option("--project-id", type=int, help="… or the project, with --batch")
@click.option("--batch", type=int, help="the project's batch number")
@AS_USER
@click.pass_obj
def issue(obj, batch_id, project_id, batch, username) -> None:
    """Propose issuing a registered reduction batch: exactly its verified quantity, one serial block per vintage.

    Measures Art. 22; the quantities are the batch's, never typed in. A second registry user confirms."""
    from ..infra.errors import NotFound, ValidationError
    from ..issuance import registry_acts
    from ..projects.models import MonitoringPeriod

    if (batch_id is None) == (project_id is None) or (project_id is not None) != (batch is not None):
        raise ValidationError("give --batch-id, or --project-id with --batch", field="batch-id")
    with obj.session() as session:
        if batch_id is None:
            batch_id = session.execute(select(MonitoringPeriod.id).where(MonitoringPeriod.project_id == project_id,
                                                                         MonitoringPeriod.number == batch)).scalar_one_or_none()
            if batch_id is None:
                raise NotFound(f"project {project_id} has no batch {batch}", field="batch")
        _proposed(registry_acts.propose_issue(session, _user(session, username), batch_id), f"issue batch {batch_id}")


@registry.command("freeze")
@click.argument("account")
@units
@click.option("--authority", required=True, help="the court")
@click.option("--order-ref", required=True, help="its document number")
@AS_USER
@click.pass_obj
def freeze(obj, account, authority, order_ref, username, **kw) -> None:
    """Propose freezing units on a court order.

    Registry Rules Art. 16 (冻结)."""
    from ..issuance import registry_acts

    with obj.session() as session:
        req = registry_acts.propose_freeze(session, _user(session, username), account, authority=authority, order_ref=order_ref, **_spec(kw))
        _proposed(req, f"freeze in account {account}")


@registry.command("release")
@click.argument("freeze_id", type=int)
@click.option("--reason", required=True)
@AS_USER
@click.pass_obj
def release(obj, freeze_id, reason, username) -> None:
    """Propose releasing a freeze on the court's release order."""
    from ..issuance import registry_acts

    with obj.session() as session:
        _proposed(registry_acts.propose_release(session, _user(session, username), freeze_id, reason), f"release freeze {freeze_id}")


@registry.command("deduct")
@click.argument("freeze_id", type=int)
@click.option("--to", "to_account", required=True)
@click.option("--evidence", required=True, help="the effective judgment")
@AS_USER
@click.pass_obj
def deduct(obj, freeze_id, to_account, evidence, username) -> None:
    """Propose deducting frozen units to the account a judgment names.

    司法扣划, Registry Rules Art. 16."""
    from ..issuance import registry_acts

    with obj.session() as session:
        req = registry_acts.propose_deduct(session, _user(session, username), freeze_id, to_account, evidence)
        _proposed(req, f"deduct freeze {freeze_id} to {to_account}")


@registry.command("non-trade")
@click.argument("kind", type=click.Choice(["succession", "enforcement"]))
@click.argument("from_account")
@click.argument("to_account")
@units
@click.option("--evidence", required=True)
@AS_USER
@click.pass_obj
def non_trade(obj, kind, from_account, to_account, evidence, username, **kw) -> None:
    """Propose changing the holder on evidence: succession or enforcement.

    Registry Rules Art. 14."""
    from ..issuance import registry_acts

    with obj.session() as session:
        req = registry_acts.propose_non_trade(session, _user(session, username), kind, from_account, to_account, evidence, **_spec(kw))
        _proposed(req, f"{kind} from {from_account} to {to_account}")


@registry.command("force-cancel")
@click.argument("account")
@units
@click.option("--order", required=True, help="the department's order (Measures Art. 43)")
@AS_USER
@click.pass_obj
def force_cancel(obj, account, order, username, **kw) -> None:
    """Propose cancelling CCERs obtained by fraud, on a department's order (Measures Art 43)."""
    from ..issuance import registry_acts

    with obj.session() as session:
        req = registry_acts.propose_force_cancel(session, _user(session, username), account, order=order, **_spec(kw))
        _proposed(req, f"forced cancellation in account {account}")


@registry.command("fraud-enforce")
@click.argument("case_id", type=int)
@click.option("--order", required=True, help="the department's notice (Measures Art. 43)")
@AS_USER
@click.pass_obj
def fraud_enforce(obj, case_id, order, username) -> None:
    """Propose, after the owner's deadline, force-cancelling what it holds up to what it owes, recording the
    shortfall and barring it for good.

    Measures Art. 43 (强制注销, 不足部分责令退回, 不再受理)."""
    from ..issuance import registry_acts

    with obj.session() as session:
        _proposed(registry_acts.propose_enforcement(session, _user(session, username), case_id, order), f"enforce fraud case {case_id}")


@registry.command("confirm")
@click.argument("request_id", type=int)
@AS_USER
@click.pass_obj
def confirm(obj, request_id, username) -> None:
    """Confirm a request as a second user of the proposing organisation; the act runs now.

    Registry Rules: 发起代表/确认代表 — the proposer cannot confirm."""
    from ..auth import makerchecker

    with obj.session() as session:
        req = session.get(makerchecker.ApprovalRequest, request_id)
        kind = req.kind if req is not None else None
        result = makerchecker.confirm(session, _user(session, username), request_id)
        click.echo(f"request {request_id} confirmed: {kind} — {_describe(session, result)}")


@registry.command("reject")
@click.argument("request_id", type=int)
@click.option("--reason", required=True)
@AS_USER
@click.pass_obj
def reject(obj, request_id, reason, username) -> None:
    """Reject a request (the proposer withdraws its own)."""
    from ..auth import makerchecker

    with obj.session() as session:
        req = makerchecker.reject(session, _user(session, username), request_id, reason)
        click.echo(f"request {request_id} {req.status}")


@registry.command("requests")
@click.option("--as", "username", required=True, help="a user of the organisation whose pending requests to list")
@click.pass_obj
def requests(obj, username) -> None:
    """Pending maker–checker requests of the user's organisation."""
    from ..auth import makerchecker

    with obj.session() as session:
        actor = _user(session, username)
        R = makerchecker.ApprovalRequest
        rows = session.execute(select(R).where(R.organisation_id == actor.organisation_id, R.status == "pending").order_by(R.id)).scalars()
        for r in rows:
            click.echo(f"{r.id}  {r.kind:<24} {r.target:<24} by user {r.initiated_by}  {r.payload_json}")


def _describe(session, result) -> str:
    """One line for what a confirmed act did."""
    from ..issuance.holdings import block_serial
    from ..issuance.models import Freeze, Retirement, SerialBlock, Transfer

    if isinstance(result, list):  # issuances
        parts = []
        for iss in result:
            block = session.execute(select(SerialBlock).where(SerialBlock.issuance_id == iss.id, SerialBlock.parent_id.is_(None))).scalar_one()
            parts.append(f"issued {iss.quantity:,} tCO2e {block_serial(session, block)}")
        return "; ".join(parts)
    if isinstance(result, Freeze):
        return f"freeze {result.id} {result.status}: {result.quantity:,} tCO2e"
    if isinstance(result, Transfer):
        return f"transfer {result.id} ({result.kind}): {result.quantity:,} tCO2e"
    if isinstance(result, Retirement):
        return f"{result.number}: {result.quantity:,} tCO2e {result.purpose}"
    if hasattr(result, "shortfall"):
        return f"fraud case {result.id}: {result.force_cancelled:,} tCO2e force-cancelled, shortfall {result.shortfall:,} tCO2e; owner barred permanently"
    return "done"


@registry.command("obligation")
@click.argument("uscc")
@click.argument("year", type=int)
@click.argument("allowances", type=int)
@click.option("--source", required=True, help="the allocation notice")
@click.pass_obj
def obligation(obj, uscc, year, allowances, source) -> None:
    """A key emitter's allowances to surrender (base of the CCER offset cap: the offset ratio in force, reference data)."""
    from ..auth.services import organisation_by_uscc
    from ..infra import clock
    from ..issuance import purposes, retirements

    with obj.session() as session:
        org = organisation_by_uscc(session, uscc)
        o = retirements.set_obligation(session, OPERATOR, org.id, year, allowances, source)
        # the cap at the ratio in force today, as a retirement today is checked (retirements._check_cap)
        cap, ratio, ratio_source = purposes.cap_in_force(session, o.allowances, clock.today(session))
        click.echo(f"{org.name} {o.year}: {o.allowances:,} t to surrender, CCER offset cap {cap:,} t "
                   f"({ratio:%} in force today: {ratio_source})")


@registry.command("certificate")
@click.argument("number")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write the PDF here (default: NUMBER.pdf)")
@click.pass_obj
def certificate(obj, number, output) -> None:
    """Write a retirement's PDF certificate and check it against the ledger."""
    from ..issuance import certificates, retirements

    with obj.session() as session:
        r = retirements.get_retirement(session, number)
        check = certificates.verify_retirement(session, r)
        path = output or f"{r.number}.pdf"
        with open(path, "wb") as fh:
            fh.write(certificates.certificate_pdf(session, r, obj.settings.public_url))
        click.echo(f"{path}: {r.quantity:,} tCO2e, {'matches the ledger' if check['ok'] else 'DOES NOT MATCH: ' + '; '.join(check['problems'])}")
        if not check["ok"]:
            sys.exit(1)


@registry.command("export")
@click.argument("dataset", type=click.Choice(["credits", "units"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("-o", "--output", type=click.File("w"), default="-")
@click.pass_obj
def export(obj, dataset, fmt, output) -> None:
    """Every page of an open-data export (OffsetsDB credits / CAD Trust units shapes)."""
    from ..issuance import opendata

    fetch = opendata.credits if dataset == "credits" else (lambda s, a, n: opendata.units(s, a, n, obj.settings.public_url))
    columns = opendata.CREDIT_COLUMNS if dataset == "credits" else opendata.UNIT_COLUMNS
    rows, after = [], None
    with obj.session() as session:
        while True:
            page, after = fetch(session, after, 2000)
            rows.extend(page)
            if after is None:
                break
    output.write(opendata.to_csv(rows, columns) if fmt == "csv" else opendata.to_json(rows) + "\n")


@registry.command("due")
@click.pass_obj
def due(obj) -> None:
    """The registry's pending decisions with their deadlines (15 working days each), overdue ones marked."""
    from ..issuance.due import pending_decisions

    from ..infra import calendar
    from ..reference import services as reference

    with obj.session() as session:
        reference.sync(session)  # the calendar years the registry loaded
        rows = pending_decisions(session)
        if not rows:
            click.echo("nothing awaits the registry")
        for r in rows:
            # a due date in a year whose State Council calendar is not loaded is provisional (ccer.infra.calendar)
            flag = {"overdue": "OVERDUE", "today": "today"}.get(r["state"], "") or ("prov." if calendar.is_provisional(r["due"]) else "")
            click.echo(f"{r['due']}  {flag:<7} {r['kind']:<15} {r['ref']:<16} {r['subject']}  [{r['rule']}]")
