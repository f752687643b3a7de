/**
 * Metrics bench: 10,000,000 cadence events (realistic mix: sent 40 %, opened 25 %, delivered 18 %, clicked 5 %,
 * bounced 3 %, skipped 3 %, replies, unsubscribes, complaints...; tokens repeat across a message's events; 1 % of
 * events are replays with the same id) grouped by campaign and day.
 *
 * Measured in the same run: computeMetrics (events/s, heap and RSS), two floors (a bare pass over the fields, and a
 * pass reading every character an exact computation must read), and the same GROUP BY in better-sqlite3
 * (in memory, rows loaded and indexed before timing): once with the same id deduplication and COUNT(DISTINCT token)
 * figures, once as a bare GROUP BY without deduplication (the most generous baseline for SQLite).
 *
 * Ten million event objects take about 4 GB of heap, more than Node's default limit here (~4.3 GB with everything
 * else), so the bench re-runs itself with --max-old-space-size when needed. BENCH_EVENTS=... for a smaller run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { getHeapStatistics } from 'node:v8';
import { computeMetrics, type MetricsRow } from '../../core/metrics';

const N = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const HEAP_MB = 14_000;

if (getHeapStatistics().heap_size_limit < HEAP_MB * 0.9 * 1024 * 1024 && !process.env.METRICS_BENCH_CHILD) {
	const r = spawnSync(process.execPath, ['--expose-gc', `--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', __filename], {
		stdio: 'inherit',
		env: { ...process.env, METRICS_BENCH_CHILD: '1' },
	});
	process.exit(r.status ?? 1);
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (b: number) => Math.round(b / 1024 / 1024);

let seed = 12_345;
const rand = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;

interface BenchEvent {
	id: string;
	type: string;
	at: string;
	email: string;
	campaign: string;
	batchTag: string;
	variant: string;
	token: string;
	class: string | null;
	bounce: { hard: boolean; status: string; reason: string; diagnostic: string } | null;
}

const MIX: Array<[string, number]> = [
	['sent', 0.4],
	['opened', 0.25],
	['delivered', 0.18],
	['clicked', 0.05],
	['bounced', 0.03],
	['skipped', 0.03],
	['replied', 0.02],
	['failed', 0.01],
	['delayed', 0.01],
	['auto_replied', 0.01],
	['unsubscribed', 0.005],
	['inbound', 0.004],
	['complained', 0.001],
];
const CLASSES = ['human', 'human', 'human', 'apple_mpp', 'apple_mpp', 'image_proxy', 'scanner', 'unknown'];
const CAMPAIGNS = Array.from({ length: 20 }, (_, i) => `Campaign ${String(i + 1).padStart(2, '0')}`);
const LANGS = ['English', 'Russian', 'Spanish'];
const SEGMENTS = ['Equipment Dealers', 'Distributors', 'Importers'];
const DAYS = 60;
const START = Date.UTC(2026, 8, 1);

function pickType(): string {
	let r = rand();
	for (const [t, p] of MIX) if ((r -= p) < 0) return t;
	return 'sent';
}

/**
 * Events in time order over 60 days; each non-`sent` event refers to a message sent earlier. Built in chunks that
 * go through JSON.stringify/JSON.parse, so the objects and strings are what a store or webhook would hand over
 * (flat strings, one instance per event, short values internalised by the JSON parser as V8 does).
 */
