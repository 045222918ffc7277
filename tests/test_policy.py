"""The authorisation policy: each role is refused what it may not do, in services and through the API."""
import pytest

from ccer.auth import people, policy, services
from ccer.auth.roles import ORGANISATION_ROLES, Role
from ccer.infra.errors import Forbidden, Unauthorized

from .conftest import SYSTEM


def test_only_the_registry_opens_accounts(session, parties):
    for role in ORGANISATION_ROLES:
        org = parties.org([role.value])
        actor = parties.actor(parties.user(org))
        if role is Role.REGISTRY_OPERATOR:
            created = services.create_organisation(session, actor, uscc_code="914403001922038216", name="华为技术有限公司", roles=["trading_participant"])
            assert created.id
        else:
            with pytest.raises(Forbidden) as err:
                services.create_organisation(session, actor, uscc_code="9144030071526726XG", name="腾讯", roles=["trading_participant"])
            assert "organisation.create is reserved to registry_operator" in err.value.message
            assert "Registry Rules Art. 7" in err.value.message


def test_anonymous_is_told_to_log_in(session):
    with pytest.raises(Unauthorized):
        services.create_organisation(session, policy.anonymous(), uscc_code="9144030071526726XG", name="腾讯", roles=["vvb"])
    assert policy.can(policy.anonymous(), "organisation.read")
    assert not policy.can(policy.anonymous(), "events.read_own")


def test_users_are_created_only_for_ones_own_organisation(session, parties):
    owner_a, owner_b = parties.org(["project_owner"]), parties.org(["project_owner"])
    actor_a = parties.actor(parties.user(owner_a))
    # an owner's own user is a request for a second user (or the registry) to confirm (tests/test_people_makerchecker.py)
    with pytest.raises(Forbidden) as err:
        services.create_user(session, actor_a, username="colleague", password="long-enough-pw", organisation_id=owner_a.id, roles=["project_owner"])
    assert err.value.rule.startswith("maker–checker")
    proposed = people.create_user(session, actor_a, username="colleague", password="long-enough-pw", organisation_id=owner_a.id, roles=["project_owner"])
    assert proposed.user.organisation_id == owner_a.id and not proposed.user.is_active and proposed.request.status == "pending"
    with pytest.raises(Forbidden):
        people.create_user(session, actor_a, username="intruder", password="long-enough-pw", organisation_id=owner_b.id, roles=["project_owner"])


def test_user_roles_must_be_held_by_the_organisation(session, parties):
    owner = parties.org(["project_owner"])
    with pytest.raises(Exception) as err:
        services.create_user(session, SYSTEM, username="x1234", password="long-enough-pw", organisation_id=owner.id, roles=["vvb"])
    assert err.value.field == "roles"


@pytest.mark.parametrize("role", [r for r in ORGANISATION_ROLES])
def test_supervision_rights(session, parties, role):
    actor = parties.actor(parties.user(parties.org([role.value])))
    supervisors = {Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY}
    assert policy.can(actor, "events.read_all") == (role in supervisors)
    assert policy.can(actor, "clock.move") == (role is Role.REGISTRY_OPERATOR)
    assert policy.can(actor, "organisation.change_status") == (role is Role.REGISTRY_OPERATOR)


def test_accreditation_only_for_vvbs(session, parties):
    with pytest.raises(Exception) as err:
        parties.org(["project_owner"], sectors=["14"])
    assert err.value.field == "accredited_sectors"
    vvb = parties.org(["vvb"], sectors=["01", "14"])
    assert vvb.accredited_sectors == ["01", "14"]


def test_api_refuses_with_the_error_format(client, session, parties):
    vvb = parties.org(["vvb"], sectors=["01"])
    parties.user(vvb, username="vvbuser")
    token = client.post("/api/v1/auth/tokens", json={"username": "vvbuser", "password": "correct-horse-battery"}).json["token"]
    resp = client.post("/api/v1/organisations", json={"uscc": "9144030071526726XG", "name": "腾讯", "roles": ["vvb"]},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403
    assert resp.json["code"] == "forbidden" and resp.json["field"] == "actor"
    assert "registry_operator" in resp.json["message"]
    anonymous = client.post("/api/v1/organisations", json={"uscc": "9144030071526726XG", "name": "腾讯", "roles": ["vvb"]})
    assert anonymous.status_code == 401 and anonymous.json["code"] == "unauthorized"
