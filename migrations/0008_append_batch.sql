-- Many appends, to many streams, in one call: the group commit's statement
-- (src/events/postgres/coalesced-appends.ts, via appendToStreams in append.ts).
--
-- Each append keeps its own expectation, fence and outcome, exactly as if it had been made alone
-- with dagrun_append_fenced (migrations/0007_fence_locks.sql) in this transaction: 'appended',
-- 'duplicate', 'conflict', 'id_elsewhere', 'id_mismatch' or 'fenced', with the same revision,
-- transaction_id, global_seq and detail. What changes is the cost: calling dagrun_append once per
-- append ran about six statements per append (an event-id probe, the stream row, the inserts, the
-- result); here the common case is three statements per batch (five with fences), whatever its
-- size, and the event-id probe is the unique index itself. Measured on the benchmark machine:
-- about 110 µs of Postgres CPU per single-event append in batches of 16 to 64, against 50–60 µs
-- here. A batch of one goes straight to dagrun_append_fenced.
--
--   p_appends: a JSON array of {ord, s, k, r, e, fk, ft}: the caller's index of the append, the
--   stream, the expected kind ('any' | 'no_stream' | 'stream_exists' | 'revision') and revision,
--   the events (a JSON array of {id, type, data, metadata}, as dagrun_append takes them), and the
--   fence key and term (absent: unfenced).
--
-- Returns one row per append, keyed by ord, in no particular order.
--
-- Locks. Every stream row is claimed by one INSERT … ON CONFLICT in stream-name order (COLLATE
-- "C"), so two batches in flight take their stream locks in the same order and cannot deadlock
-- on each other; fence keys are locked first, shared, as dagrun_append_fenced does.
--
-- The fast path assumes new event ids and one append per stream. Anything else — a stream named
-- twice, an append without events, an event id in two appends, an event id that is already
-- stored (the insert meets the unique index, and the fast path's subtransaction is rolled back)
-- — goes append by append through dagrun_append_fenced instead, in the same order, which answers
-- every case as it always has. A failed expectation is checked for a replay
-- (dagrun_replayed_batch) before it is called a conflict, since a retry of an append that did
-- commit must be answered 'duplicate'.

-- Append by append, in stream-name order, skipping the appends already answered (p_skip).
-- plpgsql, not sql: it keeps its plan (see dagrun_replayed_batch).
CREATE FUNCTION dagrun_append_each(p_appends jsonb, p_skip int[])
RETURNS TABLE (ord int, outcome text, revision bigint, transaction_id xid8, global_seq bigint, detail text)
LANGUAGE plpgsql AS $$
BEGIN
  -- The calls happen in the order the sorted subquery hands out its rows.
  RETURN QUERY
    SELECT x.ord, r.outcome, r.revision, r.transaction_id, r.global_seq, r.detail
    FROM (
      SELECT * FROM jsonb_to_recordset(p_appends)
        AS x(ord int, s text, k text, r bigint, e jsonb, fk text, ft bigint)
      WHERE NOT (x.ord = ANY (p_skip))
      ORDER BY x.s COLLATE "C", x.ord
    ) AS x
    CROSS JOIN LATERAL dagrun_append_fenced(x.fk, x.ft, x.s, x.k, x.r, x.e, false) AS r;
END
$$;

CREATE FUNCTION dagrun_append_batch(p_appends jsonb)
RETURNS TABLE (ord int, outcome text, revision bigint, transaction_id xid8, global_seq bigint, detail text)
LANGUAGE plpgsql AS $$
DECLARE
  fence_keys text[];
  fenced int[] := '{}';
  -- Cases the fast path does not take: one stream named twice, an append without events, an
  -- unknown expectation, one event id in two appends (which of them owns it depends on the order
  -- they are made in).
  one_by_one boolean;
  done_ords int[];
  done_revisions bigint[];
  done_seqs bigint[];
  other record;
BEGIN
  -- One append: nothing to share, and dagrun_append_fenced alone is cheaper than the set path.
  IF jsonb_array_length(p_appends) = 1 THEN
    RETURN QUERY SELECT * FROM dagrun_append_each(p_appends, '{}');
    RETURN;
  END IF;

  SELECT array_agg(DISTINCT x.fk) FILTER (WHERE x.fk IS NOT NULL),
         count(DISTINCT x.s) < count(*)
           OR bool_or(jsonb_array_length(x.e) = 0)
           OR bool_or(x.k IS NULL OR x.k NOT IN ('any', 'no_stream', 'stream_exists', 'revision'))
           OR (SELECT count(*) <> count(DISTINCT (ev ->> 'id')::uuid)
               FROM jsonb_to_recordset(p_appends) AS y(e jsonb)
               CROSS JOIN LATERAL jsonb_array_elements(y.e) AS ev)
  INTO fence_keys, one_by_one
  FROM jsonb_to_recordset(p_appends) AS x(s text, k text, e jsonb, fk text);

  IF fence_keys IS NOT NULL THEN
    -- As dagrun_append_fenced (0007_fence_locks.sql): the fence key's advisory lock, shared, to the
    -- end of the transaction, so a dagrun_next_term raising a term waits for this batch and every
    -- append after it reads the raised term. Keys in order: a batch waiting for one key (queued
    -- behind a term being taken) never holds a later one that the taker's predecessors need.
    PERFORM pg_advisory_xact_lock_shared(1684105074, hashtext(k.key))
    FROM (SELECT unnest(fence_keys) AS key ORDER BY 1) AS k;
    SELECT coalesce(array_agg(x.ord), '{}') INTO fenced
    FROM jsonb_to_recordset(p_appends) AS x(ord int, fk text, ft bigint)
    LEFT JOIN dagrun_fences f ON f.key = x.fk
    WHERE x.fk IS NOT NULL AND f.term IS DISTINCT FROM x.ft;
    IF cardinality(fenced) > 0 THEN
      RETURN QUERY
        SELECT x.ord, 'fenced', f.term, NULL::xid8, NULL::bigint, NULL::text
        FROM jsonb_to_recordset(p_appends) AS x(ord int, fk text)
        LEFT JOIN dagrun_fences f ON f.key = x.fk
        WHERE x.ord = ANY (fenced);
    END IF;
  END IF;

  IF one_by_one THEN
    RETURN QUERY SELECT * FROM dagrun_append_each(p_appends, fenced);
    RETURN;
  END IF;

  BEGIN
    WITH input AS (
      SELECT x.ord, x.s, x.k, x.r, x.e, jsonb_array_length(x.e) AS n
      FROM jsonb_to_recordset(p_appends) AS x(ord int, s text, k text, r bigint, e jsonb)
      WHERE NOT (x.ord = ANY (fenced))
    ), guard AS (
      -- stream → the revision it must be at (-1: any), for the appends that may update a row
      SELECT jsonb_object_agg(i.s, CASE WHEN i.k = 'revision' THEN i.r ELSE -1 END) AS revisions
      FROM input i WHERE i.k <> 'no_stream'
    ), present AS (
      -- Streams that must exist already: an expected revision, or 'stream_exists'.
      SELECT st.name FROM streams st
      WHERE st.name IN (SELECT i.s FROM input i WHERE i.k IN ('revision', 'stream_exists'))
    ), claimed AS (
      -- A new stream is inserted (no_stream, any); an existing one is updated when the guard holds
      -- (the conflicting row is re-read after any writer we waited for, as an UPDATE would be).
      INSERT INTO streams AS st (name, revision)
      SELECT i.s, i.n - 1 FROM input i
      WHERE i.k IN ('any', 'no_stream') OR i.s IN (SELECT p.name FROM present p)
      ORDER BY i.s COLLATE "C"
      ON CONFLICT (name) DO UPDATE SET revision = st.revision + excluded.revision + 1
      WHERE ((SELECT g.revisions FROM guard g) ->> excluded.name)::bigint IN (-1, st.revision)
      RETURNING st.name, st.revision
    ), inserted AS (
      -- ORDER BY: identity values are drawn in row order, so global_seq follows revision order.
      INSERT INTO events (stream_name, stream_revision, event_id, type, data, metadata)
      SELECT i.s, c.revision - i.n + e.ord, e.id, e.type, coalesce(e.data, 'null'), e.metadata
      FROM input i
      JOIN claimed c ON c.name = i.s
      CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(i.e) AS (id uuid, type text, data jsonb, metadata jsonb))
        WITH ORDINALITY AS e(id, type, data, metadata, ord)
      ORDER BY i.ord, e.ord
      RETURNING events.stream_name, events.global_seq
    ), last_seq AS (
      SELECT ins.stream_name, max(ins.global_seq) AS global_seq FROM inserted ins GROUP BY ins.stream_name
    )
    SELECT coalesce(array_agg(i.ord), '{}'), array_agg(c.revision), array_agg(l.global_seq)
    INTO done_ords, done_revisions, done_seqs
    FROM input i
    JOIN claimed c ON c.name = i.s
    JOIN last_seq l ON l.stream_name = i.s;
  EXCEPTION WHEN unique_violation THEN
    -- An event id is stored already (a retry, or an id another stream owns): nothing of the fast
    -- path stays; each append is answered on its own.
    RETURN QUERY SELECT * FROM dagrun_append_each(p_appends, fenced);
    RETURN;
  END;

  RETURN QUERY
    SELECT d.ord, 'appended', d.revision, pg_current_xact_id(), d.global_seq, NULL::text
    FROM unnest(done_ords, done_revisions, done_seqs) AS d(ord, revision, global_seq);

  IF cardinality(done_ords) + cardinality(fenced) = jsonb_array_length(p_appends) THEN
    RETURN;
  END IF;
  -- The expectation did not hold: a replay of a batch that did commit, or a real conflict.
  FOR other IN
    SELECT x.ord, x.s, x.e FROM jsonb_to_recordset(p_appends) AS x(ord int, s text, e jsonb)
    WHERE NOT (x.ord = ANY (fenced)) AND NOT (x.ord = ANY (done_ords))
  LOOP
    RETURN QUERY
      SELECT other.ord, r.outcome, r.revision, r.transaction_id, r.global_seq, r.detail
      FROM dagrun_replayed_batch(other.s,
        ARRAY(SELECT (ev ->> 'id')::uuid FROM jsonb_array_elements(other.e) AS ev)) AS r;
    IF NOT FOUND THEN
      RETURN QUERY
        SELECT other.ord, 'conflict', st.revision, NULL::xid8, NULL::bigint, NULL::text
        FROM (SELECT NULL) AS one LEFT JOIN streams st ON st.name = other.s;
    END IF;
  END LOOP;
END
$$;
