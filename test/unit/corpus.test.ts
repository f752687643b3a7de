/**
 * The bounce corpus (../shared/corpus/bounces, Sisimai's set-of-emails) as a test: agreement of classifyMessage with
 * expected.json, printed overall and per vendor prefix, failing below the agreement floors.
 *
 * Metrics (rows are matched per file by position; a missing or extra row counts as a disagreement):
 * - bounce-or-not, per file: expected has a row whose reason is not vacation/feedback/delivered  <=>  kind is
 *   'bounce' or 'delay'.
 * - status / reason / hard, per expected row: the i-th row produced for the file has the same status string, reason,
 *   and hard flag as the i-th expected row. Produced rows: the bounce rows for bounce/delay/delivered, one
 *   ['', '', 'vacation', 0] row for auto_reply, one ['', '', 'feedback', 0, type] row per complaint.
 * Goals: hard/soft >= 97 %, status >= 95 %; reason is reported (aim >= 85 %) and guarded at 85 %.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyMessage, type Classification } from '../../core/classify';

export const CORPUS_DIR = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');

type ExpectedRow = [status: string, replyCode: string, reason: string, hard: 0 | 1, feedbackType: string | null];
type ActualRow = ExpectedRow;

export function rowsOf(c: Classification): ActualRow[] {
	switch (c.kind) {
		case 'bounce':
		case 'delay':
		case 'delivered':
			return c.bounces.map((b) => [b.status, b.replyCode, b.reason, b.hard ? 1 : 0, null]);
		case 'auto_reply':
			return [['', '', 'vacation', 0, null]];
		case 'complaint':
			return [['', '', 'feedback', 0, c.feedbackType ?? null]];
		default:
			return [];
	}
}

const NOT_BOUNCE = new Set(['vacation', 'feedback', 'delivered']);

interface Tally {
	files: number;
	bounceOk: number;
	rows: number;
	status: number;
	reason: number;
	hard: number;
}

function emptyTally(): Tally {
	return { files: 0, bounceOk: 0, rows: 0, status: 0, reason: 0, hard: 0 };
}

export function measureCorpus() {
	const expected = JSON.parse(readFileSync(join(CORPUS_DIR, 'expected.json'), 'utf8')) as Record<string, ExpectedRow[]>;
	const files = readdirSync(CORPUS_DIR)
		.filter((f) => f.endsWith('.eml'))
		.sort();
	const total = emptyTally();
	const byVendor = new Map<string, Tally>();
	const mismatches: string[] = [];
	for (const file of files) {
		const want = expected[file];
		if (!want) continue;
		const got = rowsOf(classifyMessage(readFileSync(join(CORPUS_DIR, file))));
		const vendor = file.replace(/-\d+\.eml$/, '');
		const v = byVendor.get(vendor) ?? emptyTally();
		byVendor.set(vendor, v);
		const expectBounce = want.some((r) => !NOT_BOUNCE.has(r[2]));
		const gotBounce = got.some((r) => !NOT_BOUNCE.has(r[2]));
		for (const t of [total, v]) {
			t.files++;
			if (expectBounce === gotBounce) t.bounceOk++;
		}
		want.forEach((w, i) => {
			const g = got[i];
			for (const t of [total, v]) {
				t.rows++;
				if (g && g[0] === w[0]) t.status++;
				if (g && g[2] === w[2]) t.reason++;
				if (g && g[3] === w[3]) t.hard++;
			}
			if (!g || g[0] !== w[0] || g[2] !== w[2] || g[3] !== w[3])
				mismatches.push(`${file}#${i}: want ${w[0]} ${w[2]} ${w[3]} got ${g ? `${g[0]} ${g[2]} ${g[3]}` : '(none)'}`);
		});
		if (got.length > want.length) mismatches.push(`${file}: ${got.length - want.length} extra row(s)`);
	}
	return { total, byVendor, mismatches };
}

const pct = (n: number, d: number) => (d === 0 ? 100 : (100 * n) / d);
const fmt = (n: number, d: number) => `${pct(n, d).toFixed(1).padStart(5)}%`;

describe('bounce corpus agreement', () => {
	it('meets the agreement floors (hard/soft >= 97 %, status >= 95 %)', () => {
		const { total, byVendor, mismatches } = measureCorpus();
		const lines = [
			`corpus: ${total.files} files, ${total.rows} expected rows`,
			`  bounce-or-not ${fmt(total.bounceOk, total.files)}  status ${fmt(total.status, total.rows)}  reason ${fmt(total.reason, total.rows)}  hard/soft ${fmt(total.hard, total.rows)}`,
			'  per vendor (files rows: bounce status reason hard):',
		];
		for (const [vendor, t] of [...byVendor.entries()].sort()) {
			lines.push(
				`    ${vendor.padEnd(26)} ${String(t.files).padStart(3)} ${String(t.rows).padStart(3)}: ${fmt(t.bounceOk, t.files)} ${fmt(t.status, t.rows)} ${fmt(t.reason, t.rows)} ${fmt(t.hard, t.rows)}`,
			);
		}
		if (mismatches.length > 0) lines.push(`  disagreements (${mismatches.length}):`, ...mismatches.map((m) => `    ${m}`));
		console.log(lines.join('\n'));
		expect(total.files).toBeGreaterThan(250);
		expect(pct(total.hard, total.rows)).toBeGreaterThanOrEqual(97);
		expect(pct(total.status, total.rows)).toBeGreaterThanOrEqual(95);
		expect(pct(total.reason, total.rows)).toBeGreaterThanOrEqual(85);
		expect(pct(total.bounceOk, total.files)).toBeGreaterThanOrEqual(97);
	});
});
