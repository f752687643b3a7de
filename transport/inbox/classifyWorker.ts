/**
 * The worker thread behind `createClassifierPool` (budget.ts): builds the classifier from plain data, says `ready`,
 * then answers `{ id, raw }` with `{ id, classification }` or `{ id, error }`, one message at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { classifyMessage, type Classification, type ClassifyOptions } from '../../core/classify';
import { createTracker } from '../../core/tracker';
import type { ClassifierSpec } from './budget';

/**
 * Classified once before `ready`: a cold classifier spends its first message compiling itself, which is start-up,
 * not the message's time.
 */
const WARM_UP = [
	'From: Mail Delivery System <MAILER-DAEMON@mx.example>',
	'To: sales@sender.example',
	'Subject: Undelivered Mail Returned to Sender',
	'Message-ID: <warm-up@mx.example>',
	'MIME-Version: 1.0',
	'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
	'',
	'--b',
	'Content-Type: text/plain; charset=us-ascii',
	'',
	'<x@example.org>: host mx.example.org said: 550 5.1.1 User unknown',
	'--b',
	'Content-Type: message/delivery-status',
	'',
	'Reporting-MTA: dns; mx.example',
	'',
	'Final-Recipient: rfc822; x@example.org',
	'Action: failed',
	'Status: 5.1.1',
	'Diagnostic-Code: smtp; 550 5.1.1 User unknown',
	'--b',
	'Content-Type: text/rfc822-headers',
	'',
	'From: Sales <sales@sender.example>',
	'To: x@example.org',
	'Subject: Offer',
	'--b--',
	'',
].join('\r\n');

type Classify = (raw: Buffer, options: ClassifyOptions) => Classification | Promise<Classification>;

function build(spec: ClassifierSpec): (raw: Buffer) => Classification | Promise<Classification> {
	const options: ClassifyOptions = { ...spec.options };
	if (spec.tracker) {
		const tracker = createTracker(spec.tracker);
		options.verifyToken = (token) => tracker.verifyToken(token);
	}
	let classify: Classify = classifyMessage;
	if (spec.module) {
		// A path known only at run time, loaded synchronously before `ready`.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const loaded = require(spec.module) as { classifyMessage?: unknown; default?: { classifyMessage?: unknown } };
		const alternative = loaded.classifyMessage ?? loaded.default?.classifyMessage;
		if (typeof alternative !== 'function') throw new Error(`${spec.module} exports no classifyMessage function`);
		classify = alternative as Classify;
	}
	return (raw) => classify(raw, options);
}

async function main(): Promise<void> {
	const port = parentPort;
	if (!port) return;
	let classify: (raw: Buffer) => Classification | Promise<Classification>;
	try {
		classify = build((workerData as { spec?: ClassifierSpec } | undefined)?.spec ?? {});
	} catch (error) {
		port.postMessage({ type: 'fatal', error: (error as Error)?.message ?? String(error) });
		return;
	}
	try {
		await classify(Buffer.from(WARM_UP));
	} catch {
		// a classifier that fails here fails on real messages too, each reported on its own
	}
	port.on('message', async (m: { id: number; raw: Uint8Array }) => {
		const raw = Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength);
		try {
			const classification = await classify(raw);
			port.postMessage({ id: m.id, classification });
		} catch (error) {
			port.postMessage({ id: m.id, error: (error as Error)?.message ?? String(error) });
		}
	});
	port.postMessage({ type: 'ready' });
}

void main();
