/**
 * Views: named, reusable rule sets. A bulk send excludes contacts that fall into any excluded
 * view, and keeps, for each excluded contact, which view and which rule matched.
 *
 * Every list rule compares case-insensitively: rule values are trimmed, NFKC-folded and lower-cased like tags
 * (tagKey), addresses are lower-cased, and tags compare by their key. Domain rules look at the domain only.
 */
import { parseAddress, explainInvalidAddress } from './address';
import { companyOf } from './company';
import { readVerification, VERIFICATION_STATUSES, type VerificationStatus } from './verify/result';
import {
	DEFAULT_TAG_DELIMITERS,
	MAX_TAG_LENGTH,
	MAX_TAGS_PER_CONTACT,
	parseTagList,
	TagClassifier,
	tagKey,
	type TagGrammar,
	type TagGroup,
} from './tags';

export type ViewRuleType =
	| 'localPartStartsWith'
	| 'domainEndsWith'
	| 'addressContains'
	| 'domainHasLabel'
	| 'hasTag'
	| 'hasTagInGroup'
	| 'regex'
	| 'verificationStatus';

export interface ViewRule {
	type: ViewRuleType;
	/**
	 * localPartStartsWith: `hr@` means the local part is exactly `hr`, `hr` means it starts with `hr`.
	 * domainEndsWith: `qq.com` matches qq.com and any subdomain (vip.qq.com) but not notqq.com; `.cn` matches by suffix.
	 * addressContains: a plain substring of the whole address (local part included).
	 * domainHasLabel: `gov` matches a domain with a label equal to gov (x.gov, agency.gov.uk) but not governance.com
	 * nor a local part; `gov.uk` matches those two labels in a row (dots around a value are ignored).
	 * hasTag: tag names; a trailing `*` matches a prefix.
	 * verificationStatus: verification statuses (`undeliverable`, `risky`, …) of the contact's verification result;
	 * the match is the result's reason (`nxdomain`, `no-mx`, …). A contact never verified matches none.
	 */
	values?: string[];
	groups?: TagGroup[];
	/** regex: the pattern, tested against `target` (default the address). */
	pattern?: string;
	flags?: string;
	target?: 'address' | 'local' | 'domain' | 'tag';
}

export interface ViewDefinition {
	name: string;
	description?: string;
	/** `any` (default): the view matches when one rule matches. `all`: every rule must match. */
	match?: 'any' | 'all';
	rules: ViewRule[];
}

export interface ViewMatch {
	view: string;
	rule: ViewRuleType | 'invalidAddress' | 'invalidTags' | 'domainCap';
	value: string;
}

export interface ViewContact {
	email: unknown;
	/**
	 * An array of tags, or a string delimited by the evaluator's `tagDelimiters`. A contact whose tags break a limit
	 * (MAX_TAGS_PER_CONTACT, MAX_TAG_LENGTH) or are no text matches `invalid-tags` instead of any view.
	 */
	tags?: unknown;
	/** The address verification result (object or its JSON text), see core/verify; absent = never verified. */
	verification?: unknown;
}

/**
 * The source's no-send lists. info@ and sales@ are deliberately absent: owners read them.
 * Government, non-profit and education addresses are matched by a domain label (`domainLabels`), never by a
 * substring of the address, so mike.orgill@acme.example is kept. `addressContains` stays available, empty.
 *
 * Free mail: the guide's "domestic post offices" (qq.com … 188.com), then the other Chinese free-mail services its
 * rule means, each under its provider's own public service name: NetEase 网易免费邮 (126.com, yeah.net; 163.com is
 * the guide's), Tencent Foxmail (foxmail.com; QQ邮箱 is qq.com), Sina 新浪邮箱 (sina.com, sina.cn), Sohu 搜狐闪电邮箱
 * (sohu.com), China Mobile 139邮箱 (139.com), China Telecom 189邮箱 (189.cn), TOM免费邮箱 (tom.com), 21CN邮箱
 * (21cn.com). A domain covers its subdomains, so vip.qq.com, vip.163.com, vip.126.com and vip.sina.com are covered;
 * sina.cn and 189.cn are listed although `.cn` covers them, so they stay excluded when the region list is cleared.
 */
