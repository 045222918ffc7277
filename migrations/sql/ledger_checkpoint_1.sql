-- A checkpoint's Merkle root of the live serial blocks, computed inside PostgreSQL (ccer/events.py,
-- ccer/merkle.py define it; this is the same tree, byte for byte — tests/test_registry_fastpath.py checks).
--
-- Why: a checkpoint roots every live block. Built in Python, each leaf cost ~16 µs of interpreter time
-- while holding the GIL, so a server's other threads stalled behind it, and the stall grew with the
-- registry (bench/README.md). Here the leaves and the tree cost a few µs each and the server's Python
-- threads run on while the statement does.
--
-- Frozen once released: a change is a new file and a new migration (CREATE OR REPLACE).

-- A block's leaf: "<id>|<canonical state>", the state as ccer.issuance.services._block_state gives it and
-- ccer.events.canonical writes it (keys sorted, no spaces; the only string, the status, escaped as
-- json.dumps(ensure_ascii=False) does, which to_json matches: see ccer_event_hash).
CREATE OR REPLACE FUNCTION ccer_block_leaf(b serial_blocks) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT b.id::text || '|{"account_id":' || b.account_id::text
      || ',"active":' || CASE WHEN b.active THEN 'true' ELSE 'false' END
      || ',"first":' || b.first::text
      || ',"freeze_id":' || coalesce(b.freeze_id::text, 'null')
      || ',"issuance_id":' || b.issuance_id::text
      || ',"last":' || b.last::text
      || ',"parent_id":' || coalesce(b.parent_id::text, 'null')
      || ',"retirement_id":' || coalesce(b.retirement_id::text, 'null')
      || ',"status":' || to_json(b.status)::text || '}'
$$;

-- The Merkle root (hex) over the live blocks' leaves in id order (ccer.events.merkle_leaves orders ids
-- numerically): leaf hash SHA-256(0x00 || leaf), node SHA-256(0x01 || left || right), levels built
-- pairwise from the left, an odd node at the end carried up unchanged, no leaves: SHA-256 of nothing
-- (ccer/merkle.py). Each level is one pass over the one before.
CREATE OR REPLACE FUNCTION ccer_serial_block_root() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE level bytea[];
BEGIN
  level := ARRAY(SELECT sha256('\x00'::bytea || convert_to(ccer_block_leaf(b), 'UTF8')) FROM serial_blocks b WHERE b.active ORDER BY b.id);
  IF cardinality(level) = 0 THEN
    RETURN encode(sha256(''::bytea), 'hex');
  END IF;
  WHILE cardinality(level) > 1 LOOP
    level := ARRAY(
      SELECT CASE WHEN r IS NULL THEN l ELSE sha256('\x01'::bytea || l || r) END
      FROM (SELECT x AS l, lead(x) OVER (ORDER BY i) AS r, i FROM unnest(level) WITH ORDINALITY AS u(x, i)) pairs
      WHERE i % 2 = 1
      ORDER BY i);
  END LOOP;
  RETURN encode(level[1], 'hex');
END $$;
