/**
 * The metrics of the Postgres store computed by the database: one SQL statement that returns exactly the rows
 * `computeMetrics` returns for the same events (every count and every rate), so a report over millions of events
 * moves a few rows into n8n instead of every event.
 *
 * How each figure matches computeMetrics:
 * - Deduplication by event id is the `events` primary key (a replay is inserted with ON CONFLICT DO NOTHING, so the
 *   first event with an id is the one kept, as computeMetrics keeps the first).
 * - Only the event types computeMetrics counts form groups (METRICS_SQL_TYPES); other types are left out.
 * - A message is its token, else its Message-ID, else the address (trimmed of JavaScript's white space and lower-cased)
 *   with the campaign and the batch tag; the per-message facts are counted once per message and group.
 * - Group values '' are null, as computeMetrics reads an empty field; `day`, `week` (ISO) and `month` are the calendar
 *   keys of the event time in the time zone.
 * - Rates divide in double precision, the same IEEE division JavaScript does; a zero denominator gives null.
 * - Conversions and forwards count contacts: the address (trimmed and lower-cased), else the message; the value of
 *   conversions is the sum of `value` (a float8 sum: equal to JavaScript's for values whose sums are exact, such as
 *   whole amounts or cents below 2^53 / 100 in total).
 * Not computed here: language and segment (they parse batch tags), other event fields, revenue and cost (the node adds
 * them from conversionValue and its cost settings).
 * Exactness limit: lower() is the database's; for addresses with non-ASCII capitals in messages without token and
 * Message-ID, a database whose LC_CTYPE is C leaves them as they are where JavaScript lowers them.
 */
import { DEFAULT_LIST_HEALTH_RISK_PREFIXES, MAX_REPORT_AB_DECISIONS, MetricsCalendar } from '../core/metrics';
import { tagKey } from '../core/tags';

/** Group keys the SQL computes, and the store column or calendar unit behind each. */
export const METRICS_SQL_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
	campaign: 'campaign',
	batchTag: 'batch_tag',
	variant: 'variant',
	channel: 'channel',
	email: 'email',
	class: 'class',
	type: 'type',
	token: 'token',
	reason: 'reason',
	messageId: 'message_id',
	mailbox: 'mailbox',
	url: 'url',
});
export const METRICS_SQL_TIME_FORMATS: Readonly<Record<string, string>> = Object.freeze({
	day: 'YYYY-MM-DD',
	week: 'IYYY-"W"IW',
	month: 'YYYY-MM',
});

/** The event types computeMetrics counts (any other type is ignored and forms no group). */
export const METRICS_SQL_TYPES: readonly string[] = Object.freeze([
	'sent',
	'failed',
	'skipped',
	'bounced',
	'delayed',
	'delivered',
	'opened',
	'clicked',
	'replied',
	'auto_replied',
	'unsubscribed',
	'complained',
	'inbound',
	'converted',
]);

/**
 * The events columns the metrics SQL reads besides the base schema's: a conversion's `value` and the `forwarded` flag
 * of an open or click. Safe to run again.
 */
export const METRICS_SQL_EVENT_COLUMNS_DDL =
	'ALTER TABLE events ADD COLUMN IF NOT EXISTS value numeric, ADD COLUMN IF NOT EXISTS forwarded boolean NOT NULL DEFAULT false;';

/** The events table read by default (workflows/postgres/schema.sql). */
export const DEFAULT_METRICS_SQL_TABLE = 'events';

/** The characters String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator). */
const JS_WHITE_SPACE = [
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
	0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];
const WHITE_SPACE_LITERAL = `E'${JS_WHITE_SPACE.map((c) => `\\u${c.toString(16).padStart(4, '0')}`).join('')}'`;

export interface MetricsSqlOptions {
	/** Group keys, as Cadence Metrics names them (see METRICS_SQL_COLUMNS and METRICS_SQL_TIME_FORMATS); none gives one total row. */
	groupBy?: readonly string[];
	/** The events table (optionally schema-qualified); default DEFAULT_METRICS_SQL_TABLE. */
	table?: string;
}

