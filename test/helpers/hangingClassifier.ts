/**
 * A classifier for tests of the classification time limit (transport/inbox/budget.ts): the package's classifier,
 * except that a message with an `X-Test-Classifier` header misbehaves on purpose:
 * `hang` loops forever, `throw` throws, `exit` ends the worker thread, `oom` allocates until the heap limit.
 */
import { classifyMessage as realClassify, type Classification, type ClassifyOptions } from '../../core/classify';

function marker(raw: Buffer): string | undefined {
	const head = raw.subarray(0, 4096).toString('latin1');
	const end = head.search(/\r?\n\r?\n/);
	return /^X-Test-Classifier:\s*(\w+)/im.exec(end < 0 ? head : head.slice(0, end))?.[1]?.toLowerCase();
}

export function classifyMessage(raw: Buffer, options: ClassifyOptions): Classification {
	switch (marker(raw)) {
		case 'hang':
			for (;;) {
				// a classifier bug nobody knows about yet
			}
		case 'throw':
			throw new Error('test classifier exploded');
		case 'exit':
			process.exit(3);
		case 'oom': {
			const hoard: string[][] = [];
			for (;;) hoard.push(new Array(1_000_000).fill('x'.repeat(8)));
		}
		default:
			return realClassify(raw, options);
	}
}
