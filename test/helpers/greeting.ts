/** Whether a server on loopback answers a new TCP connection with its expected greeting (readiness probes). */
import { connect } from 'node:net';

/**
 * Connects to 127.0.0.1:`port` and resolves true once the text received matches `greeting`, false on a socket error
 * (handed to `onError`) or after a second without it.
 */
export function greets(port: number, greeting: RegExp, onError?: (error: Error) => void): Promise<boolean> {
	return new Promise((done) => {
		const socket = connect(port, '127.0.0.1');
		let buf = '';
		const finish = (v: boolean) => {
			socket.destroy();
			done(v);
		};
		socket.setTimeout(1000, () => finish(false));
		socket.on('data', (d) => {
			buf += d.toString('latin1');
			if (greeting.test(buf)) finish(true);
		});
		socket.on('error', (e) => {
			onError?.(e);
			finish(false);
		});
	});
}
