"""REST resources of the registry: accounts, holdings, issuances, trading moves and the exchange's settlements, freezes, retirements,
certificates, compliance obligations and the public open-data exports. Trading moves and retirements answer
202 with a maker–checker request; a second user confirms it at /api/v1/approvals/<id>/confirm."""
from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..api.pagination import PageArgs, decode_cursor, encode_cursor, page_schema, paginate
from ..auth import policy
from ..infra import clock, documents
from ..auth.schemas import ApprovalOut
from ..projects import visibility
from ..projects.models import Project
from ..requests import current_actor, db_session
from . import accounts, certificates, opendata, purposes, registry_acts, retirements, trading
from .holdings import holdings
from .models import Account, Issuance, Retirement
from .schemas import (AccountApply, AccountDecision, AccountFilter, AccountOut, ChangeDecision, ChangeIn, ChangeOut,
                      DeductIn, ExportArgs, FreezeIn, ForceCancelIn, HoldingOut, IssuanceOut, IssueIn,
                      NonTradeIn, ObligationIn, ObligationOut, ProjectOut, ReleaseIn, RetireIn, RetirementOut,
                      TradingIn, TransferOut, VerifyOut, BindingIn, BindingOut, TradeIn, DayIn, DeliveryOut)

blp = Blueprint("registry", __name__, url_prefix="/api/v1", description="Registry: accounts, CCER holdings, issuance, trading moves and settlement, judicial acts, retirements")
public = Blueprint("open-data", __name__, url_prefix="/api/v1", description="Public registry data and exports (anonymous)")

_SPEC = ("quantity", "project_no", "vintage", "serial")


def _spec(data: dict) -> dict:
    return {k: data.get(k) for k in _SPEC}


def _public_url() -> str:
    return current_app.config["CCER_SETTINGS"].public_url


# ---- accounts --------------------------------------------------------------------------------------------


@blp.route("/accounts")
class Accounts(MethodView):
    @blp.arguments(AccountFilter, location="query")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(AccountOut, "AccountPage"))
    def get(self, filters, page):
        """All accounts for the registry and provincial departments; otherwise the caller's own."""
        actor = current_actor()
        stmt = select(Account)
        if not policy.can(actor, "registry.account.read"):
            policy.require(actor, "registry.account.read", policy.OrganisationRef(actor.organisation_id))
            stmt = stmt.where(Account.organisation_id == actor.organisation_id)
        if filters["status"]:
            stmt = stmt.where(Account.status == filters["status"])
        return paginate(db_session(), stmt, Account.id, page)

    @blp.arguments(AccountApply)
    @blp.response(201, AccountOut)
    def post(self, data):
        """Apply for the organisation's registry account (decided within 15 working days)."""
        return accounts.apply_for_account(db_session(), current_actor(), data["organisation_id"])



def _readable(ref: str) -> Account:
    account = accounts.get_account(db_session(), ref)
    policy.require(current_actor(), "registry.account.read", account)
    return account


@blp.route("/accounts/<ref>")
class AccountOne(MethodView):
    @blp.response(200, AccountOut)
    def get(self, ref):
        return _readable(ref)


@blp.route("/accounts/<ref>/decision")
class AccountDecide(MethodView):
    @blp.arguments(AccountDecision)
    @blp.response(200, AccountOut)
    def post(self, data, ref):
        """Registry: open or refuse an application; restrict, restore or close an account."""
        return accounts.decide_account(db_session(), current_actor(), ref, data["action"], data["reason"])


@blp.route("/accounts/<ref>/holdings")
class AccountHoldings(MethodView):
    @blp.response(200, HoldingOut(many=True))
    def get(self, ref):
        """Quantity by project, vintage and status (Registry Rules Art. 12)."""
        return holdings(db_session(), _readable(ref).id)


@blp.route("/accounts/<ref>/changes")
class AccountChanges(MethodView):
    @blp.arguments(ChangeIn)
    @blp.response(201, ChangeOut)
    def post(self, data, ref):
        """File changed particulars for the registry's review (Registry Rules Art. 8)."""
        return accounts.request_change(db_session(), current_actor(), ref, data["changes"])


@blp.route("/account-changes/<int:change_id>/decision")
class ChangeDecide(MethodView):
    @blp.arguments(ChangeDecision)
    @blp.response(200, ChangeOut)
    def post(self, data, change_id):
        return accounts.decide_change(db_session(), current_actor(), change_id, data["approve"], data["reason"])


