/**
 * Follow-up tasks: who owns a contact's task (rules over the contact's fields, with a default owner), and whether a
 * click, reply or lead opens a new task (at most one open task per contact per window).
 */
import { valueAtPath } from '../paths';
import { eventTime } from './counts';
import { CLOSED_TASK_STATUSES, DEFAULT_TASK_WINDOW_DAYS } from './defaults';

export type OwnerRuleOp = '=' | '~' | '^' | '*';

export interface OwnerRule {
	/** Dotted path in the contact (valueAtPath); '' for the default rule. */
	field: string;
	/** `=` equals, `~` contains, `^` starts with (case-insensitive); `*` matches every contact. */
	op: OwnerRuleOp;
	value: string;
	owner: string;
	/** 1-based line of the rule in its text. */
	line: number;
}

/** The syntax of one rule, for error messages and parameter hints. */
export const OWNER_RULE_SYNTAX = 'field op value => owner (op: = equals, ~ contains, ^ starts with; "* => owner" matches everyone)';

const OPS = new Set(['=', '~', '^']);

/**
 * Owner rules, one a line: `field op value => owner` (e.g. `language = de => anna@example.com`, `segment ~ saas =>
 * ben`), or `* => owner` for everyone else. Blank lines and lines starting with `#` are skipped. Throws an Error
 * naming the line and what is wrong with it.
 */
export function parseOwnerRules(text: string): OwnerRule[] {
	if (text === undefined || text === null || text === '') return [];
	if (typeof text !== 'string') throw new TypeError(`owner rules must be text, got ${typeof text}`);
	const rules: OwnerRule[] = [];
	let defaultLine = 0;
	const lines = text.split(/\r\n|\r|\n/);
	for (let i = 0; i < lines.length; i++) {
		const line = i + 1;
		const source = lines[i].trim();
		if (source === '' || source.startsWith('#')) continue;
		const fail = (what: string): never => {
			throw new Error(
				`Owner rule on line ${line} ("${source.length > 80 ? `${source.slice(0, 80)}…` : source}"): ${what}. Expected ${OWNER_RULE_SYNTAX}`,
			);
		};
		if (defaultLine) fail(`it can never match: the default rule "* => …" on line ${defaultLine} matches every contact first`);
		const arrow = source.lastIndexOf('=>');
		if (arrow < 0) fail('no "=>" before the owner');
		const condition = source.slice(0, arrow).trim();
		const owner = source.slice(arrow + 2).trim();
		if (!owner) fail('no owner after "=>"');
		if (!condition) fail('no condition before "=>" (use "*" for everyone)');
		if (condition === '*') {
			rules.push({ field: '', op: '*', value: '', owner, line });
			defaultLine = line;
			continue;
		}
		const m = /^([^\s=~^]*)\s*([=~^!<>]+)?\s*(.*)$/.exec(condition) as RegExpExecArray;
		const [, field, op, rest] = m;
		if (!field) fail(op ? `no field before "${op}"` : 'no field');
		if (field.includes('*')) fail('"*" must be the whole condition');
		if (op === undefined)
			fail(
				rest
					? `the field "${field}" is followed by "${rest.split(/\s/)[0]}", not an operator (fields have no spaces)`
					: `no operator after "${field}"`,
			);
		if (!OPS.has(op)) fail(`unknown operator "${op}"`);
		if (field.startsWith('.') || field.endsWith('.') || field.includes('..')) fail(`the field "${field}" is not a dotted path`);
		const value = unquote(rest.trim());
		if (value === '') fail(`no value after "${op}"`);
		rules.push({ field, op: op as OwnerRuleOp, value, owner, line });
	}
	return rules;
}

function unquote(s: string): string {
	if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) return s.slice(1, -1);
	return s;
}

function matchesValue(actual: unknown, op: OwnerRuleOp, wanted: string): boolean {
	if (Array.isArray(actual)) return actual.some((a) => matchesValue(a, op, wanted));
	if (typeof actual !== 'string' && typeof actual !== 'number' && typeof actual !== 'boolean' && typeof actual !== 'bigint') return false;
	const have = String(actual).trim().toLowerCase();
	const want = wanted.trim().toLowerCase();
	if (op === '=') return have === want;
	if (op === '~') return have.includes(want);
	return have.startsWith(want);
}

