-- The event store: an append-only log of events, grouped into streams.
--
-- Global order ($all) is (transaction_id, global_seq), not global_seq alone. A sequence value is
-- handed out when a row is inserted, long before its transaction commits, so ordering by the
-- sequence lets a reader pass a gap that a slower transaction fills later -- and skip that event
-- for ever. Readers therefore only look at rows whose transaction id is below the xmin of their
-- snapshot (every such transaction has ended), and sort by transaction id first: any transaction
-- that commits later has an id at or above that xmin, so it sorts after every position already
-- handed out. See src/events/postgres/read.ts.

-- One row per stream: the revision of its last event. The row is the lock that serializes
-- appends to one stream and the thing optimistic concurrency checks. A row exists only once the
-- stream has an event, so "no row" means "no stream".
CREATE TABLE streams (
  name text PRIMARY KEY CHECK (name <> ''),
  revision bigint NOT NULL CHECK (revision >= 0)
);

CREATE TABLE events (
  global_seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Assigned once per writing transaction; xid8 never wraps around (epoch in the high bits).
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_name text NOT NULL,
  stream_revision bigint NOT NULL CHECK (stream_revision >= 0),
  -- Globally unique: re-appending an id is how a writer retries safely (see dagrun_append).
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL CHECK (type <> ''),
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_name, stream_revision)
);

-- Serves readAll and subscriptions: a range scan from a checkpoint, bounded above by xmin.
CREATE INDEX events_global_order ON events (transaction_id, global_seq);

-- What a batch of event ids already is in the store: no row when none of the ids exists. A retry
-- of an append finds its whole batch in the stream, in order, with consecutive revisions: that is
-- a 'duplicate', answered with the original last event. Any other overlap is an error the caller
-- must see ('id_elsewhere': an id belongs to another stream; 'id_mismatch': a different batch).
CREATE FUNCTION dagrun_replayed_batch(p_stream text, p_ids uuid[])
RETURNS TABLE (outcome text, revision bigint, transaction_id xid8, global_seq bigint, detail text)
-- plpgsql, not sql: a non-inlinable SQL function is planned on every call; plpgsql keeps its plans.
LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- The common case, a new batch, costs one index probe.
  IF NOT EXISTS (SELECT FROM events e WHERE e.event_id = ANY (p_ids)) THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH hits AS (
    SELECT a.ord, e.stream_name, e.stream_revision, e.transaction_id, e.global_seq
    FROM unnest(p_ids) WITH ORDINALITY AS a(id, ord)
    JOIN events e ON e.event_id = a.id
  ), summary AS (
    SELECT count(*) AS found,
           min(h.stream_name) FILTER (WHERE h.stream_name <> p_stream) AS other_stream,
           -- revision - position in batch is constant iff the ids sit in order, back to back
           count(DISTINCT h.stream_revision - h.ord) = 1 AS consecutive
    FROM hits h
  ), last_hit AS (
    SELECT * FROM hits h ORDER BY h.ord DESC LIMIT 1
  )
  SELECT CASE
           WHEN s.other_stream IS NOT NULL THEN 'id_elsewhere'
           WHEN s.found = cardinality(p_ids) AND s.consecutive THEN 'duplicate'
           ELSE 'id_mismatch'
         END,
         l.stream_revision, l.transaction_id, l.global_seq, s.other_stream
  FROM summary s CROSS JOIN last_hit l;
END
$$;

-- Appends a batch to one stream in one round trip.
--
--   p_expected_kind: 'any' | 'no_stream' | 'stream_exists' | 'revision' (then p_expected_revision)
--   p_events: a JSON array of {id, type, data, metadata}, in order
--   p_notify: NOTIFY inside this transaction. That holds a cluster-wide lock through the commit
--             and serializes notifying writers; the store passes false and notifies after the
--             commit instead (src/events/postgres/notifier.ts). True suits an append made inside
--             a caller's larger transaction, whose commit is the moment to announce.
--
-- Returns one row. outcome is
--   'appended'     revision/transaction_id/global_seq describe the last event written;
--   'duplicate'    the same batch was appended before: the original last event, nothing written;
--   'conflict'     the expected revision did not hold: revision is the actual one (NULL: no stream);
--   'id_elsewhere' an id already belongs to another stream (named in detail);
--   'id_mismatch'  some ids exist in this stream, but not as this exact batch.
-- Nothing is written unless outcome = 'appended'. Two identical appends racing under 'any' can
-- still meet the unique index on event_id; the caller catches that and calls again, and the
-- second call answers 'duplicate'.
CREATE FUNCTION dagrun_append(
  p_stream text,
  p_expected_kind text,
  p_expected_revision bigint,
  p_events jsonb,
  p_notify boolean DEFAULT true
) RETURNS TABLE (outcome text, revision bigint, transaction_id xid8, global_seq bigint, detail text)
LANGUAGE plpgsql AS $$
DECLARE
  n int := jsonb_array_length(p_events);
  ids uuid[] := ARRAY(SELECT (e ->> 'id')::uuid FROM jsonb_array_elements(p_events) AS e);
  new_revision bigint;
  last_seq bigint;
