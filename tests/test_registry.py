"""Registry: issuance as serial blocks, transfers with maker–checker, freezes, retirements, the 5 % cap,
and `ledger verify` proving the conservation invariants. Quantities are chosen so that each expected
figure is a one-line subtraction, written next to the assertion."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ccer import ledger

from ccer.infra import clock
from ccer.auth import makerchecker
from ccer.infra.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from ccer.issuance import accounts, invariants, registry_acts, retirements, services, trading
from ccer.issuance.models import Issuance, SerialBlock
from ccer.issuance.purposes import national_ets_cap
from ccer.issuance.serials import format_serial, parse_serial

from tests.registry_world import World


@pytest.fixture()
def world(session, parties):
    return World(session, parties)


def _ok(session):
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]
    return report


# ---- serial numbers --------------------------------------------------------------------------------------


def test_serial_round_trip_and_quantity():
    s = format_serial("14", 7, 2024, 2, 120001, 125000)
    assert s == "CN-CCER-14-000007-2024-002-000000120001-000000125000"
    parsed = parse_serial(s)
    assert (parsed.sector, parsed.project_no, parsed.vintage, parsed.batch) == ("14", 7, 2024, 2)
    assert parsed.quantity == 5000  # 125000 − 120001 + 1
    assert str(parsed) == s


@pytest.mark.parametrize("bad", [
    "CN-CCER-14-000007-2024-002-000000120001",  # no last unit
    "CN-CCER-14-7-2024-002-000000120001-000000125000",  # project not 6 digits
    "CN-CCER-14-000007-2024-002-000000125000-000000120001",  # last before first
    "CN-CCER-14-000007-2024-000-000000000001-000000000002",  # batch 0
    "XX-CCER-14-000007-2024-002-000000120001-000000125000",
])
def test_malformed_serial_is_refused_naming_the_format(bad):
    with pytest.raises(ValidationError) as err:
        parse_serial(bad)
    assert err.value.field == "serial" and "CN-CCER" in err.value.rule


# ---- issuance ----------------------------------------------------------------------------------------------


def test_issuance_makes_one_block_per_vintage_on_one_axis(world, session):
    first = world.issue({2021: 300_000, 2022: 171_865})  # 471 865 t registered for 敦煌 in the listing
    second = world.issue({2023: 10}, batch=2)
    (a, b), (c,) = first, second
    assert (a.first, a.last, a.quantity) == (1, 300_000, 300_000)
    assert (b.first, b.last) == (300_001, 471_865)  # 300 000 + 171 865
    assert (c.first, c.last) == (471_866, 471_875)
    assert world.balance(world.owner) == 471_875
    block = session.execute(select(SerialBlock).where(SerialBlock.issuance_id == b.id)).scalar_one()
    from ccer.issuance.holdings import block_serial
    assert block_serial(session, block) == "CN-CCER-01-000001-2022-001-000000300001-000000471865"
    _ok(session)


def test_issuance_is_refused_twice_before_2020_and_outside_crediting(world, session):
    (iss,) = world.issue({2021: 5})
    with pytest.raises(Conflict, match="already issued"):
        registry_acts.propose_issue(session, world.registry, iss.monitoring_period_id)
    with pytest.raises(Conflict, match="already recorded"):
        world.issue({2021: 5})  # batch 1 again
    with pytest.raises(ValidationError) as err:
        world.issue({2019: 5}, batch=2)
    assert err.value.rule == "Measures Art. 17" and "after 2020-09-22" in str(err.value)
    with pytest.raises(Forbidden):
        registry_acts.propose_issue(session, world.owner.maker, iss.monitoring_period_id)
    clock.set_time(session, datetime(2032, 1, 5, 10, tzinfo=clock.CST), freeze=True)  # 2031 is over, past the crediting period
    session.commit()
    with pytest.raises(ValidationError, match="not inside the crediting period 2021-01-01–2030-12-31") as err:
        world.issue({2031: 5}, batch=2)
    assert err.value.rule == "Measures Art. 17"
    assert session.execute(select(Issuance)).scalars().all().__len__() == 1  # nothing half-written


# ---- transfers -------------------------------------------------------------------------------------------


def test_a_sale_splits_the_block_and_keeps_lineage(world, session):
    (iss,) = world.issue({2021: 1000})
    delivery = world.transfer(world.owner, world.trader, quantity=300, project_no=1, vintage=2021)
    assert (delivery.kind, delivery.quantity) == ("settlement", 300)
    assert world.balance(world.owner) == 700  # 1000 − 300
    assert world.balance(world.trader) == 300
    blocks = session.execute(select(SerialBlock).order_by(SerialBlock.id)).scalars().all()
    # into the owner's trading account (root → 1–300 trading + 301–1000 kept), delivered to the trader's
    # trading holding, then back into the trader's registry account: each step supersedes, never edits
    root, in_trading, kept, delivered, home = blocks
    assert not root.active and in_trading.parent_id == root.id and kept.parent_id == root.id
    assert (in_trading.first, in_trading.last, in_trading.status, in_trading.active) == (1, 300, "trading", False)  # lowest serials first
    assert (kept.first, kept.last, kept.account_id, kept.active) == (301, 1000, world.owner.account.id, True)
    assert (delivered.parent_id, delivered.account_id, delivered.status, delivered.active) == (in_trading.id, world.trader.account.id, "trading", False)
    assert (home.parent_id, home.first, home.last, home.account_id, home.status, home.active) == (
        delivered.id, 1, 300, world.trader.account.id, "available", True)
    _ok(session)


def test_transfer_by_serial_range_from_the_middle(world, session):
    world.issue({2021: 1000})
    serial = format_serial("01", 1, 2021, 1, 401, 500)
    world.transfer(world.owner, world.trader, serial=serial)
    owner_ranges = sorted((b.first, b.last) for b in session.execute(select(SerialBlock).where(
        SerialBlock.active, SerialBlock.account_id == world.owner.account.id)).scalars())
    assert owner_ranges == [(1, 400), (501, 1000)]
    assert world.balance(world.trader) == 100
    with pytest.raises(ValidationError, match="not in account"):
        world.transfer(world.owner, world.trader, serial=serial)  # already moved
    with pytest.raises(ValidationError, match="does not match"):
        world.transfer(world.owner, world.trader, serial=format_serial("01", 1, 2022, 1, 1, 10))
    _ok(session)


def test_overspending_is_refused_and_nothing_moves(world, session):
    world.issue({2021: 100})
    before = ledger.count(session)
    with pytest.raises(ValidationError) as err:
        world.transfer(world.owner, world.trader, quantity=101)
    assert err.value.field == "quantity" and "100" in str(err.value) and "over-spending" in err.value.rule
    assert ledger.count(session) == before
    assert world.balance(world.owner) == 100


def test_maker_checker_needs_a_second_user_of_the_holder(world, session):
    world.issue({2021: 100})
    req = trading.propose_to_trading(session, world.owner.maker, world.owner.account.id, quantity=10)
    with pytest.raises(Forbidden, match="initiator cannot confirm"):
        makerchecker.confirm(session, world.owner.maker, req.id)
    with pytest.raises(NotFound) as foreign:  # someone else's account: as if it did not exist (issue 15), no balance
        trading.propose_to_trading(session, world.trader.maker, world.owner.account.id, quantity=1)
    assert foreign.value.message == f"no registry account {world.owner.account.id}" and foreign.value.field == "account"
    makerchecker.confirm(session, world.owner.checker, req.id)
    assert world.balance(world.owner, "trading") == 10 and world.balance(world.owner) == 90


def test_restricted_account_cannot_transfer_until_restored(world, session):
    world.issue({2021: 50})
    accounts.decide_account(session, world.registry, world.owner.account.id, "restrict", reason="营业执照信息与实际不符")
    with pytest.raises(Conflict) as err:
        world.transfer(world.owner, world.trader, quantity=1)
    assert err.value.rule == "Registry Rules Art. 10"
    accounts.decide_account(session, world.registry, world.owner.account.id, "restore")
    world.transfer(world.owner, world.trader, quantity=1)
    with pytest.raises(Conflict, match="still holds 49"):  # 50 − 1
        accounts.decide_account(session, world.registry, world.owner.account.id, "close", reason="注销")


# ---- freeze, deduction, non-trade transfer -----------------------------------------------------------------


def test_judicial_freeze_blocks_spending_then_deduction_moves_it(world, session):
    world.issue({2021: 1000})
    f = world.freeze(world.owner, authority="北京市朝阳区人民法院", order_ref="（2026）京0105执123号", quantity=400)
    assert world.balance(world.owner, "frozen") == 400 and world.balance(world.owner) == 600
    with pytest.raises(ValidationError):
        world.transfer(world.owner, world.trader, quantity=601)  # only 600 available
    world.deduct(f.id, world.trader, evidence="（2026）京0105执123号之一 执行裁定书")
    assert world.balance(world.owner, "frozen") == 0 and world.balance(world.trader) == 400
    with pytest.raises(Conflict, match="already deducted"):
        world.release(f.id, reason="解除")
    _ok(session)


def test_release_returns_frozen_units(world, session):
    world.issue({2021: 10})
    f = world.freeze(world.owner, authority="法院", order_ref="（2026）执1号", quantity=10)
    world.release(f.id, reason="（2026）执1号之二 解除冻结")
    assert world.balance(world.owner) == 10
    with pytest.raises(ValidationError, match="court"):
        world.freeze(world.owner, authority="", order_ref="x", quantity=1)


def test_non_trade_transfer_needs_evidence(world, session):
    world.issue({2021: 10})
    with pytest.raises(ValidationError) as err:
        world.non_trade("succession", world.owner, world.trader, "", quantity=10)
    assert err.value.field == "evidence"
    t = world.non_trade("succession", world.owner, world.trader, "吸收合并协议及市场监管部门变更登记通知书", quantity=10)
    assert t.kind == "succession" and world.balance(world.trader) == 10


# ---- retirement -----------------------------------------------------------------------------------------


def test_national_ets_cap_is_five_percent_rounded_down():
    # 1 234 567 × 5 % = 61 728.35 → 61 728 (a cap is never exceeded by rounding)
    assert national_ets_cap(1_234_567) == 61_728
    assert national_ets_cap(20) == 1
    assert national_ets_cap(19) == 0


def test_national_ets_offset_checked_against_the_cap(world, session):
    world.issue({2021: 100_000})
    world.transfer(world.owner, world.emitter, quantity=80_000)
    retirements.set_obligation(session, world.registry, world.emitter.org.id, 2025, 1_234_567, "甘肃省生态环境厅 2025 年度配额分配通知")
    uscc = world.emitter.org.uscc
    r1 = world.retire(world.emitter, purpose="national_ets", quantity=60_000, beneficiary_uscc=uscc, compliance_year=2025)
    assert r1.quantity == 60_000
    with pytest.raises(ValidationError) as err:  # 60 000 + 1 729 = 61 729 > 61 728
        world.retire(world.emitter, purpose="national_ets", quantity=1_729, beneficiary_uscc=uscc, compliance_year=2025)
    assert "61728" in str(err.value) and err.value.rule.startswith("ETS Measures Art. 29")
    world.retire(world.emitter, purpose="national_ets", quantity=1_728, beneficiary_uscc=uscc, compliance_year=2025)
    assert retirements.offset_used(session, uscc, 2025) == 61_728
    with pytest.raises(ValidationError, match="no allowances"):
        world.retire(world.emitter, purpose="national_ets", quantity=1, beneficiary_uscc=uscc, compliance_year=2024)
    assert world.balance(world.emitter) == 80_000 - 61_728
    assert world.balance(world.emitter, "retired") == 61_728
    _ok(session)


def test_retirement_purposes_require_their_fields(world, session):
    world.issue({2021: 100})
    with pytest.raises(ValidationError) as err:
        world.retire(world.owner, purpose="event_neutrality", quantity=5, event_name="2026 年马拉松")
    assert err.value.field == "event_start"
    with pytest.raises(ValidationError, match="ends"):
        world.retire(world.owner, purpose="event_neutrality", quantity=5, event_name="马拉松", event_start="2026-04-12", event_end="2026-04-11")
    with pytest.raises(ValidationError) as err:
        world.retire(world.owner, purpose="charity", quantity=5)
    assert err.value.field == "purpose"
    with pytest.raises(Forbidden):
        world.retire(world.owner, purpose="forced_cancellation", quantity=5, note="x")
    r = world.retire(world.owner, purpose="event_neutrality", quantity=5, event_name="2026 兰州马拉松",
                     event_start="2026-04-12", event_end="2026-04-12", beneficiary_name="兰州马拉松组委会")
    assert r.number.startswith("CCER-R-") and r.event_name == "2026 兰州马拉松"


def test_retired_units_never_move_again(world, session):
    world.issue({2021: 10})
    r = world.retire(world.owner, quantity=10)
    with pytest.raises(ValidationError):
        world.transfer(world.owner, world.trader, quantity=1)
    serial = retirements.retirement_serials(session, r)
    assert serial == [format_serial("01", 1, 2021, 1, 1, 10)]
    with pytest.raises(ValidationError, match="retired"):
        world.transfer(world.owner, world.trader, serial=serial[0])
    with pytest.raises(ValidationError):  # not even the registry can cancel them a second time
        world.force_cancel(world.owner, order="x", serial=serial[0])


def test_forced_cancellation_takes_frozen_and_trading_units(world, session):
    world.issue({2021: 30})
    world.to_trading(world.owner, quantity=10)
    world.freeze(world.owner, authority="法院", order_ref="（2026）执9号", quantity=10)
    r = world.force_cancel(world.owner, quantity=30, order="甘肃省生态环境厅 责令注销决定 甘环〔2026〕1号")
    assert r.purpose == "forced_cancellation" and r.quantity == 30
    assert world.balance(world.owner, "cancelled") == 30
    _ok(session)


# ---- the ledger catches what was changed behind its back ---------------------------------------------------


def test_verify_catches_an_edited_holding(world, session):
    world.issue({2021: 1000})
    world.transfer(world.owner, world.trader, quantity=300)
    _ok(session)
    session.execute(text("UPDATE serial_blocks SET account_id = :a WHERE active AND account_id = :b"),
                    {"a": world.trader.account.id, "b": world.owner.account.id})
    session.commit()
    report = ledger.verify(session)
    assert not report.ok
    assert any("serial_block" in str(p) and "account_id" in str(p) for p in report.problems)


def test_invariants_catch_an_overlap_and_a_moved_retirement(world, session):
    world.issue({2021: 100})
    r = world.retire(world.owner, quantity=40)
    assert list(invariants.check(session)) == []
    session.execute(text("UPDATE serial_blocks SET last = last + 5 WHERE active AND status = 'retired'"))
    session.commit()
    problems = list(invariants.check(session))
    assert any("two blocks" in p for p in problems)  # units 41–45 are now in the retired and the available block
    assert any(r.number in p for p in problems)  # 45 in the blocks, 40 on the certificate


def test_a_block_cannot_claim_another_vintage_than_its_issuance(world, session):
    """The database itself holds a block to its issuance's project and vintage (one composite foreign key)."""
    world.issue({2021: 100})
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE serial_blocks SET vintage = 2022"))
    session.rollback()
    assert list(invariants.check(session)) == []


