/**
 * DMARC (RFC 7489): the policy record at `_dmarc.<domain>` and identifier alignment. Pure; nothing here throws.
 */
import { companyOf } from '../company';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
export type AlignmentMode = 'r' | 's';

export interface DmarcRecord {
	p: DmarcPolicy;
	/** Policy for subdomains; absent = p. */
	sp?: DmarcPolicy;
	adkim: AlignmentMode;
	aspf: AlignmentMode;
	/** Aggregate report addresses (URIs as written). */
	rua: string[];
	pct: number;
}

export type DmarcParseResult = { record: DmarcRecord; error?: undefined } | { record?: undefined; error: string };

const POLICIES: readonly string[] = ['none', 'quarantine', 'reject'];

/** Whether a TXT string is a DMARC record: receivers discard the others (RFC 7489 6.6.3). */
export function isDmarcRecord(txt: string): boolean {
	return /^v\s*=\s*DMARC1\s*(;|$)/.test(txt);
}

/** Splits `tag=value; tag=value` into pairs; an error names the part that is no tag. */
export function parseRecordTags(text: string): { tags: Map<string, string>; error?: undefined } | { tags?: undefined; error: string } {
	const tags = new Map<string, string>();
	for (const part of text.split(';')) {
		if (part.trim() === '') continue;
		const eq = part.indexOf('=');
		const name = eq < 0 ? '' : part.slice(0, eq).trim();
		if (!/^[a-z][a-z0-9_]*$/i.test(name)) return { error: `"${part.trim()}" is not a tag=value pair` };
		if (tags.has(name)) return { error: `tag "${name}" appears twice` };
		tags.set(name, part.slice(eq + 1).trim());
	}
	return { tags };
}

/** Parses a DMARC record; a malformed one gives an error naming what is wrong. Never throws. */
export function parseDmarc(text: string): DmarcParseResult {
	if (typeof text !== 'string') return { error: 'the record is not text' };
	if (!isDmarcRecord(text)) return { error: 'it does not start with "v=DMARC1"' };
	const list = parseRecordTags(text);
	if (!list.tags) return { error: list.error };
	const t = list.tags;
	const policy = (tag: 'p' | 'sp') => {
		const v = t.get(tag);
		return v === undefined ? undefined : v.toLowerCase();
	};
	const p = policy('p');
	if (p === undefined) return { error: 'the required tag p= (none, quarantine or reject) is missing' };
	if (!POLICIES.includes(p)) return { error: `p=${t.get('p')} is not none, quarantine or reject` };
	const sp = policy('sp');
	if (sp !== undefined && !POLICIES.includes(sp)) return { error: `sp=${t.get('sp')} is not none, quarantine or reject` };
	const mode = (tag: 'adkim' | 'aspf'): AlignmentMode | undefined => {
		const v = (t.get(tag) ?? 'r').toLowerCase();
		return v === 'r' || v === 's' ? v : undefined;
	};
	const adkim = mode('adkim');
	const aspf = mode('aspf');
	if (!adkim) return { error: `adkim=${t.get('adkim')} is not r (relaxed) or s (strict)` };
	if (!aspf) return { error: `aspf=${t.get('aspf')} is not r (relaxed) or s (strict)` };
	const pctText = t.get('pct') ?? '100';
	if (!/^\d{1,3}$/.test(pctText) || Number(pctText) > 100) return { error: `pct=${pctText} is not a whole number 0–100` };
	const ruaText = t.get('rua') ?? '';
	const rua = ruaText
		.split(',')
		.map((s) => s.trim())
		.filter((s) => s !== '');
	const badUri = rua.find((u) => !/^[a-z][a-z0-9+.-]*:\S+$/i.test(u));
	if (badUri !== undefined) return { error: `rua: "${badUri}" is not a URI (write mailto:reports@example.com)` };
	return {
		record: {
			p: p as DmarcPolicy,
			...(sp !== undefined ? { sp: sp as DmarcPolicy } : {}),
			adkim,
			aspf,
			rua,
			pct: Number(pctText),
		},
	};
}

/**
 * Identifier alignment (RFC 7489 3.1): strict = the same name; relaxed = the same organizational (registrable)
 * domain, by the public suffix list. Names compare case-insensitively without a trailing dot. Never throws.
 */
export function aligned(domain: string, fromDomain: string, mode: AlignmentMode): boolean {
	const norm = (d: string) =>
		String(d ?? '')
			.trim()
			.toLowerCase()
			.replace(/\.$/, '');
	const a = norm(domain);
	const b = norm(fromDomain);
	if (!a || !b) return false;
	if (mode === 's') return a === b;
	const ca = companyOf(a);
	return ca !== '' && ca === companyOf(b);
}
