/**
 * valueAtPath, the one dot-path reader of plain data: a key spelled like the whole path wins over the nested path;
 * otherwise the parts are read one after the other. The metrics read event fields the same way, except that a key
 * holding undefined lets the nested field through.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeMetrics, DEFAULT_MAX_CHART_GROUPS } from '../../core/metrics';
import { valueAtNestedPath, valueAtPath } from '../../core/paths';
import { description as metricsProperties } from '../../nodes/CadenceMetrics/actions/compute.operation';

/** The reading every caller had before: own or inherited key first, then the parts. */
function reference(json: Record<string, unknown>, path: string): unknown {
	if (path in json) return json[path];
	let v: unknown = json;
	for (const key of path.split('.')) {
		if (v === null || typeof v !== 'object') return undefined;
		v = (v as Record<string, unknown>)[key];
	}
	return v;
}

describe('valueAtPath', () => {
	it('reads nested fields, and undefined past a missing part or a non-object', () => {
		const json = { contact: { email: 'a@x.com', tags: ['A', 'B'], meta: null }, n: 5 };
		expect(valueAtPath(json, 'contact.email')).toBe('a@x.com');
		expect(valueAtPath(json, 'contact.tags.1')).toBe('B');
		expect(valueAtPath(json, 'contact.missing.deeper')).toBeUndefined();
		expect(valueAtPath(json, 'contact.meta.x')).toBeUndefined();
		expect(valueAtPath(json, 'n.toFixed')).toBeUndefined();
		expect(valueAtPath(json, 'n')).toBe(5);
		expect(valueAtPath(json, '')).toBeUndefined();
	});

	it('a key spelled like the whole path wins over the nested path, even when it holds undefined', () => {
		expect(valueAtPath({ 'contact.email': 'flat@x.com', contact: { email: 'nested@x.com' } }, 'contact.email')).toBe('flat@x.com');
		expect(valueAtPath({ 'contact.email': undefined, contact: { email: 'nested@x.com' } }, 'contact.email')).toBeUndefined();
		expect(valueAtNestedPath({ 'contact.email': 'flat@x.com', contact: { email: 'nested@x.com' } }, 'contact.email')).toBe('nested@x.com');
	});

	it('reads inherited keys like property access', () => {
		expect(valueAtPath({}, 'toString')).toBe(Object.prototype.toString);
		expect(valueAtPath({ a: {} }, 'a.constructor')).toBe(Object);
	});

	it('agrees with the reading it replaces on random data and paths', () => {
		const key = fc.constantFrom('a', 'b', 'c', 'a.b', 'b.c', '0', '');
		const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null), fc.constant(undefined), fc.boolean());
		const tree = fc.letrec((tie) => ({
			node: fc.oneof({ depthSize: 'small' }, leaf, fc.dictionary(key, tie('node'), { maxKeys: 4 }), fc.array(tie('node'), { maxLength: 3 })),
		})).node;
		const path = fc.array(fc.constantFrom('a', 'b', 'c', '0', '1', 'a.b', ''), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
		fc.assert(
			fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), path, (json, p) => {
				expect(valueAtPath(json, p)).toBe(reference(json, p));
			}),
			{ numRuns: 200 },
		);
	});
});

describe('metrics field paths', () => {
	const sent = (id: string, extra: Record<string, unknown>) => ({ id, type: 'sent', at: '2026-11-20T10:00:00Z', token: id, ...extra });

	it('group by a dot path: a flat key wins, a flat key holding undefined lets the nested field through', () => {
		const rows = computeMetrics(
			[
				sent('1', { 'utm.source': 'flat', utm: { source: 'nested' } }),
				sent('2', { utm: { source: 'nested' } }),
				sent('3', { 'utm.source': undefined, utm: { source: 'nested' } }),
			],
			{ groupBy: ['utm.source'] },
		);
		expect(rows.map((r) => [r['utm.source'], r.sent])).toEqual([
			['flat', 1],
			['nested', 2],
		]);
	});

	it('revenue by a dot path is read the same way', () => {
		const [row] = computeMetrics(
			[
				sent('1', { deal: { value: 10 } }),
				sent('2', { 'deal.value': 5, deal: { value: 100 } }),
				sent('3', { 'deal.value': undefined, deal: { value: 1 } }),
			],
			{
				revenueField: 'deal.value',
			},
		);
		expect(row.revenue).toBe(16);
	});
});

describe('Cadence Metrics defaults', () => {
	it('the Max Groups in Chart parameter defaults to the core constant', () => {
		const options = metricsProperties.find((p) => p.name === 'options')?.options as Array<{ name: string; default: unknown }>;
		expect(options.find((o) => o.name === 'maxChartGroups')?.default).toBe(DEFAULT_MAX_CHART_GROUPS);
		expect(DEFAULT_MAX_CHART_GROUPS).toBe(6);
	});
});
