"""REST resources: tokens, organisations, users, maker–checker approvals."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..api.pagination import PageArgs, page_schema, paginate
from ..infra.errors import NotFound
from ..requests import current_actor, db_session, limit_logins
from . import makerchecker, people, policy, services
from .models import Organisation, OrganisationRole, User
from .schemas import (ApprovalDecision, ApprovalIn, ApprovalOut, OrganisationFilter, OrganisationIn,
                      OrganisationOut, PasswordChangeIn, RoleIn, TokenIn, TokenOut, UserIn, UserOut)

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Bearer tokens")
org_blp = Blueprint("organisations", __name__, url_prefix="/api/v1/organisations", description="Legal persons and their roles")
user_blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="People acting for organisations")
approvals_blp = Blueprint("approvals", __name__, url_prefix="/api/v1/approvals", description="Maker–checker requests")


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenIn)
    @blp.response(201, TokenOut)
    @limit_logins
    def post(self, data):
        """Exchange a username and password for a bearer token (shown once)."""
        session = db_session()
        user = services.authenticate(session, data["username"], data["password"])
        return {"token": services.issue_token(session, user, data["name"]), "user": user}


@blp.route("/tokens/current")
class CurrentToken(MethodView):
    @blp.response(204)
    def delete(self):
        """Revoke the token used for this request."""
        from flask import request

        actor = current_actor()
        policy.require(actor, "events.read_own")
        services.revoke_token(db_session(), actor, request.headers["Authorization"].partition(" ")[2].strip())


@org_blp.route("")
class Organisations(MethodView):
    @org_blp.arguments(OrganisationFilter, location="query")
    @org_blp.arguments(PageArgs, location="query")
    @org_blp.response(200, page_schema(OrganisationOut, "OrganisationPage"))
    def get(self, filters, page):
        """List organisations (public)."""
        policy.require(current_actor(), "organisation.read")
        stmt = select(Organisation)
        if filters["role"]:
            stmt = stmt.where(Organisation.id.in_(select(OrganisationRole.organisation_id).where(OrganisationRole.role == filters["role"])))
        return paginate(db_session(), stmt, Organisation.id, page)

    @org_blp.arguments(OrganisationIn)
    @org_blp.response(201, OrganisationOut)
    def post(self, data):
        """Register an organisation (registry operator)."""
        return services.create_organisation(
            db_session(), current_actor(), uscc_code=data["uscc"], name=data["name"], roles=data["roles"],
            name_en=data["name_en"], province=data["province"], accredited_sectors=data["accredited_sectors"],
            parent_id=data["parent_id"],
        )


@org_blp.route("/<int:org_id>")
class OrganisationOne(MethodView):
    @org_blp.response(200, OrganisationOut)
    def get(self, org_id):
        policy.require(current_actor(), "organisation.read")
        return services.get_organisation(db_session(), org_id)


@user_blp.route("")
class Users(MethodView):
    @user_blp.arguments(PageArgs, location="query")
    @user_blp.response(200, page_schema(UserOut, "UserPage"))
    def get(self, page):
        """Users the caller may see: all for the registry and provincial authorities, else their organisation's."""
        actor = current_actor()
        stmt = select(User)
        if not policy.can(actor, "user.read"):
            policy.require(actor, "user.read", policy.OrganisationRef(actor.organisation_id))
            stmt = stmt.where(User.organisation_id == actor.organisation_id)
        return paginate(db_session(), stmt, User.id, page)

    @user_blp.arguments(UserIn)
    @user_blp.response(201, UserOut)
    def post(self, data):
        """Add a user: at once by the registry (for another organisation); by a user of the organisation as a request
        (the user is created inactive, `approval_request_id` names the request) that a second user of the organisation,
        one who was a user before the request, or the registry confirms at POST /approvals/{id}/confirm."""
        return _shown(people.create_user(db_session(), current_actor(), **data))


def _shown(outcome: people.Outcome) -> User:
    outcome.user.approval_request_id = outcome.request.id if outcome.request else None
    return outcome.user