/** The query parameter of the SQL ($1), as a JSON text: the time range [from, to) and the time zone of day, week and month. */
export interface MetricsSqlRange {
	/** First instant counted (ISO 8601); none: from the first event. */
	from?: string | null;
	/** End of the range, not included (ISO 8601); none: up to the last event. */
	to?: string | null;
	/** IANA time zone of `day`, `week` and `month`; default UTC. */
	zone?: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** The $1 value for a range; throws RangeError for an unknown time zone or a time that is not one. */
export function metricsSqlParameter(range: MetricsSqlRange = {}): string {
	const zone = range.zone || 'UTC';
	new MetricsCalendar('day', zone);
	for (const [name, value] of [
		['from', range.from],
		['to', range.to],
	] as const)
		if (value !== undefined && value !== null && Number.isNaN(Date.parse(value)))
			throw new RangeError(`"${name}" is not a time: ${JSON.stringify(value)}`);
	return JSON.stringify({ from: range.from ?? null, to: range.to ?? null, zone });
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

function groupExpression(key: string): string {
	const column = METRICS_SQL_COLUMNS[key];
	if (column !== undefined) return `NULLIF(e.${column}, '')`;
	const format = METRICS_SQL_TIME_FORMATS[key];
	if (format !== undefined) return `to_char(e.at AT TIME ZONE coalesce($1::jsonb->>'zone', 'UTC'), '${format}')`;
	const known = [...Object.keys(METRICS_SQL_COLUMNS), ...Object.keys(METRICS_SQL_TIME_FORMATS)].join(', ');
	throw new RangeError(`the store cannot group metrics by "${key}" (it can by ${known}); count the events in Cadence Metrics instead`);
}

// Raw counts (repeats included) and per-message facts, as computeMetrics defines them.
const RAW_COUNTS: ReadonlyArray<[string, string]> = [
	['sent', 'sent'],
	['failed', 'failed'],
	['skipped', 'skipped'],
	['delayed', 'delayed'],
	['opens', 'opened'],
	['clicks', 'clicked'],
	['inbound', 'inbound'],
];
const FACTS: ReadonlyArray<[string, string]> = [
	['u_open', `e.type = 'opened'`],
	['u_human_open', `(e.type = 'opened' AND e.class IN ('human', 'image_proxy')) OR (e.type = 'clicked' AND e.class = 'human')`],
	['u_click', `e.type = 'clicked'`],
	['u_human_click', `e.type = 'clicked' AND e.class = 'human'`],
	['u_bounce', `e.type = 'bounced'`],
	['u_hard', `e.type = 'bounced' AND e.bounce_hard`],
	['u_reply', `e.type = 'replied'`],
	['u_auto', `e.type = 'auto_replied'`],
	['u_unsub', `e.type = 'unsubscribed'`],
	['u_complaint', `e.type = 'complained'`],
];

const rate = (numerator: string, denominator: string) => `CASE WHEN ${denominator} = 0 THEN NULL ELSE (${numerator})::float8 / ${denominator} END`;

/**
 * The SQL of the metrics rows for these group keys. It takes one parameter, `$1`: the JSON text of
 * metricsSqlParameter (time range and zone). Columns: the group keys under their Cadence Metrics names, then every
 * count and rate of a MetricsRow; counts are int, rates float8 (null for a zero denominator). Rows are ordered by
 * their keys (collation C, nulls last). Throws RangeError for a key the store cannot group by.
 */
export function metricsSql(options: MetricsSqlOptions = {}): string {
	const groupBy = [...new Set(options.groupBy ?? [])];
	const table = options.table ?? DEFAULT_METRICS_SQL_TABLE;
	if (!IDENTIFIER.test(table)) throw new RangeError(`"${table}" is not a table name`);
	const g = groupBy.map((key, d) => ({ key, alias: `g${d}`, expr: groupExpression(key) }));
	const gList = (prefix: string) => g.map((x) => `${prefix}${x.alias}`);
	const messageKey = [
		`CASE WHEN e.token <> '' THEN 1 WHEN e.message_id <> '' THEN 2 ELSE 3 END`,
		`CASE WHEN e.token <> '' THEN e.token WHEN e.message_id <> '' THEN e.message_id ELSE lower(btrim(e.email, ${WHITE_SPACE_LITERAL})) END`,
		`CASE WHEN e.token = '' AND e.message_id = '' THEN e.campaign END`,
		`CASE WHEN e.token = '' AND e.message_id = '' THEN e.batch_tag END`,
	];
	const perMessage = [
		...g.map((x) => `${x.expr} AS ${x.alias}`),
		...RAW_COUNTS.map(([name, type]) => `count(*) FILTER (WHERE e.type = '${type}') AS ${name}`),
		...FACTS.map(([name, condition]) => `bool_or(${condition}) AS ${name}`),
	];
	const perMessageGroup = [...g.map((_, d) => String(d + 1)), ...messageKey];
	const perGroup = [
		...gList('m.'),
		...RAW_COUNTS.map(([name]) => `sum(m.${name})::int AS ${name}`),
		...FACTS.map(([name]) => `(count(*) FILTER (WHERE m.${name}))::int AS ${name}`),
	];
	const out = [
		...g.map((x) => `c.${x.alias} AS ${quoteIdent(x.key)}`),
		'c.sent',
		'c.failed',
		'c.skipped',
		'c.u_bounce AS bounced',
		'c.u_hard AS "hardBounced"',
		'c.u_bounce - c.u_hard AS "softBounced"',
		'c.sent - c.u_bounce AS delivered',
		'c.delayed',
		'c.opens',
		'c.u_open AS "uniqueOpens"',
		'c.u_human_open AS "humanUniqueOpens"',
		'c.clicks',
		'c.u_click AS "uniqueClicks"',
		'c.u_human_click AS "humanUniqueClicks"',
		'c.u_reply AS replies',
		'c.u_auto AS "autoReplies"',
		'c.u_unsub AS unsubscribes',
		'c.u_complaint AS complaints',
		'c.inbound',
		'coalesce(k.u_convert, 0) AS conversions',
		'coalesce(k.u_forward, 0) AS forwards',
		`${rate('c.sent - c.u_bounce', 'c.sent')} AS "deliveryRate"`,
		`${rate('c.u_bounce', 'c.sent')} AS "bounceRate"`,
		`${rate('c.u_hard', 'c.sent')} AS "hardBounceRate"`,
		`${rate('c.u_bounce - c.u_hard', 'c.sent')} AS "softBounceRate"`,
		`${rate('c.u_open', '(c.sent - c.u_bounce)')} AS "openRate"`,
		`${rate('c.u_human_open', '(c.sent - c.u_bounce)')} AS "humanOpenRate"`,
		`${rate('c.u_human_click', 'c.u_human_open')} AS "clickThroughRate"`,
		`${rate('c.u_human_click', '(c.sent - c.u_bounce)')} AS "clickRate"`,
		`${rate('c.u_reply', 'c.u_human_open')} AS "replyRate"`,
		`${rate('c.u_unsub', '(c.sent - c.u_bounce)')} AS "unsubscribeRate"`,
		`${rate('c.u_complaint', '(c.sent - c.u_bounce)')} AS "complaintRate"`,
		`${rate('coalesce(k.u_convert, 0)', '(c.sent - c.u_bounce)')} AS "conversionRate"`,
		`${rate('coalesce(k.u_forward, 0)', 'c.u_human_open')} AS "forwardRate"`,
		'coalesce(k.conversion_value, 0::float8) AS "conversionValue"',
	];
	// per-contact facts: only conversions and forwarded opens or clicks, so this pass reads few events
	const contactKey = [
		`CASE WHEN btrim(e.email, ${WHITE_SPACE_LITERAL}) <> '' THEN 0 WHEN e.token <> '' THEN 1 WHEN e.message_id <> '' THEN 2 ELSE 3 END`,
		`CASE WHEN btrim(e.email, ${WHITE_SPACE_LITERAL}) <> '' THEN lower(btrim(e.email, ${WHITE_SPACE_LITERAL})) WHEN e.token <> '' THEN e.token WHEN e.message_id <> '' THEN e.message_id END`,
		`CASE WHEN btrim(e.email, ${WHITE_SPACE_LITERAL}) = '' AND e.token = '' AND e.message_id = '' THEN e.campaign END`,
		`CASE WHEN btrim(e.email, ${WHITE_SPACE_LITERAL}) = '' AND e.token = '' AND e.message_id = '' THEN e.batch_tag END`,
	];
	const forwarded = `e.type IN ('opened', 'clicked') AND e.forwarded`;
	const perContact = [
		...g.map((x) => `${x.expr} AS ${x.alias}`),
		`bool_or(e.type = 'converted') AS u_convert`,
		`bool_or(${forwarded}) AS u_forward`,
		`sum(e.value::float8) FILTER (WHERE e.type = 'converted') AS value`,
	];
	const perContactGroup = [
		...gList('p.'),
		'(count(*) FILTER (WHERE p.u_convert))::int AS u_convert',
		'(count(*) FILTER (WHERE p.u_forward))::int AS u_forward',
		'sum(p.value) AS conversion_value',
	];
	const join = g.length ? g.map((x) => `k.${x.alias} IS NOT DISTINCT FROM c.${x.alias}`).join(' AND ') : 'true';
	const range = `e.at >= coalesce(($1::jsonb->>'from')::timestamptz, '-infinity') AND e.at < coalesce(($1::jsonb->>'to')::timestamptz, 'infinity')`;
	const types = METRICS_SQL_TYPES.map((t) => `'${t}'`).join(', ');
	const order = g.map((x) => `c.${x.alias} COLLATE "C" NULLS LAST`);
	// nested selects rather than WITH: n8n's Postgres node outputs nothing for a SELECT that returns no rows, but a
	// `{ success: true }` item for any other statement
	return [
		`SELECT ${out.join(',\n       ')}`,
		'FROM (',
		`  SELECT ${perGroup.join(', ')}`,
		'  FROM (',
		`    SELECT ${perMessage.join(',\n           ')}`,
		`    FROM ${table} e`,
		`    WHERE e.type IN (${types})`,
		`      AND ${range}`,
		`    GROUP BY ${perMessageGroup.join(', ')}`,
		'  ) m',
		// without group keys the total is one row even over no events, where computeMetrics returns none
		g.length ? `  GROUP BY ${gList('m.').join(', ')}` : '  HAVING count(*) > 0',
		') c',
		'LEFT JOIN (',
		`  SELECT ${perContactGroup.join(', ')}`,
		'  FROM (',
		`    SELECT ${perContact.join(',\n           ')}`,
		`    FROM ${table} e`,
		`    WHERE (e.type = 'converted' OR (${forwarded}))`,
		`      AND ${range}`,
		`    GROUP BY ${[...g.map((_, d) => String(d + 1)), ...contactKey].join(', ')}`,
		'  ) p',
		g.length ? `  GROUP BY ${gList('p.').join(', ')}` : '',
		`) k ON ${join}`,
		order.length ? `ORDER BY ${order.join(', ')}` : '',
	]
		.filter(Boolean)
		.join('\n');
}

/** The contacts table list health reads by default (workflows/postgres/schema.sql). */
export const DEFAULT_LIST_HEALTH_SQL_CONTACTS_TABLE = 'contacts';

export interface ListHealthSqlOptions {
	/** The contacts table; default DEFAULT_LIST_HEALTH_SQL_CONTACTS_TABLE. */
	contacts?: string;
	/** The events table; default DEFAULT_METRICS_SQL_TABLE. */
	events?: string;
}

/** The $1 value of listHealthSql: the period [from, to), and the risk view (default: the list-health defaults). */
export interface ListHealthSqlRange {
	from: string;
	to: string;
	riskPrefixes?: readonly string[];
	riskTags?: readonly string[];
}

/** The $1 value for a period; throws RangeError for a bound that is not a time, or an end not after the start. */
export function listHealthSqlParameter(range: ListHealthSqlRange): string {
	const from = Date.parse(range.from);
	const to = Date.parse(range.to);
	if (Number.isNaN(from) || Number.isNaN(to)) throw new RangeError(`the period must be two times, got ${JSON.stringify([range.from, range.to])}`);
	if (to <= from) throw new RangeError('the period end must be after its start');
	return JSON.stringify({
		from: new Date(from).toISOString(),
		to: new Date(to).toISOString(),
		...(range.riskPrefixes ? { riskPrefixes: range.riskPrefixes.map(tagKey).filter(Boolean) } : {}),
		...(range.riskTags ? { riskTags: range.riskTags.map(tagKey).filter(Boolean) } : {}),
	});
}

/**
 * The SQL of list health over the Postgres store: one row with every count of a ListHealth (as computeListHealth
 * counts them for the same contacts and events), which Cadence Metrics takes on its Contacts input. `$1` is the JSON
 * text of listHealthSqlParameter. A tag is compared as the views compare it (NFKC, lower case, trimmed); the store
 * keeps no time a risk tag was added, so leftRiskTagged is 0. Throws RangeError for a table name that is not one.
 */
export function listHealthSql(options: ListHealthSqlOptions = {}): string {
	const contacts = options.contacts ?? DEFAULT_LIST_HEALTH_SQL_CONTACTS_TABLE;
	const events = options.events ?? DEFAULT_METRICS_SQL_TABLE;
	for (const t of [contacts, events]) if (!IDENTIFIER.test(t)) throw new RangeError(`"${t}" is not a table name`);
	const prefixes = `'${JSON.stringify(DEFAULT_LIST_HEALTH_RISK_PREFIXES.map(tagKey)).replace(/'/g, "''")}'::jsonb`;
	const from = `($1::jsonb->>'from')::timestamptz`;
	const to = `($1::jsonb->>'to')::timestamptz`;
	// a tag as tagKey reads it; printable ASCII is its own NFKC form and holds no white space but the space, so it
	// skips normalize(), the costly part over a million contacts
	const key = `CASE WHEN t ~ '^[ -~]*$' THEN lower(btrim(t)) ELSE lower(btrim(normalize(t, NFKC), ${WHITE_SPACE_LITERAL})) END`;
	// the prefixes as LIKE patterns and the risk tags, built once for all contacts
	const like = `replace(replace(replace(p, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
	const rules = [
		`SELECT ARRAY(SELECT ${like} FROM jsonb_array_elements_text(coalesce($1::jsonb->'riskPrefixes', ${prefixes})) p WHERE p <> '') AS patterns,`,
		`ARRAY(SELECT jsonb_array_elements_text(coalesce($1::jsonb->'riskTags', '[]'::jsonb))) AS tags`,
	].join(' ');
	const risky = `EXISTS (SELECT 1 FROM unnest(c.tag_list) t, LATERAL (SELECT ${key} AS k) x WHERE x.k LIKE ANY (r.patterns) OR x.k = ANY (r.tags))`;
	const email = `lower(btrim(e.email, ${WHITE_SPACE_LITERAL}))`;
	return [
		`SELECT $1::jsonb->>'from' AS "periodStart", $1::jsonb->>'to' AS "periodEnd",`,
		'       (count(c.email))::int AS contacts,',
		'       (count(c.email) FILTER (WHERE NOT c.risky))::int AS effective,',
		'       (count(c.email) FILTER (WHERE c.risky))::int AS "inRiskView",',
		`       (count(c.email) FILTER (WHERE c.created_at < ${from} AND (NOT c.risky OR l.email IS NOT NULL)))::int AS base,`,
		`       (count(c.email) FILTER (WHERE c.created_at >= ${from} AND c.created_at < ${to}))::int AS "newContacts",`,
		'       (count(c.email) FILTER (WHERE l.email IS NOT NULL))::int AS "left",',
		'       (count(c.email) FILTER (WHERE l.unsubscribed))::int AS "leftUnsubscribed",',
		'       (count(c.email) FILTER (WHERE l.complained))::int AS "leftComplained",',
		'       (count(c.email) FILTER (WHERE l.hard_bounced))::int AS "leftHardBounced",',
		'       0 AS "leftRiskTagged",',
		'       (count(*) FILTER (WHERE c.email IS NULL))::int AS "leftNotInContacts"',
		'FROM (',
		`  SELECT c.email, c.created_at, ${risky} AS risky`,
		`  FROM ${contacts} c CROSS JOIN (${rules}) r`,
		') c',
		'FULL JOIN (',
		`  SELECT ${email} AS email, bool_or(e.type = 'unsubscribed') AS unsubscribed, bool_or(e.type = 'complained') AS complained,`,
		`         bool_or(e.type = 'bounced') AS hard_bounced`,
		`  FROM ${events} e`,
		`  WHERE (e.type IN ('unsubscribed', 'complained') OR (e.type = 'bounced' AND e.bounce_hard))`,
		`    AND e.at >= ${from} AND e.at < ${to} AND ${email} <> ''`,
		'  GROUP BY 1',
		') l ON l.email = c.email',
	].join('\n');
}

/**
 * The SQL of what the report shows besides the metrics rows, over the same `$1` as metricsSql (metricsSqlParameter):
 * leads per channel counted by the store (`{ channel, leads, uniqueLeads }` with a null type; a lead is unique when its
 * event says so) and the newest MAX_REPORT_AB_DECISIONS A/B roll-out decisions as `ab_decided` events. Cadence
 * Metrics takes both with the counted rows (isReportExtra). Throws RangeError for a table name that is not one.
 */
export function reportExtrasSql(options: { table?: string } = {}): string {
	const table = options.table ?? DEFAULT_METRICS_SQL_TABLE;
	if (!IDENTIFIER.test(table)) throw new RangeError(`"${table}" is not a table name`);
	const range = `e.at >= coalesce(($1::jsonb->>'from')::timestamptz, '-infinity') AND e.at < coalesce(($1::jsonb->>'to')::timestamptz, 'infinity')`;
	return [
		`SELECT NULL::text AS type, NULLIF(e.channel, '') AS channel, count(*)::int AS leads, (count(*) FILTER (WHERE e.is_unique))::int AS "uniqueLeads",`,
		'       NULL::text AS id, NULL::timestamptz AS at, NULL::text AS campaign, NULL::text AS variant, NULL::text AS reason',
		`FROM ${table} e`,
		`WHERE e.type = 'inbound' AND ${range}`,
		'GROUP BY 2',
		'UNION ALL',
		`(SELECT 'ab_decided', NULL, NULL, NULL, e.event_id, e.at, e.campaign, e.variant, e.reason`,
		` FROM ${table} e`,
		` WHERE e.type = 'ab_decided' AND ${range}`,
		` ORDER BY e.at DESC, e.event_id LIMIT ${MAX_REPORT_AB_DECISIONS})`,
	].join('\n');
}