export const NO_SEND_DEFAULTS = {
	localPartStartsWith: ['hr@', 'noreply@', 'marketing@', 'jobs@', 'customerservice@'],
	domainEndsWith: [
		'qq.com',
		'163.com',
		'aliyun.com',
		'263.com',
		'88.com',
		'188.com',
		'126.com',
		'yeah.net',
		'foxmail.com',
		'sina.com',
		'sina.cn',
		'sohu.com',
		'139.com',
		'189.cn',
		'tom.com',
		'21cn.com',
	],
	regionDomainEndsWith: ['.cn', '.tw', '.hk', '.in'],
	domainLabels: ['gov', 'org', 'edu'],
	addressContains: [] as string[],
};

export const PRESET_VIEW_NAMES = ['read', 'intent', 'risk', 'no-send', 'undeliverable'] as const;
export type PresetViewName = (typeof PRESET_VIEW_NAMES)[number];

/**
 * The preset views, with the no-send lists replaced by those given. `addressContains` given without `domainLabels`
 * is a list saved before domain labels existed: it took the place of the .gov/.org/.edu default, so it keeps meaning
 * exactly that (address contains, and no domain labels).
 */
export function presetViews(noSend: Partial<typeof NO_SEND_DEFAULTS> = {}): ViewDefinition[] {
	const lists = { ...NO_SEND_DEFAULTS, ...noSend };
	if (noSend.addressContains !== undefined && noSend.domainLabels === undefined) lists.domainLabels = [];
	return [
		{ name: 'read', description: 'Contacts with a read tag', rules: [{ type: 'hasTagInGroup', groups: ['read'] }] },
		{ name: 'intent', description: 'Contacts with an intent tag', rules: [{ type: 'hasTagInGroup', groups: ['intent'] }] },
		{ name: 'risk', description: 'Contacts with a risk tag', rules: [{ type: 'hasTagInGroup', groups: ['risk'] }] },
		{
			name: 'no-send',
			description: 'Addresses that never answer bulk mail',
			rules: [
				{ type: 'localPartStartsWith', values: lists.localPartStartsWith },
				{ type: 'domainEndsWith', values: lists.domainEndsWith },
				{ type: 'domainEndsWith', values: lists.regionDomainEndsWith },
				{ type: 'domainHasLabel', values: lists.domainLabels },
				{ type: 'addressContains', values: lists.addressContains },
			],
		},
		UNDELIVERABLE_VIEW,
	];
}

/**
 * Contacts the address verification found undeliverable (invalid syntax, no such domain, no mail exchanger, null
 * MX, disposable, rejected RCPT; role accounts when so configured), each with the verification's reason.
 * Unknown results (a DNS timeout) are never in it.
 */
export const UNDELIVERABLE_VIEW: ViewDefinition = Object.freeze({
	name: 'undeliverable',
	description: 'Addresses the verification found undeliverable',
	rules: Object.freeze([Object.freeze({ type: 'verificationStatus' as const, values: Object.freeze(['undeliverable']) as string[] })]) as ViewRule[],
});

/**
 * Views excluded by default: a reader is not mailed twice a day, so the silent cadence also excludes readers. Dead
 * addresses are excluded by every cadence; a contact never verified is not in `undeliverable`.
 */
export const DEFAULT_EXCLUDED_VIEWS: Record<'silent' | 'read', PresetViewName[]> = {
	silent: ['read', 'intent', 'risk', 'no-send', 'undeliverable'],
	read: ['intent', 'risk', 'no-send', 'undeliverable'],
};

interface ParsedContact {
	email: string;
	local: string;
	domain: string;
	tags: readonly string[];
	/** The raw verification field; read by the verificationStatus rule only. */
	verification: unknown;
	/** First tag of each group, filled on first use and shared by every group rule of every view. */
	groupTags: Partial<Record<TagGroup, string>> | undefined;
}

const GROUP_CACHE_LIMIT = 200_000;

