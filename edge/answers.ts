/** The answers the edge writes itself besides the trigger's: plain refusals and the unsubscribe retry page. */
import type { ServerResponse } from 'node:http';
import {
	escapePageText,
	fromSenderPhrase,
	TRACKING_HTML_HEADERS,
	TRACKING_SECURE_HEADERS,
	trackingPage,
	type TrackingResponse,
} from '../core/trackingHttp';

/** A short text answer with the secure headers, never an execution. */
export function plainAnswer(status: number, text: string, extra: Record<string, string> = {}): TrackingResponse {
	const body = Buffer.from(`${text}\n`);
	return {
		status,
		headers: {
			...TRACKING_SECURE_HEADERS,
			'content-type': 'text/plain; charset=utf-8',
			...extra,
			'content-length': String(body.length),
		},
		body,
		startExecution: false,
	};
}

/** The retry page's HTML: it says nothing was recorded, and its button posts the one-click unsubscribe again. */
function unsubscribeRetryPage(token: string, senderName: string | undefined): Buffer {
	return trackingPage(
		'Please try again',
		'<h1>Please try again</h1>' +
			`<p>We could not record your unsubscribe${fromSenderPhrase(senderName)} just now. You are not unsubscribed yet: please try again in a few minutes.</p>` +
			`<form method="post" action="${escapePageText(`?t=${encodeURIComponent(token)}`)}">` +
			'<input type="hidden" name="List-Unsubscribe" value="One-Click">' +
			'<button type="submit">Try again</button></form>',
	);
}

/** The 502 answer to a one-click unsubscribe n8n could not record: a page whose button posts it again. */
export function unsubscribeRetryAnswer(token: string, senderName: string | undefined, method: string): TrackingResponse {
	const body = unsubscribeRetryPage(token, senderName);
	return {
		status: 502,
		headers: {
			...TRACKING_SECURE_HEADERS,
			...TRACKING_HTML_HEADERS,
			'retry-after': '120',
			'content-length': String(body.length),
		},
		body: method === 'HEAD' ? Buffer.alloc(0) : body,
		startExecution: false,
	};
}

/** Writes an answer unless one was already sent or the client is gone (a relayed or failed forward may race it). */
export function sendAnswer(res: ServerResponse, answer: TrackingResponse): void {
	if (res.headersSent || res.destroyed) return;
	res.writeHead(answer.status, answer.headers);
	res.end(answer.body);
}
