-- A group's events appended once, at the end of the group (ccer/issuance/groupcommit.py).
--
-- Until now each fast-path call appended its own event: a turn at the chain head (advisory lock, row lock),
-- a look for events others left pending, an insert and a write of the head — per call, in every group.
-- Those statements were a fifth of the server's work per operation (bench/README.md). Now the calls return
-- the event they would write, and ccer_fast_batch appends the events of the calls that succeeded in one
-- go after the last call: one turn at the head per group, one multi-row insert. The head is taken, as
-- before, only if it is free; the events are then chained in place, else left pending for the next sealer
-- (ledger_sealing_1.sql). The clock is read once per group too (it was already one instant per
-- transaction: ccer_now() is now() plus the platform's offset).
--
-- The calls' checks, writes and declines are those of registry_fastpath_1.sql, unchanged but for the two
-- things above (and a payload's project looked up once per call, not once per block scanned); the events
-- are the same rows with the same payloads.
--
-- Frozen once released: a change is a new file and a new migration (CREATE OR REPLACE).

DROP FUNCTION IF EXISTS ccer_fast_propose(text, integer, text, integer, text, text, integer, integer, text);
DROP FUNCTION IF EXISTS ccer_fast_confirm(integer, integer, text, integer, text[], text);
DROP FUNCTION IF EXISTS ccer_append_events(timestamptz, integer, text, text[], text[], text[], text[]);

-- Append events (one per element of the arrays, in order) at p_at. When the head is free the transaction
-- takes it, seals what others left pending and writes these already in place (no second write of each
-- row); otherwise they go in pending. Returns {head before, head after} when it sealed, or NULL.
CREATE OR REPLACE FUNCTION ccer_append_events(p_at timestamptz, p_users integer[], p_actors text[],
    p_subject_types text[], p_subject_ids text[], p_actions text[], p_payloads text[])
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
  h ledger_head := ccer_take_head(false); head_seq integer; head_hash text; i integer;
  seqs integer[] := '{}'; prevs text[] := '{}'; hashes text[] := '{}';
BEGIN
  IF h.id IS NULL THEN
    INSERT INTO events (occurred_at, actor_user_id, actor, subject_type, subject_id, action, payload_json)
    SELECT p_at, u, a, t, s, x, p FROM unnest(p_users, p_actors, p_subject_types, p_subject_ids, p_actions, p_payloads) AS e(u, a, t, s, x, p);
    RETURN NULL;
  END IF;
  SELECT * INTO head_seq, head_hash FROM ccer_chain_pending(h.seq, h.hash);
  FOR i IN 1 .. array_length(p_actions, 1) LOOP
    head_seq := head_seq + 1;
    seqs := seqs || head_seq;
    prevs := prevs || head_hash;
    head_hash := ccer_event_hash(head_seq, p_at, p_users[i], p_actors[i], p_subject_types[i], p_subject_ids[i], p_actions[i],
                                 p_payloads[i], head_hash);
    hashes := hashes || head_hash;
  END LOOP;
  INSERT INTO events (seq, occurred_at, actor_user_id, actor, subject_type, subject_id, action, payload_json, prev_hash, hash)
  SELECT q, p_at, u, a, t, s, x, p, pr, hs
  FROM unnest(seqs, p_users, p_actors, p_subject_types, p_subject_ids, p_actions, p_payloads, prevs, hashes) AS e(q, u, a, t, s, x, p, pr, hs)
  ORDER BY q;  -- ids in chain order, as the pending ones are sealed in id order
  UPDATE ledger_head SET seq = head_seq, hash = head_hash WHERE id = 1;
  RETURN ARRAY[h.seq, head_seq];
END $$;

-- The maker's half (makerchecker.propose with the registry.transfer / registry.retire prechecks).
-- p_sender / p_recipient: account ids the caller parsed from the references (ccer.issuance.accounts),
-- p_*_number: the account number the reference spelled, when it spelled one. Returns the request and the
-- event to append: [subject_type, subject_id, action, payload].
CREATE OR REPLACE FUNCTION ccer_fast_propose(p_kind text, p_sender integer, p_sender_number text,
    p_recipient integer, p_recipient_number text, p_payload text, p_org integer, p_user integer, p_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  pl jsonb := p_payload::jsonb;
  sender registry_accounts; recipient registry_accounts; acc registry_accounts; req approval_requests;
  held bigint; v_project integer;
BEGIN
  FOR acc IN SELECT * FROM registry_accounts WHERE id IN (p_sender, p_recipient) LOOP
    IF acc.id = p_sender THEN sender := acc; END IF;
    IF acc.id = p_recipient THEN recipient := acc; END IF;
  END LOOP;
  IF NOT ccer_usable(sender) OR sender.organisation_id <> p_org OR sender.number <> coalesce(p_sender_number, sender.number) THEN
    PERFORM ccer_decline('sender');
  END IF;
  IF NOT ccer_plain_payload(pl) THEN PERFORM ccer_decline('not a plain payload'); END IF;
  IF p_kind = 'registry.transfer' THEN
    IF NOT ccer_usable(recipient) OR recipient.id = sender.id OR recipient.number <> coalesce(p_recipient_number, recipient.number) THEN
      PERFORM ccer_decline('recipient');
    END IF;
  ELSIF p_kind <> 'registry.retire' THEN
    PERFORM ccer_decline('kind');
  END IF;
  v_project := ccer_payload_project(pl);  -- once: as an argument it would run for every block the scan meets
  SELECT coalesce(sum(last - first + 1), 0) INTO held
  FROM ccer_available(sender.id, v_project, (pl->>'vintage')::integer);
  IF held < (pl->>'quantity')::bigint THEN PERFORM ccer_decline('over-spending'); END IF;

  INSERT INTO approval_requests (organisation_id, kind, target, payload_json, status, initiated_by, initiated_at)
  VALUES (p_org, p_kind, 'account:' || sender.id, p_payload, 'pending', p_user, p_at) RETURNING * INTO req;
  RETURN jsonb_build_object('request', to_jsonb(req),
    'event', jsonb_build_array('approval_request', req.id::text, 'approval.proposed',
                               jsonb_build_object('state', ccer_request_state(req))::text));
END $$;

-- The checker's half (makerchecker.confirm running the registry.transfer or registry.retire operation):
-- lock the accounts in id order, pick and cut the blocks, write the transfer or retirement; returns it
-- and the event the general path writes (ccer.transfer / ccer.retired, vouching for the approved request too).
CREATE OR REPLACE FUNCTION ccer_fast_confirm(p_request integer, p_user integer, p_org integer,
    p_allowed text[], p_time_zone text, p_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  req approval_requests; pl jsonb;
  sender registry_accounts; recipient registry_accounts; acc registry_accounts; b serial_blocks; child serial_blocks;
  sender_id integer; plain_id integer; v_project integer; v_quantity bigint; need bigint; take bigint;
  picked serial_blocks[] := '{}'; takes bigint[] := '{}'; mixed boolean := false;
  new_account integer; new_status text; result_id integer; retirement retirements; transfer registry_transfers;
  states jsonb := '{}'; serials jsonb := '[]'; subject_type text; action text; data jsonb; result jsonb;
  i integer;
BEGIN
  -- approved first, which locks it (a decline anywhere below undoes it with the rest)
  UPDATE approval_requests SET status = 'approved', decided_by = p_user, decided_at = p_at
  WHERE id = p_request AND status = 'pending' RETURNING * INTO req;
  IF req.id IS NULL OR req.initiated_by = p_user OR req.organisation_id <> p_org
     OR NOT req.kind = ANY(p_allowed) OR req.kind NOT IN ('registry.transfer', 'registry.retire') THEN
    PERFORM ccer_decline('request');
  END IF;
  pl := req.payload_json::jsonb;
  IF NOT ccer_plain_payload(pl) THEN PERFORM ccer_decline('not a plain payload'); END IF;
  v_quantity := (pl->>'quantity')::bigint;
  sender_id := substr(req.target, 9)::integer;  -- 'account:<id>'
  -- holdings.lock_accounts: both rows locked in id order and read as locked; the recipient named by its exact
  -- account number or a plain id (any other spelling goes to the general path's get_account)
  plain_id := CASE WHEN pl->>'to_account' ~ '^[0-9]{1,9}$' THEN (pl->>'to_account')::integer END;
  FOR acc IN SELECT * FROM registry_accounts
             WHERE id = sender_id OR (req.kind = 'registry.transfer' AND (number = pl->>'to_account' OR id = plain_id))
             ORDER BY id FOR NO KEY UPDATE LOOP
    IF acc.id = sender_id THEN sender := acc; END IF;
    IF req.kind = 'registry.transfer' AND (acc.number = pl->>'to_account' OR acc.id = plain_id) THEN recipient := acc; END IF;
  END LOOP;
  IF NOT ccer_usable(sender) OR sender.organisation_id <> p_org THEN PERFORM ccer_decline('sender'); END IF;
  IF req.kind = 'registry.transfer' AND (NOT ccer_usable(recipient) OR recipient.id = sender.id) THEN
    PERFORM ccer_decline('recipient');
  END IF;

  need := v_quantity;
  v_project := ccer_payload_project(pl);  -- once: as an argument it would run for every block the scan meets
  FOR b IN SELECT * FROM ccer_available(sender.id, v_project, (pl->>'vintage')::integer) LOOP
    take := least(need, b.last - b.first + 1);
    mixed := mixed OR (b.project_id, b.vintage) <> (coalesce(picked[1].project_id, b.project_id), coalesce(picked[1].vintage, b.vintage));
    picked := picked || b;
    takes := takes || take;
    need := need - take;
    EXIT WHEN need = 0;
  END LOOP;
  IF need > 0 THEN PERFORM ccer_decline('over-spending'); END IF;

  IF req.kind = 'registry.transfer' THEN
    INSERT INTO registry_transfers (kind, from_account_id, to_account_id, quantity, evidence, executed_at)
    VALUES ('transfer', sender.id, recipient.id, v_quantity, NULL, p_at) RETURNING * INTO transfer;
    new_account := recipient.id; new_status := 'available'; result_id := transfer.id;
  ELSE
    IF mixed THEN PERFORM ccer_decline('more than one project and vintage'); END IF;
    INSERT INTO retirements (account_id, project_id, vintage, quantity, purpose, beneficiary_name, beneficiary_uscc,
                             compliance_year, event_name, event_start, event_end, note, retired_at)
    VALUES (sender.id, picked[1].project_id, picked[1].vintage, v_quantity, pl->>'purpose', pl->>'beneficiary_name',
            pl->>'beneficiary_uscc', (pl->>'compliance_year')::integer, pl->>'event_name', (pl->>'event_start')::date,
            (pl->>'event_end')::date, pl->>'note', p_at) RETURNING * INTO retirement;
    new_account := sender.id; new_status := 'retired'; result_id := retirement.id;
  END IF;

  -- holdings.cut: supersede each picked block (it must still be active), the moved piece first, then the rest
  FOR i IN 1 .. array_length(picked, 1) LOOP
    b := picked[i];
    UPDATE serial_blocks SET active = false WHERE id = b.id AND active RETURNING * INTO b;
    IF b.id IS NULL THEN PERFORM ccer_decline('block changed'); END IF;
    states := states || jsonb_build_object('serial_block:' || b.id, ccer_block_state(b));
    INSERT INTO serial_blocks (issuance_id, parent_id, account_id, project_id, vintage, first, last, status, active, freeze_id, retirement_id)
    VALUES (b.issuance_id, b.id, new_account, b.project_id, b.vintage, b.first, b.first + takes[i] - 1, new_status, true, NULL,
            CASE WHEN new_status = 'retired' THEN result_id ELSE b.retirement_id END)
    RETURNING * INTO child;
    states := states || jsonb_build_object('serial_block:' || child.id, ccer_block_state(child));
    serials := serials || to_jsonb(ccer_serial(child));
    IF b.first + takes[i] - 1 < b.last THEN
      INSERT INTO serial_blocks (issuance_id, parent_id, account_id, project_id, vintage, first, last, status, active, freeze_id, retirement_id)
      VALUES (b.issuance_id, b.id, b.account_id, b.project_id, b.vintage, b.first + takes[i], b.last, b.status, true, b.freeze_id, b.retirement_id)
      RETURNING * INTO child;
      states := states || jsonb_build_object('serial_block:' || child.id, ccer_block_state(child));
    END IF;
  END LOOP;

  states := states || jsonb_build_object('approval_request:' || req.id, ccer_request_state(req));  -- one event vouches for both
  IF req.kind = 'registry.transfer' THEN
    subject_type := 'transfer'; action := 'ccer.transfer';
    data := jsonb_build_object('from', sender.number, 'to', recipient.number, 'serials', serials,
      'state', jsonb_build_object('kind', transfer.kind, 'from_account_id', transfer.from_account_id,
        'to_account_id', transfer.to_account_id, 'quantity', transfer.quantity, 'evidence', transfer.evidence),
      'states', states);
    result := jsonb_build_object('transfer', to_jsonb(transfer));
  ELSE
    subject_type := 'retirement'; action := 'ccer.retired';
    data := jsonb_build_object(
      'number', 'CCER-R-' || to_char(p_at AT TIME ZONE p_time_zone, 'YYYY') || '-' || lpad(retirement.id::text, greatest(6, length(retirement.id::text)), '0'),
      'serials', serials,
      'state', jsonb_build_object('account_id', retirement.account_id, 'project_id', retirement.project_id,
        'vintage', retirement.vintage, 'quantity', retirement.quantity, 'purpose', retirement.purpose,
        'beneficiary_name', retirement.beneficiary_name, 'beneficiary_uscc', retirement.beneficiary_uscc,
        'compliance_year', retirement.compliance_year, 'event_name', retirement.event_name,
        'event_start', retirement.event_start, 'event_end', retirement.event_end, 'note', retirement.note),
      'states', states);
    result := jsonb_build_object('retirement', to_jsonb(retirement));
  END IF;
  RETURN result || jsonb_build_object('event', jsonb_build_array(subject_type, result_id::text, action, data::text));
END $$;

-- The group: each call in a subtransaction of its own (a decline or deadlock leaves the others' work in
-- place), then the events of those that succeeded, in call order. Returns
--   {"sealed": [head before, head after] | null, "outcomes": [one per call]}
-- each outcome {"ok": <what the function returned, less its event>} | {"declined": sqlstate} |
-- {"retry": sqlstate} | {"error": [sqlstate, message]}, as registry_fastpath_2.sql describes.
-- (Generic plans: the calls' queries take parameters whose custom plans are no better, and re-planning
-- them on every call cost more than running them.)
CREATE OR REPLACE FUNCTION ccer_fast_batch(p_calls text) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_at timestamptz := ccer_now();
  c jsonb; a jsonb; r jsonb; e jsonb; outcomes jsonb[] := '{}'; sealed integer[];
  users integer[] := '{}'; actors text[] := '{}'; types text[] := '{}'; ids text[] := '{}'; actions text[] := '{}'; payloads text[] := '{}';
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(p_calls::jsonb) LOOP
    a := c->'args';
    r := NULL;  -- stays NULL when the call fails: its subtransaction is gone, and so is its event
    BEGIN
      IF c->>'fn' = 'propose' THEN
        r := ccer_fast_propose(a->>'kind', (a->>'sender')::integer, a->>'sender_no', (a->>'recipient')::integer,
                               a->>'recipient_no', a->>'payload', (a->>'org')::integer, (a->>'user')::integer, v_at);
      ELSIF c->>'fn' = 'confirm' THEN
        r := ccer_fast_confirm((a->>'request')::integer, (a->>'user')::integer, (a->>'org')::integer,
                               ARRAY(SELECT jsonb_array_elements_text(a->'allowed')), a->>'tz', v_at);
      ELSE
        RAISE EXCEPTION 'unknown fast-path call %', c->>'fn' USING ERRCODE = 'CC001';
      END IF;
    EXCEPTION
      WHEN sqlstate 'CC001' OR data_exception THEN
        outcomes := outcomes || jsonb_build_object('declined', SQLSTATE);
      WHEN deadlock_detected OR serialization_failure THEN
        outcomes := outcomes || jsonb_build_object('retry', SQLSTATE);
      WHEN OTHERS THEN
        outcomes := outcomes || jsonb_build_object('error', jsonb_build_array(SQLSTATE, SQLERRM));
    END;
    IF r IS NOT NULL THEN
      e := r->'event';
      users := users || (a->>'user')::integer; actors := actors || (a->>'actor');
      types := types || (e->>0); ids := ids || (e->>1); actions := actions || (e->>2); payloads := payloads || (e->>3);
      outcomes := outcomes || jsonb_build_object('ok', r - 'event');
    END IF;
  END LOOP;
  IF cardinality(actions) > 0 THEN
    sealed := ccer_append_events(v_at, users, actors, types, ids, actions, payloads);
  END IF;
  RETURN jsonb_build_object('sealed', sealed, 'outcomes', to_jsonb(outcomes));
END $$;