/** The contact's tags when they are an array of strings within the limits (the common case, no copy). */
function plainTags(tags: unknown): readonly string[] | null {
	if (tags === undefined || tags === null) return [];
	if (!Array.isArray(tags) || tags.length > MAX_TAGS_PER_CONTACT) return null;
	for (const t of tags) if (typeof t !== 'string' || t.length > MAX_TAG_LENGTH) return null;
	return tags as readonly string[];
}

function groupTagsOf(c: ParsedContact, tags: TagClassifier): Partial<Record<TagGroup, string>> {
	if (c.groupTags === undefined) {
		const found: Partial<Record<TagGroup, string>> = {};
		for (const t of c.tags) {
			const g = tags.group(t);
			if (g !== null && found[g] === undefined) found[g] = t;
		}
		c.groupTags = found;
	}
	return c.groupTags;
}

type RuleTest = (c: ParsedContact) => string | null;

export interface ViewEvaluatorOptions {
	grammar?: Partial<TagGrammar>;
	/** Share one classifier (and its cache) between several evaluators of one run. */
	tagClassifier?: TagClassifier;
	/** Delimiters of a contact's tags given as a string; default DEFAULT_TAG_DELIMITERS. */
	tagDelimiters?: string | readonly string[];
}

/**
 * Compiles views once; the returned function lists every view and rule a contact matches ([] when none). A contact
 * with an invalid address matches only `invalid-address`, one with unreadable tags only `invalid-tags`: neither is
 * ever kept. The returned function never throws.
 */
export function createViewEvaluator(views: ViewDefinition[], options: ViewEvaluatorOptions = {}): (contact: ViewContact) => ViewMatch[] {
	const tags = options.tagClassifier ?? new TagClassifier(options.grammar);
	const compiled = views.map((view) => {
		if (!view?.name) throw new RangeError('every view needs a name');
		if (!Array.isArray(view.rules) || view.rules.length === 0) throw new RangeError(`view "${view.name}" has no rules`);
		return {
			name: view.name,
			all: view.match === 'all',
			rules: view.rules.map((rule, i) => ({ type: rule.type, test: compileRule(rule, tags, `${view.name} rule ${i + 1}`) })),
		};
	});
	const delimiters = options.tagDelimiters ?? DEFAULT_TAG_DELIMITERS;
	return (contact) => {
		const parsed = parseAddress(contact?.email);
		if (!parsed) return [{ view: 'invalid-address', rule: 'invalidAddress', value: explainInvalidAddress(contact?.email) }];
		let list = plainTags(contact.tags);
		if (list === null) {
			const read = parseTagList(contact.tags, delimiters);
			if (read.problem !== undefined) return [{ view: 'invalid-tags', rule: 'invalidTags', value: read.problem }];
			list = read.tags;
		}
		const c: ParsedContact = {
			email: parsed.email,
			local: parsed.local,
			domain: parsed.domain,
			tags: list,
			verification: contact.verification,
			groupTags: undefined,
		};
		let matches: ViewMatch[] | undefined;
		for (const view of compiled) {
			let viewMatches: ViewMatch[] | undefined;
			let failed = false;
			for (const rule of view.rules) {
				const value = rule.test(c);
				if (value === null) {
					if (view.all) {
						failed = true;
						break;
					}
					continue;
				}
				(viewMatches ??= []).push({ view: view.name, rule: rule.type, value });
			}
			if (viewMatches && !failed) (matches ??= []).push(...viewMatches);
		}
		return matches ?? [];
	};
}

/** Every view and rule that `contact` matches. For many contacts, compile once with createViewEvaluator. */
export function evaluateViews(contact: ViewContact, views: ViewDefinition[], options: ViewEvaluatorOptions = {}): ViewMatch[] {
	return createViewEvaluator(views, options)(contact);
}

/** The compiled expression, or why it does not compile. */
function compileRegex(pattern: string, flags: string): RegExp | string {
	try {
		return new RegExp(pattern, flags);
	} catch (error) {
		return (error as Error).message;
	}
}

