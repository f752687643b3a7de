/**
 * Views bench: 1,000,000 synthetic contacts (2–5 tags each, 50,000 domains). Select today's due batch and apply
 * the silent-cadence views in the core; contacts per second and memory against the input's own size.
 * Baseline in the same run: one pass over the same contacts doing only a trivial check (the floor of iterating).
 */
import { writeFileSync } from 'node:fs';
import { applyViews, DEFAULT_EXCLUDED_VIEWS, presetViews } from '../../core/views';
import { selectDueContacts } from '../../core/select';
import { TagClassifier } from '../../core/tags';

const N = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const DOMAINS = 50_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function rng(seed: number) {
	return () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
}
const rand = rng(42);
const languages = ['English', 'Russian', 'Spanish'];
const segments = ['Equipment Dealers', 'Distributors', 'Importers'];
const tlds = ['com', 'de', 'co.uk', 'ru', 'es', 'com.br', 'cn', 'qq.com', 'org', 'in'];
const locals = ['info', 'sales', 'john', 'maria', 'hr', 'purchasing', 'noreply', 'ivan', 'ceo', 'office'];
const extra = ['VIP', 'Trade show 2025', 'Intent-Asked price', 'Risk-Unsubscribed', 'Risk-Hard bounce', 'Customer-2024'];

function makeContacts() {
	const out = new Array<{ email: string; tags: string[] }>(N);
	for (let i = 0; i < N; i++) {
		const d = Math.floor(rand() * DOMAINS);
		const lang = languages[d % 3];
		const seg = segments[(d >> 2) % 3];
		const batch = 1 + Math.floor(rand() * 30);
		const tags = [`${lang}-${seg}-Marketing${batch < 10 ? '0' : ''}${batch}`];
		const n = 2 + Math.floor(rand() * 4);
		if (rand() < 0.15) tags.push(`${lang}-${seg}-Read${String(((batch - 1) % 10) + 1).padStart(2, '0')}`);
		while (tags.length < n) tags.push(rand() < 0.9 ? extra[Math.floor(rand() * 3) % 2 === 0 ? 0 : 1] : extra[Math.floor(rand() * extra.length)]);
		out[i] = { email: `${locals[Math.floor(rand() * locals.length)]}${i % 7 === 0 ? '' : i}@company${d}.${tlds[d % tlds.length]}`, tags };
	}
	return out;
}

gc();
const before = process.memoryUsage().heapUsed;
const contacts = makeContacts();
gc();
const inputBytes = process.memoryUsage().heapUsed - before;

const date = '2026-07-09';
const views = presetViews();
function run() {
	const tags = new TagClassifier();
	const due = selectDueContacts(contacts, { cadence: 'silent', date, tagClassifier: tags });
	const dueContacts = due.map((d) => contacts[d.index]);
	const r = applyViews(dueContacts, { views, exclude: DEFAULT_EXCLUDED_VIEWS.silent, tagClassifier: tags });
	return { due: due.length, kept: r.kept.length, excluded: r.excluded.length };
}
function viewsOnAll() {
	return applyViews(contacts, { views, exclude: DEFAULT_EXCLUDED_VIEWS.silent, domainCap: 0 }).kept.length;
}
function baseline() {
	let n = 0;
	for (let i = 0; i < contacts.length; i++) if (contacts[i].tags.length > 2 && contacts[i].email.length > 5) n++;
	return n;
}

const rounds = 7;
const times: number[] = [];
const baseTimes: number[] = [];
let peak = 0;
let result = run();
for (let r = 0; r < rounds; r++) {
	gc();
	const h0 = process.memoryUsage().heapUsed;
	let t = process.hrtime.bigint();
	result = run();
	times.push(Number(process.hrtime.bigint() - t) / 1e9);
	peak = Math.max(peak, process.memoryUsage().heapUsed - h0);
	t = process.hrtime.bigint();
	baseline();
	baseTimes.push(Number(process.hrtime.bigint() - t) / 1e9);
}
const allTimes: number[] = [];
for (let r = 0; r < 3; r++) {
	gc();
	const t = process.hrtime.bigint();
	viewsOnAll();
	allTimes.push(Number(process.hrtime.bigint() - t) / 1e9);
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const secs = median(times);
const rate = N / secs;
const out = {
	contacts: N,
	due: result.due,
	kept: result.kept,
	excluded: result.excluded,
	medianSeconds: secs,
	contactsPerSecond: Math.round(rate),
	goalContactsPerSecond: 2_000_000,
	viewsOnEveryContactPerSecond: Math.round(N / median(allTimes)),
	baselineLoopPerSecond: Math.round(N / median(baseTimes)),
	inputHeapMB: +(inputBytes / 2 ** 20).toFixed(1),
	extraHeapDuringRunMB: +(peak / 2 ** 20).toFixed(1),
	extraHeapRatioToInput: +(peak / inputBytes).toFixed(3),
	rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
};
console.log(
	`selection + silent views: ${out.contactsPerSecond.toLocaleString()} contacts/s (goal ≥ 2,000,000; ${(rate / 2e6).toFixed(2)}× the goal)`,
);
console.log(`  due ${out.due}, kept ${out.kept}, excluded ${out.excluded}; bare loop ${out.baselineLoopPerSecond.toLocaleString()}/s`);
console.log(
	`  the silent views alone over all ${N.toLocaleString()} contacts (not only the due ones): ${out.viewsOnEveryContactPerSecond.toLocaleString()} contacts/s`,
);
console.log(
	`  input ${out.inputHeapMB} MB on the heap; the run allocated at most ${out.extraHeapDuringRunMB} MB more (${out.extraHeapRatioToInput}× the input; goal: total within 2× input)`,
);
writeFileSync('bench-results/views.json', JSON.stringify(out, null, 2));
