-- Group commit for the fast path (ccer/issuance/groupcommit.py explains when and why).
--
-- The fast-path calls that several threads of one process make at the same moment arrive as one array and
-- run in one transaction, in order. Each call runs in a subtransaction of its own (the EXCEPTION block), so
-- a call that declines, or meets a deadlock and must be retried, leaves the other calls' work in place; the
-- transaction commits what succeeded and each caller learns its own outcome:
--   {"ok": <what the function returned>} | {"declined": sqlstate} | {"retry": sqlstate} | {"error": [sqlstate, message]}
-- A decline is what ccer_fast_propose/ccer_fast_confirm raise (CC001) or a value the casts refused (class 22),
-- exactly what fastpath.py treats as a decline when a call runs alone.
--
-- Frozen once released: a change is a new file and a new migration (CREATE OR REPLACE).

-- (Generic plans: the calls' queries take parameters whose custom plans are no better, and re-planning
-- them on every call cost more than running them.)
CREATE OR REPLACE FUNCTION ccer_fast_batch(p_calls text) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  c jsonb; a jsonb; r jsonb; outcome jsonb; outcomes jsonb := '[]';
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(p_calls::jsonb) LOOP
    a := c->'args';
    BEGIN
      IF c->>'fn' = 'propose' THEN
        r := ccer_fast_propose(a->>'kind', (a->>'sender')::integer, a->>'sender_no', (a->>'recipient')::integer,
                               a->>'recipient_no', a->>'payload', (a->>'org')::integer, (a->>'user')::integer, a->>'actor');
      ELSIF c->>'fn' = 'confirm' THEN
        r := ccer_fast_confirm((a->>'request')::integer, (a->>'user')::integer, a->>'actor', (a->>'org')::integer,
                               ARRAY(SELECT jsonb_array_elements_text(a->'allowed')), a->>'tz');
      ELSE
        RAISE EXCEPTION 'unknown fast-path call %', c->>'fn' USING ERRCODE = 'CC001';
      END IF;
      outcome := jsonb_build_object('ok', r);
    EXCEPTION
      WHEN sqlstate 'CC001' OR data_exception THEN
        outcome := jsonb_build_object('declined', SQLSTATE);
      WHEN deadlock_detected OR serialization_failure THEN
        outcome := jsonb_build_object('retry', SQLSTATE);
      WHEN OTHERS THEN
        outcome := jsonb_build_object('error', jsonb_build_array(SQLSTATE, SQLERRM));
    END;
    outcomes := outcomes || jsonb_build_array(outcome);
  END LOOP;
  RETURN outcomes;
END $$;