function makeEvents(n: number): BenchEvent[] {
	const out = new Array<BenchEvent>(n);
	const CHUNK = 100_000;
	let chunkStart = 0;
	const roundTrip = (end: number) => {
		const parsed = JSON.parse(JSON.stringify(out.slice(chunkStart, end))) as BenchEvent[];
		for (let k = 0; k < parsed.length; k++) out[chunkStart + k] = parsed[k];
		chunkStart = end;
	};
	const messages: Array<{ token: string; email: string; campaign: number; tag: string; variant: string }> = [];
	for (let i = 0; i < n; i++) {
		const ms = START + Math.floor((i / n) * DAYS * 86_400_000);
		if (i > 100 && rand() < 0.01) {
			// a replay: the same fact stored twice
			out[i] = out[i - 1 - Math.floor(rand() * 100)];
			if ((i + 1) % CHUNK === 0) roundTrip(i + 1);
			continue;
		}
		let type = pickType();
		if (messages.length < 1000) type = 'sent';
		let m;
		if (type === 'sent' || type === 'failed' || type === 'skipped') {
			const c = Math.floor(rand() * CAMPAIGNS.length);
			const b = 1 + Math.floor(rand() * 30);
			m = {
				token: `tk${i.toString(36)}${Math.floor(rand() * 1e9).toString(36)}`,
				email: `contact${Math.floor(rand() * 1_000_000)}@company${Math.floor(rand() * 50_000)}.com`,
				campaign: c,
				tag: `${LANGS[c % 3]}-${SEGMENTS[(c >> 1) % 3]}-Marketing${String(b).padStart(2, '0')}`,
				variant: rand() < 0.5 ? 'A' : 'B',
			};
			if (type === 'sent') messages.push(m);
		} else {
			// recent messages get most of the engagement; some are opened again and again
			const back = Math.floor(rand() * rand() * Math.min(messages.length, 400_000));
			m = messages[messages.length - 1 - back];
		}
		out[i] = {
			id: `ev_${i.toString(36)}_${Math.floor(rand() * 1e9).toString(36)}`,
			type,
			at: new Date(ms + Math.floor(rand() * 1000)).toISOString(),
			email: m.email,
			campaign: CAMPAIGNS[m.campaign],
			batchTag: m.tag,
			variant: m.variant,
			token: m.token,
			class: type === 'opened' || type === 'clicked' ? CLASSES[Math.floor(rand() * CLASSES.length)] : null,
			bounce: type === 'bounced' ? { hard: rand() < 0.4, status: '5.1.1', reason: 'userunknown', diagnostic: '' } : null,
		};
		if ((i + 1) % CHUNK === 0) roundTrip(i + 1);
	}
	roundTrip(n);
	return out;
}

console.log(`generating ${N.toLocaleString('en')} events...`);
gc();
const heap0 = process.memoryUsage().heapUsed;
const events = makeEvents(N);
gc();
const inputHeap = process.memoryUsage().heapUsed - heap0;
console.log(`input: ${mb(inputHeap)} MB of heap (${Math.round(inputHeap / N)} B per event), RSS ${mb(process.memoryUsage().rss)} MB`);

/** Peak RSS since the last reset (Linux: VmHWM, reset by writing 5 to clear_refs). */
function resetPeakRss(): boolean {
	try {
		writeFileSync('/proc/self/clear_refs', '5');
		return true;
	} catch {
		return false;
	}
}
function peakRss(): number {
	try {
		const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
		return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
	} catch {
		return process.memoryUsage().rss;
	}
}