/** The rule's values in key form (tagKey: trimmed, NFKC-folded, lower-cased), empties dropped. */
function cleanValues(rule: ViewRule, where: string): string[] {
	if (!Array.isArray(rule.values)) throw new RangeError(`${where}: "${rule.type}" needs a list of values`);
	return rule.values.map((v) => tagKey(String(v))).filter(Boolean);
}

/** A domain value as written by users: `@qq.com`, `qq.com.` and `QQ.com` all mean qq.com. */
function domainValue(v: string): string {
	const start = v.startsWith('@') ? 1 : 0;
	return v.slice(start, v.length > start && v.endsWith('.') ? -1 : undefined);
}

/** A label value without the dots (and `@`) written around it: `.gov.uk.` → gov.uk. */
function labelValue(v: string): string {
	let start = 0;
	let end = v.length;
	while (start < end && (v[start] === '.' || v[start] === '@')) start++;
	while (end > start && v[end - 1] === '.') end--;
	return v.slice(start, end);
}

/** A domain rule that remembers each domain's answer: a base has far fewer domains than contacts (bounded). */
function byDomain(match: (domain: string) => string | null): RuleTest {
	const cache = new Map<string, string | null>();
	return (c) => {
		let hit = cache.get(c.domain);
		if (hit === undefined) {
			hit = match(c.domain);
			if (cache.size < GROUP_CACHE_LIMIT) cache.set(c.domain, hit);
		}
		return hit;
	};
}

/** Builds a rule's test once: values are read and checked here, so the test itself does only the matching. */
type RuleCompiler = (rule: ViewRule, tags: TagClassifier, where: string) => RuleTest;

/** The compiler of each rule type; a type not listed here is refused. */
const RULE_COMPILERS: Readonly<Record<ViewRuleType, RuleCompiler>> = Object.freeze({
	localPartStartsWith: compileLocalPartStartsWith,
	domainEndsWith: compileDomainEndsWith,
	addressContains: compileAddressContains,
	domainHasLabel: compileDomainHasLabel,
	hasTag: compileHasTag,
	hasTagInGroup: compileHasTagInGroup,
	regex: compileRegexRule,
	verificationStatus: compileVerificationStatus,
});

/** The test of one rule, by its type's compiler; `where` names the rule in errors. */
function compileRule(rule: ViewRule, tags: TagClassifier, where: string): RuleTest {
	const type = rule.type;
	// Own keys only: a type such as `toString` or `__proto__` is unknown, not an inherited property.
	if (!Object.prototype.hasOwnProperty.call(RULE_COMPILERS, type)) throw new RangeError(`${where}: unknown rule type "${String(type)}"`);
	return RULE_COMPILERS[type](rule, tags, where);
}

/** `hr@` is the whole local part, `hr` a prefix of it; the match is the value as written. */
function compileLocalPartStartsWith(rule: ViewRule, _tags: TagClassifier, where: string): RuleTest {
	const exact = new Set<string>();
	const prefixes: string[] = [];
	for (const v of cleanValues(rule, where)) {
		if (v.endsWith('@')) exact.add(v.slice(0, -1));
		else prefixes.push(v);
	}
	return (c) => {
		if (exact.has(c.local)) return `${c.local}@`;
		for (const p of prefixes) if (c.local.startsWith(p)) return p;
		return null;
	};
}

/** `qq.com` is that domain or any subdomain of it; `.cn` is a plain suffix of the domain. */
function compileDomainEndsWith(rule: ViewRule, _tags: TagClassifier, where: string): RuleTest {
	const domains = new Set<string>();
	const suffixes: string[] = [];
	for (const v of cleanValues(rule, where)) {
		const d = domainValue(v);
		if (d.startsWith('.')) suffixes.push(d);
		else if (d) domains.add(d);
	}
	return byDomain((domain) => {
		// qq.com matches qq.com and a.qq.com: test the domain and each parent domain against the set
		let d = domain;
		for (;;) {
			if (domains.has(d)) return d;
			const dot = d.indexOf('.');
			if (dot < 0) break;
			d = d.slice(dot + 1);
		}
		for (const s of suffixes) if (domain.endsWith(s)) return s;
		return null;
	});
}