@blp.route("/accounts/<ref>/trading")
class AccountTrading(MethodView):
    @blp.arguments(TradingIn)
    @blp.response(202, ApprovalOut)
    def post(self, data, ref):
        """Propose moving units into the bound trading account (转移至交易账户) or back; a second user of the
        organisation confirms it (maker–checker), on a trading day 9:30–15:00."""
        verb = trading.propose_to_trading if data["direction"] == "in" else trading.propose_from_trading
        return verb(db_session(), current_actor(), ref, **_spec(data))


@blp.route("/accounts/<ref>/trading-binding")
class AccountBinding(MethodView):
    @blp.arguments(BindingIn)
    @blp.response(201, BindingOut)
    def post(self, data, ref):
        """Exchange: bind the registry account to the holder's trading account (账户绑定)."""
        return trading.bind_trading_account(db_session(), current_actor(), ref, data["trading_account"])


@blp.route("/settlements")
class Settlement(MethodView):
    @blp.arguments(TradeIn)
    @blp.response(201, TransferOut)
    def post(self, data):
        """Exchange: deliver one settled trade — the seller's trading units to the buyer's trading holding —
        atomically (货银对付, Trading Rules Art. 25–32)."""
        return trading.deliver(db_session(), current_actor(), data)


@blp.route("/settlements/day")
class SettlementDay(MethodView):
    @blp.arguments(DayIn)
    @blp.response(200, DeliveryOut(many=True))
    def post(self, data):
        """Exchange: deliver a day's trades in one transaction, each whole or refused with its reason."""
        return [d.as_dict() for d in trading.deliver_day(db_session(), current_actor(), data["trades"])]


# ---- issuance, transfers, freezes -------------------------------------------------------------------------


@blp.route("/issuances")
class Issuances(MethodView):
    @blp.arguments(IssueIn)
    @blp.response(202, ApprovalOut)
    def post(self, data):
        """Registry: propose issuing a registered reduction batch — exactly its verified quantity, one serial block
        per vintage, once (Measures Art. 22); a second registry user confirms it at /approvals/{id}/confirm."""
        return registry_acts.propose_issue(db_session(), current_actor(), data["monitoring_period_id"])


@blp.route("/transfers/non-trade")
class NonTrade(MethodView):
    @blp.arguments(NonTradeIn)
    @blp.response(202, ApprovalOut)
    def post(self, data):
        """Registry: propose a succession or compulsory enforcement on evidence (Registry Rules Art. 14); a second
        registry user confirms it."""
        return registry_acts.propose_non_trade(db_session(), current_actor(), data["kind"], data["from_account"],
                                               data["to_account"], data["evidence"], **_spec(data))


@blp.route("/freezes")
class Freezes(MethodView):
    @blp.arguments(FreezeIn)
    @blp.response(202, ApprovalOut)
    def post(self, data):
        """Registry: propose a judicial freeze (Registry Rules Art. 16); a second registry user confirms it."""
        return registry_acts.propose_freeze(db_session(), current_actor(), data["account"], authority=data["authority"],
                                            order_ref=data["order_ref"], **_spec(data))


@blp.route("/freezes/<int:freeze_id>/release")
class FreezeRelease(MethodView):
    @blp.arguments(ReleaseIn)
    @blp.response(202, ApprovalOut)
    def post(self, data, freeze_id):
        """Registry: propose releasing a freeze; a second registry user confirms it."""
        return registry_acts.propose_release(db_session(), current_actor(), freeze_id, data["reason"])


@blp.route("/freezes/<int:freeze_id>/deduct")
class FreezeDeduct(MethodView):
    @blp.arguments(DeductIn)
    @blp.response(202, ApprovalOut)
    def post(self, data, freeze_id):
        """Registry: propose the judicial deduction (司法扣划) of the frozen units; a second registry user confirms it."""
        return registry_acts.propose_deduct(db_session(), current_actor(), freeze_id, data["to_account"], data["evidence"])


@blp.route("/obligations")
class Obligations(MethodView):
    @blp.arguments(ObligationIn)
    @blp.response(201, ObligationOut)
    def post(self, data):
        """Record a key emitter's allowances to surrender for a year, the base of its CCER offset cap; the answer
        gives the cap at the offset ratio in force today (reference data, ETS Measures Art. 29)."""
        session = db_session()
        o = retirements.set_obligation(session, current_actor(), **data)
        cap, ratio, source = purposes.cap_in_force(session, o.allowances, clock.today(session))
        return {"id": o.id, "organisation_id": o.organisation_id, "year": o.year, "allowances": o.allowances, "source": o.source,
                "offset_cap": cap, "offset_ratio": str(ratio), "offset_ratio_source": source}


