"""Role × action matrix (issue 15): every state-changing operation of the API (enumerated from the app's url_map,
so a new one is probed too) against nine roles — anonymous, the owner's two users, another owner, a VVB,
another VVB, the registry's two users, the exchange — in one world per database.

Outcomes: "ok" = past authorisation (2xx, or a domain refusal 409/422 of a well-formed request), or exactly
401 / 403 / 404. The operations in MATRIX carry real bodies and an exact expected outcome per role — the
registry's own acts (maker–checker between its two users), the approvals (a proposer confirming its own
request, a confirmer created after the request — the sock puppet), proposals on someone else's account (404,
as if it did not exist), drafts (404). Every other operation is probed with a body built from its OpenAPI
schema: no role may get a 5xx, and no role outside ALLOWED (anonymous included) a 2xx — 0 unexpected successes.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ccer.auth import makerchecker
from ccer.auth.models import User
from ccer.auth.services import issue_token
from ccer.infra.errors import Forbidden
from ccer.issuance import registry_acts, trading
from ccer.projects import lifecycle, monitoring, services as projects
from tests.conftest import SYSTEM
from tests.lifecycle_world import DESIGN, FACTS
from tests.registry_world import World

ROLES = ("anonymous", "owner", "owner2", "other_owner", "vvb", "other_vvb", "registry", "registry2", "exchange")
REGISTRY = {"registry", "registry2"}
OWNER = {"owner", "owner2"}
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
SOURCE = "测试：登记系统公示"


def expect(allowed: set[str], **codes) -> dict[str, object]:
    """The outcome per role: "ok" for the allowed, else the code given for the role, 401 for anonymous, 403."""
    return {r: ("ok" if r in allowed else codes.get(r, 401 if r == "anonymous" else 403)) for r in ROLES}


def _tokens(session, actors: dict) -> dict[str, dict]:
    out = {"anonymous": {}}
    for role, actor in actors.items():
        out[role] = {"Authorization": f"Bearer {issue_token(session, session.get(User, actor.user_id), 'matrix')}"}
    session.commit()
    return out


def _world(session, parties):
    w = World(session, parties)
    other = w.holder(["project_owner", "trading_participant"], "另一业主测试有限公司")
    other_vvb = w.holder(["vvb"], "另一核查机构测试", sectors=["01"])
    w.issue({2021: 1000})  # the owner holds 1 000 t of project 000001
    ids = {"owner_account": w.owner.account.number, "owner_account_id": w.owner.account.id, "trader_account": w.trader.account.number,
           "other_vvb_account": other_vvb.account.number}
    ids["batch"] = monitoring.import_listed_batch(session, w.registry, w.project.id, "2022-01-01", "2022-12-31", {2022: 10}, SOURCE,
                                                  number=2).id  # registered, not issued
    ids["freeze"] = w.freeze(w.owner, authority="法院", order_ref="（2026）执1号", quantity=10).id
    ids["draft"] = lifecycle.create(session, w.owner.maker, title="草稿项目（测试）", methodology_code="CCER-01-002-V01", province="山东省",
                                    construction_start="2019-06-01", facts=FACTS, periods=DESIGN).id
    # a fraud case on the other owner's project (nothing issued: settled at once, its enforcement refused as such)
    theirs = projects.import_listed(session, SYSTEM, title="另一已登记项目（测试）", methodology_code="CCER-01-001-V01", owner_id=other.org.id,
                                    province="甘肃省", crediting_start=date(2021, 1, 1), crediting_end=date(2030, 12, 31), registered=True)
    lifecycle.fire(session, w.registry, theirs.id, "revoke", reason="省生态环境厅认定篡改监测数据（测试）")
    from ccer.issuance.fraud_models import FraudCase
    ids["case"] = session.execute(select(FraudCase.id).where(FraudCase.project_id == theirs.id)).scalar_one()
    # an old-regime project (Measures Art. 49), to record an old batch on
    from ccer.issuance import legacy
    ids["legacy"] = legacy.record_project(session, w.registry, title="旧CCER项目（测试）", old_methodology="CM-001-V01", sector="01",
                                          owner_id=w.owner.org.id, province="甘肃省", filing_no="备案-M-1", filed_on="2015-06-01").id
    ids["owner_uscc"] = w.owner.org.uscc
    # pending requests: the registry's issuance (two: one to confirm, one to reject), the owner's move into trading
    ids["issue_request"] = registry_acts.propose_issue(session, w.registry, ids["batch"]).id
    ids["reject_request"] = registry_acts.propose_issue(session, w.registry, ids["batch"]).id
    ids["owner_request"] = trading.propose_to_trading(session, w.owner.maker, w.owner.account.id, quantity=1).id
    session.commit()
    actors = {"owner": w.owner.maker, "owner2": w.owner.checker, "other_owner": other.maker, "vvb": w.vvb.maker,
              "other_vvb": other_vvb.maker, "registry": w.registry, "registry2": w.registry2, "exchange": w.exchange}
    return w, ids, actors


def matrix(ids: dict) -> dict[str, tuple[dict | None, dict]]:
    """"METHOD path" → (body, expected outcome per role), the operations whose rule the issue names."""
    acct, acct_id = ids["owner_account"], ids["owner_account_id"]
    foreign = {"other_owner": 404, "exchange": 404}  # senders by role, but the account is someone else's: as if absent
    retire = {"account": acct, "quantity": 1, "purpose": "public_good", "beneficiary_name": "公众"}
    return {
        # the registry's own acts: proposed by either registry user, nobody else
        "POST /api/v1/issuances": ({"monitoring_period_id": ids["batch"]}, expect(REGISTRY)),
        "POST /api/v1/freezes": ({"account": acct, "authority": "法院", "order_ref": "（2026）执2号", "quantity": 1}, expect(REGISTRY)),
        f"POST /api/v1/freezes/{ids['freeze']}/release": ({"reason": "解除冻结"}, expect(REGISTRY)),
        f"POST /api/v1/freezes/{ids['freeze']}/deduct": ({"to_account": ids["trader_account"], "evidence": "执行裁定书"}, expect(REGISTRY)),
        "POST /api/v1/transfers/non-trade": ({"kind": "succession", "from_account": acct, "to_account": ids["trader_account"],
                                             "evidence": "合并协议", "quantity": 1}, expect(REGISTRY)),
        "POST /api/v1/retirements/forced": ({"account": acct, "order": "责令注销决定", "quantity": 1}, expect(REGISTRY)),
        f"POST /api/v1/fraud-cases/{ids['case']}/enforcement": ({"order": "甘环执〔2027〕1号"}, expect(REGISTRY)),
        "POST /api/v1/approvals#issue": ({"kind": "registry.issue", "target": f"monitoring_period:{ids['batch']}", "payload": {}},
                                         expect(REGISTRY)),
        # confirming: a second registry user only — not the proposer, not another organisation
        f"POST /api/v1/approvals/{ids['issue_request']}/confirm": (None, expect({"registry2"})),
        f"POST /api/v1/approvals/{ids['reject_request']}/reject": ({"reason": "重复申请"}, expect(REGISTRY)),
        f"POST /api/v1/approvals/{ids['owner_request']}/confirm": (None, expect({"owner2"})),
        # proposals on an account: its holder's users; another holder is answered as if the account did not exist
        "POST /api/v1/approvals#retire": ({"kind": "registry.retire", "target": f"account:{acct_id}", "payload": {k: v for k, v in retire.items() if k != "account"}},
                                          expect(OWNER, **foreign)),
        f"POST /api/v1/accounts/{acct}/trading": ({"direction": "in", "quantity": 1}, expect(OWNER, **foreign)),
        "POST /api/v1/retirements": (retire, expect(OWNER, **foreign)),
        # drafts: the owner's and the registry's; nobody else's, not even to be refused
        f"POST /api/v1/projects/{ids['draft']}/transitions/publicise": (
            {}, expect(OWNER, anonymous=404, other_owner=404, vvb=404, other_vvb=404, exchange=404, registry=403, registry2=403)),
        "POST /api/v1/projects": ({"title": "新项目（测试）", "methodology_code": "CCER-01-002-V01", "province": "山东省",
                                   "construction_start": "2019-06-01", "facts": FACTS, "periods": DESIGN}, expect(OWNER | {"other_owner"})),
        # the registry's other decisions, the exchange's deliveries
        f"POST /api/v1/accounts/{ids['other_vvb_account']}/decision": ({"action": "restrict", "reason": "测试"}, expect(REGISTRY)),
        # old-regime CCERs: the registry records the project (the second call: 409, the filing is recorded) and its batches
        "POST /api/v1/legacy/projects": ({"title": "旧CCER项目二（测试）", "filing_no": "备案-M-2", "filed_on": "2016-01-05",
                                          "owner_uscc": ids["owner_uscc"], "sector": "01", "old_methodology": "CM-001-V01"}, expect(REGISTRY)),
        f"POST /api/v1/legacy/projects/{ids['legacy']}/batches": ({"start": "2015-01-01", "end": "2015-12-31", "vintages": {"2015": 10},
                                                                   "source": SOURCE}, expect(REGISTRY)),
        "POST /api/v1/obligations": ({"organisation_id": 1, "year": 2025, "allowances": 1000, "source": "配额分配通知"}, expect(REGISTRY)),
        "POST /api/v1/settlements": ({"trade_ref": "T-MATRIX-1", "seller": acct, "buyer": ids["trader_account"], "project_no": 1,
                                      "vintage": 2021, "quantity": 1}, expect({"exchange"})),
    }


#: operations anyone may call (the public comments, a token for a username and password, a calculation)
PUBLIC_WRITES = {"POST /api/v1/comments", "POST /api/v1/auth/tokens", "POST /api/v1/methodologies/<code>/calculate"}
#: who alone may succeed at these, probed with the smallest body their schema allows (the rest: any signed-in role)
ALLOWED = {
    "POST /api/v1/organisations": REGISTRY,
    "POST /api/v1/account-changes/<int:change_id>/decision": REGISTRY,
    "POST /api/v1/accounts/<ref>/trading-binding": REGISTRY | {"exchange"},
    "POST /api/v1/settlements/day": {"exchange"},
    "POST /api/v1/comments/<int:comment_id>/moderation": REGISTRY,
    "POST /api/v1/market/accounts": {"exchange"},
    "POST /api/v1/market/settlements": {"exchange"},
    "POST /api/v1/market/fees": {"exchange"},
    "POST /api/v1/market/position-limits": {"exchange"},
    "POST /api/v1/market/instruments/<code>/confirmation": {"exchange"},
    "POST /api/v1/market/instruments/<code>/halt": {"exchange"},
    "POST /api/v1/market/instruments/<code>/resumption": {"exchange"},
    "POST /api/v1/market/disputes/<int:dispute_id>/resolution": {"exchange"},
}
#: probed as anonymous only: as a signed-in role they would revoke or disable the matrix's own credentials
SELF_DESTRUCTIVE = {"DELETE /api/v1/auth/tokens/current", "POST /api/v1/users/<int:user_id>/deactivation",
                    "DELETE /api/v1/users/<int:user_id>/roles/<string:role>", "POST /api/v1/users/me/password",
                    "POST /api/v1/users/<int:user_id>/roles"}


def _outcome(status: int) -> object:
    return status if status in (401, 403, 404) else ("ok" if status < 500 else status)


def _example(spec: dict, schema: dict | None, depth: int = 0):
    """The smallest body the schema's required fields allow (types only; values a domain check may refuse)."""
    if not schema or depth > 4:
        return {}
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _example(spec, props.get(k), depth + 1) for k in schema.get("required", [])}
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": []}.get(kind, None)