/** A plain substring of the whole address, local part included. */
function compileAddressContains(rule: ViewRule, _tags: TagClassifier, where: string): RuleTest {
	const parts = cleanValues(rule, where);
	return (c) => {
		for (const p of parts) if (c.email.includes(p)) return p;
		return null;
	};
}

/** `.gov.uk.` inside `.agency.gov.uk.`: whole labels only, and only the domain. */
function compileDomainHasLabel(rule: ViewRule, _tags: TagClassifier, where: string): RuleTest {
	const labels: Array<{ value: string; dotted: string }> = [];
	for (const v of cleanValues(rule, where)) {
		const value = labelValue(v);
		if (value) labels.push({ value, dotted: `.${value}.` });
	}
	return byDomain((domain) => {
		const dotted = `.${domain}.`;
		for (const l of labels) if (dotted.includes(l.dotted)) return l.value;
		return null;
	});
}

/** A tag whose key equals a value, or starts with a value written with a trailing `*`; the match is the tag. */
function compileHasTag(rule: ViewRule, tags: TagClassifier, where: string): RuleTest {
	const exact = new Set<string>();
	const prefixes: string[] = [];
	for (const v of cleanValues(rule, where)) {
		if (v.endsWith('*')) {
			const p = v.slice(0, -1).trim();
			if (p) prefixes.push(p);
		} else exact.add(v);
	}
	return (c) => {
		for (const t of c.tags) {
			const key = tags.info(t).key;
			if (exact.has(key)) return t;
			for (const p of prefixes) if (key.startsWith(p)) return t;
		}
		return null;
	};
}

/** The contact's first tag of the first listed group it has; at least one known group is required. */
function compileHasTagInGroup(rule: ViewRule, tags: TagClassifier, where: string): RuleTest {
	const groups = new Set(rule.groups ?? []);
	if (groups.size === 0) throw new RangeError(`${where}: "hasTagInGroup" needs at least one group`);
	for (const g of groups) if (!['marketing', 'read', 'intent', 'risk'].includes(g)) throw new RangeError(`${where}: unknown tag group "${g}"`);
	const list = [...groups];
	return (c) => {
		const found = groupTagsOf(c, tags);
		for (const g of list) if (found[g] !== undefined) return found[g]!;
		return null;
	};
}

/** The verification result's status is one of the values; the match is its reason (the status when it has none). */
function compileVerificationStatus(rule: ViewRule, _tags: TagClassifier, where: string): RuleTest {
	const statuses = new Set<string>();
	for (const v of cleanValues(rule, where)) {
		if (!VERIFICATION_STATUSES.includes(v as VerificationStatus)) {
			throw new RangeError(`${where}: unknown verification status "${v}" (known: ${VERIFICATION_STATUSES.join(', ')})`);
		}
		statuses.add(v);
	}
	if (statuses.size === 0) throw new RangeError(`${where}: "verificationStatus" needs at least one status`);
	return (c) => {
		if (c.verification === undefined || c.verification === null || c.verification === '') return null;
		const v = readVerification(c.verification);
		return v !== null && statuses.has(v.status) ? v.reason : null;
	};
}

/**
 * The user's expression (flags default `i`; `g` and `y` dropped, they would make a test stateful) against the
 * address, its local part, its domain, or each trimmed tag.
 */
function compileRegexRule(rule: ViewRule, _tags: TagClassifier, where: string): RuleTest {
	if (!rule.pattern) throw new RangeError(`${where}: "regex" needs a pattern`);
	const re = compileRegex(rule.pattern, (rule.flags ?? 'i').replace(/[gy]/g, ''));
	if (typeof re === 'string') throw new RangeError(`${where}: invalid regular expression: ${re}`);
	const target = rule.target ?? 'address';
	// A user's expression is trusted configuration; what it reads is bounded: an address (at most 254
	// characters) or one tag (at most MAX_TAG_LENGTH, at most MAX_TAGS_PER_CONTACT of them).
	if (target === 'tag')
		return (c) => {
			for (const t of c.tags) if (re.test(t.trim())) return t;
			return null;
		};
	return (c) => {
		const s = target === 'local' ? c.local : target === 'domain' ? c.domain : c.email;
		const m = re.exec(s);
		return m ? m[0] || s : null;
	};
}