interface Run {
	seconds: number;
	/** Minor page faults during the run: first writes to fresh memory, slow on some virtual machines. */
	pageFaults: number;
	rssBefore: number;
	peakRss: number;
	heapAfter: number;
	heapBefore: number;
}
function measure<T>(fn: () => T): Run & { value: T } {
	gc();
	const heapBefore = process.memoryUsage().heapUsed;
	// The baseline is the peak counter itself right after its reset: RSS read another way can lag the kernel's
	// counter by hundreds of MB after a GC, which printed negative peaks.
	const rssBefore = resetPeakRss() ? peakRss() : process.memoryUsage().rss;
	const faults0 = process.resourceUsage().minorPageFault;
	const t0 = process.hrtime.bigint();
	const value = fn();
	const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
	const pageFaults = process.resourceUsage().minorPageFault - faults0;
	return { value, seconds, pageFaults, rssBefore, peakRss: peakRss(), heapBefore, heapAfter: process.memoryUsage().heapUsed };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (seconds: number) => N / seconds;
const fmtRate = (seconds: number) => `${(rate(seconds) / 1e6).toFixed(2)} M events/s`;

/** The floor: one pass reading the fields computeMetrics reads, doing almost nothing with them. */
function floorPass(): number {
	let x = 0;
	for (let i = 0; i < events.length; i++) {
		const e = events[i];
		x += e.type.length + e.at.charCodeAt(9) + e.campaign.length + e.id.charCodeAt(3) + e.token.length + (e.class === null ? 0 : 1);
	}
	return x;
}

/** Sum of the UTF-16 units of s[0, end). */
function sumUnits(s: string, end: number): number {
	let x = 0;
	for (let i = 0; i < end; i++) x += s.charCodeAt(i);
	return x;
}

/**
 * The characters floor: every character that any exact computation of these figures has to look at once, summed and
 * nothing else. Exact deduplication must tell apart ids that differ in any one character, a message count must tell
 * apart tokens the same way (for the events that carry a per-message fact), and the day needs the time's date, hour,
 * minute and zone. No grouping, hashing, counting or memory beyond the input: what no implementation over these
 * event objects can beat on this machine.
 */
function charactersPass(): number {
	let x = 0;
	for (let i = 0; i < events.length; i++) {
		const e = events[i];
		const t = e.type;
		const at = e.at;
		x += sumUnits(e.id, e.id.length) + sumUnits(at, 16) + at.charCodeAt(at.length - 1) + e.campaign.length + (e.class === null ? 0 : 1);
		if (t !== 'sent' && t !== 'delivered' && t !== 'skipped' && t !== 'failed' && t !== 'delayed' && t !== 'inbound')
			x += sumUnits(e.token, e.token.length);
	}
	return x;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const floorTimes: number[] = [];
const characterTimes: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
	floorTimes.push(measure(floorPass).seconds);
	characterTimes.push(measure(charactersPass).seconds);
}
console.log(`floor (one pass reading the same fields): ${fmtRate(median(floorTimes))}`);
console.log(`characters floor (every character an exact computation must read: ids, times, tokens of facts): ${fmtRate(median(characterTimes))}`);

/** What this machine charges for fresh memory: first writes to 256 MB of new pages (one byte per 4 KB page). */
function freshMemoryMsPerMB(): number {
	const bytes = 256 * 1024 * 1024;
	const t0 = process.hrtime.bigint();
	const pages = new Uint8Array(new SharedArrayBuffer(bytes));
	for (let i = 0; i < bytes; i += 4096) pages[i] = 1;
	return Number(process.hrtime.bigint() - t0) / 1e6 / 256;
}
const freshMs = freshMemoryMsPerMB();
console.log(`fresh memory on this machine: ${freshMs.toFixed(2)} ms per MB first written (page faults)`);

computeMetrics(events.slice(0, 200_000), { groupBy: ['campaign', 'day'] }); // warm-up
const ourRuns: Run[] = [];
let rows: MetricsRow[] = [];
for (let r = 0; r < ROUNDS; r++) {
	const run = measure(() => computeMetrics(events, { groupBy: ['campaign', 'day'], timeZone: 'UTC' }));
	rows = run.value;
	ourRuns.push(run);
	console.log(
		`computeMetrics (campaign, day; UTC) round ${r + 1}: ${run.seconds.toFixed(2)} s = ${fmtRate(run.seconds)}, peak RSS +${mb(run.peakRss - run.rssBefore)} MB, ${run.pageFaults.toLocaleString('en')} page faults`,
	);
}
const berlin = measure(() => computeMetrics(events, { groupBy: ['campaign', 'day'], timeZone: 'Europe/Berlin' }));
console.log(`computeMetrics (campaign, day; Europe/Berlin): ${berlin.seconds.toFixed(2)} s = ${fmtRate(berlin.seconds)}`);
const oursSeconds = median(ourRuns.map((r) => r.seconds));
const oursExtraRss = Math.max(...ourRuns.map((r) => r.peakRss - r.rssBefore));

// ---- SQLite: same data, loaded and indexed before timing
console.log('loading SQLite (in memory)...');
const db = new Database(':memory:');
db.pragma('journal_mode = OFF');
db.pragma('synchronous = OFF');
db.pragma('cache_size = -4000000');
db.pragma('temp_store = MEMORY');
db.exec('CREATE TABLE events (id TEXT, type TEXT, at TEXT, campaign TEXT, token TEXT, class TEXT, hard INTEGER)');
const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)');
const load = db.transaction((from: number, to: number) => {
	for (let i = from; i < to; i++) {
		const e = events[i];
		insert.run(e.id, e.type, e.at, e.campaign, e.token, e.class, e.bounce?.hard ? 1 : 0);
	}
});
const tLoad = process.hrtime.bigint();
for (let i = 0; i < N; i += 500_000) load(i, Math.min(N, i + 500_000));
db.exec('CREATE INDEX events_id ON events (id)');
console.log(`loaded in ${(Number(process.hrtime.bigint() - tLoad) / 1e9).toFixed(1)} s`);