def _operations(app) -> list[tuple[str, str]]:
    return sorted((m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
                  for m in r.methods & {"POST", "PUT", "PATCH", "DELETE"})


def _concrete(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1" if "id" in m.group(1) or "ref" in m.group(1) else "x", rule)


def test_role_by_action_matrix(client, app, session, parties):
    w, ids, actors = _world(session, parties)
    headers = _tokens(session, actors)
    table = matrix(ids)
    surprises = []

    def check(key, path, body, expected):
        method = key.split()[0]
        # the refused roles first, the allowed ones last: an allowed call changes state
        for role in sorted(ROLES, key=lambda r: expected[r] == "ok"):
            resp = client.open(path, method=method, headers=headers[role], json=body)
            got, want = _outcome(resp.status_code), expected[role]
            if got != want and not (isinstance(want, tuple) and got in want):
                surprises.append(f"{key} as {role}: {resp.status_code} (expected {want}) {resp.get_data(as_text=True)[:160]}")

    covered = set()
    for key, (body, expected) in table.items():
        path = key.split()[1].split("#")[0]
        check(key, path, body, expected)
        rule = next((r for m, r in _operations(app) if m == key.split()[0] and _concrete(r) == _concrete_ids(path, r)), None)
        covered.add(rule)

    assert not surprises, "\n".join(surprises)

    # the sock puppets: a user created after the request — of the registry, or of the owner — cannot confirm it
    # (ccer/auth/makerchecker.py); a registry user who existed before it can
    before = parties.actor(parties.user(_org_of(session, w.registry)))
    batch = monitoring.import_listed_batch(session, w.registry, w.project.id, "2023-01-01", "2023-12-31", {2023: 10}, SOURCE, number=3)
    request = registry_acts.propose_issue(session, w.registry, batch.id)
    late = parties.actor(parties.user(_org_of(session, w.registry)))
    with pytest.raises(Forbidden):
        makerchecker.confirm(session, late, request.id)
    owner_request = trading.propose_to_trading(session, w.owner.maker, w.owner.account.id, quantity=1)
    puppet = parties.actor(parties.user(_org_of(session, w.owner.maker)))
    with pytest.raises(Forbidden):
        makerchecker.confirm(session, puppet, owner_request.id)
    makerchecker.confirm(session, before, request.id)  # the batch is issued: 10 t
    session.commit()

    # every other state-changing operation, as the url_map has it: no 5xx, no success for anyone not allowed
    spec = client.get("/api/v1/openapi.json").json
    operations = _operations(app)
    assert None not in covered and len(covered) == len({k.split("#")[0] for k in table}) - 1  # two rows are POST /approvals
    assert len(operations) >= 70, operations  # 75 when written
    for method, rule in operations:
        key = f"{method} {rule}"
        if rule in covered:
            continue
        op = spec["paths"].get(_openapi_path(rule), {}).get(method.lower(), {})
        content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        body = _example(spec, content.get("schema")) if content else None
        for role in (("anonymous",) if key in SELF_DESTRUCTIVE else ROLES):
            resp = client.open(_concrete(rule), method=method, headers=headers[role], json=body)
            if resp.status_code >= 500:
                surprises.append(f"{key} as {role}: {resp.status_code}")
            elif resp.status_code < 300 and role not in ALLOWED.get(key, SIGNED_IN if key not in PUBLIC_WRITES else EVERYONE):
                surprises.append(f"{key} as {role}: {resp.status_code} — an unexpected success")
    assert not surprises, "\n".join(surprises)


def _org_of(session, actor):
    from ccer.auth.models import Organisation

    return session.get(Organisation, actor.organisation_id)


def _concrete_ids(path: str, rule: str) -> str:
    """`path` with each value standing where the rule has a parameter replaced as _concrete does, to match it."""
    import re

    parts, rparts = path.split("/"), rule.split("/")
    if len(parts) != len(rparts):
        return path
    out = [(_concrete(rp) if re.fullmatch(r"<[^>]+>", rp) else p) for p, rp in zip(parts, rparts)]
    return "/".join(out)


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
