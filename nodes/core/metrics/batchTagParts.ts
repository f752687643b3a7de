/**
 * Language and segment of a batch tag (`English-Equipment Dealers-Marketing05`), for grouping metrics. A small local
 * reading of the default grammar (SPEC section 2): language is the first part, marker+NN the last, the segment is
 * everything between (it may contain spaces and even the separator).
 */
export interface MetricsTagGrammar {
	separator?: string;
	/** Marker words before the two-digit batch number; default `Marketing` and `Read`. */
	markers?: string[];
}

export interface BatchTagParts {
	language: string;
	segment: string;
}

export function batchTagParts(tag: unknown, grammar: MetricsTagGrammar = {}): BatchTagParts | null {
	if (typeof tag !== 'string') return null;
	const sep = grammar.separator || '-';
	const markers = grammar.markers?.length ? grammar.markers : ['Marketing', 'Read'];
	const t = tag.trim();
	const first = t.indexOf(sep);
	const last = t.lastIndexOf(sep);
	if (first <= 0 || last <= first) return null;
	const language = t.slice(0, first).trim();
	const segment = t.slice(first + sep.length, last).trim();
	const tail = t.slice(last + sep.length).trim();
	if (!language || !segment || !/^.+\d\d$/.test(tail)) return null;
	const marker = tail.slice(0, -2).toLowerCase();
	if (!markers.some((m) => m.toLowerCase() === marker)) return null;
	return { language, segment };
}

/** Caches parts per distinct tag: a campaign reuses a few dozen tags across millions of events. */
export class BatchTagPartsCache {
	private readonly cache = new Map<string, BatchTagParts | null>();
	constructor(private readonly grammar: MetricsTagGrammar = {}) {}

	get(tag: unknown): BatchTagParts | null {
		if (typeof tag !== 'string') return null;
		let parts = this.cache.get(tag);
		if (parts === undefined) {
			parts = batchTagParts(tag, this.grammar);
			if (this.cache.size < 100_000) this.cache.set(tag, parts);
		}
		return parts;
	}
}
