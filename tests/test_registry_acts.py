"""The registry's own acts on CCERs are maker–checker between two registry users (issue 15 item 3;
ccer/issuance/registry_acts.py): issuing, freezing, releasing, deducting, non-trade transfers, forced
cancellation. For each act: its proposer cannot confirm it, an owner can neither propose nor confirm it, the
executing service refuses to run outside a confirmation (for one registry user and for the system actor), and
nothing moves until the second registry user confirms."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ccer import ledger
from ccer.auth import makerchecker
from ccer.infra.errors import Conflict, Forbidden
from ccer.issuance import issuing, registry_acts, retirements, services
from ccer.issuance.models import Issuance
from ccer.issuance.services import TWO_USERS_RULE
from ccer.projects import monitoring
from tests.conftest import SYSTEM
from tests.registry_world import World


@pytest.fixture()
def world(session, parties):
    return World(session, parties)


def _events(session) -> int:
    return session.execute(select(func.count()).select_from(ledger.Event)).scalar_one()


def test_each_registry_act_takes_two_registry_users(world, session):
    w = world
    w.issue({2021: 1000})  # proposed by registry, confirmed by registry2
    frozen = w.freeze(w.owner, authority="法院", order_ref="（2026）执1号", quantity=100)
    acts = [  # (proposal, what the balance looks like before confirmation, the executing service called directly)
        (lambda: registry_acts.propose_freeze(session, w.registry, w.owner.account.id, authority="法院", order_ref="（2026）执2号", quantity=10),
         lambda a: services.freeze(session, a, w.owner.account.id, authority="法院", order_ref="（2026）执2号", quantity=10)),
        (lambda: registry_acts.propose_release(session, w.registry, frozen.id, "（2026）执1号之一 解除"),
         lambda a: services.release_freeze(session, a, frozen.id, "解除")),
        (lambda: registry_acts.propose_non_trade(session, w.registry, "succession", w.owner.account.id, w.trader.account.id, "合并协议", quantity=5),
         lambda a: services.non_trade_transfer(session, a, "succession", w.owner.account.id, w.trader.account.id, "合并协议", quantity=5)),
        (lambda: registry_acts.propose_force_cancel(session, w.registry, w.owner.account.id, order="责令注销决定", quantity=5),
         lambda a: retirements.force_cancel(session, a, w.owner.account.id, order="责令注销决定", quantity=5)),
    ]
    for propose, direct in acts:
        for actor in (w.registry, w.registry2, SYSTEM):  # one registry user, or the system actor, alone: refused
            with pytest.raises(Forbidden) as err:
                direct(actor)
            assert err.value.rule == TWO_USERS_RULE
        req = propose()
        before = (w.balance(w.owner), w.balance(w.owner, "frozen"), _events(session))
        for actor in (w.registry, w.owner.maker, w.owner.checker):  # not its proposer, not an owner
            with pytest.raises(Forbidden):
                makerchecker.confirm(session, actor, req.id)
        assert (w.balance(w.owner), w.balance(w.owner, "frozen"), _events(session)) == before  # nothing moved
        w.act(req)
        with pytest.raises(Conflict, match="already approved"):
            makerchecker.confirm(session, w.registry2, req.id)
    # available 1000 − 100 frozen − 10 frozen + 100 released − 5 transferred − 5 cancelled = 980; frozen 100 + 10 − 100
    assert (w.balance(w.owner), w.balance(w.owner, "frozen"), w.balance(w.trader)) == (980, 10, 5)
    for kind in registry_acts.KINDS:  # an owner proposes none of the registry's acts
        with pytest.raises(Forbidden):
            makerchecker.propose(session, w.owner.maker, kind, f"account:{w.owner.account.id}", {})

    # deduction: a stale second request is refused at confirmation with the rule, and stays pending
    f = w.freeze(w.owner, authority="法院", order_ref="（2026）执3号", quantity=20)
    first = registry_acts.propose_deduct(session, w.registry, f.id, w.trader.account.number, "执行裁定书")
    second = registry_acts.propose_release(session, w.registry2, f.id, "解除冻结")  # proposed by the other registry user
    w.act(first)
    with pytest.raises(Conflict) as err:
        makerchecker.confirm(session, w.registry, second.id)
    assert err.value.field == "freeze_id" and err.value.rule == "Registry Rules Art. 16"
    assert session.get(makerchecker.ApprovalRequest, second.id).status == "pending"
    assert w.balance(w.trader) == 25  # 5 + 20 deducted
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def test_an_issuance_request_is_confirmed_once_and_a_stale_one_is_refused(world, session):
    w = world
    mp = monitoring.import_listed_batch(session, w.registry, w.project.id, "2021-01-01", "2021-12-31", {2021: 1000}, "测试：登记系统公示")
    first = registry_acts.propose_issue(session, w.registry, mp.id)
    second = registry_acts.propose_issue(session, w.registry2, mp.id)
    with pytest.raises(Forbidden) as err:
        issuing.issue_batch(session, w.registry2, mp.id, vouch=[("approval_request", first.id)])  # a pending request vouches for nothing
    assert err.value.rule == TWO_USERS_RULE
    with pytest.raises(Forbidden):
        makerchecker.confirm(session, w.registry, first.id)  # its proposer
    (iss,) = makerchecker.confirm(session, w.registry2, first.id)
    assert (iss.quantity, iss.first, iss.last) == (1000, 1, 1000)
    with pytest.raises(Conflict, match="already approved"):
        makerchecker.confirm(session, w.registry2, first.id)
    with pytest.raises(Conflict) as err:  # stale: the batch was issued since it was proposed
        makerchecker.confirm(session, w.registry, second.id)
    assert (err.value.field, err.value.rule) == ("monitoring_period_id", issuing.ONCE_RULE)
    assert session.execute(select(func.count()).select_from(Issuance)).scalar_one() == 1
    assert makerchecker.reject(session, w.registry, second.id, "已发放").status == "rejected"
    # the issuance's event names its confirmer and vouches for the approved request
    event = session.execute(select(ledger.Event).where(ledger.Event.action == "ccer.issued")).scalar_one()
    assert event.actor_user_id == w.registry2.user_id and f'"approval_request:{first.id}"' in event.payload_json
