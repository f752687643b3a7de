import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { followUpDecision, ownerFor, parseOwnerRules } from '../../core/senderProtection';

describe('parseOwnerRules', () => {
	it('reads rules, comments, blank lines and the default rule', () => {
		const rules = parseOwnerRules(
			[
				'# owners by language, then segment',
				'',
				'language = de => anna@example.com',
				'  contact.segment ~ SaaS=>ben ',
				"company.name ^ 'Acme Corp' => carla",
				'* => desk@example.com',
			].join('\r\n'),
		);
		expect(rules).toEqual([
			{ field: 'language', op: '=', value: 'de', owner: 'anna@example.com', line: 3 },
			{ field: 'contact.segment', op: '~', value: 'SaaS', owner: 'ben', line: 4 },
			{ field: 'company.name', op: '^', value: 'Acme Corp', owner: 'carla', line: 5 },
			{ field: '', op: '*', value: '', owner: 'desk@example.com', line: 6 },
		]);
		expect(parseOwnerRules('')).toEqual([]);
		expect(parseOwnerRules('# nothing\n\n')).toEqual([]);
	});
	it.each([
		['language = de anna', /line 1.*no "=>"/],
		['language = de =>', /line 1.*no owner/],
		['=> anna', /line 1.*no condition/],
		['language => anna', /line 1.*no operator after "language"/],
		['language de => anna', /line 1.*"language" is followed by "de", not an operator/],
		['language != de => anna', /line 1.*unknown operator "!="/],
		['language > de => anna', /line 1.*unknown operator ">"/],
		['= de => anna', /line 1.*no field before "="/],
		['language = => anna', /line 1.*no value after "="/],
		['language = "" => anna', /line 1.*no value after "="/],
		['* = x => anna', /line 1.*"\*" must be the whole condition/],
		['a..b = x => anna', /line 1.*not a dotted path/],
	])('rejects %j', (line, message) => {
		expect(() => parseOwnerRules(line)).toThrow(message);
	});
	it('names the line number of the malformed rule and rules after the default', () => {
		expect(() => parseOwnerRules('# c\nlanguage = de => anna\n\nsegment ~ => ben')).toThrow(/line 4/);
		expect(() => parseOwnerRules('* => anna\nlanguage = de => ben')).toThrow(/line 2.*never match.*line 1/);
	});
	it('either parses or throws an Error naming a line (property)', () => {
		fc.assert(
			fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }), (lines) => {
				try {
					for (const r of parseOwnerRules(lines.join('\n'))) expect(r.owner.length).toBeGreaterThan(0);
				} catch (e) {
					expect((e as Error).message).toMatch(/^Owner rule on line \d+/);
				}
			}),
			{ numRuns: 200 },
		);
	});
});

describe('ownerFor', () => {
	const rules = parseOwnerRules('language = DE => anna\ncontact.segment ~ saas => ben\ntags ^ vip => vera\nemployees = 50 => fifty');
	it('takes the first matching rule, case-insensitively', () => {
		expect(ownerFor({ language: 'de ', contact: { segment: 'SaaS' } }, rules, 'desk')).toBe('anna');
		expect(ownerFor({ language: 'en', contact: { segment: 'B2B SaaS tools' } }, rules, 'desk')).toBe('ben');
		expect(ownerFor({ tags: ['lead', 'VIP-2026'] }, rules, 'desk')).toBe('vera');
		expect(ownerFor({ employees: 50 }, rules)).toBe('fifty');
		expect(ownerFor({ 'contact.segment': 'saas' }, rules)).toBe('ben');
	});
	it('falls back to the default owner, then to empty', () => {
		expect(ownerFor({ language: 'en' }, rules, 'desk')).toBe('desk');
		expect(ownerFor({ language: { de: true } }, rules)).toBe('');
		expect(ownerFor({ language: 'en' }, [...rules, ...parseOwnerRules('* => all')], 'desk')).toBe('all');
	});
});

describe('followUpDecision', () => {
	const day = (n: number) => new Date(Date.UTC(2026, 11, 1 + n, 10)).toISOString();
	const click = (n: number) => ({ email: 'Pat@Example.com', at: day(n), type: 'clicked' });
	it('one open task per contact per 7-day window', () => {
		const tasks: Record<string, unknown>[] = [];
		const d0 = followUpDecision(tasks, click(0), { windowDays: 7 });
		expect(d0).toEqual({ create: true, reason: 'clicked link' });
		tasks.push({ id: 1, email: 'pat@example.com', created_at: day(0), status: 'open' });
		expect(followUpDecision(tasks, click(3), { windowDays: 7 })).toEqual({
			create: false,
			reason: 'clicked link',
			existing: { id: '1', createdAt: day(0) },
		});
		expect(followUpDecision(tasks, click(6.9), {}).create).toBe(false);
		expect(followUpDecision(tasks, click(8), { windowDays: 7 }).create).toBe(true);
		expect(followUpDecision(tasks, click(3), { windowDays: 2 }).create).toBe(true);
		expect(followUpDecision(tasks, click(3), { windowDays: 0 }).create).toBe(true);
	});
	it('closed tasks and other contacts do not block; an open task without a time does', () => {
		const done = [
			{ id: 'a', email: 'pat@example.com', createdAt: day(0), status: 'Done' },
			{ email: 'other@example.com', createdAt: day(0) },
			null,
			'junk',
		];
		expect(followUpDecision(done, click(1)).create).toBe(true);
		expect(followUpDecision([{ email: 'PAT@example.com', status: 'closed', created_at: day(1) }], click(1)).create).toBe(true);
		expect(followUpDecision([{ id: 'x', email: 'pat@example.com' }], click(1))).toMatchObject({
			create: false,
			existing: { id: 'x', createdAt: '' },
		});
	});
	it('names the reason and reports the newest blocking task', () => {
		const tasks = [
			{ id: 'old', email: 'pat@example.com', createdAt: day(1) },
			{ id: 'new', email: 'pat@example.com', createdAt: day(2) },
		];
		expect(followUpDecision(tasks, { email: 'pat@example.com', at: day(3), type: 'replied' })).toMatchObject({
			reason: 'replied',
			existing: { id: 'new' },
		});
		expect(followUpDecision([], { email: 'pat@example.com', at: day(3), type: 'inbound', channel: 'LinkedIn' }).reason).toBe('lead from LinkedIn');
	});
	it('rejects an event without email or time and a bad window', () => {
		expect(() => followUpDecision([], { email: ' ', at: day(0), type: 'clicked' })).toThrow(/email/);
		expect(() => followUpDecision([], { email: 'a@b.c', at: 'later', type: 'clicked' })).toThrow(/"at"/);
		expect(() => followUpDecision([], click(0), { windowDays: -1 })).toThrow(/windowDays/);
	});
});