const FIGURES = `
	SUM(type = 'sent') AS sent, SUM(type = 'failed') AS failed, SUM(type = 'skipped') AS skipped,
	SUM(type = 'delayed') AS delayed, SUM(type = 'opened') AS opens, SUM(type = 'clicked') AS clicks,
	SUM(type = 'inbound') AS inbound,
	COUNT(DISTINCT CASE WHEN type = 'opened' THEN token END) AS uniqueOpens,
	COUNT(DISTINCT CASE WHEN (type = 'opened' AND class IN ('human', 'image_proxy')) OR (type = 'clicked' AND class = 'human') THEN token END) AS humanUniqueOpens,
	COUNT(DISTINCT CASE WHEN type = 'clicked' THEN token END) AS uniqueClicks,
	COUNT(DISTINCT CASE WHEN type = 'clicked' AND class = 'human' THEN token END) AS humanUniqueClicks,
	COUNT(DISTINCT CASE WHEN type = 'bounced' THEN token END) AS bounced,
	COUNT(DISTINCT CASE WHEN type = 'bounced' AND hard = 1 THEN token END) AS hardBounced,
	COUNT(DISTINCT CASE WHEN type = 'replied' THEN token END) AS replies,
	COUNT(DISTINCT CASE WHEN type = 'auto_replied' THEN token END) AS autoReplies,
	COUNT(DISTINCT CASE WHEN type = 'unsubscribed' THEN token END) AS unsubscribes,
	COUNT(DISTINCT CASE WHEN type = 'complained' THEN token END) AS complaints`;
const sqlDedup = db.prepare(`SELECT campaign, substr(at, 1, 10) AS day, ${FIGURES}
	FROM events WHERE rowid IN (SELECT MIN(rowid) FROM events GROUP BY id)
	GROUP BY campaign, day ORDER BY campaign, day`);
// the same figures in two steps: per (campaign, day, message) first, then per group; often faster in SQLite than
// ten COUNT(DISTINCT ...) columns, so the better of the two formulations is SQLite's figure
const sqlTwoLevel = db.prepare(`WITH d AS (SELECT * FROM events WHERE rowid IN (SELECT MIN(rowid) FROM events GROUP BY id)),
	m AS (SELECT campaign, substr(at, 1, 10) AS day,
		SUM(type = 'sent') AS sent, SUM(type = 'failed') AS failed, SUM(type = 'skipped') AS skipped,
		SUM(type = 'delayed') AS delayed, SUM(type = 'opened') AS opens, SUM(type = 'clicked') AS clicks,
		SUM(type = 'inbound') AS inbound,
		MAX(type = 'opened') AS o, MAX((type = 'opened' AND class IN ('human', 'image_proxy')) OR (type = 'clicked' AND class = 'human')) AS ho,
		MAX(type = 'clicked') AS c, MAX(type = 'clicked' AND class = 'human') AS hc,
		MAX(type = 'bounced') AS b, MAX(type = 'bounced' AND hard = 1) AS hb, MAX(type = 'replied') AS r,
		MAX(type = 'auto_replied') AS ar, MAX(type = 'unsubscribed') AS u, MAX(type = 'complained') AS k
		FROM d GROUP BY campaign, day, token)
	SELECT campaign, day, SUM(sent) AS sent, SUM(failed) AS failed, SUM(skipped) AS skipped, SUM(delayed) AS delayed,
		SUM(opens) AS opens, SUM(clicks) AS clicks, SUM(inbound) AS inbound, SUM(o) AS uniqueOpens,
		SUM(ho) AS humanUniqueOpens, SUM(c) AS uniqueClicks, SUM(hc) AS humanUniqueClicks, SUM(b) AS bounced,
		SUM(hb) AS hardBounced, SUM(r) AS replies, SUM(ar) AS autoReplies, SUM(u) AS unsubscribes, SUM(k) AS complaints
	FROM m GROUP BY campaign, day ORDER BY campaign, day`);
const sqlRaw = db.prepare(`SELECT campaign, substr(at, 1, 10) AS day, ${FIGURES}
	FROM events GROUP BY campaign, day ORDER BY campaign, day`);

const sqlRuns: Run[] = [];
let sqlRows: Array<Record<string, unknown>> = [];
const SQL_ROUNDS = Math.max(1, Math.min(ROUNDS, Number(process.env.BENCH_SQL_ROUNDS ?? 2)));
for (let r = 0; r < SQL_ROUNDS; r++) {
	const run = measure(() => sqlDedup.all() as Array<Record<string, unknown>>);
	sqlRows = run.value;
	sqlRuns.push(run);
	console.log(`SQLite GROUP BY, same dedup by id + COUNT(DISTINCT token) round ${r + 1}: ${run.seconds.toFixed(2)} s = ${fmtRate(run.seconds)}`);
}
const twoLevelRuns: Run[] = [];
let twoLevelRows: Array<Record<string, unknown>> = [];
for (let r = 0; r < SQL_ROUNDS; r++) {
	const run = measure(() => sqlTwoLevel.all() as Array<Record<string, unknown>>);
	twoLevelRows = run.value;
	twoLevelRuns.push(run);
	console.log(
		`SQLite two-level GROUP BY (per message, then per group), same dedup round ${r + 1}: ${run.seconds.toFixed(2)} s = ${fmtRate(run.seconds)}`,
	);
}
const rawRun = measure(() => sqlRaw.all());
console.log(`SQLite GROUP BY without dedup (more generous to SQLite): ${rawRun.seconds.toFixed(2)} s = ${fmtRate(rawRun.seconds)}`);
// SQLite gets its best round (ours gets the median): the conservative side for our ratio
const sqlCountDistinctSeconds = Math.min(...sqlRuns.map((r) => r.seconds));
const sqlTwoLevelSeconds = Math.min(...twoLevelRuns.map((r) => r.seconds));
const sqlSeconds = Math.min(sqlCountDistinctSeconds, sqlTwoLevelSeconds);

