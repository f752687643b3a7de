/**
 * Language and segment of a batch tag (`English-Equipment Dealers-Marketing05`, `法语-工程设备经销商-营销 05`), for
 * grouping metrics. A small local reading of the grammar: language is the first part, marker+NN the
 * last (a space before NN and full-width digits accepted), the segment is everything between (it may contain spaces
 * and even the separator).
 */
import { DEFAULT_TAG_GRAMMAR, readBatchTail, TAG_WORDS, tagKey } from '../tags';

/** Marker words read by default: both languages' marketing and read markers. */
export const DEFAULT_METRICS_TAG_MARKERS: readonly string[] = Object.freeze([
	TAG_WORDS.en.marketing,
	TAG_WORDS.en.read,
	TAG_WORDS.zh.marketing,
	TAG_WORDS.zh.read,
]);

export interface MetricsTagGrammar {
	separator?: string;
	/** Marker words before the two-digit batch number; default DEFAULT_METRICS_TAG_MARKERS. */
	markers?: string[];
}

export interface BatchTagParts {
	language: string;
	segment: string;
}

const DEFAULT_MARKER_KEYS: ReadonlySet<string> = new Set(DEFAULT_METRICS_TAG_MARKERS.map(tagKey));

function markerKeys(grammar: MetricsTagGrammar): ReadonlySet<string> {
	return grammar.markers?.length ? new Set(grammar.markers.map((m) => tagKey(String(m)))) : DEFAULT_MARKER_KEYS;
}

function parts(tag: unknown, sep: string, markers: ReadonlySet<string>): BatchTagParts | null {
	if (typeof tag !== 'string') return null;
	const t = tag.trim();
	const first = t.indexOf(sep);
	const last = t.lastIndexOf(sep);
	if (first <= 0 || last < first + sep.length) return null;
	const language = t.slice(0, first).trim();
	const segment = t.slice(first + sep.length, last).trim();
	if (!language || !segment) return null;
	const tail = readBatchTail(t.slice(last + sep.length));
	if (!tail || !markers.has(tail.marker)) return null;
	return { language, segment };
}

export function batchTagParts(tag: unknown, grammar: MetricsTagGrammar = {}): BatchTagParts | null {
	return parts(tag, grammar.separator || DEFAULT_TAG_GRAMMAR.separator, markerKeys(grammar));
}

/** Caches parts per distinct tag: a campaign reuses a few dozen tags across millions of events. */
export class BatchTagPartsCache {
	private readonly cache = new Map<string, BatchTagParts | null>();
	private readonly separator: string;
	private readonly markers: ReadonlySet<string>;
	constructor(grammar: MetricsTagGrammar = {}) {
		this.separator = grammar.separator || DEFAULT_TAG_GRAMMAR.separator;
		this.markers = markerKeys(grammar);
	}

	get(tag: unknown): BatchTagParts | null {
		if (typeof tag !== 'string') return null;
		let found = this.cache.get(tag);
		if (found === undefined) {
			found = parts(tag, this.separator, this.markers);
			if (this.cache.size < 100_000) this.cache.set(tag, found);
		}
		return found;
	}
}
