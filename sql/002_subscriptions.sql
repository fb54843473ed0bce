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

-- Seed 002's audit trail and seed 004's dedup store: one row per outcome of a delivery.
CREATE TABLE {{schema}}.event_log (
  subscription text        NOT NULL,
  event_id     text        NOT NULL,
  position     bigint      NOT NULL,               -- seed 004's natural key (aggregateId:type:version) is the event's, via event_id
  outcome      text        NOT NULL CHECK (outcome IN ('success', 'failed', 'dead')),
  attempts     integer     NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  error        text
);
-- At most one success per event and subscription, by construction rather than by a unique index: a
-- success row is written only by the statement that acknowledges the claim under its current lease, and
-- that statement removes the events from the claim (deletes it, or moves its start past them), so no
-- later claim can hold them. A unique index on (subscription, position) did the same and cost more than
-- the rest of the acknowledgement (1000 rows: 3.3 ms with it, 1.2 ms without; measured on 300k events).
-- Success rows are not indexed (an audit lookup scans); failures, read on every redelivery, are.
-- Failures are rare: a partial index keeps the hot success path to one index insert per row.
CREATE INDEX event_log_failures_idx ON {{schema}}.event_log (subscription, event_id) WHERE outcome <> 'success';

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

-- Claims the next batch for one consumer in one round trip and returns the claimed range (the caller
-- reads its events with a plain range scan). Returns claim_id NULL when there is nothing to claim, with
-- `pending` = committed events exist that are not yet safe to read (an older transaction is still
-- running), so the caller retries soon instead of sleeping a whole poll interval.
CREATE FUNCTION {{schema}}.claim_events(p_subscription text, p_owner text, p_limit integer, p_ack_wait_ms integer)
RETURNS TABLE (
  claim_id bigint, lease integer, redelivery boolean, pending boolean, category text,
  from_transaction_id xid8, from_position bigint, to_transaction_id xid8, to_position bigint,
  events integer)
-- Custom plans always: `v_sub.category IS NULL OR ...` must fold away, or a generic plan may walk the
-- wrong index.
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $fn$
#variable_conflict use_column
DECLARE
  v_sub   {{schema}}.subscriptions%ROWTYPE;
  v_claim {{schema}}.subscription_claims%ROWTYPE;
  v_xmin  xid8;
  v_to_transaction_id xid8;
  v_to_position bigint;
  v_count integer;
  v_id    bigint;
  v_wait  interval := make_interval(secs => p_ack_wait_ms / 1000.0);
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

  -- 1. A claim whose consumer died or gave it back: hand the same range out again.
  SELECT * INTO v_claim FROM {{schema}}.subscription_claims c
   WHERE c.subscription = p_subscription AND c.expires_at <= clock_timestamp()
   ORDER BY c.from_transaction_id, c.from_position
   LIMIT 1 FOR UPDATE SKIP LOCKED;   -- a claim being acknowledged right now is not expired work
  IF FOUND THEN
    UPDATE {{schema}}.subscription_claims c
       SET owner = p_owner, lease = c.lease + 1, claimed_at = clock_timestamp(), expires_at = clock_timestamp() + v_wait
     WHERE c.id = v_claim.id;
    RETURN QUERY SELECT v_claim.id, v_claim.lease + 1, true, false, v_sub.category, v_claim.from_transaction_id, v_claim.from_position,
                        v_claim.to_transaction_id, v_claim.to_position,
                        v_claim.events;
    RETURN;
  END IF;

  -- 2. New events after the frontier, only from transactions older than every running one: a
  -- transaction still running may hold a lower position than rows we can already see.
  v_xmin := pg_snapshot_xmin(pg_current_snapshot());
  SELECT b.transaction_id, b.position, b.n
    INTO v_to_transaction_id, v_to_position, v_count
    FROM (SELECT e.transaction_id, e.position, row_number() OVER (ORDER BY e.transaction_id, e.position) AS n
            FROM (SELECT e.transaction_id, e.position FROM {{schema}}.events e
                   WHERE (e.transaction_id, e.position) > (v_sub.transaction_id, v_sub.position)
                     AND e.transaction_id < v_xmin
                     AND (v_sub.category IS NULL OR e.category = v_sub.category)
                   ORDER BY e.transaction_id, e.position
                   LIMIT p_limit) e) b
   ORDER BY b.n DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN QUERY SELECT NULL::bigint, NULL::integer, false,
      EXISTS (SELECT 1 FROM {{schema}}.events e
               WHERE e.transaction_id >= v_xmin
                 AND (e.transaction_id, e.position) > (v_sub.transaction_id, v_sub.position)
                 AND (v_sub.category IS NULL OR e.category = v_sub.category)),
      v_sub.category, NULL::xid8, NULL::bigint, NULL::xid8, NULL::bigint, 0;
    RETURN;
  END IF;
  INSERT INTO {{schema}}.subscription_claims
         (subscription, from_transaction_id, from_position, to_transaction_id, to_position, events, owner, expires_at)
  VALUES (p_subscription, v_sub.transaction_id, v_sub.position, v_to_transaction_id, v_to_position, v_count, p_owner,
          clock_timestamp() + v_wait)
  RETURNING id INTO v_id;
  UPDATE {{schema}}.subscriptions s
     SET transaction_id = v_to_transaction_id, position = v_to_position, updated_at = now()
   WHERE s.name = p_subscription;
  RETURN QUERY SELECT v_id, 1, false, false, v_sub.category, v_sub.transaction_id, v_sub.position,
                      v_to_transaction_id, v_to_position, v_count;
END
$fn$;