# ---- retirements -------------------------------------------------------------------------------------------


@blp.route("/retirements")
class Retirements(MethodView):
    @blp.arguments(RetireIn)
    @blp.response(202, ApprovalOut)
    def post(self, data):
        """Propose a retirement (注销); a second user confirms it, then the certificate is published."""
        fields = {k: v for k, v in data.items() if k != "account"}
        return retirements.propose_retirement(db_session(), current_actor(), data["account"], **fields)


@blp.route("/retirements/forced")
class ForcedCancellations(MethodView):
    @blp.arguments(ForceCancelIn)
    @blp.response(202, ApprovalOut)
    def post(self, data):
        """Registry: propose the forced cancellation of CCERs obtained by fraud (Measures Art. 43); a second registry
        user confirms it."""
        return registry_acts.propose_force_cancel(db_session(), current_actor(), data["account"], order=data["order"], **_spec(data))


@public.route("/retirements/<number>")
class RetirementOne(MethodView):
    @public.response(200, RetirementOut)
    def get(self, number):
        """A retirement, public (Registry Rules Art. 15)."""
        return retirements.get_retirement(db_session(), number)


@public.route("/retirements/<number>/verify")
class RetirementVerify(MethodView):
    @public.response(200, VerifyOut)
    def get(self, number):
        """Check the certificate against the ledger."""
        session = db_session()
        return certificates.verify_retirement(session, retirements.get_retirement(session, number))


@public.route("/retirements/<number>/certificate.pdf")
class RetirementCertificate(MethodView):
    @public.response(200, description="the PDF certificate")
    def get(self, number):
        session = db_session()
        record = retirements.get_retirement(session, number)
        pdf = certificates.certificate_pdf(session, record, _public_url(), cache=documents.pdf_cache(current_app.instance_path))
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{record.number}.pdf"'})


# ---- public listings and exports ------------------------------------------------------------------------


@public.route("/public/projects")
class PublicProjects(MethodView):
    @public.arguments(PageArgs, location="query")
    @public.response(200, page_schema(ProjectOut, "ProjectPage"))
    def get(self, page):
        """Every project beyond its draft (a draft is its owner's, ccer/projects/visibility.py; Measures Art. 12)."""
        return paginate(db_session(), select(Project).where(visibility.visible_to(None)), Project.id, page)


@public.route("/public/issuances")
class PublicIssuances(MethodView):
    @public.arguments(PageArgs, location="query")
    @public.response(200, page_schema(IssuanceOut, "IssuancePage"))
    def get(self, page):
        return paginate(db_session(), select(Issuance), Issuance.id, page)


@public.route("/public/retirements")
class PublicRetirements(MethodView):
    @public.arguments(PageArgs, location="query")
    @public.response(200, page_schema(RetirementOut, "RetirementPage"))
    def get(self, page):
        return paginate(db_session(), select(Retirement), Retirement.id, page)


@public.route("/public/totals")
class PublicTotals(MethodView):
    @public.response(200)
    def get(self):
        """Units by status over the registry, issued and retired per project."""
        return opendata.totals(db_session())


def _export(rows: list[dict], nxt: int | None, columns: list[str], fmt: str, name: str):
    cursor = encode_cursor(nxt)
    if fmt == "csv":
        headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
        if cursor:
            headers["X-Next-Cursor"] = cursor
        return Response(opendata.to_csv(rows, columns), mimetype="text/csv", headers=headers)
    return {"items": rows, "next_cursor": cursor}


@public.route("/open-data/credits")
class CreditsExport(MethodView):
    @public.arguments(ExportArgs, location="query")
    @public.response(200)
    def get(self, args):
        """Issuances, retirements and forced cancellations in the OffsetsDB `credits` shape (JSON or CSV;
        the next page's cursor in `next_cursor` or the X-Next-Cursor header)."""
        rows, nxt = opendata.credits(db_session(), decode_cursor(args["cursor"]), args["limit"])
        return _export(rows, nxt, opendata.CREDIT_COLUMNS, args["format"], "ccer-credits")


@public.route("/open-data/units")
class UnitsExport(MethodView):
    @public.arguments(ExportArgs, location="query")
    @public.response(200)
    def get(self, args):
        """Serial blocks as they stand, in the CAD Trust `units` shape (JSON or CSV)."""
        rows, nxt = opendata.units(db_session(), decode_cursor(args["cursor"]), args["limit"], _public_url())
        return _export(rows, nxt, opendata.UNIT_COLUMNS, args["format"], "ccer-units")
