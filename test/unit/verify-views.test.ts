/** The `undeliverable` view: contacts whose verification result is undeliverable, excluded with its reason. */
import { describe, expect, it } from 'vitest';
import { applyViews, createViewEvaluator, DEFAULT_EXCLUDED_VIEWS, presetViews, UNDELIVERABLE_VIEW } from '../../core/views';

const views = presetViews();
const v = (status: string, reason: string) => ({ status, reason, detail: 'd', checkedAt: '2026-06-01T00:00:00.000Z' });

describe('undeliverable view', () => {
	it('is a preset, excluded by both cadences by default', () => {
		expect(views.map((x) => x.name)).toContain('undeliverable');
		expect(DEFAULT_EXCLUDED_VIEWS.silent).toContain('undeliverable');
		expect(DEFAULT_EXCLUDED_VIEWS.read).toContain('undeliverable');
	});

	it('excludes undeliverable contacts with the verification reason; deliverable, risky, unknown and unverified are kept', () => {
		const contacts = [
			{ email: 'a@dead.test', verification: v('undeliverable', 'nxdomain') },
			{ email: 'b@live.test', verification: v('deliverable', 'mx') },
			{ email: 'postmaster@live.test', verification: v('risky', 'role-account') },
			{ email: 'c@slow.test', verification: v('unknown', 'dns-timeout') },
			{ email: 'd@never.test' },
			{ email: 'e@dead.test', verification: JSON.stringify(v('undeliverable', 'no-mx')) },
			{ email: 'f@x.test', verification: 'garbage' },
		];
		const r = applyViews(contacts, { views, exclude: ['undeliverable'], domainCap: 0 });
		expect(r.kept).toEqual([1, 2, 3, 4, 6]);
		expect(r.excluded).toEqual([
			{ index: 0, excludedBy: [{ view: 'undeliverable', rule: 'verificationStatus', value: 'nxdomain' }] },
			{ index: 5, excludedBy: [{ view: 'undeliverable', rule: 'verificationStatus', value: 'no-mx' }] },
		]);
	});

	it('a custom view can exclude risky results too; an unknown status in a rule is refused', () => {
		const evaluate = createViewEvaluator([{ name: 'doubtful', rules: [{ type: 'verificationStatus', values: ['risky', 'Unknown'] }] }]);
		expect(evaluate({ email: 'c@slow.test', verification: v('unknown', 'dns-timeout') })).toEqual([
			{ view: 'doubtful', rule: 'verificationStatus', value: 'dns-timeout' },
		]);
		expect(evaluate({ email: 'b@live.test', verification: v('deliverable', 'mx') })).toEqual([]);
		expect(() => createViewEvaluator([{ name: 'x', rules: [{ type: 'verificationStatus', values: ['dead'] }] }])).toThrow(
			/unknown verification status "dead"/,
		);
	});

	it('the shared preset cannot be changed by a caller', () => {
		expect(Object.isFrozen(UNDELIVERABLE_VIEW)).toBe(true);
		expect(() => (UNDELIVERABLE_VIEW.rules as unknown[]).push({})).toThrow();
	});
});