// the two must agree, figure by figure
const KEYS = [
	'sent',
	'failed',
	'skipped',
	'delayed',
	'opens',
	'clicks',
	'inbound',
	'uniqueOpens',
	'humanUniqueOpens',
	'uniqueClicks',
	'humanUniqueClicks',
	'bounced',
	'hardBounced',
	'replies',
	'autoReplies',
	'unsubscribes',
	'complaints',
];
let mismatches = 0;
for (const other of [sqlRows, twoLevelRows]) {
	if (other.length !== rows.length) mismatches++;
	for (let i = 0; i < Math.min(rows.length, other.length); i++)
		for (const k of ['campaign', 'day', ...KEYS]) if (rows[i][k] !== other[i][k]) mismatches++;
}
console.log(`results agree with SQLite: ${mismatches === 0 ? 'yes' : `NO (${mismatches} differences)`} (${rows.length} groups)`);

const result = {
	events: N,
	groups: rows.length,
	inputHeapMB: mb(inputHeap),
	floorEventsPerSecond: Math.round(rate(median(floorTimes))),
	oursEventsPerSecond: Math.round(rate(oursSeconds)),
	oursSeconds: ourRuns.map((r) => Number(r.seconds.toFixed(3))),
	oursBerlinEventsPerSecond: Math.round(rate(berlin.seconds)),
	oursPeakExtraRssMB: mb(oursExtraRss),
	oursPageFaults: ourRuns.map((r) => r.pageFaults),
	freshMemoryMsPerMB: Number(freshMs.toFixed(3)),
	sqliteEventsPerSecond: Math.round(rate(sqlSeconds)),
	sqliteCountDistinctSeconds: sqlRuns.map((r) => Number(r.seconds.toFixed(3))),
	sqliteTwoLevelSeconds: twoLevelRuns.map((r) => Number(r.seconds.toFixed(3))),
	sqliteNoDedupEventsPerSecond: Math.round(rate(rawRun.seconds)),
	ratioVsSqlite: Number((sqlSeconds / oursSeconds).toFixed(2)),
	ratioVsSqliteNoDedup: Number((rawRun.seconds / oursSeconds).toFixed(2)),
	ratioVsFloor: Number((oursSeconds / median(floorTimes)).toFixed(2)),
	charactersFloorEventsPerSecond: Math.round(rate(median(characterTimes))),
	ratioVsCharactersFloor: Number((oursSeconds / median(characterTimes)).toFixed(2)),
	agreesWithSqlite: mismatches === 0,
	goal: { eventsPerSecond: 5_000_000, atLeastSqlite: true },
	loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
	node: process.version,
};
console.log(
	`\ncomputeMetrics: ${fmtRate(oursSeconds)} (median of ${ROUNDS}); ${result.ratioVsSqlite}× SQLite's faster formulation with the same dedup, ${result.ratioVsSqliteNoDedup}× SQLite without dedup; ${result.ratioVsFloor}× the bare read pass, ${result.ratioVsCharactersFloor}× the characters floor`,
);
console.log(
	`goal 5 M events/s: ${result.oursEventsPerSecond >= 5e6 ? 'met' : `not met; the characters floor alone runs at ${fmtRate(median(characterTimes))} here`}`,
);
console.log(`memory: input ${mb(inputHeap)} MB heap; computeMetrics peak RSS +${result.oursPeakExtraRssMB} MB over the input`);
console.log(`load average during the run: ${result.loadAverage.join(' ')} (shared 2-core machine: absolute figures are noisy, ratios less so)`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/metrics.json', JSON.stringify(result, null, 2) + '\n');
if (mismatches) process.exit(1);
