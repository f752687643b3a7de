/**
 * Test only, for end-to-end runs of the built package inside n8n: preloaded with
 * NODE_OPTIONS="--require /abs/path/test/helpers/hangOnMarker.cjs", it makes the package's classifier loop forever
 * on a message with the header `X-Test-Classifier: hang`, in worker threads only (the classification worker), so
 * the Classification Time Limit can be seen at work. n8n's own thread is left alone. Never ship or preload it
 * anywhere else.
 */
const { isMainThread } = require('node:worker_threads');

if (!isMainThread) {
	const Module = require('node:module');
	const load = Module._load;
	const CLASSIFIER = /[\\/]classify[\\/]index\.js$/;
	Module._load = function (request, parent, isMain) {
		const loaded = load.call(this, request, parent, isMain);
		let file = '';
		try {
			file = Module._resolveFilename(request, parent, isMain);
		} catch {
			return loaded;
		}
		if (CLASSIFIER.test(file) && loaded && typeof loaded.classifyMessage === 'function' && !loaded.classifyMessage.hangOnMarker) {
			const real = loaded.classifyMessage;
			const wrapped = function (raw, options) {
				const head = Buffer.isBuffer(raw) ? raw.subarray(0, 4096).toString('latin1') : String(raw).slice(0, 4096);
				const end = head.search(/\r?\n\r?\n/);
				if (/^X-Test-Classifier:\s*hang\b/im.test(end < 0 ? head : head.slice(0, end))) for (;;);
				return real(raw, options);
			};
			wrapped.hangOnMarker = true;
			loaded.classifyMessage = wrapped;
		}
		return loaded;
	};
}
