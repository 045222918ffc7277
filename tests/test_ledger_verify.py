"""Public verification at scale (issue 20): set-based verification, signed checkpoints, incremental verification
since a trusted checkpoint, the streamed export and the stand-alone verifier (verifier/) on what it exports.

Every tamper case of tests/test_events.py and tests/test_registry.py is made again here and must be caught by
`ledger.verify` and — where the export shows it — by `ccer-verify` on an export made afterwards."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from ccer import ledger
from ccer.cli import main
from ccer.ledger import export as exporting, signing
from ccer.ledger.codec import event_hash
from ccer.ledger.verify import event_hash_of

from tests.registry_world import World

VERIFIER = Path(__file__).resolve().parent.parent / "verifier"
sys.path.insert(0, str(VERIFIER))
import ccer_verify  # noqa: E402  (the stand-alone verifier, imported from its own folder)

OTHER_SEED = "11" * 32  # another registry's key


@pytest.fixture(autouse=True)
def registry_key(monkeypatch):
    monkeypatch.setenv("CCER_LEDGER_KEY", "42" * 32)
    return signing.signing_key()


@pytest.fixture()
def world(session, parties):
    return World(session, parties)


def _ok(session, **kw):
    report = ledger.verify(session, **kw)
    assert report.ok, [str(p) for p in report.problems]
    return report


def _export(session, **kw) -> list[str]:
    session.rollback()
    return list(exporting.lines(session, **kw))


def _check(lines: list[str], **kw):
    return ccer_verify.verify([(line + "\n").encode("utf-8") for line in lines], **kw)


def _bad(lines: list[str], **kw) -> ccer_verify.BadLine:
    with pytest.raises(ccer_verify.BadLine) as err:
        _check(lines, **kw)
    return err.value


def _trade_world(world, session):
    world.issue({2021: 1000})
    world.transfer(world.owner, world.trader, quantity=300)
    world.retire(world.trader, quantity=20)
    session.commit()


# ---- the set-based verification keeps today's answers -----------------------------------------------------------


def test_the_hot_path_hashes_as_the_codec_does(session, parties):
    parties.org(["project_owner"], name="甲公司 \"引号\" \\ 斜杠\n换行")
    session.commit()
    for row in ledger.chain_rows(session):
        seq, at, uid, actor, stype, sid, action, payload, prev, hash_ = row
        assert event_hash_of(seq, ledger.plain(at), uid, actor, stype, sid, action, payload, prev) == hash_ == \
               event_hash(seq, at, uid, actor, stype, sid, action, payload, prev)


def test_the_chain_is_read_in_pages_and_every_table_in_one_scan(world, session, monkeypatch):
    _trade_world(world, session)
    queries = []
    from sqlalchemy import event as sa_event

    from ccer.infra.ahead import ReadAhead

    def listen(conn, cursor, statement, *args):
        queries.append(statement)

    from ccer.infra import pgcopy

    send = ReadAhead.send  # on PostgreSQL, reads past SQLAlchemy: pages sent ahead, and the COPY stream
    monkeypatch.setattr(ReadAhead, "send", lambda self, sql, params: queries.append(sql) or send(self, sql, params))
    copy = pgcopy.copy_chunks
    monkeypatch.setattr(pgcopy, "copy_chunks", lambda conn, sql, *a: queries.append(sql) or copy(conn, sql, *a))
    engine = session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        report = _ok(session, page=7)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    events_reads = [q for q in queries if "FROM events" in q and "ORDER BY events.seq" in q]
    if session.get_bind().dialect.name == "postgresql":  # a full verification streams the chain: one statement
        assert len(events_reads) == 1 and "LIMIT" not in events_reads[0] and "events.seq > 0" in events_reads[0]
    else:
        assert len(events_reads) == report.events // 7 + 1 and all("LIMIT" in q for q in events_reads)  # pages of 7
    block_scans = [q for q in queries if "FROM serial_blocks" in q and "ORDER BY serial_blocks.id" in q]
    assert len(block_scans) == 2  # the states' ordered scan and the invariants' (lineage), not one query per block
    assert not [q for q in queries if "WHERE serial_blocks.id = " in q]


def test_progress_is_reported(world, session):
    _trade_world(world, session)
    seen = []
    _ok(session, progress=lambda stage, done, total: seen.append((stage, done, total)), page=5)
    stages = [s for s, _, _ in seen]
    assert stages[0] == "chain" and "states:serial_block" in stages and stages[-1] == "invariants"
    assert ("chain", ledger.head(session)[0], ledger.head(session)[0]) in seen


def test_every_subject_type_has_a_bulk_snapshot_equal_to_its_snapshot(world, session):
    _trade_world(world, session)
    for name, kind in ledger.SUBJECT_TYPES.items():
        assert kind.snapshot_all is not None, name
        bulk = {str(i): ledger.plain(st) for i, st in kind.snapshot_all(session)}
        one = {str(i): ledger.plain(kind.snapshot(session, str(i))) for i in kind.all_ids(session)}
        assert bulk == one, name
        some = list(one)[:2]
        assert {str(i): ledger.plain(st) for i, st in kind.snapshot_all(session, [int(i) for i in some])} == {i: one[i] for i in some}


def test_edits_behind_the_platforms_back_are_named(world, session):
    _trade_world(world, session)
    session.execute(text("UPDATE serial_blocks SET account_id = :a WHERE active AND account_id = :b"),
                    {"a": world.trader.account.id, "b": world.owner.account.id})
    session.execute(text("UPDATE organisations SET name = '篡改公司' WHERE id = :id"), {"id": world.owner.org.id})
    session.execute(text("DELETE FROM registry_transfers WHERE id = (SELECT min(id) FROM registry_transfers)"))
    session.commit()
    problems = [str(p) for p in ledger.verify(session).problems]
    assert any("serial_block" in p and "account_id" in p for p in problems)
    assert any("organisation" in p and "-> '篡改公司'" in p for p in problems)
    assert any("transfer" in p and "expected a row, found nothing" in p for p in problems)


# ---- signed checkpoints ---------------------------------------------------------------------------------------------


def test_checkpoints_are_signed_over_seq_head_roots_and_key(world, session, registry_key):
    _trade_world(world, session)
    cp = ledger.take_checkpoint(session)
    assert cp.key_id == registry_key.public.id == ledger.public_key().id
    assert signing.signed_text(cp.seq, cp.head_hash, cp.roots, cp.key_id) == \
           json.dumps({"head_hash": cp.head_hash, "key_id": cp.key_id, "roots": cp.roots, "seq": cp.seq},
                      sort_keys=True, separators=(",", ":"))
    assert registry_key.public.verifies(cp.signature, cp.seq, cp.head_hash, cp.roots, cp.key_id)
    other = ccer_verify.PublicKey(registry_key.public.hex)  # the stand-alone verifier agrees
    assert other.verifies(cp.signature, cp.seq, cp.head_hash, cp.roots, cp.key_id)
    assert not registry_key.public.verifies(cp.signature, cp.seq + 1, cp.head_hash, cp.roots, cp.key_id)


@pytest.mark.parametrize("tamper, says", [
    ("UPDATE checkpoints SET signature = :zero", "signature does not verify"),
    ("UPDATE checkpoints SET roots_json = '{\"serial_block\":\"' || :zero64 || '\"}'", "signature does not verify"),
    ("UPDATE checkpoints SET signature = NULL, key_id = NULL", "not signed"),
])
def test_verify_refuses_a_checkpoint_whose_signature_fails(world, session, tamper, says):
    _trade_world(world, session)
    ledger.take_checkpoint(session)
    session.execute(text(tamper), {"zero": "0" * 128, "zero64": "0" * 64})
    session.commit()
    assert any(says in str(p) for p in ledger.verify(session).problems)


def test_a_checkpoint_signed_by_another_key_is_refused(world, session, monkeypatch):
    _trade_world(world, session)
    monkeypatch.setenv("CCER_LEDGER_KEY", OTHER_SEED)
    ledger.take_checkpoint(session)
    monkeypatch.setenv("CCER_LEDGER_KEY", "42" * 32)
    problems = [str(p) for p in ledger.verify(session).problems]
    assert any("not the registry's key" in p for p in problems)


def test_the_public_key_and_checkpoints_are_published(world, session, client):
    _trade_world(world, session)
    cp = ledger.take_checkpoint(session)
    key = client.get("/api/v1/public/ledger/key").get_json()
    assert key == {"algorithm": "Ed25519", "key_id": ledger.public_key().id, "public_key": ledger.public_key().hex}
    page = client.get("/api/v1/public/ledger/checkpoints").get_json()
    assert page["key"] == key and page["items"][-1]["seq"] == cp.seq
    got = page["items"][-1]
    assert ccer_verify.PublicKey(key["public_key"]).verifies(got["signature"], got["seq"], got["head_hash"], got["roots"], got["key_id"])


def test_sign_checkpoints_signs_the_old_ones_after_a_verification(world, session, db_url):
    _trade_world(world, session)
    ledger.take_checkpoint(session)
    session.execute(text("UPDATE checkpoints SET signature = NULL, key_id = NULL"))
    session.commit()
    session.rollback()
    out = CliRunner().invoke(main, ["--database", db_url, "ledger", "sign-checkpoints"])
    assert out.exit_code == 0 and "signed 1 checkpoints" in out.output
    _ok(session)


# ---- a full rewrite, caught through a signed checkpoint kept outside --------------------------------------------------


def _rewrite_history(session, actor="rewritten") -> None:
    """What a database-level forger does: change event 1 and recompute every hash after it, and the head."""
    rows = session.execute(text("SELECT id FROM events WHERE seq IS NOT NULL ORDER BY seq")).all()
    prev = ledger.GENESIS
    for r in rows:
        ev = session.get(ledger.Event, r.id)
        ev.actor = actor
        ev.prev_hash = prev
        ev.hash = ev.compute_hash()
        prev = ev.hash
    session.get(ledger.LedgerHead, 1).hash = prev
    session.commit()


def test_a_full_rewrite_is_caught_through_a_signed_checkpoint_kept_outside(world, session, db_url, tmp_path):
    _trade_world(world, session)
    session.rollback()
    kept = tmp_path / "kept.json"
    kept.write_text(CliRunner().invoke(main, ["--database", db_url, "ledger", "export-checkpoint"]).output)
    _rewrite_history(session)
    problems = [str(p) for p in ledger.verify(session).problems]
    assert any("checkpoint" in p for p in problems)  # the stored checkpoint still names the old head …
    session.execute(text("UPDATE checkpoints SET head_hash = (SELECT hash FROM events WHERE seq = checkpoints.seq)"))
    session.commit()
    assert any("signature does not verify" in str(p) for p in ledger.verify(session).problems)  # … cannot be re-signed …
    session.execute(text("DELETE FROM checkpoints"))
    session.commit()
    assert ledger.verify(session).ok  # … and once deleted the database is consistent in itself,
    session.rollback()
    for args in (["--checkpoint", str(kept)], ["--since", str(kept)]):  # but not with the checkpoint kept outside
        out = CliRunner().invoke(main, ["--database", db_url, "ledger", "verify", *args])
        assert out.exit_code == 1 and "exported checkpoint" in out.output and "rewritten" in out.output
    lines = _export(session, upto=None)
    bad = _bad(lines, trust=ccer_verify.load_checkpoint(json.loads(kept.read_text())))  # and the stand-alone verifier
    assert "rewritten" in bad.message and bad.line == 1 + json.loads(kept.read_text())["seq"]


# ---- incremental verification ---------------------------------------------------------------------------------------


def _checkpoint_then_more(world, session, with_leaves: bool) -> dict:
    _trade_world(world, session)
    cp = ledger.take_checkpoint(session)
    kept = cp.public()
    if with_leaves:
        kept["leaves"] = {n: ledger.merkle_leaves(ledger.SUBJECT_TYPES[n], ledger.replayed_states(session, n, cp.seq)) for n in cp.roots}
    world.transfer(world.trader, world.emitter, quantity=50)
    ledger.take_checkpoint(session)
    session.commit()
    return kept


@pytest.mark.parametrize("with_leaves", [False, True])
def test_incremental_verify_checks_only_what_follows_the_trusted_checkpoint(world, session, with_leaves):
    kept = _checkpoint_then_more(world, session, with_leaves)
    report = _ok(session, since=kept)
    assert report.since == kept["seq"] and report.checkpoints == 1
    assert 0 < report.subjects < _ok(session).subjects  # only the subjects the later events touched
    assert any("events 1…" in n for n in report.notes)
    assert any("no Merkle leaves" in n for n in report.notes) is (not with_leaves)
    assert _ok(session, since=kept["seq"]).since == kept["seq"]  # or from the stored checkpoint at that seq


def test_incremental_verify_catches_an_edit_after_the_checkpoint(world, session):
    kept = _checkpoint_then_more(world, session, True)
    after = kept["seq"] + 2
    session.execute(text("UPDATE events SET actor = 'mallory' WHERE seq = :s"), {"s": after})
    session.commit()
    problems = ledger.verify(session, since=kept).problems
    assert problems[0].seq == after and "altered" in str(problems[0])


def test_incremental_verify_catches_a_row_touched_after_the_checkpoint(world, session):
    kept = _checkpoint_then_more(world, session, False)
    session.execute(text("UPDATE serial_blocks SET account_id = :a WHERE active AND account_id = :b"),
                    {"a": world.owner.account.id, "b": world.emitter.account.id})
    session.commit()
    assert any("serial_block" in str(p) and "account_id" in str(p) for p in ledger.verify(session, since=kept).problems)


def test_incremental_verify_recomputes_later_roots_from_the_kept_leaves(world, session):
    kept = _checkpoint_then_more(world, session, True)
    session.execute(text("UPDATE checkpoints SET roots_json = :r WHERE seq > :s"),
                    {"r": '{"serial_block":"' + "0" * 64 + '"}', "s": kept["seq"]})
    session.commit()
    problems = [str(p) for p in ledger.verify(session, since=kept).problems]
    assert any("Merkle root" in p for p in problems) and any("signature" in p for p in problems)
    wrong = dict(kept, leaves={"serial_block": kept["leaves"]["serial_block"][1:]})
    assert "leaves do not hash" in str(ledger.verify(session, since=wrong).problems[0])


def test_incremental_verify_is_not_fooled_by_an_edit_before_the_checkpoint(world, session):
    kept = _checkpoint_then_more(world, session, False)
    # a rewrite before the checkpoint, hashes recomputed (the stored checkpoints removed): the kept head tells
    _rewrite_history(session, actor="forger")
    session.execute(text("DELETE FROM checkpoints"))
    session.commit()
    problems = ledger.verify(session, since=kept).problems
    assert len(problems) == 1 and "rewritten" in str(problems[0])


def test_an_edit_before_the_checkpoint_left_unhashed_is_the_full_verifications(world, session):
    kept = _checkpoint_then_more(world, session, False)
    session.execute(text("UPDATE events SET actor = 'mallory' WHERE seq = 2"))
    session.commit()
    report = _ok(session, since=kept)  # the events before the trusted checkpoint are not read again …
    assert any("events 1…" in n for n in report.notes)  # … and it says so;
    problems = ledger.verify(session).problems  # the full verification catches it
    assert problems[0].seq == 2 and "altered" in str(problems[0])


def test_a_forged_trusted_checkpoint_is_refused(world, session, monkeypatch):
    kept = _checkpoint_then_more(world, session, False)
    forged = dict(kept, roots={"serial_block": "0" * 64})
    assert "signature does not verify" in str(ledger.verify(session, since=forged).problems[0])
    monkeypatch.setenv("CCER_LEDGER_KEY", OTHER_SEED)
    assert "another registry" in str(ledger.verify(session, since=kept).problems[0])


def test_cli_verify_since_a_checkpoint_file_and_a_seq(world, session, db_url, tmp_path):
    kept = _checkpoint_then_more(world, session, True)
    (tmp_path / "cp.json").write_text(json.dumps(kept))
    session.rollback()
    for since in (str(tmp_path / "cp.json"), str(kept["seq"])):
        out = CliRunner().invoke(main, ["--database", db_url, "ledger", "verify", "-q", "--since", since])
        assert out.exit_code == 0, out.output
        assert f"ok: events #{kept['seq'] + 1}…" in out.output


# ---- the export and the stand-alone verifier ----------------------------------------------------------------------


def test_the_export_checks_with_the_stand_alone_verifier(world, session, db_url, tmp_path):
    _trade_world(world, session)
    session.rollback()
    out = CliRunner().invoke(main, ["--database", db_url, "ledger", "export", "-o", str(tmp_path / "l.jsonl")])
    assert out.exit_code == 0, out.output
    key = ledger.public_key().hex
    run = subprocess.run([sys.executable, "-m", "ccer_verify", str(tmp_path / "l.jsonl"), "--key", key], cwd=VERIFIER,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    seq, head = ledger.head(session)
    assert f"ok: {seq} events (#1…#{seq}), head {head}" in run.stdout and "1 Merkle roots recomputed" in run.stdout
    lines = (tmp_path / "l.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('{"ccer_ledger_export":1,') and lines[-1].startswith('{"end":')
    for line in lines[1:-2]:  # every event line is the hashed object plus its hash
        ev = json.loads(line)
        assert ledger.sha256(ledger.canonical({k: v for k, v in ev.items() if k != "hash"})) == ev["hash"]


def test_an_export_since_a_checkpoint_carries_it_and_its_leaves(world, session, db_url, tmp_path):
    kept = _checkpoint_then_more(world, session, False)
    (tmp_path / "cp.json").write_text(json.dumps(kept))
    session.rollback()
    out = CliRunner().invoke(main, ["--database", db_url, "ledger", "export", "--no-checkpoint", "--leaves", "--since",
                                    str(tmp_path / "cp.json"), "-o", str(tmp_path / "since.jsonl")])
    assert out.exit_code == 0, out.output
    lines = (tmp_path / "since.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["since"] == {"head_hash": kept["head_hash"], "seq": kept["seq"]}
    assert json.loads(lines[1])["checkpoint"]["seq"] == kept["seq"] and "leaves" in json.loads(lines[1])["checkpoint"]
    result = _check(lines, key=ledger.public_key().hex, trust=kept)
    assert result.first_seq == kept["seq"] + 1 and result.last_seq == ledger.head(session)[0] and result.roots_checked == 1
    no_leaves = _check(_export(session, since=kept["seq"]), key=ledger.public_key().hex)
    assert no_leaves.roots_checked == 0 and any("without its leaves" in w for w in no_leaves.warnings)


def test_the_export_streams_in_pages(world, session, monkeypatch):
    import functools

    from sqlalchemy import event as sa_event

    _trade_world(world, session)
    monkeypatch.setattr(exporting, "chain_rows", functools.partial(ledger.chain_rows, page=3))
    queries = []

    def listen(conn, cursor, statement, *args):
        queries.append(statement)

    sa_event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        lines = _export(session)
    finally:
        sa_event.remove(session.get_bind(), "before_cursor_execute", listen)
    n = ledger.head(session)[0]
    assert len([q for q in queries if "FROM events" in q and "LIMIT" in q]) == n // 3 + 1
    assert _check(lines).events == n


# the tamper cases of tests/test_events.py and tests/test_registry.py, on an export made after them

def _seed(parties):
    a = parties.org(["project_owner"], name="甲公司")
    parties.org(["vvb"], name="乙认证", sectors=["01"])
    parties.user(a)
    return a


def test_tampered_event_content_in_the_database(session, parties):
    _seed(parties)
    session.execute(text("UPDATE events SET payload_json = replace(payload_json, '甲公司', '丙公司') WHERE seq = 1"))
    session.commit()
    assert ledger.verify(session).problems[0].seq == 1
    assert _bad(_export(session)).line == 2 and "altered" in _bad(_export(session)).message


def test_a_removed_event(session, parties):
    _seed(parties)
    session.execute(text("DELETE FROM events WHERE seq = 2"))
    session.commit()
    assert "sequence gap" in str(ledger.verify(session).problems[0])
    bad = _bad(_export(session))
    assert bad.line == 3 and "expected event #2" in bad.message


def test_an_edited_actor(session, parties):
    _seed(parties)
    session.execute(text("UPDATE events SET actor = 'mallory' WHERE seq = 2"))
    session.commit()
    assert ledger.verify(session).problems[0].seq == 2
    assert _bad(_export(session)).line == 3


def test_an_edited_checkpoint_head(session, parties):
    _seed(parties)
    cp = ledger.take_checkpoint(session)
    session.execute(text("UPDATE checkpoints SET head_hash = :h WHERE id = :id"), {"h": "f" * 64, "id": cp.id})
    session.commit()
    assert "checkpoint" in str(ledger.verify(session).problems[0])
    bad = _bad(_export(session))
    assert bad.line == 5 and "head hash" in bad.message  # header, three events, the checkpoint


def test_an_edited_holding_shows_in_the_next_checkpoints_root(world, session):
    world.issue({2021: 1000})
    world.transfer(world.owner, world.trader, quantity=300)
    session.execute(text("UPDATE serial_blocks SET account_id = :a WHERE active AND account_id = :b"),
                    {"a": world.trader.account.id, "b": world.owner.account.id})
    session.commit()
    assert any("serial_block" in str(p) and "account_id" in str(p) for p in ledger.verify(session).problems)
    ledger.take_checkpoint(session)  # the registry signs the holdings its tables now show …
    lines = _export(session)
    bad = _bad(lines)  # … which are not the ones the events replay to
    assert bad.line == len(lines) - 1 and "Merkle root" in bad.message


def test_an_edited_checkpoint_root(world, session):
    world.issue({2021: 100})
    ledger.take_checkpoint(session)
    session.execute(text("UPDATE checkpoints SET roots_json = :r"), {"r": '{"serial_block":"' + "0" * 64 + '"}'})
    session.commit()
    assert any("Merkle root" in str(p) for p in ledger.verify(session).problems)
    assert "signature does not verify" in _bad(_export(session)).message


def test_a_sealed_payload_that_is_not_canonical(session):
    from datetime import datetime, timezone

    session.add(ledger.Event(occurred_at=datetime(2025, 9, 15, tzinfo=timezone.utc), actor_user_id=None, actor="system",
                             subject_type="golden_issuance", subject_id="1", action="golden.issued", payload_json='{"a": 1}'))
    session.flush()
    ledger.seal(session)
    session.commit()
    assert "not canonical" in str(ledger.verify(session).problems[0])
    bad = _bad(_export(session))
    assert bad.line == 2 and "payload is not canonical" in bad.message


def test_two_processes_give_the_same_answers(world, session, db_url):
    """jobs=2 (PostgreSQL): the tables are scanned and the invariants run by a second process in the same snapshot."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a second process shares the snapshot on PostgreSQL only")
    _trade_world(world, session)
    one, two = _ok(session), _ok(session, jobs=2)
    assert (one.events, one.subjects, one.checkpoints, one.head) == (two.events, two.subjects, two.checkpoints, two.head)
    session.execute(text("UPDATE serial_blocks SET account_id = :a WHERE active AND account_id = :b"),
                    {"a": world.trader.account.id, "b": world.owner.account.id})
    session.execute(text("INSERT INTO organisations (uscc, name, status, created_at) VALUES ('914403001922038216', '华为', 'active', now())"))
    session.execute(text("UPDATE serial_blocks SET last = last + 5 WHERE active AND status = 'retired'"))
    session.commit()
    assert [str(p) for p in ledger.verify(session).problems] == [str(p) for p in ledger.verify(session, jobs=2).problems]
    session.execute(text("UPDATE events SET actor = 'mallory' WHERE seq = 3"))
    session.commit()
    assert ledger.verify(session, jobs=2).problems[0].seq == 3


