"""The registry's conservation invariants (ccer/issuance/invariants.py), each rule made to fire by editing the
tables behind the ledger's back, with the exact messages expected.

Every test starts from one small registry (serials start at 1 in a fresh database):
issuance 1 = units 1–100 (2021), issuance 2 = units 101–150 (2022); the owner retires 40 of 2021 (the lowest
serials are cut first), a court freezes 10 of what is left, and the owner sells 5 of 2022 to the trader. So:

    [1–100]  superseded → [1–40] retired (active)            [41–100] superseded → [41–50] frozen (active)
                                                                                  [51–100] available (active)
    [101–150] superseded → [101–105] trading, superseded → (trader) [101–105] trading, superseded
                                                                  → (trader) [101–105] available (active)
                         → [106–150] available (active)
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from ccer.issuance import invariants
from ccer.issuance.models import SerialBlock

from tests.registry_world import World


@pytest.fixture()
def reg(session, parties):
    world = World(session, parties)
    world.i1, world.i2 = (i.id for i in world.issue({2021: 100, 2022: 50}))
    world.retirement = world.retire(world.owner, quantity=40, vintage=2021)
    world.freeze(world.owner, authority="北京市朝阳区人民法院", order_ref="（2026）京0105执1号", quantity=10)
    world.transfer(world.owner, world.trader, quantity=5, vintage=2022)
    session.commit()
    # block ids by what they hold (sequences are not the same on every database)
    world.b = {(b.first, b.last, b.account_id, b.status): b.id for b in session.execute(select(SerialBlock)).scalars()}
    assert len(world.b) == 10  # the ten blocks drawn above
    return world


def _id(reg, first, last, holder=None, status="available"):
    return reg.b[(first, last, (holder or reg.owner).account.id, status)]


def _tamper(session, sql, **params):
    session.execute(text(sql), params)
    session.commit()
    return list(invariants.check(session))


@pytest.mark.parametrize("page", [invariants.PAGE, 1])
def test_a_clean_registry_has_no_problems_in_pages_of_any_size(reg, session, monkeypatch, page):
    monkeypatch.setattr(invariants, "PAGE", page)  # 1: every merge of two scans crosses a page at every row
    assert list(invariants.check(session)) == []


def test_rule_1_quantity_of_an_issuance(reg, session):
    assert _tamper(session, "UPDATE issuances SET quantity = 99 WHERE id = :i", i=reg.i1) == [
        f"issuance {reg.i1}: quantity 99 ≠ last − first + 1 = 100"]  # 100 − 1 + 1


def test_rule_1_overlapping_issuances_and_rule_2_the_units_of_no_block(reg, session):
    # issuance 2 claims 96–150: units 96–100 are also issuance 1's and in none of issuance 2's blocks
    problems = _tamper(session, "UPDATE issuances SET first = 96, quantity = 55 WHERE id = :i", i=reg.i2)
    assert problems == [
        f"issuances {reg.i1} and {reg.i2} overlap on units 96–100",  # 96 .. min(150, 100)
        f"issuance {reg.i2} (96–150): units 96–100 are in no block",  # its first active block starts at 101
        f"issuance {reg.i2}: its first block does not cover exactly 96–150"]  # it covers 101–150


def test_rule_2_and_3_a_cut_block_made_active_again(reg, session):
    b = _id(reg, 41, 100)
    problems = _tamper(session, "UPDATE serial_blocks SET active = true WHERE id = :b", b=b)
    assert problems == [
        f"serial block {b} is active but was cut into blocks {sorted([_id(reg, 41, 50, status='frozen'), _id(reg, 51, 100)])}",
        f"issuance {reg.i1} (1–100): units 41–50 are in two blocks"]  # [41–50] frozen, then [41–100] again


def test_rule_3_children_that_overlap(reg, session):
    problems = _tamper(session, "UPDATE serial_blocks SET first = 50 WHERE id = :b", b=_id(reg, 51, 100))
    assert problems == [  # [41–50] and [50–100] share unit 50, in the cut and among issuance 1's live blocks
        f"serial block {_id(reg, 41, 100)} was superseded but its children do not tile it: units 50–50 are in two blocks",
        f"issuance {reg.i1} (1–100): units 50–50 are in two blocks"]


def test_rule_3_a_superseded_block_with_no_children(reg, session):
    b = _id(reg, 101, 105, reg.trader)
    problems = _tamper(session, "UPDATE serial_blocks SET active = false WHERE id = :b", b=b)
    assert problems == [
        f"serial block {b} was superseded but its children do not tile it: units 101–105 are in no block",
        f"issuance {reg.i2} (101–150): units 101–105 are in no block"]  # the next live block starts at 106


def test_a_block_that_ends_before_it_starts(reg, session):
    b = _id(reg, 51, 100)
    problems = _tamper(session, "UPDATE serial_blocks SET last = 49 WHERE id = :b", b=b)
    assert problems == [  # blocks in id order: the parent [41–100] before the block cut from it
        # after [41–50] and [51–49] the next unit expected is 50: 50–100 are left in no block
        f"serial block {_id(reg, 41, 100)} was superseded but its children do not tile it: units 50–100 are in no block",
        f"serial block {b} holds -1 units (negative balance)",  # 49 − 51 + 1
        f"issuance {reg.i1} (1–100): units 50–100 are in no block"]


def test_a_block_with_an_unknown_status(reg, session):
    b = _id(reg, 51, 100)
    assert _tamper(session, "UPDATE serial_blocks SET status = 'lost' WHERE id = :b", b=b) == [
        f"serial block {b} has unknown status 'lost'"]


def test_rule_4_retired_units_moved_again(reg, session):
    b = _id(reg, 1, 40, status="retired")
    problems = _tamper(session, "UPDATE serial_blocks SET active = false WHERE id = :b", b=b)
    assert problems == [
        f"serial block {b} was superseded but its children do not tile it: units 1–40 are in no block",
        f"serial block {b} was retired and then moved again",
        f"issuance {reg.i1} (1–100): units 1–40 are in no block",
        f"retirement {reg.retirement.number}: 40 tCO2e on the certificate, 0 in its blocks"]


def test_rule_4_retired_units_without_a_retirement(reg, session):
    b = _id(reg, 1, 40, status="retired")
    problems = _tamper(session, "UPDATE serial_blocks SET retirement_id = NULL WHERE id = :b", b=b)
    assert problems == [
        f"serial block {b} is retired without a retirement record",
        f"retirement {reg.retirement.number}: 40 tCO2e on the certificate, 0 in its blocks"]


def test_rule_4_a_retirement_block_in_another_account(reg, session):
    b = _id(reg, 1, 40, status="retired")
    problems = _tamper(session, "UPDATE serial_blocks SET account_id = :a WHERE id = :b", a=reg.trader.account.id, b=b)
    assert problems == [f"retirement {reg.retirement.number}: block {b} is not retired in its account, project and vintage"]


def test_rule_4_a_retirement_whose_blocks_do_not_add_up(reg, session):
    # the retired block grows by 5 units into the frozen block: 45 in the blocks, 40 on the certificate
    b = _id(reg, 1, 40, status="retired")
    problems = _tamper(session, "UPDATE serial_blocks SET last = 45 WHERE id = :b", b=b)
    assert problems == [
        (f"serial block {_id(reg, 1, 100)} was superseded but its children do not tile it: "
         "units 41–45 are in two blocks"),  # [1–45] then [41–100]
        f"issuance {reg.i1} (1–100): units 41–45 are in two blocks",
        f"retirement {reg.retirement.number}: 40 tCO2e on the certificate, 45 in its blocks"]


@pytest.mark.parametrize("sql", [
    "UPDATE registry_freezes SET status = 'released'",  # the freeze was released, the units stayed frozen
    "UPDATE serial_blocks SET account_id = :trader WHERE status = 'frozen'",  # frozen units in another account
])
def test_rule_5_frozen_units_without_an_active_freeze_of_their_account(reg, session, sql):
    assert _tamper(session, sql, trader=reg.trader.account.id) == [
        f"serial block {_id(reg, 41, 50, status='frozen')} is frozen without an active freeze of its account"]
