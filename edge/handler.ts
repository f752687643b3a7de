/**
 * The request handler: every hit is answered with the trigger's own core (`handleTrackingRequest`), and only the
 * ones that would start an execution are forwarded to n8n.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleTrackingRequest, type TrackingResponse } from '../core/trackingHttp';
import { plainAnswer, sendAnswer, unsubscribeRetryAnswer } from './answers';
import type { Upstream } from './forward';
import type { ResolvedEdgeOptions } from './options';
import { bodyAsN8nParsesIt, headerText, parseQuery, splitRequestTarget, tokenValue } from './request';
import type { TrackingEdgeStats } from './types';

/** What every step of the handler shares: the options, the counters and the proxy to n8n. */
export interface EdgeContext {
	readonly o: ResolvedEdgeOptions;
	readonly counters: TrackingEdgeStats;
	readonly upstream: Upstream;
}

/** The event of a valid hit, as the trigger's core reports it. */
type HitEvent = NonNullable<TrackingResponse['event']>;

/** One request on the tracking path, its body read (POST) or not needed. */
interface EdgeRequest {
	req: IncomingMessage;
	res: ServerResponse;
	method: string;
	search: string;
	body: Buffer | undefined;
}

/** Answers what is not a tracking request (wrong path, body too large): counted apart from hits. */
function refuse(ctx: EdgeContext, res: ServerResponse, answer: TrackingResponse): void {
	ctx.counters.refused++;
	ctx.counters.answeredHere++;
	sendAnswer(res, answer);
}

/** Answers a hit here with the trigger's own answer; a valid hit answered here is one the trigger would not run. */
function answerHere(ctx: EdgeContext, res: ServerResponse, answer: TrackingResponse): void {
	ctx.counters.answeredHere++;
	if (answer.event) ctx.counters.notForwardedHits++;
	sendAnswer(res, answer);
}

/** A failure on one request answers 500 and is logged; the edge goes on serving. */
function internalError(ctx: EdgeContext, res: ServerResponse, error: unknown): void {
	ctx.o.log('error', 'tracking edge failed on a request', {
		error: (error as Error).message,
	});
	sendAnswer(res, plainAnswer(500, 'Internal error'));
}

/** The `t` of the query, or else of the body, when it is a valid unsubscribe token. */
function unsubscribeToken(ctx: EdgeContext, query: Record<string, unknown>, parsedBody: unknown): string | undefined {
	const fields = parsedBody !== null && typeof parsedBody === 'object' ? (parsedBody as Record<string, unknown>) : {};
	const t = tokenValue(query.t) ?? tokenValue(fields.t);
	try {
		return t !== undefined && ctx.o.tracker.parseToken(t)?.kind === 'unsubscribe' ? t : undefined;
	} catch {
		return undefined;
	}
}

/** n8n did not take an unsubscribe: the trigger's answer when nothing was to be recorded, else a 502 asking to retry. */
function unsubscribeNotTaken(ctx: EdgeContext, r: EdgeRequest, answer: TrackingResponse, wanted: boolean, token: string, reason: string): void {
	if (!wanted) {
		// Nothing to record (no One-Click, or unsubscribes not emitted): the local answer is the trigger's.
		sendAnswer(r.res, answer);
		return;
	}
	ctx.counters.unsubscribeRetryPages++;
	ctx.o.log('warn', 'unsubscribe not recorded: n8n did not take it; answered 502 so the sender retries', {
		reason,
		token: answer.event?.token,
		class: answer.event?.class,
	});
	sendAnswer(r.res, unsubscribeRetryAnswer(token, ctx.o.core.senderName, r.method));
}

/**
 * A conversion posted by the website's server: forwarded when the trigger would record it; when n8n does not take
 * it the answer is a 502, so the server retries (the event id makes a retry count once).
 */
function forwardConversionPost(ctx: EdgeContext, r: EdgeRequest, answer: TrackingResponse, event: HitEvent): void {
	ctx.upstream.forward({
		...r,
		body: r.body ?? Buffer.alloc(0),
		expected: [answer.status],
		failed: (reason) => {
			ctx.counters.conversionRetryAnswers++;
			ctx.o.log('warn', 'conversion not recorded: n8n did not take it; answered 502 so the website retries', { reason, token: event.token });
			sendAnswer(r.res, plainAnswer(502, 'Conversion not recorded, please retry', { 'retry-after': '120' }));
		},
	});
}