/** Whether one rule matches a contact. A list field (e.g. tags) matches when any of its items does. */
export function ownerRuleMatches(contact: object, rule: OwnerRule): boolean {
	if (rule.op === '*') return true;
	if (!contact || typeof contact !== 'object') return false;
	return matchesValue(valueAtPath(contact, rule.field), rule.op, rule.value);
}

/** The owner of the first matching rule, else `defaultOwner`, else ''. */
export function ownerFor(contact: object, rules: readonly OwnerRule[], defaultOwner?: string): string {
	for (const rule of rules) if (ownerRuleMatches(contact, rule)) return rule.owner;
	return defaultOwner ?? '';
}

export interface FollowUpEvent {
	email: string;
	at: string | Date;
	type: string;
	campaign?: string;
	/** Where a lead came from (`inbound` events). */
	channel?: string;
}

export interface FollowUpDecision {
	create: boolean;
	/** Why the contact gets a task: `clicked link`, `replied`, `lead from <channel>`, or the event type. */
	reason: string;
	/** The open task of the window that blocks a new one. */
	existing?: { id: string; createdAt: string };
}

const DAY_MS = 86_400_000;

/** The reason a task names for an event. */
export function followUpReason(event: Pick<FollowUpEvent, 'type' | 'channel'>): string {
	const type = typeof event.type === 'string' ? event.type.trim().toLowerCase() : '';
	if (type === 'clicked') return 'clicked link';
	if (type === 'replied') return 'replied';
	const channel = typeof event.channel === 'string' ? event.channel.trim() : '';
	if (type === 'inbound' || channel) return `lead from ${channel || 'inbound'}`;
	return type || 'follow-up';
}

function field(row: Record<string, unknown>, ...keys: string[]): unknown {
	for (const k of keys) if (row[k] !== undefined && row[k] !== null && row[k] !== '') return row[k];
	return undefined;
}

/**
 * Whether an event opens a follow-up task: only when the contact (case-insensitive email) has no open task created
 * within `windowDays` before the event (a task created after it blocks too). Tasks are rows `{ email, created_at |
 * createdAt, status?, id? }`; a closed status (CLOSED_TASK_STATUSES) does not block; an open task with no readable
 * creation time blocks. Junk rows are skipped. Throws a RangeError for an event without email or time.
 */
export function followUpDecision(openTasks: Iterable<unknown>, event: FollowUpEvent, options: { windowDays?: number } = {}): FollowUpDecision {
	const windowDays = options.windowDays ?? DEFAULT_TASK_WINDOW_DAYS;
	if (typeof windowDays !== 'number' || !Number.isFinite(windowDays) || windowDays < 0)
		throw new RangeError(`windowDays must be a number ≥ 0, got ${JSON.stringify(windowDays)}`);
	const email = typeof event?.email === 'string' ? event.email.trim().toLowerCase() : '';
	if (!email) throw new RangeError('the event has no email');
	const at = eventTime(event.at);
	if (at === null) throw new RangeError(`the event has no valid time in "at": ${JSON.stringify(event.at)}`);
	const reason = followUpReason(event);
	const from = at - windowDays * DAY_MS;
	let existing: { id: string; createdAt: string; t: number } | undefined;
	if (windowDays > 0 && openTasks && typeof (openTasks as Iterable<unknown>)[Symbol.iterator] === 'function') {
		for (const raw of openTasks) {
			if (!raw || typeof raw !== 'object') continue;
			const row = raw as Record<string, unknown>;
			const rowEmail = field(row, 'email');
			if (typeof rowEmail !== 'string' || rowEmail.trim().toLowerCase() !== email) continue;
			const status = field(row, 'status');
			if (typeof status === 'string' && CLOSED_TASK_STATUSES.includes(status.trim().toLowerCase())) continue;
			const created = field(row, 'created_at', 'createdAt');
			const t = eventTime(created);
			if (t !== null && t <= from) continue;
			const rank = t ?? Infinity;
			if (!existing || rank > existing.t) {
				const id = field(row, 'id');
				existing = { id: id === undefined ? '' : String(id), createdAt: t === null ? '' : new Date(t).toISOString(), t: rank };
			}
		}
	}
	if (!existing) return { create: true, reason };
	return { create: false, reason, existing: { id: existing.id, createdAt: existing.createdAt } };
}
