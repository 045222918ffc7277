"""Demo data: the parties of a small market, seeded from the real registry listing (data/). It grows as
features land: projects, issuances and retirements follow in their own modules."""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import makerchecker, services
from ..auth.models import Organisation
from ..auth.uscc import ALPHABET, check_character
from ..infra.actor import Actor

DATA = Path(__file__).resolve().parent / "data"
LISTING = DATA / "ccer_registry_projects.csv"
DEMO_PASSWORD = "ccer-demo-2026"

#: province-level administrative division codes (GB/T 2260)
PROVINCE_CODES = {
    "北京": "110000", "天津": "120000", "河北": "130000", "山西": "140000", "内蒙古": "150000", "辽宁": "210000",
    "吉林": "220000", "黑龙江": "230000", "上海": "310000", "江苏": "320000", "浙江": "330000", "安徽": "340000",
    "福建": "350000", "江西": "360000", "山东": "370000", "河南": "410000", "湖北": "420000", "湖南": "430000",
    "广东": "440000", "广西": "450000", "海南": "460000", "重庆": "500000", "四川": "510000", "贵州": "520000",
    "云南": "530000", "西藏": "540000", "陕西": "610000", "甘肃": "620000", "青海": "630000", "宁夏": "640000",
    "新疆": "650000",
}


def province_code(province: str | None) -> str:
    for prefix, code in PROVINCE_CODES.items():
        if province and province.startswith(prefix):
            return code
    return "110000"


def demo_uscc(name: str, province: str | None) -> str:
    """A code that passes GB 32100-2015 for a demo party (enterprise legal person, '91'), derived from its
    name; not the party's real code."""
    digest = hashlib.sha256(name.encode()).digest()
    body = "".join(ALPHABET[b % 31] for b in digest[:9])
    first17 = "91" + province_code(province) + body
    return first17 + check_character(first17)


def listing_rows() -> list[dict]:
    with LISTING.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass
class DemoParties:
    registry: Organisation
    vvbs: list[Organisation]
    owners: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def _org(session, actor, name, province, roles, **kw) -> Organisation:
    code = demo_uscc(name, province)
    found = session.execute(select(Organisation).where(Organisation.uscc == code)).scalar_one_or_none()
    return found or services.create_organisation(session, actor, uscc_code=code, name=name, province=province, roles=roles, **kw)


def _user(session, actor, parties, username, org, roles):
    from ..auth.models import User

    found = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    user = found or services.create_user(session, actor, username=username, password=DEMO_PASSWORD, organisation_id=org.id,
                                         roles=roles, display_name=username)
    parties.users[username] = user.id
    return user


def seed_parties(session: Session, owners_per_methodology: int = 2) -> DemoParties:
    """The registry, two VVBs with different fields, an exchange, a key emitter, a provincial department, a
    methodology author, and the owners of a few listed projects of each methodology. Idempotent."""
    cli = Actor.system("demo")
    registry = _org(session, cli, "国家应对气候变化战略研究和国际合作中心", "北京市", ["registry_operator"],
                    name_en="National Center for Climate Change Strategy and International Cooperation (NCSC)")
    vvb_a = _org(session, cli, "中环联合（北京）认证中心有限公司（演示）", "北京市", ["vvb"], accredited_sectors=["01", "07", "10", "14"])
    vvb_b = _org(session, cli, "中国质量认证中心（演示）", "北京市", ["vvb"], accredited_sectors=["01", "07", "10", "14"])
    exchange = _org(session, cli, "北京绿色交易所有限公司", "北京市", ["exchange_operator"], name_en="Beijing Green Exchange")
    emitter = _org(session, cli, "华能演示电厂有限公司", "山东省", ["key_emitter", "trading_participant"])
    province = _org(session, cli, "山东省生态环境厅", "山东省", ["provincial_authority"])
    author = _org(session, cli, "中国林业科学研究院（演示）", "北京市", ["methodology_author"])
    parties = DemoParties(registry=registry, vvbs=[vvb_a, vvb_b])

    seen: dict[str, int] = {}
    # owners whose reductions the listing shows registered come first, so the demo registry has CCERs
    for row in sorted(listing_rows(), key=lambda r: int(r["actualRegistered"] or 0) == 0):
        code = row["methodology"]
        if seen.get(code, 0) >= owners_per_methodology or row["owner"] in parties.owners:
            continue
        seen[code] = seen.get(code, 0) + 1
        parties.owners[row["owner"]] = _org(session, cli, row["owner"], row["province"], ["project_owner", "trading_participant"])

    _user(session, cli, parties, "registry", registry, ["registry_operator"])
    _user(session, cli, parties, "registry2", registry, ["registry_operator"])
    _user(session, cli, parties, "vvb-a", vvb_a, ["vvb"])
    _user(session, cli, parties, "vvb-b", vvb_b, ["vvb"])
    _user(session, cli, parties, "exchange", exchange, ["exchange_operator"])
    _user(session, cli, parties, "emitter", emitter, ["key_emitter", "trading_participant"])
    _user(session, cli, parties, "emitter-confirm", emitter, ["key_emitter", "trading_participant"])
    _user(session, cli, parties, "province", province, ["provincial_authority"])
    _user(session, cli, parties, "author", author, ["methodology_author"])
    for i, org in enumerate(parties.owners.values(), start=1):
        _user(session, cli, parties, f"owner{i}", org, ["project_owner", "trading_participant"])
        _user(session, cli, parties, f"owner{i}-confirm", org, ["project_owner", "trading_participant"])
    return parties


def maker_checker_example(session: Session, parties: DemoParties) -> None:
    """The first owner's initiator proposes an English name; its confirmer approves (Registry Rules Art. 8)."""
    from ..auth.models import User

    org = next(iter(parties.owners.values()))
    if org.name_en:
        return
    initiator = services.actor_for(session.get(User, parties.users["owner1"]))
    confirmer = services.actor_for(session.get(User, parties.users["owner1-confirm"]))
    req = makerchecker.propose(session, initiator, "organisation.change_profile", f"organisation:{org.id}",
                               {"name_en": "Demo Owner No. 1 Co., Ltd."})
    makerchecker.confirm(session, confirmer, req.id)
