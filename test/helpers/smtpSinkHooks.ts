/** One SMTP sink per test file, started before its tests, emptied before each test and closed after them. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { SINK_AUTH } from './sendNode';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from './smtpSink';

/**
 * Registers the file's hooks for a sink that requires SINK_AUTH (unless `options` says otherwise) and returns a
 * getter for it; the getter throws when called before the sink started.
 */
export function useSmtpSink(options: SmtpSinkOptions = {}): () => SmtpSink {
	let sink: SmtpSink | undefined;
	beforeAll(async () => {
		sink = await startSmtpSink({ auth: SINK_AUTH, ...options });
	});
	afterAll(async () => sink?.close());
	beforeEach(() => {
		if (sink) sink.messages.length = 0;
	});
	return () => {
		if (!sink) throw new Error('the SMTP sink is used before its beforeAll hook started it');
		return sink;
	};
}
