-- Fencing tokens (DESIGN.md invariant 3). A scheduler that wins the election takes the next
-- term for the key 'scheduler' before it decides anything; every decision it appends is fenced
-- with that term. Once a newer term has been taken, an append fenced with an older one writes
-- nothing and answers 'fenced' — so a leader that was paused past its lease, and wakes up
-- believing it still leads, cannot add a single decision after its successor took over.
--
-- The terms come from Postgres, not from etcd's revisions: they keep growing when an etcd cluster
-- is rebuilt from scratch, and the term is raised in the same database the decisions go to.
CREATE TABLE dagrun_fences (
  key text PRIMARY KEY,
  term bigint NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now()
);

-- The next term for p_key: strictly greater than every term taken before.
CREATE FUNCTION dagrun_next_term(p_key text) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO dagrun_fences AS f (key, term) VALUES (p_key, 1)
  ON CONFLICT (key) DO UPDATE SET term = f.term + 1, taken_at = now()
  RETURNING f.term;
$$;

-- dagrun_append behind a fence. FOR SHARE holds the fence row until this transaction ends: a
-- dagrun_next_term that raises the term waits for the appends already past the check, and every
-- append after it sees the raised term. Outcome 'fenced' (revision = the current term) writes
-- nothing. A NULL key appends unfenced.
CREATE FUNCTION dagrun_append_fenced(
  p_fence_key text,
  p_fence_term bigint,
  p_stream text,
  p_expected_kind text,
  p_expected_revision bigint,
  p_events jsonb,
  p_notify boolean DEFAULT true
) RETURNS TABLE (outcome text, revision bigint, transaction_id xid8, global_seq bigint, detail text)
LANGUAGE plpgsql AS $$
DECLARE
  current_term bigint;
BEGIN
  IF p_fence_key IS NOT NULL THEN
    SELECT f.term INTO current_term FROM dagrun_fences f WHERE f.key = p_fence_key FOR SHARE;
    IF current_term IS DISTINCT FROM p_fence_term THEN
      RETURN QUERY SELECT 'fenced', current_term, NULL::xid8, NULL::bigint, NULL::text;
      RETURN;
    END IF;
  END IF;
  RETURN QUERY SELECT * FROM dagrun_append(p_stream, p_expected_kind, p_expected_revision, p_events, p_notify);
END
$$;

-- Logs written before fences existed carry the scheduler's terms in the decisions' metadata; the
-- next term must out-rank them, or a new leader would see an old, higher term and step down.
INSERT INTO dagrun_fences (key, term)
SELECT 'scheduler', max((metadata ->> 'term')::bigint)
FROM events
WHERE metadata ? 'term' AND jsonb_typeof(metadata -> 'term') = 'number'
HAVING max((metadata ->> 'term')::bigint) IS NOT NULL;
