"""The hash chain: edits behind the platform's back are caught and named, by the service and the CLI."""
from click.testing import CliRunner
from sqlalchemy import text

from ccer import ledger
from ccer.cli import main
from ccer.infra.db import mutating

from .conftest import SYSTEM


def _seed(parties):
    a = parties.org(["project_owner"], name="甲公司")
    b = parties.org(["vvb"], name="乙认证", sectors=["01"])
    parties.user(a)
    return a, b


def test_clean_chain_verifies(session, parties):
    _seed(parties)
    report = ledger.verify(session)
    assert report.ok, report.problems
    assert report.events == 3 and report.subjects == 3
    seq, head = ledger.head(session)
    assert seq == 3 and head == report.head
    # the chain really links: each event's prev_hash is the previous hash
    rows = session.execute(text("SELECT seq, prev_hash, hash FROM events ORDER BY seq")).all()
    assert rows[0].prev_hash == ledger.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))


def test_edited_event_is_named(session, parties):
    _seed(parties)
    session.execute(text("UPDATE events SET payload_json = replace(payload_json, '甲公司', '丙公司') WHERE seq = 1"))
    session.commit()
    report = ledger.verify(session)
    assert not report.ok
    assert report.problems[0].seq == 1
    assert "stored event was altered" in str(report.problems[0])


def test_edited_state_is_named_with_its_event(session, parties):
    a, _ = _seed(parties)
    session.execute(text("UPDATE organisations SET name = '篡改公司' WHERE id = :id"), {"id": a.id})
    session.commit()
    session.expire_all()
    report = ledger.verify(session)
    assert [p.seq for p in report.problems] == [1]
    assert "name: '甲公司' -> '篡改公司'" in str(report.problems[0])


def test_removed_event_and_inserted_row(session, parties):
    _seed(parties)
    session.execute(text("DELETE FROM events WHERE seq = 2"))
    session.commit()
    assert "sequence gap" in str(ledger.verify(session).problems[0])


def test_unvouched_row(session, parties):
    _seed(parties)
    session.execute(text("INSERT INTO organisations (uscc, name, status, created_at) VALUES ('914403001922038216', '华为', 'active', '2026-01-01 00:00:00+00')"))
    session.commit()
    report = ledger.verify(session)
    assert any("no event vouches for it" in str(p) for p in report.problems)


def test_checkpoint_mismatch(session, parties):
    _seed(parties)
    cp = mutating(ledger.checkpoint)(session)
    session.execute(text("UPDATE checkpoints SET head_hash = :h WHERE id = :id"), {"h": "f" * 64, "id": cp.id})
    session.commit()
    assert "checkpoint" in str(ledger.verify(session).problems[0])


def test_cli_verify_exits_non_zero_naming_the_event(session, parties, db_url):
    _seed(parties)
    runner = CliRunner()
    ok = runner.invoke(main, ["--database", db_url, "ledger", "verify"])
    assert ok.exit_code == 0 and "ok: 3 events" in ok.output
    session.execute(text("UPDATE events SET actor = 'mallory' WHERE seq = 2"))
    session.commit()
    bad = runner.invoke(main, ["--database", db_url, "ledger", "verify"])
    assert bad.exit_code == 1
    assert "event #2" in bad.output and "altered" in bad.output


def test_exported_checkpoint_catches_a_rewritten_history(session, parties, db_url, tmp_path):
    _seed(parties)
    runner = CliRunner()
    exported = runner.invoke(main, ["--database", db_url, "ledger", "export-checkpoint"])
    (tmp_path / "cp.json").write_text(exported.output)
    assert runner.invoke(main, ["--database", db_url, "ledger", "verify", "--checkpoint", str(tmp_path / "cp.json")]).exit_code == 0
    # rewrite the whole chain consistently from event 1: only the exported checkpoint can tell
    rows = session.execute(text("SELECT id FROM events ORDER BY seq")).all()
    evs = [session.get(ledger.Event, r.id) for r in rows]
    prev = ledger.GENESIS
    for ev in evs:
        ev.actor = "rewritten"
        ev.prev_hash = prev
        ev.hash = ev.compute_hash()
        prev = ev.hash
    head = session.get(ledger.LedgerHead, 1)
    head.hash = prev
    session.commit()
    assert not ledger.verify(session).ok  # the stored checkpoint still remembers the old head …
    session.execute(text("DELETE FROM checkpoints"))  # … so a thorough forger removes it too
    session.commit()
    assert ledger.verify(session).ok  # now internally consistent …
    session.rollback()  # end the read transaction before another process opens the database
    out = runner.invoke(main, ["--database", db_url, "ledger", "verify", "--checkpoint", str(tmp_path / "cp.json")])
    assert out.exit_code == 1 and "exported checkpoint" in out.output  # … but not the history that was published


def test_failed_service_leaves_nothing(session, parties):
    from ccer.auth import services

    @mutating
    def create_then_fail(s):
        services.create_organisation(s, SYSTEM, uscc_code="914403001922038216", name="华为", roles=["vvb"])
        services.create_organisation(s, SYSTEM, uscc_code="914403001922038216", name="华为二", roles=["vvb"])  # duplicate USCC

    before = ledger.head(session)
    try:
        create_then_fail(session)
    except Exception as exc:  # noqa: BLE001
        assert exc.field == "uscc"
    assert session.execute(text("SELECT count(*) FROM organisations")).scalar() == 0
    assert ledger.head(session) == before
