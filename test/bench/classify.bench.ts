/**
 * Classifier bench: messages per second of classifyMessage over the bounce corpus (all files loaded into memory first,
 * several rounds, median), on one core. Baseline in the same run, rounds interleaved: mailparser's simpleParser over
 * the same messages (parsing only, no classification), to show the ratio. Writes bench-results/classify.json.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { classifyMessage } from '../../core/classify';

const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Passes over the corpus per classify round, so a round lasts long enough (~0.3 s) to not be one time slice. */
const PASSES = Number(process.env.BENCH_PASSES ?? 10);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const messages = readdirSync(CORPUS)
	.filter((f) => f.endsWith('.eml'))
	.sort()
	.map((f) => readFileSync(join(CORPUS, f)));
const bytes = messages.reduce((n, m) => n + m.length, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function classifyRound(): number {
	const t0 = process.hrtime.bigint();
	let kinds = 0;
	for (let p = 0; p < PASSES; p++) for (const m of messages) if (classifyMessage(m).kind !== 'other') kinds++;
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	if (kinds === 0) throw new Error('nothing classified');
	return ((messages.length * PASSES) / ms) * 1000;
}

async function parserRound(): Promise<number> {
	const t0 = process.hrtime.bigint();
	for (const m of messages) await simpleParser(m, { skipHtmlToText: false });
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	return (messages.length / ms) * 1000;
}

async function main() {
	classifyRound(); // warm-up (JIT)
	await parserRound();
	gc();
	const heapBefore = process.memoryUsage().heapUsed;
	// Rounds of both alternate, so load from other processes on this shared machine hits both alike.
	const rates: number[] = [];
	const baseline: number[] = [];
	for (let r = 0; r < ROUNDS; r++) {
		gc();
		rates.push(classifyRound());
		gc();
		baseline.push(await parserRound());
	}
	const heapAfter = process.memoryUsage().heapUsed;
	const result = {
		messages: messages.length,
		corpusBytes: bytes,
		rounds: ROUNDS,
		classifyMessagesPerSecond: Math.round(median(rates)),
		classifyRoundsPerSecond: rates.map((r) => Math.round(r)),
		mailparserMessagesPerSecond: Math.round(median(baseline)),
		ratioVsMailparser: Number((median(rates) / median(baseline)).toFixed(2)),
		classifyMegabytesPerSecond: Number(((median(rates) * bytes) / messages.length / 1e6).toFixed(1)),
		heapGrowthMB: Number(((heapAfter - heapBefore) / 1e6).toFixed(1)),
		classifyBestRoundMessagesPerSecond: Math.round(Math.max(...rates)),
		ratioPerRound: rates.map((r, i) => Number((r / baseline[i]).toFixed(2))),
		loadAverage1m: Number(loadavg()[0].toFixed(2)),
		goalMessagesPerSecond: 5000,
		node: process.version,
	};
	console.log(
		[
			`classify: ${result.messages} corpus messages (${(bytes / 1e6).toFixed(2)} MB), median of ${ROUNDS} rounds on one core`,
			`  classifyMessage         ${result.classifyMessagesPerSecond.toLocaleString('en')} msg/s median, best round ${result.classifyBestRoundMessagesPerSecond.toLocaleString('en')}  (${result.classifyMegabytesPerSecond} MB/s; rounds ${result.classifyRoundsPerSecond.join(', ')})`,
			`  mailparser simpleParser ${result.mailparserMessagesPerSecond.toLocaleString('en')} msg/s  (parse only, baseline)`,
			`  ratio                   ${result.ratioVsMailparser}x mailparser (per round ${result.ratioPerRound.join(', ')}); load average ${result.loadAverage1m}`,
			`  goal ${result.goalMessagesPerSecond} msg/s ${result.classifyMessagesPerSecond >= 5000 ? 'met' : 'NOT met'} (median)`,
		].join('\n'),
	);
	mkdirSync('bench-results', { recursive: true });
	writeFileSync(join('bench-results', 'classify.json'), JSON.stringify(result, null, 2) + '\n');
}

void main();
