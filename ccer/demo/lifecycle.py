"""Demo lifecycle: one project of each official methodology walked through the whole cycle with the
platform clock moved forward — design document, engagement, 20 working days of publicity with a public
comment and a corrective action request, validation report, application with the commitment letter,
registry review, registration; then a monitoring period, publicity, verification by a different body,
application for the verified quantity, registration and issuance. The clock is left where the walk ends (the
registry and market demos go on from there, forward only); `open_for_comments`, called last, leaves a seventh
project in publicity at today's date.

Inputs: ccer/demo/data/demo_lifecycle.json (the plug-ins' worked examples)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..infra import clock
from ..auth import makerchecker
from ..auth.models import Organisation, User
from ..auth.services import actor_for
from ..infra.clock import CST
from ..infra.actor import Actor
from ..issuance import registry_acts
from ..projects import comments, lifecycle, monitoring
from ..projects.boundaries import SINK_METHODOLOGIES
from . import sinks as demo_sinks
from ..projects.models import Project
from ..validation import services as vv
from . import DATA, DemoParties

LIFECYCLE_DATA = DATA / "demo_lifecycle.json"
START = datetime(2025, 3, 3, 9, 0, tzinfo=CST)
MONITORING_START = datetime(2026, 7, 1, 9, 0, tzinfo=CST)


def _actor(session: Session, parties: DemoParties, username: str):
    return actor_for(session.get(User, parties.users[username]))


def _advance(session: Session, days: int) -> None:
    clock.advance(session, timedelta(days=days))
    session.commit()


def _owner_for(session: Session, parties: DemoParties, code: str) -> tuple[Organisation, str]:
    """The first demo owner that holds projects of this methodology in the listing (by user name)."""
    from . import listing_rows

    for row in listing_rows():
        if row["methodology"] == code and row["owner"] in parties.owners:
            org = parties.owners[row["owner"]]
            index = list(parties.owners.values()).index(org) + 1
            return org, f"owner{index}"
    org = next(iter(parties.owners.values()))
    return org, "owner1"


def walk(session: Session, parties: DemoParties) -> dict:
    """Idempotent: does nothing once a platform project exists."""
    if session.execute(select(Project.id).where(Project.origin == "platform")).first():
        return {}
    spec = json.loads(LIFECYCLE_DATA.read_text(encoding="utf-8"))["projects"]
    vvb_a, vvb_b = parties.vvbs
    validator, verifier = _actor(session, parties, "vvb-a"), _actor(session, parties, "vvb-b")
    registry = _actor(session, parties, "registry")
    public = Actor(label="anonymous", roles=frozenset({"public"}))

    clock.set_time(session, START, freeze=True)
    session.commit()
    walked = []
    for item in spec:
        org, username = _owner_for(session, parties, item["methodology"])
        owner = _actor(session, parties, username)
        p = lifecycle.create(session, owner, title=item["title"], methodology_code=item["methodology"], province=item["province"],
                             construction_start=item["construction_start"], facts=item["facts"], periods=item["design"])
        e = vv.engage(session, owner, "validation", p.id, vvb_a.id)
        vv.decide_engagement(session, validator, e.id, True)
        if p.methodology_code in SINK_METHODOLOGIES:  # a sink publicises only with its boundary checked (issue #18)
            demo_sinks.attach_boundary(session, owner, p, f"demo-{len(walked) + 1}")
        lifecycle.fire(session, owner, p.id, "publicise")
        walked.append((item, p, owner))

    # the public comments on the first design document; the validator raises a CAR on the second
    first, second = walked[0][1], walked[1][1]
    c = comments.submit(session, public, "project", first.id, "敦煌市民（演示）", "电站用水来自哪里？是否影响周边绿洲？")
    comments.moderate(session, registry, c.id, True)
    comments.respond(session, walked[0][2], c.id, "采用空冷技术，年耗水量约为同规模湿冷机组的十分之一，水源为园区供水管网。")
    car = vv.raise_finding(session, validator, "project", second.id, "CAR", "请提供海域使用权证书及用海批复。")
    _advance(session, 7)
    vv.answer_finding(session, walked[1][2], car.id, "已上传《海域使用权证书》及省自然资源厅用海批复。", evidence="国海证（演示）")
    vv.close_finding(session, validator, car.id)

    _advance(session, 33)  # publicity over (20 working days) — validation reports, applications
    for item, p, owner in walked:
        lifecycle.fire(session, validator, p.id, "validate", comment_handling="见公众意见处理表 / see the table of comments")
        lifecycle.fire(session, owner, p.id, "apply")
    _advance(session, 5)
    # the registry returns one application for completion, then registers every project
    lifecycle.fire(session, registry, walked[2][1].id, "return", reason="（演示）请补充隧道照明改造的竣工验收文件")
    _advance(session, 3)
    lifecycle.fire(session, walked[2][2], walked[2][1].id, "reapply")
    for item, p, owner in walked:
        lifecycle.fire(session, registry, p.id, "register")

    clock.set_time(session, MONITORING_START, freeze=True)
    session.commit()
    batches = []
    for item, p, owner in walked:
        landcover = demo_sinks.rasters(p.methodology_code == "CCER-14-002-V01") if p.methodology_code in SINK_METHODOLOGIES else None
        mp = monitoring.create(session, owner, p.id, item["monitored"], landcover=landcover)
        e = vv.engage(session, owner, "verification", mp.id, vvb_b.id)
        vv.decide_engagement(session, verifier, e.id, True)
        monitoring.fire(session, owner, mp.id, "publicise")
        batches.append((mp, owner))
    _advance(session, 40)
    for mp, owner in batches:
        monitoring.fire(session, verifier, mp.id, "verify", comment_handling="公示期间未收到公众意见 / no comments received")
        monitoring.fire(session, owner, mp.id, "apply", quantity=mp.verified_quantity)
    _advance(session, 7)
    registry2 = _actor(session, parties, "registry2")
    for mp, owner in batches:
        # registering proposes the batch's issuance; the second registry user confirms it (issue 15)
        monitoring.fire(session, registry, mp.id, "register")
        makerchecker.confirm(session, registry2, registry_acts.pending_issue(session, mp.id).id)

    return {"projects": len(walked), "issued": sum(mp.verified_quantity for mp, _ in batches)}


def open_for_comments(session: Session, parties: DemoParties) -> int:
    """One more design document, of the second walked project's owner, publicised at the platform's present time
    (the demo calls it last, the clock handed back to the wall clock); returns its id."""
    item = json.loads(LIFECYCLE_DATA.read_text(encoding="utf-8"))["projects"][1]
    _, username = _owner_for(session, parties, item["methodology"])
    owner, validator = _actor(session, parties, username), _actor(session, parties, "vvb-a")
    p = lifecycle.create(session, owner, title="（演示）华北海上风电场二期项目", methodology_code=item["methodology"], province=item["province"],
                         construction_start="2023-09-01", facts=item["facts"], periods=item["design"])
    e = vv.engage(session, owner, "validation", p.id, parties.vvbs[0].id)
    vv.decide_engagement(session, validator, e.id, True)
    # a year whose holiday calendar is not loaded yet gives a provisional end (ccer.infra.calendar), never a refusal
    lifecycle.fire(session, owner, p.id, "publicise")
    return p.id
