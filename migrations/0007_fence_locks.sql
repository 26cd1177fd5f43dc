-- Fences without starvation (replaces the two functions of 0004_fences.sql).
--
-- 0004 held the fence row FOR SHARE in every fenced append. A new share lock does not queue
-- behind a waiting row update, so while fenced appends kept overlapping, dagrun_next_term could
-- wait for a gap that never came: a deposed leader that keeps deciding could hold off its
-- successor's term (measured: 0.4 s to over 90 s with 11 writers). Advisory locks queue fairly: a
-- shared request waits behind a waiting exclusive one, so taking a term waits only for the
-- appends already past the check.
--
-- Lock key: (1684105074 = 'dagr', hashtext(key)). Two fence keys that collide on the hash only
-- share a lock. The read after the lock sees the newest term: each statement of a plpgsql
-- function takes a fresh snapshot under READ COMMITTED.
CREATE OR REPLACE FUNCTION dagrun_next_term(p_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  taken bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(1684105074, hashtext(p_key));
  INSERT INTO dagrun_fences AS f (key, term) VALUES (p_key, 1)
  ON CONFLICT (key) DO UPDATE SET term = f.term + 1, taken_at = now()
  RETURNING f.term INTO taken;
  RETURN taken;
END
$$;

CREATE OR REPLACE FUNCTION dagrun_append_fenced(
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
    PERFORM pg_advisory_xact_lock_shared(1684105074, hashtext(p_fence_key));
    SELECT f.term INTO current_term FROM dagrun_fences f WHERE f.key = p_fence_key;
    IF current_term IS DISTINCT FROM p_fence_term THEN
      RETURN QUERY SELECT 'fenced', current_term, NULL::xid8, NULL::bigint, NULL::text;
      RETURN;
    END IF;
  END IF;
  RETURN QUERY SELECT * FROM dagrun_append(p_stream, p_expected_kind, p_expected_revision, p_events, p_notify);
END
$$;
