/**
 * Reply intent: replies per second over the labelled set (test/fixtures/replies, all loaded first, several rounds,
 * median), and the time of pathological 1 MB bodies against the median legitimate reply per byte. Writes
 * bench-results/replyIntent.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { classifyReplyIntent } from '../../core/classify/replyIntent';

const SET: Array<{ subject: string; body: string; from: string }> = JSON.parse(
	readFileSync(join(__dirname, '..', 'fixtures', 'replies', 'replies.json'), 'utf8'),
);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PASSES = Number(process.env.BENCH_PASSES ?? 5);
const MB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function round(): number {
	const t0 = process.hrtime.bigint();
	let n = 0;
	for (let p = 0; p < PASSES; p++) for (const r of SET) if (classifyReplyIntent(r.subject, r.body, { sender: r.from }).intent) n++;
	return Number(process.hrtime.bigint() - t0) / 1e6 / n;
}

const msPerReply = median(Array.from({ length: ROUNDS }, round));
const bytesPerReply = SET.reduce((a, r) => a + r.body.length, 0) / SET.length;

const hostile: Record<string, string> = {
	letters: 'a'.repeat(MB),
	phrases: 'not interested but send price list? '.repeat(MB / 36),
	binary: Buffer.from(Array.from({ length: MB }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1'),
	quoteLines: '> quoted\n'.repeat(MB / 9),
	turkish: 'ş'.repeat(MB),
	addressRun: 'a.'.repeat(MB / 4) + '@' + 'b-'.repeat(MB / 4),
	tags: '<div '.repeat(MB / 5),
	cjk: '我们不感兴趣价格'.repeat(MB / 8),
};
const hostileMs: Record<string, number> = {};
for (const [name, body] of Object.entries(hostile)) {
	const times: number[] = [];
	for (let i = 0; i < 3; i++) {
		const t0 = process.hrtime.bigint();
		classifyReplyIntent('Re: x', body);
		times.push(Number(process.hrtime.bigint() - t0) / 1e6);
	}
	hostileMs[name] = Math.min(...times);
}
const worst = Math.max(...Object.values(hostileMs));
const result = {
	replies: SET.length,
	msPerReply: Number(msPerReply.toFixed(4)),
	repliesPerSecond: Math.round(1000 / msPerReply),
	meanBodyBytes: Math.round(bytesPerReply),
	hostileMsPer1MB: Object.fromEntries(Object.entries(hostileMs).map(([k, v]) => [k, Number(v.toFixed(2))])),
	worstHostileMs: Number(worst.toFixed(2)),
	loadavg: loadavg()[0],
};
console.log(result);
mkdirSync(join(__dirname, '..', '..', 'bench-results'), { recursive: true });
writeFileSync(join(__dirname, '..', '..', 'bench-results', 'replyIntent.json'), JSON.stringify(result, null, '\t') + '\n');
