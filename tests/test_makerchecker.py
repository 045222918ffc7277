"""Maker–checker: a different user of the same organisation confirms."""
import pytest
from sqlalchemy import select

from ccer import ledger
from ccer.auth import makerchecker
from ccer.infra.errors import Forbidden, ValidationError


def test_initiator_cannot_confirm_and_other_orgs_cannot_either(session, parties):
    owner = parties.org(["project_owner"], name="业主公司")
    maker, checker = parties.user(owner), parties.user(owner)
    outsider = parties.user(parties.org(["project_owner"]))
    req = makerchecker.propose(session, parties.actor(maker), "organisation.change_profile", f"organisation:{owner.id}", {"name_en": "Owner Co."})
    with pytest.raises(Forbidden) as err:
        makerchecker.confirm(session, parties.actor(maker), req.id)
    assert "initiator cannot confirm" in err.value.message
    with pytest.raises(Forbidden):
        makerchecker.confirm(session, parties.actor(outsider), req.id)
    assert owner.name_en is None
    makerchecker.confirm(session, parties.actor(checker), req.id)
    session.refresh(owner)
    assert owner.name_en == "Owner Co."
    actions = session.execute(select(ledger.Event.action).order_by(ledger.Event.seq)).scalars().all()
    assert actions[-3:] == ["approval.proposed", "approval.confirmed", "organisation.profile_changed"]
    assert ledger.verify(session).ok


def test_bad_payload_is_refused_when_proposed(session, parties):
    owner = parties.org(["project_owner"])
    maker = parties.user(owner)
    with pytest.raises(ValidationError) as err:
        makerchecker.propose(session, parties.actor(maker), "organisation.change_profile", f"organisation:{owner.id}", {"uscc": "x"})
    assert err.value.field == "uscc"


def test_over_the_api(client, parties):
    owner = parties.org(["project_owner"])
    a, b = parties.user(owner), parties.user(owner)
    tok = lambda u: {"Authorization": "Bearer " + client.post("/api/v1/auth/tokens", json={"username": u.username, "password": "correct-horse-battery"}).json["token"]}
    created = client.post("/api/v1/approvals", headers=tok(a), json={"kind": "organisation.change_profile", "target": f"organisation:{owner.id}", "payload": {"province": "福建省"}})
    assert created.status_code == 201 and created.json["status"] == "pending"
    rid = created.json["id"]
    assert client.post(f"/api/v1/approvals/{rid}/confirm", headers=tok(a)).status_code == 403
    done = client.post(f"/api/v1/approvals/{rid}/confirm", headers=tok(b))
    assert done.status_code == 200 and done.json["status"] == "approved"
    assert client.get(f"/api/v1/organisations/{owner.id}").json["province"] == "福建省"


def test_a_confirmer_must_precede_the_request_even_when_the_clock_stands_still(session, parties):
    """Issue 15: "before" is the ledger's order, strict even when every act happens at the same frozen instant."""
    from ccer.infra import clock

    clock.freeze(session)
    session.commit()
    owner = parties.org(["project_owner"])
    maker, early = parties.user(owner), parties.user(owner)
    req = makerchecker.propose(session, parties.actor(maker), "organisation.change_profile", f"organisation:{owner.id}", {"name_en": "Owner Co."})
    late = parties.user(owner)  # made by the system, after the request, at the same instant
    assert late.created_at == req.initiated_at
    with pytest.raises(Forbidden) as err:
        makerchecker.confirm(session, parties.actor(late), req.id)
    assert err.value.rule == "maker–checker: confirmer existed before the request"
    makerchecker.confirm(session, parties.actor(early), req.id)
    session.refresh(owner)
    assert owner.name_en == "Owner Co."
