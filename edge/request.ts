/** Reading a client request the way n8n reads it: headers, the request target, the `t` token and the body. */
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { TRACKING_TOKEN_MAX_LENGTH } from '../core/tracker';
import { MAX_QUERY_KEYS } from './limits';

/** A header as one string: repeated values joined as HTTP allows, absent as ''. */
export function headerText(headers: IncomingHttpHeaders, name: string): string {
	const v = headers[name];
	return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** The `t` value the core would use: one plain string of sane length. */
export function tokenValue(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	const t = value.trim();
	return t.length > 0 && t.length <= TRACKING_TOKEN_MAX_LENGTH ? t : undefined;
}

/** A query string parsed with the same key limit as n8n, so both read the same `t`. */
export function parseQuery(text: string): Record<string, unknown> {
	return parseQueryString(text, '&', '=', { maxKeys: MAX_QUERY_KEYS }) as Record<string, unknown>;
}

/** The request target split at the first `?`: the path is matched exactly, the query is passed on as sent. */
export function splitRequestTarget(rawUrl: string): { path: string; search: string } {
	const q = rawUrl.indexOf('?');
	return q < 0 ? { path: rawUrl, search: '' } : { path: rawUrl.slice(0, q), search: rawUrl.slice(q + 1) };
}

/**
 * The body as n8n's webhook body parser gives it to a version-1 trigger: urlencoded → fields, text/plain → text,
 * JSON → the value. Anything else (multipart, XML, compressed) the edge does not read: `undefined`, and a POST
 * with a valid unsubscribe token in the query is then forwarded for the trigger to decide.
 */
export function bodyAsN8nParsesIt(headers: IncomingHttpHeaders, body: Buffer): unknown {
	if (body.length === 0) return undefined;
	const encoding = headerText(headers, 'content-encoding').trim().toLowerCase();
	if (encoding && encoding !== 'identity') return undefined;
	const type = headerText(headers, 'content-type').split(';')[0].trim().toLowerCase();
	const text = body.toString('utf8');
	if (type === 'application/x-www-form-urlencoded') return parseQueryString(text, '&', '=', { maxKeys: MAX_QUERY_KEYS });
	if (type === 'text/plain') return text;
	if (type === 'application/json') {
		try {
			return JSON.parse(text) as unknown;
		} catch {
			return undefined;
		}
	}
	return undefined;
}
