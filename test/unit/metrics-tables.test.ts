import { describe, expect, it } from 'vitest';
import { computeMetricsDetailed } from '../../core/metrics';
import { appendFingerprint96, hash32 } from '../../core/metrics/fingerprint';
import { PartitionedRecords, partitionBits } from '../../core/metrics/partitionedRecords';

/** Every record of partition p, as [offset, first field, second field], walking its blocks. */
function partition(records: PartitionedRecords, p: number): number[][] {
	const out: number[][] = [];
	for (let block = records.firstBlock(p); block >= 0; block = records.nextBlock(block))
		for (let o = block; o < records.blockEnd(p, block); o += records.width) out.push([o, records.data[o], records.data[o + 1]]);
	return out;
}

describe('PartitionedRecords', () => {
	it('gives back each partition its own records, in the order they came, across many blocks', () => {
		let seed = 99;
		const rand32 = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) | 0);
		const n = 50_000;
		const records = new PartitionedRecords(2, n, 4);
		const expected: number[][] = Array.from({ length: 16 }, () => []);
		for (let i = 0; i < n; i++) {
			const h = rand32();
			const o = records.append(h);
			records.data[o] = h;
			records.data[o + 1] = i;
			expected[h >>> 28].push(i);
		}
		let total = 0;
		for (let p = 0; p < 16; p++) {
			const got = partition(records, p);
			expect(got.map((r) => r[2])).toEqual(expected[p]);
			expect(got.every((r) => r[1] >>> 28 === p)).toBe(true);
			expect(records.counts[p]).toBe(expected[p].length);
			total += got.length;
		}
		expect(total).toBe(n);
		expect(records.maxCount()).toBe(Math.max(...expected.map((e) => e.length)));
	});

	it('works with one partition and with none filled', () => {
		const one = new PartitionedRecords(3, 10, 0);
		for (let i = 0; i < 10; i++) one.data[one.append(-i) + 2] = i;
		expect(partition(one, 0).map(([o]) => one.data[o + 2])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
		const empty = new PartitionedRecords(3, 0, 2);
		expect([0, 1, 2, 3].map((p) => empty.firstBlock(p))).toEqual([-1, -1, -1, -1]);
		expect(empty.maxCount()).toBe(0);
	});

	it('sizes partitions to about 16k records, at most 1024', () => {
		expect(partitionBits(1000)).toBe(0);
		expect(partitionBits(100_000)).toBe(3);
		expect(partitionBits(1e9)).toBe(10);
	});
});

describe('fingerprints', () => {
	const r = new PartitionedRecords(3, 1_000_000, 0);
	let used = 0;
	const fingerprint = (s: string, seed = 0): string => {
		// a fresh pool when this one is full (records are only read back right here)
		if (++used === 1_000_000) throw new Error('test pool full');
		const o = appendFingerprint96(r, s, seed);
		return `${r.data[o]},${r.data[o + 1]},${r.data[o + 2]}`;
	};

	it('tells apart 780,000 strings that differ in one place, high bits and odd tails included', () => {
		const inputs = new Set<string>();
		const base = 'tk0123456789abcdefghij';
		// one character replaced by any 16-bit value (bit 15 included)
		for (let pos = 0; pos < base.length; pos++)
			for (let c = 0; c < 65_536; c += c < 1024 ? 1 : 7) inputs.add(base.slice(0, pos) + String.fromCharCode(c) + base.slice(pos + 1));
		// odd and even lengths, with and without a trailing NUL
		for (let i = 0; i < 280_000; i++) {
			inputs.add(`ev_${i.toString(36)}`);
			inputs.add(`ev_${i.toString(36)}\u0000`);
		}
		// flipping the top bit of two characters cancels in a plain multiply chain; not here
		inputs.add('a\u8000b\u8000');
		inputs.add('a\u0000b\u0000');
		const fingerprints = new Set<string>();
		for (const s of inputs) fingerprints.add(fingerprint(s));
		expect(inputs.size).toBeGreaterThan(780_000);
		expect(fingerprints.size).toBe(inputs.size);
	});

	it('depends on the seed (the group), and never gives 0 in the first lane', () => {
		expect(fingerprint('tk1', 1)).not.toBe(fingerprint('tk1', 2));
		expect(fingerprint('tk1', 1)).toBe(fingerprint('tk1', 1));
		for (let i = 0; i < 10_000; i++) expect(fingerprint(String(i)).startsWith('0,')).toBe(false);
	});
});

describe('deduplication is exact', () => {
	it('keeps two different ids that share a 32-bit hash, and still drops a true replay', () => {
		const byHash = new Map<number, string>();
		let pair: [string, string] | undefined;
		for (let i = 0; !pair; i++) {
			const id = `id${i}`;
			const other = byHash.get(hash32(id));
			if (other !== undefined) pair = [other, id];
			else byHash.set(hash32(id), id);
		}
		expect(hash32(pair[0])).toBe(hash32(pair[1]));
		const at = '2026-11-20T10:00:00Z';
		const result = computeMetricsDetailed([
			{ id: pair[0], type: 'sent', at, token: 'a' },
			{ id: pair[1], type: 'sent', at, token: 'b' },
			{ id: pair[0], type: 'sent', at, token: 'a' },
			{ id: 7, type: 'opened', at, token: 'a', class: 'human' },
			{ id: '7', type: 'opened', at, token: 'a', class: 'human' }, // the number 7 and the string "7" are one id
		]);
		expect(result.duplicates).toBe(2);
		expect(result.rows[0]).toMatchObject({ sent: 2, opens: 1, uniqueOpens: 1 });
	});

	it('lets the first copy win when a replay carries other content, and counts no facts of the dropped copy', () => {
		const at = '2026-11-20T10:00:00Z';
		const rows = computeMetricsDetailed(
			[
				{ id: 'x', type: 'opened', at, token: 't1', class: 'scanner', campaign: 'A' },
				{ id: 'x', type: 'clicked', at, token: 't2', class: 'human', campaign: 'B' },
			],
			{ groupBy: ['campaign'] },
		).rows;
		expect(rows.map((r) => [r.campaign, r.opens, r.clicks, r.uniqueOpens, r.humanUniqueClicks])).toEqual([
			['A', 1, 0, 1, 0],
			['B', 0, 0, 0, 0],
		]);
	});
});
