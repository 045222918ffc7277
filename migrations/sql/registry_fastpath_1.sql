-- The registry's one-statement path on PostgreSQL (ccer/issuance/fastpath.py explains when it is used).
--
-- A maker–checker transfer or retirement is two transactions; done through the ORM each costs some fifteen
-- round trips. These functions do each half in one call, so one round trip is one transaction. They check
-- what the general (Python) path checks about the database, and *decline* (SQLSTATE CC001, nothing written)
-- whenever anything is wrong or unusual: the caller then runs the general path, which refuses with the
-- reason (or succeeds, if the state changed in between). So they never accept what the general path would
-- refuse, and every refusal text stays in one place, in Python.
--
-- Frozen once released: a change is a new file and a new migration (CREATE OR REPLACE).

-- The platform clock (ccer.clock.now): a frozen instant, or the wall clock plus the offset.
-- (PL/pgSQL rather than SQL: its plans are cached for the session, an SQL function's are not.)
CREATE OR REPLACE FUNCTION ccer_now() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE t timestamptz;
BEGIN
  SELECT coalesce(frozen_at, now() + make_interval(secs => offset_seconds)) INTO t FROM clock_settings WHERE id = 1;
  RETURN coalesce(t, now());
END $$;

CREATE OR REPLACE FUNCTION ccer_decline(p_why text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', p_why USING ERRCODE = 'CC001';
END $$;

-- An account that can move units (ccer.issuance.services._usable): open, and not a holding-only kind.
CREATE OR REPLACE FUNCTION ccer_usable(a registry_accounts) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT a.id IS NOT NULL AND a.status = 'open' AND a.kind NOT IN ('vvb', 'province')
$$;

-- A block's vouched state (ccer.issuance.services._block_state).
-- (STABLE like jsonb_build_object itself: a wrapper declared more stable than its body is never inlined)
CREATE OR REPLACE FUNCTION ccer_block_state(b serial_blocks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('issuance_id', b.issuance_id, 'parent_id', b.parent_id, 'account_id', b.account_id,
    'first', b.first, 'last', b.last, 'status', b.status, 'active', b.active, 'freeze_id', b.freeze_id,
    'retirement_id', b.retirement_id)
$$;

-- A block's serial number (ccer.issuance.serials.format_serial).
CREATE OR REPLACE FUNCTION ccer_serial(b serial_blocks) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE prefix text;
BEGIN
  SELECT 'CN-CCER-' || split_part(p.methodology_code, '-', 2) || '-' || lpad(p.registry_no::text, 6, '0') || '-'
      || lpad(i.vintage::text, 4, '0') || '-' || lpad(i.batch::text, 3, '0') || '-'
  INTO prefix FROM issuances i JOIN projects p ON p.id = i.project_id WHERE i.id = b.issuance_id;
  RETURN prefix || lpad(b.first::text, 12, '0') || '-' || lpad(b.last::text, 12, '0');
END $$;

-- An approval request's vouched state (ccer.auth.makerchecker.request_state).
CREATE OR REPLACE FUNCTION ccer_request_state(r approval_requests) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('kind', r.kind, 'target', r.target, 'payload', r.payload_json, 'status', r.status,
    'initiated_by', r.initiated_by, 'decided_by', r.decided_by, 'organisation_id', r.organisation_id)
$$;

-- Available units of an account, lowest serials first, narrowed to a project and vintage when given
-- (ccer.issuance.holdings.pick, quantity form).
CREATE OR REPLACE FUNCTION ccer_available(p_account integer, p_project integer, p_vintage integer) RETURNS SETOF serial_blocks
LANGUAGE sql STABLE AS $$
  SELECT * FROM serial_blocks
  WHERE account_id = p_account AND active AND status = 'available'
    AND (p_project IS NULL OR project_id = p_project) AND (p_vintage IS NULL OR vintage = p_vintage)
  ORDER BY first
$$;

-- The project a payload's project_no names, or NULL when it names none; declines for an unknown one.
CREATE OR REPLACE FUNCTION ccer_payload_project(p jsonb) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE pid integer;
BEGIN
  IF p->>'project_no' IS NULL THEN RETURN NULL; END IF;
  SELECT id INTO pid FROM projects WHERE registry_no = (p->>'project_no')::integer;
  IF pid IS NULL THEN PERFORM ccer_decline('unknown project'); END IF;
  RETURN pid;
END $$;

-- A payload this path takes: units by quantity (JSON integers, quantity ≥ 1), no serial range, no purpose that
-- needs the 5 % cap or is the registry's own, a USCC already in normal form. Anything else: general path.
CREATE OR REPLACE FUNCTION ccer_plain_payload(p jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_typeof(p->'quantity') = 'number' AND (p->>'quantity')::numeric >= 1
     AND coalesce(jsonb_typeof(p->'vintage'), 'number') = 'number'
     AND coalesce(jsonb_typeof(p->'project_no'), 'number') = 'number'
     AND coalesce(jsonb_typeof(p->'compliance_year'), 'number') = 'number'
     AND NOT p ? 'serial'
     AND coalesce(p->>'purpose', '') NOT IN ('national_ets', 'forced_cancellation')
     AND coalesce(p->>'beneficiary_uscc', '000000000000000000') ~ '^[0-9A-Z]{18}$', false)
$$;

-- The maker's half (makerchecker.propose with the registry.transfer / registry.retire prechecks).
-- p_sender / p_recipient: account ids the caller parsed from the references (ccer.issuance.accounts),
-- p_*_number: the account number the reference spelled, when it spelled one.
CREATE OR REPLACE FUNCTION ccer_fast_propose(p_kind text, p_sender integer, p_sender_number text,
    p_recipient integer, p_recipient_number text, p_payload text, p_org integer, p_user integer, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  pl jsonb := p_payload::jsonb;
  sender registry_accounts; recipient registry_accounts; acc registry_accounts; req approval_requests;
  v_at timestamptz := ccer_now();
  held bigint; sealed integer[];
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
  SELECT coalesce(sum(last - first + 1), 0) INTO held
  FROM ccer_available(sender.id, ccer_payload_project(pl), (pl->>'vintage')::integer);
  IF held < (pl->>'quantity')::bigint THEN PERFORM ccer_decline('over-spending'); END IF;

  INSERT INTO approval_requests (organisation_id, kind, target, payload_json, status, initiated_by, initiated_at)
  VALUES (p_org, p_kind, 'account:' || sender.id, p_payload, 'pending', p_user, v_at) RETURNING * INTO req;
  sealed := ccer_append_events(v_at, p_user, p_actor, ARRAY['approval_request'], ARRAY[req.id::text], ARRAY['approval.proposed'],
                                 ARRAY[jsonb_build_object('state', ccer_request_state(req))::text]);
  RETURN jsonb_build_object('request', to_jsonb(req), 'sealed', sealed);
END $$;

-- The checker's half (makerchecker.confirm running the registry.transfer or registry.retire operation):
-- lock the accounts in id order, pick and cut the blocks, write the transfer or retirement, then the
-- event the general path writes (ccer.transfer / ccer.retired, vouching for the approved request too).
CREATE OR REPLACE FUNCTION ccer_fast_confirm(p_request integer, p_user integer, p_actor text, p_org integer,
    p_allowed text[], p_time_zone text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  req approval_requests; pl jsonb; v_at timestamptz := ccer_now();
  sender registry_accounts; recipient registry_accounts; acc registry_accounts; b serial_blocks; child serial_blocks;
  sender_id integer; plain_id integer; v_quantity bigint; need bigint; take bigint;
  picked serial_blocks[] := '{}'; takes bigint[] := '{}'; mixed boolean := false;
  new_account integer; new_status text; result_id integer; retirement retirements; transfer registry_transfers;
  states jsonb := '{}'; serials jsonb := '[]'; subject_type text; action text; data jsonb; result jsonb;
  i integer; sealed integer[];
BEGIN
  SELECT * INTO req FROM approval_requests WHERE id = p_request FOR UPDATE;
  IF req.id IS NULL OR req.status <> 'pending' OR req.initiated_by = p_user OR req.organisation_id <> p_org
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
  FOR b IN SELECT * FROM ccer_available(sender.id, ccer_payload_project(pl), (pl->>'vintage')::integer) LOOP
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
    VALUES ('transfer', sender.id, recipient.id, v_quantity, NULL, v_at) RETURNING * INTO transfer;
    new_account := recipient.id; new_status := 'available'; result_id := transfer.id;
  ELSE
    IF mixed THEN PERFORM ccer_decline('more than one project and vintage'); END IF;
    INSERT INTO retirements (account_id, project_id, vintage, quantity, purpose, beneficiary_name, beneficiary_uscc,
                             compliance_year, event_name, event_start, event_end, note, retired_at)
    VALUES (sender.id, picked[1].project_id, picked[1].vintage, v_quantity, pl->>'purpose', pl->>'beneficiary_name',
            pl->>'beneficiary_uscc', (pl->>'compliance_year')::integer, pl->>'event_name', (pl->>'event_start')::date,
            (pl->>'event_end')::date, pl->>'note', v_at) RETURNING * INTO retirement;
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

  UPDATE approval_requests SET status = 'approved', decided_by = p_user, decided_at = v_at WHERE id = req.id RETURNING * INTO req;
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
      'number', 'CCER-R-' || to_char(v_at AT TIME ZONE p_time_zone, 'YYYY') || '-' || lpad(retirement.id::text, greatest(6, length(retirement.id::text)), '0'),
      'serials', serials,
      'state', jsonb_build_object('account_id', retirement.account_id, 'project_id', retirement.project_id,
        'vintage', retirement.vintage, 'quantity', retirement.quantity, 'purpose', retirement.purpose,
        'beneficiary_name', retirement.beneficiary_name, 'beneficiary_uscc', retirement.beneficiary_uscc,
        'compliance_year', retirement.compliance_year, 'event_name', retirement.event_name,
        'event_start', retirement.event_start, 'event_end', retirement.event_end, 'note', retirement.note),
      'states', states);
    result := jsonb_build_object('retirement', to_jsonb(retirement));
  END IF;
  sealed := ccer_append_events(v_at, p_user, p_actor, ARRAY[subject_type], ARRAY[result_id::text], ARRAY[action], ARRAY[data::text]);
  RETURN result || jsonb_build_object('sealed', sealed);
END $$;