@user_blp.route("/<int:user_id>/roles")
class UserRoles(MethodView):
    @user_blp.arguments(RoleIn)
    @user_blp.response(200, UserOut)
    def post(self, data, user_id):
        """Grant a role of the organisation: at once by the registry, else a request to confirm (approval_request_id)."""
        return _shown(people.change_role(db_session(), current_actor(), user_id, data["role"], True))


@user_blp.route("/<int:user_id>/roles/<string:role>")
class UserRoleOne(MethodView):
    @user_blp.response(200, UserOut)
    def delete(self, user_id, role):
        """Revoke a role: at once by the registry, else a request to confirm (approval_request_id)."""
        return _shown(people.change_role(db_session(), current_actor(), user_id, role, False))


@user_blp.route("/<int:user_id>/deactivation")
class UserDeactivation(MethodView):
    @user_blp.response(200, UserOut)
    def post(self, user_id):
        """Deactivate a user (it no longer acts for the organisation; its sessions and tokens end): at once by the
        registry, else a request to confirm (approval_request_id)."""
        return _shown(people.deactivate(db_session(), current_actor(), user_id))


@user_blp.route("/me/password")
class MyPassword(MethodView):
    @user_blp.arguments(PasswordChangeIn)
    @user_blp.response(204)
    def post(self, data):
        """Change one's password (the password policy applies); every session and token of the user ends, this
        request's included."""
        actor = current_actor()
        policy.require(actor, "events.read_own")
        services.change_password(db_session(), actor, actor.user_id, data["current_password"], data["new_password"])


@user_blp.route("/me")
class Me(MethodView):
    @user_blp.response(200, UserOut)
    def get(self):
        actor = current_actor()
        if actor.user_id is None:
            policy.require(actor, "user.read", policy.OrganisationRef(None))
        return db_session().get(User, actor.user_id)



@approvals_blp.route("")
class Approvals(MethodView):
    @approvals_blp.arguments(PageArgs, location="query")
    @approvals_blp.response(200, page_schema(ApprovalOut, "ApprovalPage"))
    def get(self, page):
        """The caller's organisation's requests; the registry also sees the requests it may confirm as the registry
        (adding users, roles, deactivations of any organisation)."""
        actor = current_actor()
        policy.require(actor, "events.read_own")
        stmt = select(makerchecker.ApprovalRequest).where(makerchecker.visible_to(actor))
        return paginate(db_session(), stmt, makerchecker.ApprovalRequest.id, page)

    @approvals_blp.arguments(ApprovalIn)
    @approvals_blp.response(201, ApprovalOut)
    def post(self, data):
        """Propose an operation for a second user of the organisation to confirm."""
        return makerchecker.propose(db_session(), current_actor(), data["kind"], data["target"], data["payload"])


@approvals_blp.route("/<int:request_id>")
class ApprovalOne(MethodView):
    @approvals_blp.response(200, ApprovalOut)
    def get(self, request_id):
        """One request of the caller's organisation, or one the registry may confirm as the registry (any other
        answers 404, as if it did not exist)."""
        actor = current_actor()
        policy.require(actor, "events.read_own")
        req = db_session().execute(select(makerchecker.ApprovalRequest).where(
            makerchecker.ApprovalRequest.id == request_id, makerchecker.visible_to(actor))).scalar_one_or_none()
        if req is None:
            raise NotFound(f"no request #{request_id} of your organisation", field="request_id")
        return req


@approvals_blp.route("/<int:request_id>/confirm")
class ApprovalConfirm(MethodView):
    @approvals_blp.response(200, ApprovalOut)
    def post(self, request_id):
        """Confirm a request: the operation runs now. `outcome` names what it made (a retirement: its number and
        certificate, also in `retirement_number`)."""
        from ..api.outcomes import outcome, retirement_number

        session = db_session()
        result = makerchecker.confirm(session, current_actor(), request_id)
        req = session.get(makerchecker.ApprovalRequest, request_id)
        req.outcome, req.retirement_number = outcome(result), retirement_number(result)
        return req


@approvals_blp.route("/<int:request_id>/reject")
class ApprovalReject(MethodView):
    @approvals_blp.arguments(ApprovalDecision)
    @approvals_blp.response(200, ApprovalOut)
    def post(self, data, request_id):
        return makerchecker.reject(db_session(), current_actor(), request_id, data["reason"] or "")