def test_checkpoint_commits_to_holdings_with_a_merkle_root(world, session):
    world.issue({2021: 100})
    cp = ledger.checkpoint(session)
    session.commit()
    assert set(cp.roots) >= {"serial_block"}
    world.transfer(world.owner, world.trader, quantity=1)
    _ok(session)  # the checkpoint's root is replayed from the events up to its seq
    session.execute(text("UPDATE checkpoints SET roots_json = :r"), {"r": '{"serial_block":"' + "0" * 64 + '"}'})
    session.commit()
    assert any("Merkle root" in str(p) for p in ledger.verify(session).problems)


def test_every_refusal_is_a_domain_error_with_a_field(world, session):
    world.issue({2021: 5})
    for call in (
        lambda: world.transfer(world.owner, world.trader, quantity=0),
        lambda: world.transfer(world.owner, world.trader, quantity="ten"),
        lambda: world.transfer(world.owner, world.trader, serial="CN-CCER-bad"),
        lambda: world.transfer(world.owner, world.trader, quantity=1, project_no=99),
    ):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.field


# ---- certificates ------------------------------------------------------------------------------------------


def test_certificate_is_a_pdf_carrying_quantity_serials_and_beneficiary(world, session):
    import io

    from pypdf import PdfReader

    from ccer.issuance.certificates import certificate_pdf, verify_retirement

    world.issue({2021: 50_000})
    world.transfer(world.owner, world.emitter, quantity=20_000)
    retirements.set_obligation(session, world.registry, world.emitter.org.id, 2025, 400_000, "配额分配通知")
    r = world.retire(world.emitter, purpose="national_ets", quantity=12_345, beneficiary_uscc=world.emitter.org.uscc,
                     compliance_year=2025, beneficiary_name=world.emitter.org.name)
    pdf = certificate_pdf(session, r, "https://ccer.example.cn")
    assert pdf.startswith(b"%PDF-")
    text_ = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = text_.replace("\n", "").replace(" ", "")
    assert "12,345tCO2e" in flat
    assert format_serial("01", 1, 2021, 1, 1, 12_345) in flat  # the emitter received units 1–20 000, retires the lowest
    assert world.emitter.org.name in flat and world.emitter.org.uscc in flat
    assert r.number in flat and "注销证明" in flat
    assert verify_retirement(session, r)["ok"]
    session.execute(text("UPDATE retirements SET beneficiary_name = '别人'"))
    session.commit()
    session.expire_all()
    check = verify_retirement(session, r)
    assert not check["ok"] and "differs" in check["problems"][0]
