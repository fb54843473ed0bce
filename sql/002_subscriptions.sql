-- Durable subscriptions: frontier checkpoint + claimed batches, audit trail (event_log), dead letters.
--
-- How a subscription walks the log (see src/store/postgres/subscription.ts for the whole story):
-- events are taken in (transaction_id, position) order and only from transactions older than every
-- running one, so a transaction that took a low position but commits late is still ahead of the
-- frontier when it becomes visible. A consumer claims the next batch (a range of that order) under the
-- subscription row lock, which serialises claiming only; competing consumers with the same name get
-- disjoint ranges and process them in parallel. A claim not acknowledged within ack-wait (consumer dead)
-- is handed out again, range and all, under a new lease: only the holder of the current lease can
-- acknowledge it, which is what keeps event_log at one success row per event (see event_log below).

CREATE TABLE {{schema}}.subscriptions (
  name           text        PRIMARY KEY,
  category       text,                             -- NULL: every category
  -- Frontier: every event at or before (transaction_id, position) has been claimed. What is claimed but
  -- not yet acknowledged lives in subscription_claims, so the acknowledged checkpoint is the frontier
  -- minus the open claims.
  transaction_id xid8        NOT NULL DEFAULT '0',
  position       bigint      NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {{schema}}.subscription_claims (
  id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription        text        NOT NULL REFERENCES {{schema}}.subscriptions (name) ON DELETE CASCADE,
  -- The claimed range: (from, to] in (transaction_id, position) order. Stable: every event in it was
  -- committed before the claim was made, so reading the range again gives the same events.
  from_transaction_id xid8        NOT NULL,
  from_position       bigint      NOT NULL,
  to_transaction_id   xid8        NOT NULL,
  to_position         bigint      NOT NULL,
  events              integer     NOT NULL,
  owner               text        NOT NULL,
  -- Counts hand-outs of this range. An acknowledgement names the lease it got and does nothing when the
  -- claim was handed out again meanwhile (its consumer was too slow and the range is someone else's now).
  lease               integer     NOT NULL DEFAULT 1,
  claimed_at          timestamptz NOT NULL DEFAULT now(),
  expires_at          timestamptz NOT NULL
);
CREATE INDEX subscription_claims_expiry_idx ON {{schema}}.subscription_claims (subscription, expires_at);

-- `event_log`, the audit trail (docs/case-processing.md §The PostgreSQL side) and the record of what was
-- processed that idempotent consumers check (docs/outbox.md §Idempotent consumers): one row per outcome
-- of a delivery (subscription, event_id, position, outcome success|failed|dead, attempts, processed_at,
-- error). It is a view over two tables, because successes are nearly every row and writing them one by
-- one was the largest cost of a subscription catching up (sending 1000 event ids per batch and inserting
-- 1000 rows cost the server more than reading the batch: measured 1.1-1.4 us per event on 300k events):
--   event_log_entries: one row per failed delivery and per dead-lettered event, as they happen;
--   event_log_ranges:  one row per acknowledgement: every event of the subscription's category in the
--                      range (from, to] in (transaction_id, position) order was handled with success at
--                      processed_at, after one delivery unless its position is in retried_positions
--                      (attempts in retried_attempts), and except the positions in skipped_positions
--                      (dead-lettered: their outcome is the entry's). A range is stable (every event in it
--                      had committed when it was claimed) and events are never deleted, so the view gives
--                      back exactly the rows a per-event table would hold.
-- At most one success per event and subscription, by construction: a range is logged only by the
-- statement that acknowledges the claim under its current lease, and that statement removes the events
-- from the claim (deletes it, or moves its start past them), so no later claim can hold them.
CREATE TABLE {{schema}}.event_log_entries (
  subscription text        NOT NULL,
  event_id     text        NOT NULL,
  -- No natural key of its own: aggregateId:type:version (docs/outbox.md §Idempotent consumers) is the
  -- event's, found via event_id.
  position     bigint      NOT NULL,
  outcome      text        NOT NULL CHECK (outcome IN ('failed', 'dead')),
  attempts     integer     NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  error        text
);
-- Read on every redelivery (how many deliveries so far, dead-lettered already?).
CREATE INDEX event_log_entries_event_idx ON {{schema}}.event_log_entries (subscription, event_id);

CREATE TABLE {{schema}}.event_log_ranges (
  subscription        text        NOT NULL,
  category            text,                        -- the subscription's (NULL: every category)
  from_transaction_id xid8        NOT NULL,
  from_position       bigint      NOT NULL,
  to_transaction_id   xid8        NOT NULL,
  to_position         bigint      NOT NULL,
  retried_positions   bigint[]    NOT NULL DEFAULT '{}',
  retried_attempts    integer[]   NOT NULL DEFAULT '{}',
  skipped_positions   bigint[]    NOT NULL DEFAULT '{}',
  processed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_log_ranges_subscription_idx ON {{schema}}.event_log_ranges (subscription, to_transaction_id, to_position);

CREATE VIEW {{schema}}.event_log AS
SELECT l.subscription, l.event_id, l.position, l.outcome, l.attempts, l.processed_at, l.error
  FROM {{schema}}.event_log_entries l
UNION ALL
SELECT r.subscription, e.event_id, e.position, 'success'::text,
       coalesce(r.retried_attempts[array_position(r.retried_positions, e.position)], 1), r.processed_at, NULL::text
  FROM {{schema}}.event_log_ranges r
  JOIN {{schema}}.events e
    ON (e.transaction_id, e.position) > (r.from_transaction_id, r.from_position)
   AND (e.transaction_id, e.position) <= (r.to_transaction_id, r.to_position)
   AND (r.category IS NULL OR e.category = r.category)
 WHERE e.position <> ALL (r.skipped_positions);

CREATE TABLE {{schema}}.dead_letters (
  subscription text        NOT NULL,
  event_id     text        NOT NULL,
  position     bigint      NOT NULL,
  destination  text        NOT NULL,
  deliveries   integer     NOT NULL,
  reason       text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription, event_id)
);
CREATE INDEX dead_letters_destination_idx ON {{schema}}.dead_letters (destination);

-- Claims the next range for one consumer in one round trip and returns it cut into pages of up to p_limit
-- events (the caller reads each page with a plain range scan, pages in parallel). A new claim takes up to
-- p_pages pages (a subscription catching up claims several at once: the claim's fixed cost, ~0.4 ms, is
-- then paid once per several pages); a claim handed out again comes back whole. Returns claim_id NULL when
-- there is nothing to claim, with `pending` = committed events exist that are not yet safe to read (an
-- older transaction is still running), so the caller retries soon instead of sleeping a whole poll
-- interval.
CREATE FUNCTION {{schema}}.claim_events(p_subscription text, p_owner text, p_limit integer, p_pages integer, p_ack_wait_ms integer)
RETURNS TABLE (
  claim_id bigint, lease integer, redelivery boolean, pending boolean, category text,
  from_transaction_id xid8, from_position bigint, to_transaction_id xid8, to_position bigint,
  events integer,
  -- Page k is (end k-1, end k] (page 1 starts at `from`) and holds page_events[k] events.
  page_end_transaction_ids text[], page_end_positions bigint[], page_events integer[])
-- Custom plans always: `v_sub.category IS NULL OR ...` must fold away, or a generic plan may walk the
-- wrong index.
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
#variable_conflict use_column
DECLARE
  v_sub   {{schema}}.subscriptions%ROWTYPE;
  v_claim {{schema}}.subscription_claims%ROWTYPE;
  v_redelivery boolean := false;
  -- The walk: from (v_tx, v_pos), exclusive, to (v_end_tx, v_end_pos), exclusive.
  v_tx     xid8;
  v_pos    bigint;
  v_end_tx xid8;
  v_end_pos bigint;
  v_next_tx xid8;
  v_next_pos bigint;
  v_n      integer;
  v_ends_tx  text[] := '{}';
  v_ends_pos bigint[] := '{}';
  v_counts   integer[] := '{}';
  v_count  integer := 0;
  v_id     bigint;
  v_wait   interval := make_interval(secs => p_ack_wait_ms / 1000.0);
BEGIN
  -- Asynchronous commit for the claim: losing it in a server crash only rolls the frontier back, and
  -- the range is claimed (delivered) again. WAL is flushed in order, so a claim whose acknowledgement
  -- survived survived as well. A synchronous flush per batch cost more than reading the batch.
  PERFORM set_config('synchronous_commit', 'off', true);
  -- Serialises claiming (not processing) among the consumers of this subscription.
  SELECT * INTO v_sub FROM {{schema}}.subscriptions s WHERE s.name = p_subscription FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'subscription % does not exist', p_subscription USING ERRCODE = 'no_data_found';
  END IF;

  -- 1. A claim whose consumer died or gave it back: hand the same range out again, whole.
  SELECT * INTO v_claim FROM {{schema}}.subscription_claims c
   WHERE c.subscription = p_subscription AND c.expires_at <= clock_timestamp()
   ORDER BY c.from_transaction_id, c.from_position
   LIMIT 1 FOR UPDATE SKIP LOCKED;   -- a claim being acknowledged right now is not expired work
  IF FOUND THEN
    v_redelivery := true;
    v_tx := v_claim.from_transaction_id;
    v_pos := v_claim.from_position;
    v_end_tx := v_claim.to_transaction_id;
    v_end_pos := v_claim.to_position + 1;
  ELSE
    -- 2. New events after the frontier, only from transactions older than every running one: a
    -- transaction still running may hold a lower position than rows we can already see.
    -- (transaction_id, position) < (xmin, 0) is transaction_id < xmin: positions start at 1.
    v_tx := v_sub.transaction_id;
    v_pos := v_sub.position;
    v_end_tx := pg_snapshot_xmin(pg_current_snapshot());
    v_end_pos := 0;
  END IF;

  -- Cut pages: a full page ends at the p_limit-th event (an index-only scan that skips the rest, half
  -- the cost of numbering them); the last, short one at the last event there is.
  LOOP
    EXIT WHEN NOT v_redelivery AND coalesce(array_length(v_counts, 1), 0) >= p_pages;
    SELECT e.transaction_id, e.position INTO v_next_tx, v_next_pos FROM {{schema}}.events e
     WHERE (e.transaction_id, e.position) > (v_tx, v_pos)
       AND (e.transaction_id, e.position) < (v_end_tx, v_end_pos)
       AND (v_sub.category IS NULL OR e.category = v_sub.category)
     ORDER BY e.transaction_id, e.position
     OFFSET p_limit - 1 LIMIT 1;
    IF FOUND THEN
      v_n := p_limit;
    ELSE
      SELECT b.transaction_id, b.position, b.n INTO v_next_tx, v_next_pos, v_n
        FROM (SELECT e.transaction_id, e.position, row_number() OVER (ORDER BY e.transaction_id, e.position) AS n
                FROM (SELECT e.transaction_id, e.position FROM {{schema}}.events e
                       WHERE (e.transaction_id, e.position) > (v_tx, v_pos)
                         AND (e.transaction_id, e.position) < (v_end_tx, v_end_pos)
                         AND (v_sub.category IS NULL OR e.category = v_sub.category)
                       ORDER BY e.transaction_id, e.position
                       LIMIT p_limit) e) b
       ORDER BY b.n DESC LIMIT 1;
      EXIT WHEN NOT FOUND;
    END IF;
    v_ends_tx := v_ends_tx || v_next_tx::text;
    v_ends_pos := v_ends_pos || v_next_pos;
    v_counts := v_counts || v_n;
    v_count := v_count + v_n;
    v_tx := v_next_tx;
    v_pos := v_next_pos;
    EXIT WHEN v_n < p_limit;
  END LOOP;

  IF v_redelivery AND v_count = 0 THEN
    -- Nothing left in it (every event was acknowledged before the claim could be deleted): drop it and
    -- let the caller claim again at once.
    DELETE FROM {{schema}}.subscription_claims c WHERE c.id = v_claim.id;
    RETURN QUERY SELECT NULL::bigint, NULL::integer, false, true, v_sub.category, NULL::xid8, NULL::bigint, NULL::xid8, NULL::bigint, 0,
                        NULL::text[], NULL::bigint[], NULL::integer[];
    RETURN;
  END IF;
  IF v_redelivery THEN
    UPDATE {{schema}}.subscription_claims c
       SET owner = p_owner, lease = c.lease + 1, claimed_at = clock_timestamp(), expires_at = clock_timestamp() + v_wait
     WHERE c.id = v_claim.id;
    RETURN QUERY SELECT v_claim.id, v_claim.lease + 1, true, false, v_sub.category, v_claim.from_transaction_id, v_claim.from_position,
                        v_claim.to_transaction_id, v_claim.to_position, v_count, v_ends_tx, v_ends_pos, v_counts;
    RETURN;
  END IF;
  IF v_count = 0 THEN
    RETURN QUERY SELECT NULL::bigint, NULL::integer, false,
      EXISTS (SELECT 1 FROM {{schema}}.events e
               WHERE e.transaction_id >= v_end_tx
                 AND (e.transaction_id, e.position) > (v_sub.transaction_id, v_sub.position)
                 AND (v_sub.category IS NULL OR e.category = v_sub.category)),
      v_sub.category, NULL::xid8, NULL::bigint, NULL::xid8, NULL::bigint, 0, NULL::text[], NULL::bigint[], NULL::integer[];
    RETURN;
  END IF;
  INSERT INTO {{schema}}.subscription_claims
         (subscription, from_transaction_id, from_position, to_transaction_id, to_position, events, owner, expires_at)
  VALUES (p_subscription, v_sub.transaction_id, v_sub.position, v_tx, v_pos, v_count, p_owner,
          clock_timestamp() + v_wait)
  RETURNING id INTO v_id;
  UPDATE {{schema}}.subscriptions s
     SET transaction_id = v_tx, position = v_pos, updated_at = now()
   WHERE s.name = p_subscription;
  RETURN QUERY SELECT v_id, 1, false, false, v_sub.category, v_sub.transaction_id, v_sub.position,
                      v_tx, v_pos, v_count, v_ends_tx, v_ends_pos, v_counts;
END
$fn$;
