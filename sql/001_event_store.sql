-- eventbench PostgreSQL event store: streams, events, transactional outbox.
-- {{schema}} is replaced by the quoted target schema at apply time (src/store/postgres/migrations.ts),
-- so one database can hold many isolated stores (one per test, per run).

-- One row per stream: the optimistic-concurrency anchor. An append locks this row (UPDATE / upsert), so
-- appends to one stream commit one after another and versions stay contiguous.
CREATE TABLE {{schema}}.streams (
  stream_id   text        PRIMARY KEY,
  stream_type text        NOT NULL,           -- the category: text before the first "-"
  version     bigint      NOT NULL CHECK (version > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {{schema}}.events (
  position        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- global order
  stream_id       text        NOT NULL,
  category        text        NOT NULL,
  version         bigint      NOT NULL CHECK (version > 0),
  event_id        text        NOT NULL,
  type            text        NOT NULL,
  data            jsonb       NOT NULL,
  metadata        jsonb       NOT NULL DEFAULT '{}',
  "timestamp"     text        NOT NULL,       -- as the writer gave it (ISO 8601), returned byte for byte
  correlation_id  text        NOT NULL,
  causation_id    text,
  aggregate_id    text        NOT NULL,
  aggregate_type  text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- The writing transaction. Subscriptions read only rows whose transaction is older than every running
  -- one (transaction_id < pg_snapshot_xmin(pg_current_snapshot())), so a row with a low position that
  -- commits late is never skipped (the sequence-gap problem). xid8 is 64-bit: no wraparound.
  transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT events_event_id_key UNIQUE (event_id),              -- idempotency by event id, forever
  CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);
-- Subscriptions walk (transaction_id, position); category reads walk (category, position).
CREATE INDEX events_transaction_position_idx ON {{schema}}.events (transaction_id, position);
CREATE INDEX events_category_position_idx ON {{schema}}.events (category, position);

-- Transactional outbox (the columns of docs/outbox.md §Outbox columns, plus attempts / last_error),
-- written by the same statement as the events. `id` is the event id; `position` orders the relay and
-- joins back to the event.
CREATE TABLE {{schema}}.outbox (
  id             text        PRIMARY KEY,
  position       bigint      NOT NULL,
  aggregate_type text        NOT NULL,
  aggregate_id   text        NOT NULL,
  type           text        NOT NULL,
  payload        jsonb       NOT NULL,
  published      boolean     NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  published_at   timestamptz,
  attempts       integer     NOT NULL DEFAULT 0,
  last_error     text
);
-- The partial index docs/outbox.md asks for: the relay only ever scans the (small) unpublished part.
CREATE INDEX outbox_unpublished_idx ON {{schema}}.outbox (position) WHERE NOT published;
