import { describe, expect, it } from 'vitest';
import { computeListHealth, metricsInstant } from '../../core/metrics';

const contacts = [
	{ email: 'a@x.com', tags: ['English-D-Marketing01'], createdAt: '2026-10-01' }, // base, effective
	{ email: 'b@x.com', tags: 'English-D-Marketing01, Risk-Unsubscribed', createdAt: '2026-10-05T08:00:00Z' }, // left in period (unsubscribed)
	{ email: 'c@x.com', tags: ['Risk-Hard bounce'], createdAt: new Date('2026-09-01T00:00:00Z') }, // left before the period
	{ email: 'd@x.com', tags: [], createdAt: '2026-11-15' }, // new
	{ email: 'e@x.com', tags: ['Risk-Complained'], createdAt: '2026-11-20' }, // new, then left
	{ email: 'f@x.com', tags: ['Risk-Competitor'], riskTaggedAt: '2026-11-03T12:00:00Z' }, // no createdAt: old; risk tag in period
	{ email: 'g@x.com', tags: ['English-D-Marketing02'], createdAt: Date.UTC(2026, 9, 10) }, // soft bounce only
	{ email: ' B@X.com ', tags: [] }, // the same contact as b
	{ email: 'h@x.com', tags: [], createdAt: '2026-12-01T00:00:00Z' }, // after the period (end is exclusive)
];
const events = [
	{ id: '1', type: 'unsubscribed', at: '2026-11-10T10:00:00Z', email: 'B@x.com' },
	{ id: '2', type: 'bounced', at: '2026-10-20T10:00:00Z', email: 'c@x.com', bounce: { hard: true } }, // before
	{ id: '3', type: 'complained', at: '2026-11-25T10:00:00Z', email: 'e@x.com' },
	{ id: '4', type: 'bounced', at: '2026-11-05T10:00:00Z', email: 'g@x.com', bounce: { hard: false } }, // soft: stays
	{ id: '5', type: 'bounced', at: '2026-12-01T00:00:00Z', email: 'g@x.com', bounce: { hard: true } }, // after
	{ id: '6', type: 'unsubscribed', at: '2026-11-11T10:00:00Z', email: 'z@x.com' }, // not in the contacts
	{ id: '7', type: 'opened', at: '2026-11-11T10:00:00Z', email: 'a@x.com' },
];

describe('computeListHealth', () => {
	it('reads risk tags as the views do: case, full-width forms and spaces do not matter', () => {
		const spelled = [
			{ email: 'a@x.com', tags: ['risk-unsubscribed'] },
			{ email: 'b@x.com', tags: [' RISK-Hard bounce '] },
			{ email: 'c@x.com', tags: ['Ｒｉｓｋ－Competitor'] },
			{ email: 'd@x.com', tags: ['competitor'] },
			{ email: 'e@x.com', tags: ['English-D-Marketing01'] },
			{ email: 'f@x.com', tags: ['法语-经销商-营销01', '风险-退订'] },
		];
		const h = computeListHealth(spelled, [], { periodStart: '2026-11-01', periodEnd: '2026-12-01', riskTags: ['Competitor'] });
		expect(h).toMatchObject({ contacts: 6, inRiskView: 5, effective: 1 });
	});

	it('counts effective, new and left contacts and the rates over the base (hand-computed)', () => {
		const h = computeListHealth(contacts, events, { periodStart: '2026-11-01', periodEnd: '2026-12-01' });
		expect(h).toEqual({
			periodStart: '2026-11-01T00:00:00.000Z',
			periodEnd: '2026-12-01T00:00:00.000Z',
			contacts: 8,
			effective: 4, // a d g h
			inRiskView: 4, // b c e f
			base: 4, // a b f g
			newContacts: 2, // d e
			left: 3, // b e f
			leftUnsubscribed: 1,
			leftComplained: 1,
			leftHardBounced: 0,
			leftRiskTagged: 1,
			leftNotInContacts: 1,
			netGrowth: -1,
			growthRate: -0.25,
			churnRate: 0.75,
		});
	});

	it('reads date-only period bounds in the time zone', () => {
		// in Tokyo the period starts 2026-10-31T15:00Z, so h (created 2026-12-01T00:00Z = 09:00 Tokyo) is outside,
		// and a contact created 2026-10-31T16:00Z is new
		const h = computeListHealth([{ email: 'n@x.com', createdAt: '2026-10-31T16:00:00Z' }], [], {
			periodStart: '2026-11-01',
			periodEnd: '2026-12-01',
			timeZone: 'Asia/Tokyo',
		});
		expect(h).toMatchObject({ newContacts: 1, base: 0, growthRate: null, churnRate: null });
	});

	it('uses a configurable risk group', () => {
		const h = computeListHealth(
			[
				{ email: 'a@x.com', tags: 'Blocked;VIP' },
				{ email: 'b@x.com', tags: 'Risk-Old' },
			],
			[],
			{ periodStart: '2026-11-01', periodEnd: '2026-12-01', riskPrefix: '', riskTags: ['Blocked'] },
		);
		expect(h).toMatchObject({ effective: 1, inRiskView: 1, base: 1 });
	});

	it('refuses bad input with a clear message', () => {
		const p = { periodStart: '2026-11-01', periodEnd: '2026-12-01' };
		expect(() => computeListHealth([{ email: 'a@x.com', createdAt: 'yesterday' }], [], p)).toThrow(
			/contact 0 \(a@x.com\) has an invalid createdAt: "yesterday"/,
		);
		expect(() => computeListHealth([{ email: '' }], [], p)).toThrow(/contact 0 has no email/);
		expect(() => computeListHealth([], [], { periodStart: '2026-12-01', periodEnd: '2026-11-01' })).toThrow(/end must be after/);
		expect(() => computeListHealth([], [], { periodStart: 'soon', periodEnd: '2026-11-01' })).toThrow(/period start must be a date/);
	});
});

describe('metricsInstant', () => {
	it('reads instants, local wall times, and tells missing from invalid', () => {
		expect(metricsInstant('2026-11-22T10:00:00+02:00')).toBe(Date.UTC(2026, 10, 22, 8));
		expect(metricsInstant('2026-11-22 10:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 10, 22, 9));
		expect(metricsInstant('')).toBeNull();
		expect(metricsInstant(undefined)).toBeNull();
		expect(metricsInstant('2026-02-30')).toBeNaN();
		expect(metricsInstant({})).toBeNaN();
	});
});
