"""Maker–checker that one person cannot defeat (issue 15, item 3): adding a user, granting or revoking a role and
deactivating a user are requests that a second, already existing user of the organisation — or the registry —
confirms, and a confirmer must have become a user before the request was made (the sock-puppet hole)."""
import pytest

from ccer.auth import makerchecker, people, services
from ccer.infra.errors import Forbidden, Unauthorized, ValidationError
from ccer.ledger import verify

from .conftest import SYSTEM

PASSWORD = "correct-horse-battery"
PROFILE = "organisation.change_profile"


def test_the_sock_puppet_cannot_confirm_its_makers_request(session, parties):
    """The probe's scenario: an owner alone proposes, creates a second user and confirms with it."""
    owner = parties.org(["project_owner"])
    alone = parties.actor(parties.user(owner))
    clerk = parties.actor(parties.user(parties.org(["registry_operator"])))
    req = makerchecker.propose(session, alone, PROFILE, f"organisation:{owner.id}", {"province": "福建省"})
    # the owner cannot add a user alone: the user is created inactive, waiting for a confirmation
    puppet = people.create_user(session, alone, username="puppet", password="a fine passphrase", organisation_id=owner.id, roles=["project_owner"])
    assert not puppet.user.is_active and puppet.request.kind == "user.create"
    with pytest.raises(Unauthorized):
        services.authenticate(session, "puppet", "a fine passphrase")  # not a user yet
    with pytest.raises(Forbidden) as err:
        makerchecker.confirm(session, alone, puppet.request.id)  # nor confirms its own request for one
    assert "initiator cannot confirm" in err.value.message
    # the registry reviews and confirms: the puppet becomes a user now — after the owner's request
    makerchecker.confirm(session, clerk, puppet.request.id)
    session.refresh(puppet.user)
    assert puppet.user.is_active
    with pytest.raises(Forbidden) as err:
        makerchecker.confirm(session, parties.actor(puppet.user), req.id)
    assert err.value.rule == "maker–checker: confirmer existed before the request"
    assert "became a user after request" in err.value.message
    session.refresh(owner)
    assert owner.province is None  # not changed
    # a request made after it became a user, it may confirm
    later = makerchecker.propose(session, alone, PROFILE, f"organisation:{owner.id}", {"province": "广东省"})
    makerchecker.confirm(session, parties.actor(puppet.user), later.id)
    session.refresh(owner)
    assert owner.province == "广东省"
    assert verify(session).ok


def test_a_colleague_who_existed_before_confirms_a_new_user(session, parties):
    owner = parties.org(["project_owner"])
    maker, checker = parties.user(owner), parties.user(owner)
    out = people.create_user(session, parties.actor(maker), username="newcomer", password="a fine passphrase",
                             organisation_id=owner.id, roles=["project_owner"])
    assert out.request.organisation_id == owner.id and out.user.acts_since is None
    makerchecker.confirm(session, parties.actor(checker), out.request.id)
    session.refresh(out.user)
    assert out.user.is_active and out.user.acts_since > out.request.proposed_event_id
    assert services.authenticate(session, "newcomer", "a fine passphrase").id == out.user.id


def test_a_user_of_another_organisation_cannot_confirm_and_the_registry_acts_alone_elsewhere_only(session, parties):
    owner, other = parties.org(["project_owner"]), parties.org(["project_owner"])
    maker = parties.actor(parties.user(owner))
    outsider = parties.actor(parties.user(other))
    registry = parties.org(["registry_operator"])
    clerk, clerk2 = parties.actor(parties.user(registry)), parties.actor(parties.user(registry))
    out = people.create_user(session, maker, username="newcomer", password="a fine passphrase", organisation_id=owner.id, roles=["project_owner"])
    with pytest.raises(Forbidden) as err:
        makerchecker.confirm(session, outsider, out.request.id)
    assert "or the registry" in err.value.message
    # the registry adds a user to another organisation at once (registry-reviewed) …
    direct = people.create_user(session, clerk, username="by-registry", password="a fine passphrase", organisation_id=other.id, roles=["project_owner"])
    assert direct.request is None and direct.user.is_active
    # … but to its own organisation only with a second registry user
    own = people.create_user(session, clerk, username="registry-new", password="a fine passphrase", organisation_id=registry.id, roles=["registry_operator"])
    assert own.request is not None and not own.user.is_active
    makerchecker.confirm(session, clerk2, own.request.id)
    session.refresh(own.user)
    assert own.user.is_active


