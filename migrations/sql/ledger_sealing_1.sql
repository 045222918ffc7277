-- Sealing (ccer/events.py explains it): events are written in their transaction without a place in the chain
-- ("pending": seq, prev_hash and hash NULL) and chained afterwards, in id order, by whoever holds the chain head.
-- A writer that finds the head held by another simply leaves its events to the holder or the next sealer,
-- so no transaction waits for another's commit on the head.
--
-- Frozen once released: a change is a new file and a new migration (CREATE OR REPLACE).

-- The event hash: SHA-256 of exactly the bytes ccer.events.canonical(Event.content()) gives in Python —
-- keys sorted, no spaces, strings escaped as json.dumps(ensure_ascii=False) does (PostgreSQL's to_json
-- escapes the same characters the same way), occurred_at as datetime.isoformat() in UTC.
CREATE OR REPLACE FUNCTION ccer_isoformat(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
      || CASE WHEN date_part('microseconds', p_at AT TIME ZONE 'UTC')::bigint % 1000000 = 0 THEN ''
              ELSE to_char(p_at AT TIME ZONE 'UTC', '.US') END
      || '+00:00'
$$;

CREATE OR REPLACE FUNCTION ccer_event_hash(p_seq integer, p_at timestamptz, p_user integer, p_actor text,
    p_subject_type text, p_subject_id text, p_action text, p_payload text, p_prev text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(
       '{"action":' || to_json(p_action)::text
    || ',"actor":' || to_json(p_actor)::text
    || ',"actor_user_id":' || coalesce(p_user::text, 'null')
    || ',"occurred_at":"' || ccer_isoformat(p_at) || '"'
    || ',"payload":' || to_json(p_payload)::text
    || ',"prev_hash":' || to_json(p_prev)::text
    || ',"seq":' || p_seq::text
    || ',"subject_id":' || to_json(p_subject_id)::text
    || ',"subject_type":' || to_json(p_subject_type)::text
    || '}', 'UTF8')), 'hex')
$$;

-- The chain head's row, locked for this transaction, or NULL when another transaction holds it (or a
-- checkpoint is being taken) and p_wait is false.
CREATE OR REPLACE FUNCTION ccer_take_head(p_wait boolean) RETURNS ledger_head
LANGUAGE plpgsql AS $$
DECLARE h ledger_head;
BEGIN
  -- a checkpoint holds this key exclusively while it seals and roots one snapshot (ccer.events)
  IF p_wait THEN
    PERFORM pg_advisory_xact_lock_shared(7220914);
    SELECT * INTO h FROM ledger_head WHERE id = 1 FOR UPDATE;
  ELSIF pg_try_advisory_xact_lock_shared(7220914) THEN
    SELECT * INTO h FROM ledger_head WHERE id = 1 FOR UPDATE SKIP LOCKED;
  END IF;
  RETURN h;
END $$;

-- Chain every pending event this transaction can see, in id order, after the head (head_seq, head_hash),
-- which the caller holds; returns the new head. The caller writes the head row.
-- (Always the pending index, and as an index scan: the plan is cached from the first call, when the table
-- may be small enough for a sequential scan; and only index scans mark the entries of events sealed since
-- the last vacuum as dead, so that the next sealer skips them instead of visiting every one again.)
CREATE OR REPLACE FUNCTION ccer_chain_pending(INOUT head_seq integer, INOUT head_hash text)
LANGUAGE plpgsql SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
  e events; ids integer[] := '{}'; seqs integer[] := '{}'; prevs text[] := '{}'; hashes text[] := '{}';
BEGIN
  FOR e IN SELECT * FROM events WHERE seq IS NULL ORDER BY id LOOP
    head_seq := head_seq + 1;
    ids := ids || e.id;
    seqs := seqs || head_seq;
    prevs := prevs || head_hash;
    head_hash := ccer_event_hash(head_seq, e.occurred_at, e.actor_user_id, e.actor, e.subject_type, e.subject_id,
                                 e.action, e.payload_json, head_hash);
    hashes := hashes || head_hash;
  END LOOP;
  IF array_length(ids, 1) > 0 THEN
    UPDATE events SET seq = u.seq, prev_hash = u.prev, hash = u.hash
    FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev, hash) WHERE events.id = u.id;
  END IF;
END $$;

-- Seal: chain every pending event this transaction can see. p_wait: wait for the head (checkpoints,
-- readers that want the chain complete); otherwise give up at once when another transaction holds it.
-- Returns {head before, head after}, or NULL when it gave up.
CREATE OR REPLACE FUNCTION ccer_seal(p_wait boolean) RETURNS integer[]
LANGUAGE plpgsql AS $$
DECLARE h ledger_head := ccer_take_head(p_wait); new_seq integer; new_hash text;
BEGIN
  IF h.id IS NULL THEN RETURN NULL; END IF;
  SELECT * INTO new_seq, new_hash FROM ccer_chain_pending(h.seq, h.hash);
  IF new_seq > h.seq THEN
    UPDATE ledger_head SET seq = new_seq, hash = new_hash WHERE id = 1;
  END IF;
  RETURN ARRAY[h.seq, new_seq];
END $$;

-- The fast path's append. When the head is free the transaction takes it, seals what others left pending
-- and writes its own events already in place (no second write of each row); otherwise they go in pending.
-- Returns {head before, head after} when it sealed, or NULL.
CREATE OR REPLACE FUNCTION ccer_append_events(p_at timestamptz, p_user integer, p_actor text,
    p_subject_types text[], p_subject_ids text[], p_actions text[], p_payloads text[])
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
  h ledger_head := ccer_take_head(false); head_seq integer; head_hash text; i integer;
BEGIN
  IF h.id IS NULL THEN
    INSERT INTO events (occurred_at, actor_user_id, actor, subject_type, subject_id, action, payload_json)
    SELECT p_at, p_user, p_actor, t, s, a, p FROM unnest(p_subject_types, p_subject_ids, p_actions, p_payloads) AS u(t, s, a, p);
    RETURN NULL;
  END IF;
  SELECT * INTO head_seq, head_hash FROM ccer_chain_pending(h.seq, h.hash);
  FOR i IN 1 .. array_length(p_actions, 1) LOOP
    head_seq := head_seq + 1;
    INSERT INTO events (seq, occurred_at, actor_user_id, actor, subject_type, subject_id, action, payload_json, prev_hash, hash)
    VALUES (head_seq, p_at, p_user, p_actor, p_subject_types[i], p_subject_ids[i], p_actions[i], p_payloads[i], head_hash,
            ccer_event_hash(head_seq, p_at, p_user, p_actor, p_subject_types[i], p_subject_ids[i], p_actions[i], p_payloads[i], head_hash))
    RETURNING hash INTO head_hash;
  END LOOP;
  UPDATE ledger_head SET seq = head_seq, hash = head_hash WHERE id = 1;
  RETURN ARRAY[h.seq, head_seq];
END $$;

-- Sealing rewrites each pending row once and cutting supersedes a block per move: vacuum these tables after
-- a few thousand dead rows rather than after a fifth of the table, so scans do not wade through them.
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000);
ALTER TABLE serial_blocks SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000);