# ---- ids outside the dense range (review of the fast paths) ------------------------------------------------------


@pytest.mark.parametrize("forged_id", [-7, 0, 2_147_483_000])
def test_a_row_forged_with_an_odd_id_is_named_not_skipped_or_a_crash(world, session, parties, forged_id):
    """A negative id was skipped by the keyset scan of the fast path, and an id near 2^31 made it allocate
    ~34 GB (flat arrays sized to the largest id); each is now named like any row no event vouches for."""
    from ccer.issuance.models import Account

    _trade_world(world, session)
    cols = [c.name for c in Account.__table__.columns]
    org = parties.org(["project_owner"], name="伪造账户的机构")  # one account per organisation
    session.commit()
    picked = ", ".join(":id" if c == "id" else "'RA99999999'" if c == "number" else ":org" if c == "organisation_id" else c
                       for c in cols)
    table = Account.__tablename__
    session.execute(text(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {picked} FROM {table} WHERE id = :a"),
                    {"id": forged_id, "a": world.owner.account.id, "org": org.id})
    session.commit()
    problems = [str(p) for p in ledger.verify(session).problems]
    assert f"account {forged_id} exists but no event vouches for it (inserted behind the platform's back)" in problems


def test_ids_in_other_scripts_digits_are_not_integers():
    """"١٢" (Arabic-Indic) and "１２" (full-width) are not the id 12, and "²" does not crash (int() refuses it)."""
    from ccer.ledger.verify import _int_id

    assert [_int_id(s) for s in ("12", "０", "١٢", "１２", "²", "012", "0")] == [12, None, None, None, None, None, 0]
