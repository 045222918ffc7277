"""REST resources of fraud cases (Measures Art. 43): the public list, the owner's ordered cancellation
(202: a maker–checker request its second user confirms at /api/v1/approvals/<id>/confirm) and the
registry's enforcement after the deadline."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..api.pagination import PageArgs, page_schema, paginate
from ..auth.schemas import ApprovalOut
from ..requests import current_actor, db_session
from . import fraud, registry_acts
from .fraud_models import FraudCase
from .schemas import FraudCancelIn, FraudCaseOut, FraudEnforceIn

blp = Blueprint("fraud", __name__, url_prefix="/api/v1", description="Fraud cases: suspended CCERs, ordered and forced cancellation (Measures Art. 43)")


@blp.route("/public/fraud-cases")
class PublicFraudCases(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(FraudCaseOut, "FraudCasePage"))
    def get(self, page):
        """Every revocation for fraud: quantity owed, cancelled, force-cancelled, the shortfall and the owner's bar (anonymous)."""
        return paginate(db_session(), select(FraudCase), FraudCase.id, page)


@blp.route("/public/fraud-cases/<int:case_id>")
class PublicFraudCase(MethodView):
    @blp.response(200, FraudCaseOut)
    def get(self, case_id):
        return fraud.get_case(db_session(), case_id)


@blp.route("/fraud-cases/<int:case_id>/cancellations")
class FraudCancellations(MethodView):
    @blp.arguments(FraudCancelIn)
    @blp.response(202, ApprovalOut)
    def post(self, data, case_id):
        """The owner: propose cancelling CCERs it holds against what the case says it owes; a second user confirms."""
        return fraud.propose_cancellation(db_session(), current_actor(), case_id, **data)


@blp.route("/fraud-cases/<int:case_id>/enforcement")
class FraudEnforcement(MethodView):
    @blp.arguments(FraudEnforceIn)
    @blp.response(202, ApprovalOut)
    def post(self, data, case_id):
        """Registry, after the deadline: propose force-cancelling what the owner holds up to what it owes, recording the
        shortfall and barring the owner for good; a second registry user confirms it."""
        return registry_acts.propose_enforcement(db_session(), current_actor(), case_id, data["order"])