def test_roles_and_deactivation_are_requests_too(session, parties):
    owner = parties.org(["project_owner", "trading_participant"])
    a, b = parties.user(owner, roles=["project_owner"]), parties.user(owner, roles=["project_owner"])
    grant = people.change_role(session, parties.actor(a), a.id, "trading_participant", True)
    assert grant.request is not None and a.role_names == ["project_owner"]  # not yet
    makerchecker.confirm(session, parties.actor(b), grant.request.id)
    session.refresh(a)
    assert a.role_names == ["project_owner", "trading_participant"]
    with pytest.raises(ValidationError) as err:  # a role the organisation does not hold is refused when proposed
        people.change_role(session, parties.actor(a), b.id, "vvb", True)
    assert err.value.field == "role"
    revoke = people.change_role(session, parties.actor(b), a.id, "trading_participant", False)
    makerchecker.confirm(session, parties.actor(a), revoke.request.id)
    session.refresh(a)
    assert a.role_names == ["project_owner"]
    token = services.issue_token(session, b)
    off = people.deactivate(session, parties.actor(a), b.id)
    assert b.is_active
    with pytest.raises(Forbidden):
        makerchecker.confirm(session, parties.actor(a), off.request.id)  # the initiator
    c = parties.user(owner, roles=["project_owner"])
    with pytest.raises(Forbidden):  # c became a user after the request
        makerchecker.confirm(session, parties.actor(c), off.request.id)
    later = people.deactivate(session, parties.actor(a), b.id)
    makerchecker.confirm(session, parties.actor(c), later.request.id)
    session.refresh(b)
    assert not b.is_active
    with pytest.raises(Unauthorized):
        services.user_for_token(session, token)  # its tokens ended with it
    assert verify(session).ok


def test_a_request_cannot_reach_another_organisations_user(client, parties):
    owner, other = parties.org(["project_owner"]), parties.org(["project_owner"])
    maker = parties.user(owner)
    victim = parties.user(other)
    tok = client.post("/api/v1/auth/tokens", json={"username": maker.username, "password": PASSWORD}).json["token"]
    resp = client.post("/api/v1/approvals", headers={"Authorization": f"Bearer {tok}"},
                       json={"kind": "user.deactivate", "target": f"user:{victim.id}", "payload": {}})
    assert resp.status_code == 422 and resp.json["field"] == "target"
    resp = client.post(f"/api/v1/users/{victim.id}/deactivation", headers={"Authorization": f"Bearer {tok}"})
    assert resp.status_code == 404 and resp.json["field"] == "user_id"  # as if it did not exist: the owner cannot see it


def test_over_the_api_a_new_user_waits_for_the_registry(client, parties):
    owner = parties.org(["project_owner"])
    maker = parties.user(owner)
    clerk = parties.user(parties.org(["registry_operator"]))
    tok = lambda u: {"Authorization": "Bearer " + client.post("/api/v1/auth/tokens", json={"username": u.username, "password": PASSWORD}).json["token"]}
    made = client.post("/api/v1/users", headers=tok(maker), json={"username": "second", "password": "a fine passphrase",
                                                                   "organisation_id": owner.id, "roles": ["project_owner"]})
    assert made.status_code == 201 and made.json["is_active"] is False and made.json["approval_request_id"]
    rid = made.json["approval_request_id"]
    assert client.post("/api/v1/auth/tokens", json={"username": "second", "password": "a fine passphrase"}).status_code == 401
    assert client.post(f"/api/v1/approvals/{rid}/confirm", headers=tok(maker)).status_code == 403
    done = client.post(f"/api/v1/approvals/{rid}/confirm", headers=tok(clerk))
    assert done.status_code == 200 and done.json["status"] == "approved"
    assert client.post("/api/v1/auth/tokens", json={"username": "second", "password": "a fine passphrase"}).status_code == 201


def test_the_system_creates_users_at_once(session, parties):
    """The CLI's `ccer users create`, the demo and the test worlds: the operator holds the database anyway."""
    owner = parties.org(["project_owner"])
    user = services.create_user(session, SYSTEM, username="first", password="a fine passphrase", organisation_id=owner.id, roles=["project_owner"])
    assert user.is_active and user.acts_since is not None


def test_the_registry_finds_the_requests_waiting_for_it(client, parties):
    owner, other = parties.org(["project_owner"]), parties.org(["project_owner"])
    maker = parties.user(owner)
    outsider = parties.user(other)
    clerk = parties.user(parties.org(["registry_operator"]))
    tok = lambda u: {"Authorization": "Bearer " + client.post("/api/v1/auth/tokens", json={"username": u.username, "password": PASSWORD}).json["token"]}
    made = client.post("/api/v1/users", headers=tok(maker), json={"username": "second", "password": "a fine passphrase",
                                                                   "organisation_id": owner.id, "roles": ["project_owner"]})
    client.post("/api/v1/approvals", headers=tok(maker), json={"kind": PROFILE, "target": f"organisation:{owner.id}", "payload": {"province": "福建省"}})
    seen = lambda u: [(r["id"], r["kind"]) for r in client.get("/api/v1/approvals", headers=tok(u)).json["items"]]
    assert seen(clerk) == [(made.json["approval_request_id"], "user.create")]  # people only: not the owner's profile change
    assert seen(outsider) == []
    assert len(seen(maker)) == 2
    rid = made.json["approval_request_id"]
    assert client.get(f"/api/v1/approvals/{rid}", headers=tok(clerk)).json["kind"] == "user.create"
    assert client.get(f"/api/v1/approvals/{rid}", headers=tok(outsider)).status_code == 404
