-- The Postgres store of the Mail Cadence templates (workflows/postgres/*.json), for teams that outgrow n8n's Data
-- tables. Run once (psql -f schema.sql); safe to run again. Column names are snake_case; the templates' queries
-- give them the Data tables' camelCase names, so the Cadence nodes see the same fields either way.

-- One row per address (lower case). `tags` stays the comma-separated text the nodes read and write; `tag_list` is
-- derived from it (trimmed, empty entries dropped) so today's batch is one GIN index scan
-- (`tag_list @> ARRAY['English-Dealers-Marketing09']`).
CREATE TABLE IF NOT EXISTS contacts (
  email        text PRIMARY KEY CHECK (email = lower(email)),
  tags         text NOT NULL DEFAULT '',
  tag_list     text[] GENERATED ALWAYS AS (array_remove(regexp_split_to_array(btrim(tags, ' ,'), '\s*,\s*'), '')) STORED,
  language     text NOT NULL DEFAULT '',
  segment      text NOT NULL DEFAULT '',
  company      text NOT NULL DEFAULT '',
  last_sent_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS contacts_tag_list_idx ON contacts USING gin (tag_list);
-- An import looks up the contacts that may share a company with its addresses: those whose host ends in the same
-- two labels (a superset of the company; the import node counts exactly by registrable domain).
CREATE INDEX IF NOT EXISTS contacts_site_idx ON contacts ((coalesce(substring(email from '([^.@]+\.[^.@]+)$'), split_part(email, '@', 2))));

-- Every event. The event id is the primary key: replayed events (a retried run, the send ledger
-- re-emitting what an earlier run sent) are inserted with ON CONFLICT DO NOTHING and count once.
CREATE TABLE IF NOT EXISTS events (
  event_id      text PRIMARY KEY,
  type          text NOT NULL,
  at            timestamptz NOT NULL,
  email         text NOT NULL DEFAULT '',
  campaign      text NOT NULL DEFAULT '',
  batch_tag     text NOT NULL DEFAULT '',
  variant       text NOT NULL DEFAULT '',
  message_id    text NOT NULL DEFAULT '',
  token         text NOT NULL DEFAULT '',
  class         text NOT NULL DEFAULT '',
  url           text NOT NULL DEFAULT '',
  reason        text NOT NULL DEFAULT '',
  bounce_hard   boolean NOT NULL DEFAULT false,
  bounce_status text NOT NULL DEFAULT '',
  channel       text NOT NULL DEFAULT '',
  is_unique     boolean NOT NULL DEFAULT false
);
-- The daily report reads a time range; tagging and CRM look-ups go by address.
CREATE INDEX IF NOT EXISTS events_at_idx ON events (at);
CREATE INDEX IF NOT EXISTS events_email_idx ON events (email);
-- The sender mailbox (lower-case From address) of a `sent` event, and of a bounce or complaint when known; a
-- `paused` or `resumed` event names its mailbox, or its sending domain (no @) for a pause of the whole domain.
ALTER TABLE events ADD COLUMN IF NOT EXISTS mailbox text NOT NULL DEFAULT '';
-- The cadences' sender history reads sends, bounces, complaints and pauses by type and time without touching the
-- table, and finds the send a bounce names by its Message-ID.
CREATE INDEX IF NOT EXISTS events_type_at_idx ON events (type, at) INCLUDE (mailbox, reason);
CREATE INDEX IF NOT EXISTS events_sent_message_idx ON events (message_id) WHERE type = 'sent' AND message_id <> '';
CREATE INDEX IF NOT EXISTS events_sent_token_idx ON events (token) WHERE type = 'sent' AND token <> '';
-- A `converted` event's value (only when the website signed it), currency and order id; a human open's or click's
-- reader (network and software family) and whether it was a forward (a third reader of one message's token).
ALTER TABLE events ADD COLUMN IF NOT EXISTS value numeric;
ALTER TABLE events ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS order_id text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS reader_network text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS reader_agent text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS forwarded boolean NOT NULL DEFAULT false;
-- Template 4 reads a token's earlier readers on every human open and click.
CREATE INDEX IF NOT EXISTS events_reader_token_idx ON events (token, at) WHERE reader_network <> '';

-- One task per event that asked for one (a human click, a reply): a replayed event never opens a second task.
CREATE TABLE IF NOT EXISTS follow_up_tasks (
  id         bigserial PRIMARY KEY,
  event_id   text NOT NULL UNIQUE,
  email      text NOT NULL,
  kind       text NOT NULL,
  campaign   text NOT NULL DEFAULT '',
  detail     text NOT NULL DEFAULT '',
  status     text NOT NULL DEFAULT 'open',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS follow_up_tasks_open_idx ON follow_up_tasks (status, created_at);
-- Who follows the task up (the owner rule's pick) and why (clicked link, replied, lead from a channel).
ALTER TABLE follow_up_tasks ADD COLUMN IF NOT EXISTS owner text NOT NULL DEFAULT '';
ALTER TABLE follow_up_tasks ADD COLUMN IF NOT EXISTS reason text NOT NULL DEFAULT '';
-- At most one open task per contact. A base from before this rule may hold several: the newest stays open, the
-- older ones are closed (nothing is deleted), so the index below can be built.
UPDATE follow_up_tasks t SET status = 'closed'
WHERE t.status = 'open'
  AND EXISTS (SELECT 1 FROM follow_up_tasks n WHERE n.status = 'open' AND lower(n.email) = lower(t.email) AND (n.created_at, n.id) > (t.created_at, t.id));
CREATE UNIQUE INDEX IF NOT EXISTS follow_up_tasks_one_open_idx ON follow_up_tasks (lower(email)) WHERE status = 'open';

-- Cadence Send's send ledger (Send Ledger: Postgres): the node creates and upgrades it when missing; here for teams
-- whose n8n database user may not create tables. It counts the day's messages per company, mailbox and contact.
CREATE TABLE IF NOT EXISTS cadence_send_ledger (
  key          text PRIMARY KEY,
  status       text NOT NULL CHECK (status IN ('claimed', 'sent', 'failed', 'unconfirmed')),
  email        text NOT NULL,
  campaign     text NOT NULL DEFAULT '',
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  settled_at   timestamptz,
  execution_id text NOT NULL DEFAULT '',
  event        jsonb,
  day          text NOT NULL DEFAULT '',
  company      text NOT NULL DEFAULT '',
  mailbox      text NOT NULL DEFAULT ''
);
-- A ledger of an earlier version gets the columns the day's caps count by (day, recipient company, sender mailbox).
ALTER TABLE cadence_send_ledger
  ADD COLUMN IF NOT EXISTS day text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS company text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS mailbox text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS cadence_send_ledger_day_company_idx ON cadence_send_ledger (day, company);
CREATE INDEX IF NOT EXISTS cadence_send_ledger_day_mailbox_idx ON cadence_send_ledger (day, mailbox);
CREATE INDEX IF NOT EXISTS cadence_send_ledger_day_email_idx ON cadence_send_ledger (day, email);

-- Erased addresses (template 10), as their pseudonym only (HMAC-SHA256 of the address with the erasure secret): an
-- import computes a new address's pseudonym and skips it when it is here, so a later CSV does not bring it back.
CREATE TABLE IF NOT EXISTS suppressed (
  pseudonym text PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now()
);

-- Subject, UTM fields and visitor id of inbox events: an inbound lead's channel data, a reply's subject.
ALTER TABLE events ADD COLUMN IF NOT EXISTS subject text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS utm_source text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS utm_medium text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS utm_campaign text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS utm_term text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS utm_content text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS visitor_id text NOT NULL DEFAULT '';
-- The first inbound lead per sender and channel. A lead is unique when its row here is inserted; the primary key
-- decides between executions running at once. Leads stored before this table are taken over once; erased senders
-- (whose events carry a pseudonym, not an address) are not.
CREATE TABLE IF NOT EXISTS inbound_leads (
  email          text NOT NULL,
  channel        text NOT NULL DEFAULT '',
  first_event_id text NOT NULL,
  first_at       timestamptz NOT NULL,
  PRIMARY KEY (email, channel)
);
INSERT INTO inbound_leads (email, channel, first_event_id, first_at)
SELECT DISTINCT ON (email, channel) email, channel, event_id, at FROM events
WHERE type = 'inbound' AND strpos(email, '@') > 0
ORDER BY email, channel, at, event_id
ON CONFLICT (email, channel) DO NOTHING;
UPDATE events e SET is_unique = true FROM inbound_leads l WHERE e.event_id = l.first_event_id AND NOT e.is_unique;