/**
 * Most kept contacts of one recipient company (registrable domain, see companyOf) in one Views run, counting what was
 * already sent today; the rest are excluded as `domain-cap`.
 */
export const DEFAULT_VIEW_DOMAIN_CAP = 20;

export interface ApplyViewsOptions extends ViewEvaluatorOptions {
	views: ViewDefinition[];
	/** Names of the views whose contacts are excluded; default all given views. */
	exclude?: string[];
	/**
	 * At most this many kept contacts per recipient company (registrable domain: a.example.co.uk and b.example.co.uk
	 * are one) in this run, including `alreadySentByDomain`; 0 = no cap; default {@link DEFAULT_VIEW_DOMAIN_CAP}.
	 */
	domainCap?: number;
	/**
	 * Messages already sent today per company, so the cap holds across batches and runs. Keys may be hosts or
	 * companies: each counts towards its company (mail.acme.com and acme.com add up).
	 */
	alreadySentByDomain?: Record<string, number>;
}

export interface ViewDecision {
	index: number;
	kept: boolean;
	/** Only on excluded contacts. */
	excludedBy?: ViewMatch[];
}

/**
 * Splits contacts into kept and excluded. Invalid addresses are excluded with `invalid-address`; kept contacts past
 * the per-company cap are excluded with `domain-cap` (the value names the company), in input order.
 */
export function applyViews<C extends ViewContact>(
	contacts: readonly C[],
	options: ApplyViewsOptions,
): { kept: number[]; excluded: Array<{ index: number; excludedBy: ViewMatch[] }> } {
	const names = new Set(options.views.map((v) => v.name));
	const exclude = options.exclude ?? [...names];
	for (const n of exclude) if (!names.has(n)) throw new RangeError(`no view named "${n}" (known: ${[...names].join(', ')})`);
	const excludedSet = new Set(exclude);
	const evaluate = createViewEvaluator(
		options.views.filter((v) => excludedSet.has(v.name)),
		options,
	);
	const cap = options.domainCap ?? DEFAULT_VIEW_DOMAIN_CAP;
	if (!Number.isInteger(cap) || cap < 0) throw new RangeError(`domainCap must be a whole number ≥ 0, got ${cap}`);
	const perCompany = alreadySentByCompany(options.alreadySentByDomain);
	const kept: number[] = [];
	const excluded: Array<{ index: number; excludedBy: ViewMatch[] }> = [];
	for (let i = 0; i < contacts.length; i++) {
		const matches = evaluate(contacts[i]);
		if (matches.length > 0) {
			excluded.push({ index: i, excludedBy: matches });
			continue;
		}
		if (cap > 0) {
			const company = companyOf(String(contacts[i].email));
			const n = (perCompany.get(company) ?? 0) + 1;
			perCompany.set(company, n);
			if (n > cap) {
				excluded.push({ index: i, excludedBy: [{ view: 'domain-cap', rule: 'domainCap', value: `${company}: more than ${cap} today` }] });
				continue;
			}
		}
		kept.push(i);
	}
	return { kept, excluded };
}

/** Today's counts per company from counts per host or company; a count that is not a number ≥ 0 is an error. */
function alreadySentByCompany(sent: Record<string, number> | undefined): Map<string, number> {
	const perCompany = new Map<string, number>();
	for (const [key, n] of Object.entries(sent ?? {})) {
		if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
			const got =
				typeof n === 'number' ? String(n) : typeof n === 'string' ? JSON.stringify((n as string).slice(0, 40)) : n === null ? 'null' : typeof n;
			throw new RangeError(`alreadySentByDomain[${JSON.stringify(key.slice(0, 80))}] must be a number ≥ 0, got ${got}`);
		}
		const company = companyOf(key);
		if (company) perCompany.set(company, (perCompany.get(company) ?? 0) + n);
	}
	return perCompany;
}
