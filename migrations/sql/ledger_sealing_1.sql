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

-- Chain every pending event this transaction can see, in id order. p_wait: wait for the head (checkpoints,
-- readers that need the chain complete); otherwise give up at once when another transaction holds it or a
-- checkpoint is being taken. Returns {head before, head after}, or NULL when it gave up.
CREATE OR REPLACE FUNCTION ccer_seal(p_wait boolean) RETURNS integer[]
LANGUAGE plpgsql AS $$
DECLARE
  head_seq integer; head_hash text; first_seq integer; e events;
  ids integer[] := '{}'; seqs integer[] := '{}'; prevs text[] := '{}'; hashes text[] := '{}';
BEGIN
  -- a checkpoint holds this key exclusively while it seals and roots one snapshot (ccer.events)
  IF p_wait THEN
    PERFORM pg_advisory_xact_lock_shared(7220914);
    SELECT seq, hash INTO head_seq, head_hash FROM ledger_head WHERE id = 1 FOR UPDATE;
  ELSE
    IF NOT pg_try_advisory_xact_lock_shared(7220914) THEN RETURN NULL; END IF;
    SELECT seq, hash INTO head_seq, head_hash FROM ledger_head WHERE id = 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN RETURN NULL; END IF;
  END IF;
  first_seq := head_seq;
  FOR e IN SELECT * FROM events WHERE seq IS NULL ORDER BY id LOOP
    head_seq := head_seq + 1;
    ids := ids || e.id;
    seqs := seqs || head_seq;
    prevs := prevs || head_hash;
    head_hash := ccer_event_hash(head_seq, e.occurred_at, e.actor_user_id, e.actor, e.subject_type, e.subject_id,
                                 e.action, e.payload_json, head_hash);
    hashes := hashes || head_hash;
  END LOOP;
  IF head_seq > first_seq THEN
    UPDATE events SET seq = u.seq, prev_hash = u.prev, hash = u.hash
    FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev, hash) WHERE events.id = u.id;
    UPDATE ledger_head SET seq = head_seq, hash = head_hash WHERE id = 1;
  END IF;
  RETURN ARRAY[first_seq, head_seq];
END $$;

-- The fast path's append. When the head is free the transaction takes it, seals what others left pending
-- and writes its own events already in place (no second write of each row); otherwise they go in pending.
-- Returns {head before, head after} when it sealed, or NULL.
CREATE OR REPLACE FUNCTION ccer_append_events(p_at timestamptz, p_user integer, p_actor text,
    p_subject_types text[], p_subject_ids text[], p_actions text[], p_payloads text[])
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
  span integer[] := ccer_seal(false); head_seq integer; head_hash text; i integer;
BEGIN
  IF span IS NULL THEN
    INSERT INTO events (occurred_at, actor_user_id, actor, subject_type, subject_id, action, payload_json)
    SELECT p_at, p_user, p_actor, t, s, a, p FROM unnest(p_subject_types, p_subject_ids, p_actions, p_payloads) AS u(t, s, a, p);
    RETURN NULL;
  END IF;
  SELECT seq, hash INTO head_seq, head_hash FROM ledger_head WHERE id = 1;  -- ours until commit
  FOR i IN 1 .. array_length(p_actions, 1) LOOP
    head_seq := head_seq + 1;
    INSERT INTO events (seq, occurred_at, actor_user_id, actor, subject_type, subject_id, action, payload_json, prev_hash, hash)
    VALUES (head_seq, p_at, p_user, p_actor, p_subject_types[i], p_subject_ids[i], p_actions[i], p_payloads[i], head_hash,
            ccer_event_hash(head_seq, p_at, p_user, p_actor, p_subject_types[i], p_subject_ids[i], p_actions[i], p_payloads[i], head_hash))
    RETURNING hash INTO head_hash;
  END LOOP;
  UPDATE ledger_head SET seq = head_seq, hash = head_hash WHERE id = 1;
  RETURN ARRAY[span[1], head_seq];
END $$;
