"""The public change feed GET /api/v1/public/events (issue 17 §2): anonymous, oldest first after a seq, each event
exactly as the export writes it (its hash recomputes from its members), public events only — no draft project, no
user or token — and its parameters bounded."""
from __future__ import annotations

from ccer.ledger.verify import event_hash_of
from tests.lifecycle_world import LifeWorld


def test_public_feed_follows_the_public_events(client, session, parties):
    w = LifeWorld(session, parties)
    draft = w.project(title="草稿项目（不公开）")
    public = w.to_publicity()
    session.commit()
    feed = client.get("/api/v1/public/events?after=0&limit=1000")
    assert feed.status_code == 200
    items = feed.json["items"]
    subjects = {(e["subject_type"], e["subject_id"]) for e in items}
    assert ("project", str(public.id)) in subjects  # in publicity: public
    assert ("project", str(draft.id)) not in subjects  # a draft is its owner's and the registry's only
    assert not {e["subject_type"] for e in items} & {"user", "approval_request", "fund_account"}
    assert {e["action"] for e in items} >= {"organisation.created", "project.created"}
    seqs = [e["seq"] for e in items]
    assert seqs == sorted(seqs) and feed.json["next_after"] == seqs[-1] and feed.json["head_seq"] >= seqs[-1]
    for e in items:  # each event's hash recomputes from what the feed gives (docs/ledger-format.md §3)
        assert e["hash"] == event_hash_of(e["seq"], e["occurred_at"], e["actor_user_id"], e["actor"], e["subject_type"],
                                          e["subject_id"], e["action"], e["payload"], e["prev_hash"])
        assert e["occurred_at"].endswith("+00:00")
    # following: after the first, one at a time
    second = client.get(f"/api/v1/public/events?after={seqs[0]}&limit=1").json
    assert [e["seq"] for e in second["items"]] == [seqs[1]] and second["next_after"] == seqs[1]
    caught_up = client.get(f"/api/v1/public/events?after={feed.json['head_seq']}").json
    assert caught_up["items"] == [] and caught_up["next_after"] == feed.json["head_seq"]
    # bounded parameters, named
    for query, field in (("after=2147483648", "after"), ("after=-1", "after"), ("limit=0", "limit"), ("limit=1001", "limit"),
                         ("after=%C2%B9", "after")):
        resp = client.get(f"/api/v1/public/events?{query}")
        assert resp.status_code == 422 and resp.json["field"] == field, (query, resp.json)