BEGIN
  -- A retry of a batch that already landed: answer as the first time, write nothing.
  IF n > 0 THEN
    RETURN QUERY SELECT * FROM dagrun_replayed_batch(p_stream, ids);
    IF FOUND THEN
      RETURN;
    END IF;
  END IF;

  -- Zero events: check the expectation, change nothing (as EventStoreDB does).
  IF n = 0 THEN
    SELECT s.revision INTO new_revision FROM streams s WHERE s.name = p_stream;
    IF (p_expected_kind = 'no_stream' AND new_revision IS NOT NULL)
       OR (p_expected_kind = 'stream_exists' AND new_revision IS NULL)
       OR (p_expected_kind = 'revision' AND new_revision IS DISTINCT FROM p_expected_revision) THEN
      RETURN QUERY SELECT 'conflict', new_revision, NULL::xid8, NULL::bigint, NULL::text;
    ELSE
      RETURN QUERY SELECT 'appended', coalesce(new_revision, -1), e.transaction_id, e.global_seq, NULL::text
        FROM (SELECT NULL) AS one
        LEFT JOIN events e ON e.stream_name = p_stream AND e.stream_revision = new_revision;
    END IF;
    RETURN;
  END IF;

  -- Claim revisions. The statement that touches the stream row locks it until commit, so appends
  -- to one stream serialize here; a writer that waited re-checks its condition against the
  -- committed row (READ COMMITTED re-evaluation), so a stale expectation fails instead of winning.
  CASE p_expected_kind
    WHEN 'any' THEN
      INSERT INTO streams AS s (name, revision) VALUES (p_stream, n - 1)
      ON CONFLICT (name) DO UPDATE SET revision = s.revision + n
      RETURNING s.revision INTO new_revision;
    WHEN 'no_stream' THEN
      INSERT INTO streams AS s (name, revision) VALUES (p_stream, n - 1)
      ON CONFLICT (name) DO NOTHING
      RETURNING s.revision INTO new_revision;
    WHEN 'stream_exists' THEN
      UPDATE streams AS s SET revision = s.revision + n WHERE s.name = p_stream
      RETURNING s.revision INTO new_revision;
    WHEN 'revision' THEN
      UPDATE streams AS s SET revision = s.revision + n
      WHERE s.name = p_stream AND s.revision = p_expected_revision
      RETURNING s.revision INTO new_revision;
    ELSE
      RAISE EXCEPTION 'dagrun_append: unknown expected kind %', p_expected_kind;
  END CASE;

  IF new_revision IS NULL THEN
    -- The writer we waited for may have been our own earlier attempt (a retry racing the
    -- original); this statement sees its commit, so a duplicate is still a duplicate.
    RETURN QUERY SELECT * FROM dagrun_replayed_batch(p_stream, ids);
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'conflict', s.revision, NULL::xid8, NULL::bigint, NULL::text
        FROM (SELECT NULL) AS one LEFT JOIN streams s ON s.name = p_stream;
    END IF;
    RETURN;
  END IF;

  -- ORDER BY ord: identity values are drawn in row order, so global_seq follows revision order.
  WITH inserted AS (
    INSERT INTO events (stream_name, stream_revision, event_id, type, data, metadata)
    -- jsonb_to_recordset turns a JSON null into SQL NULL; the payload null is a JSON null.
    SELECT p_stream, new_revision - n + e.ord, e.id, e.type, coalesce(e.data, 'null'), e.metadata
    FROM ROWS FROM (jsonb_to_recordset(p_events) AS (id uuid, type text, data jsonb, metadata jsonb))
      WITH ORDINALITY AS e(id, type, data, metadata, ord)
    ORDER BY e.ord
    RETURNING events.global_seq
  )
  SELECT max(inserted.global_seq) INTO last_seq FROM inserted;

  -- A wake-up hint for live subscriptions, delivered at commit. Readers never trust it for
  -- content: they re-read the table. The payload is this transaction's id, so a reader can tell
  -- whether its last read already covered it (the read's xmin is above it) or the events are
  -- still hidden behind an older transaction in flight (then it re-polls shortly).
  IF p_notify THEN
    PERFORM pg_notify('dagrun_events', pg_current_xact_id()::text);
  END IF;

  RETURN QUERY SELECT 'appended', new_revision, pg_current_xact_id(), last_seq, NULL::text;
END
$$;