/** A POST: forwarded when it carries a valid unsubscribe token or a conversion to record, otherwise answered here. */
function decidePost(
	ctx: EdgeContext,
	r: EdgeRequest,
	query: Record<string, unknown>,
	parsedBody: unknown,
	answer: TrackingResponse,
	wanted: boolean,
): void {
	if (wanted && answer.event?.type === 'converted') {
		forwardConversionPost(ctx, r, answer, answer.event);
		return;
	}
	// A POST with a valid unsubscribe token always goes to n8n, which parses every body type (multipart
	// too, as RFC 8058 allows) and decides: the edge never answers an unsubscribe the trigger would record.
	const token = unsubscribeToken(ctx, query, parsedBody);
	if (token === undefined) {
		answerHere(ctx, r.res, answer);
		return;
	}
	ctx.upstream.forward({
		...r,
		body: r.body ?? Buffer.alloc(0),
		expected: [200, 400],
		failed: (reason) => unsubscribeNotTaken(ctx, r, answer, wanted, token, reason),
	});
}

/** Forwards an open or click that starts an execution; when n8n does not take it, the event is logged as lost. */
function forwardHit(ctx: EdgeContext, r: EdgeRequest, answer: TrackingResponse, event: HitEvent): void {
	ctx.upstream.forward({
		...r,
		body: undefined,
		expected: [answer.status],
		failed: (reason) => {
			// The person still gets the pixel or the redirect; only the record of it is lost.
			ctx.counters.lostEvents++;
			ctx.o.log('warn', `tracking event lost: n8n did not take the ${event.type} hit`, {
				reason,
				type: event.type,
				class: event.class,
				at: event.at,
				token: event.token,
				...(event.url !== undefined ? { url: event.url } : {}),
			});
			sendAnswer(r.res, answer);
		},
	});
}

/** Answers a complete request as the trigger would, and forwards it when the trigger would start an execution. */
function decide(ctx: EdgeContext, r: EdgeRequest): void {
	const query = parseQuery(r.search);
	const parsedBody = r.method === 'POST' && r.body ? bodyAsN8nParsesIt(r.req.headers, r.body) : undefined;
	const answer = handleTrackingRequest(
		{ method: r.method, query, body: parsedBody, headers: r.req.headers, ip: r.req.socket.remoteAddress, now: ctx.o.now() },
		ctx.o.tracker,
		ctx.o.core,
	);
	const wanted = answer.startExecution && answer.event !== undefined && ctx.o.events.has(answer.event.type);
	if (r.method === 'POST') {
		decidePost(ctx, r, query, parsedBody, answer, wanted);
		return;
	}
	if (!wanted || !answer.event) {
		answerHere(ctx, r.res, answer);
		return;
	}
	forwardHit(ctx, r, answer, answer.event);
}

/** 413, and the connection closes once the answer is out, so the rest of the body is never read. */
function refuseTooLarge(ctx: EdgeContext, req: IncomingMessage, res: ServerResponse): void {
	res.on('finish', () => req.destroy());
	refuse(ctx, res, plainAnswer(413, 'Request body too large', { connection: 'close' }));
}

/** Reads a POST body of at most `maxBodyBytes`, refusing a larger one as soon as it is declared or sent. */
function readBody(ctx: EdgeContext, req: IncomingMessage, res: ServerResponse, done: (body: Buffer) => void): void {
	const declared = Number(headerText(req.headers, 'content-length') || 0);
	if (declared > ctx.o.maxBodyBytes) {
		refuseTooLarge(ctx, req, res);
		return;
	}
	const chunks: Buffer[] = [];
	let size = 0;
	let tooLarge = false;
	req.on('data', (chunk: Buffer) => {
		if (tooLarge) return;
		size += chunk.length;
		if (size > ctx.o.maxBodyBytes) {
			tooLarge = true;
			refuseTooLarge(ctx, req, res);
			return;
		}
		chunks.push(chunk);
	});
	req.on('end', () => {
		if (tooLarge) return;
		try {
			done(Buffer.concat(chunks, size));
		} catch (error) {
			internalError(ctx, res, error);
		}
	});
	req.on('error', () => req.destroy());
}

/** Routes a request: a non-POST is decided at once (its body is drained), a POST once its body is read. */
function route(ctx: EdgeContext, req: IncomingMessage, res: ServerResponse): void {
	const { path, search } = splitRequestTarget(req.url ?? '');
	const method = String(req.method ?? '').toUpperCase();
	// Only the tracking URL is served: nothing else of n8n is reachable through the edge.
	if (path !== ctx.o.path) {
		req.resume();
		refuse(ctx, res, plainAnswer(404, 'Not found'));
		return;
	}
	if (method !== 'POST') {
		req.resume();
		decide(ctx, { req, res, method, search, body: undefined });
		return;
	}
	readBody(ctx, req, res, (body) => decide(ctx, { req, res, method, search, body }));
}

/** The request handler: every request is counted, and no failure on one escapes to the server. */
export function handleEdgeRequest(ctx: EdgeContext, req: IncomingMessage, res: ServerResponse): void {
	ctx.counters.requests++;
	try {
		route(ctx, req, res);
	} catch (error) {
		internalError(ctx, res, error);
	}
}
