/**
 * A real DNS server on 127.0.0.1 for tests and benches: Debian's `dnsmasq` (package `dnsmasq-base`) on a free port,
 * serving only the records it is given. It is authoritative for the names under `localDomains` (a name there
 * without records answers NXDOMAIN, a name with other types NODATA) and never forwards anything: no upstream
 * servers, no /etc/hosts, no /etc/resolv.conf. Every query is logged to a file so a test can count lookups.
 *
 * Records go to a generated config file rather than the command line: only the config parser understands quoted
 * TXT strings (commas, quotes and semicolons in DKIM/DMARC records).
 *
 * `startSilentDnsServer` binds a UDP socket that reads and never answers, for resolver timeouts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { domainToASCII } from 'node:url';
import { freePort, testServersRoot } from './testServers';

export interface DnsRecord {
	name: string;
	type: 'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME';
	/** Address (A/AAAA), exchange host (MX; `.` = null MX), text (TXT, any length) or target name (CNAME). */
	value: string;
	/** MX preference (default 10). */
	priority?: number;
}

export interface DnsServerOptions {
	records: DnsRecord[];
	/** Domains the server answers for with authority (NXDOMAIN for unknown names below them). */
	localDomains: string[];
}

export interface DnsQuery {
	/** Lower-case query name, without the trailing dot. */
	name: string;
	/** Record type as dnsmasq logs it: `A`, `AAAA`, `MX`, `TXT`, `CNAME`, … (`type=N` for unnamed types). */
	type: string;
}

export interface DnsServer {
	host: '127.0.0.1';
	port: number;
	/** `127.0.0.1:port`, the form resolvers take. */
	server: string;
	/** Every query received since start (the readiness probe excluded), in arrival order. */
	queries(): DnsQuery[];
	stop(): Promise<void>;
}

/** The name the helper resolves to know the server answers; never reported by `queries()`. */
const PROBE_DOMAIN = 'cadence-dns-probe.invalid';
const PROBE_NAME = `ready.${PROBE_DOMAIN}`;
/** How long the server may take to answer its first query. */
const START_TIMEOUT_MS = 10_000;
/** Port races (another process takes the free port first) are retried this many times. */
const START_ATTEMPTS = 3;
/** A TXT character-string holds at most 255 bytes (RFC 1035 3.3). */
const TXT_STRING_MAX_BYTES = 255;

export function dnsmasqAvailable(): boolean {
	return spawnSync('dnsmasq', ['--version'], { encoding: 'utf8' }).status === 0;
}

function asciiName(name: string): string {
	const trimmed = name.trim().replace(/\.$/, '');
	const ascii = domainToASCII(trimmed).toLowerCase();
	if (!ascii || !/^[a-z0-9_*-]+(\.[a-z0-9_-]+)*$/.test(ascii)) throw new Error(`dnsServer: invalid DNS name ${JSON.stringify(name)}`);
	return ascii;
}

/** Splits a TXT value into character-strings of at most 255 bytes, never inside a UTF-8 sequence. */
export function splitTxt(value: string): string[] {
	const parts: string[] = [];
	let cur = '';
	let bytes = 0;
	for (const ch of value) {
		const n = Buffer.byteLength(ch);
		if (bytes + n > TXT_STRING_MAX_BYTES) {
			parts.push(cur);
			cur = '';
			bytes = 0;
		}
		cur += ch;
		bytes += n;
	}
	parts.push(cur);
	return parts;
}

function quoteTxt(s: string): string {
	if (/[\r\n]/.test(s)) throw new Error('dnsServer: TXT values cannot contain line breaks');
	return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function configLines(records: DnsRecord[]): string[] {
	const lines: string[] = [];
	for (const r of records) {
		const name = asciiName(r.name);
		switch (r.type) {
			case 'A':
			case 'AAAA': {
				const isV6 = r.value.includes(':');
				if ((r.type === 'AAAA') !== isV6 || !/^[0-9a-fA-F:.]+$/.test(r.value)) {
					throw new Error(`dnsServer: ${r.type} record of ${r.name} needs an IPv${r.type === 'A' ? '4' : '6'} address, got ${r.value}`);
				}
				lines.push(`host-record=${name},${r.value}`);
				break;
			}
			case 'MX': {
				const pref = r.priority ?? 10;
				if (!Number.isInteger(pref) || pref < 0 || pref > 65535) throw new Error(`dnsServer: MX priority of ${r.name} must be 0..65535`);
				// `.` is the null MX of RFC 7505 (the domain takes no mail)
				lines.push(`mx-host=${name},${r.value.trim() === '.' ? '.' : asciiName(r.value)},${pref}`);
				break;
			}
			case 'TXT':
				lines.push(`txt-record=${name},${splitTxt(r.value).map(quoteTxt).join(',')}`);
				break;
			case 'CNAME':
				lines.push(`cname=${name},${asciiName(r.value)}`);
				break;
			default:
				throw new Error(`dnsServer: unsupported record type ${String((r as DnsRecord).type)}`);
		}
	}
	return lines;
}

function parseQueries(log: string): DnsQuery[] {
	const out: DnsQuery[] = [];
	const re = /query\[([^\]]+)\] (\S+) from /g;
	for (let m = re.exec(log); m; m = re.exec(log)) {
		const name = m[2].toLowerCase().replace(/\.$/, '');
		if (name === PROBE_NAME) continue;
		out.push({ name, type: m[1] });
	}
	return out;
}

async function answers(server: string): Promise<boolean> {
	const r = new Resolver({ timeout: 300, tries: 1 });
	r.setServers([server]);
	try {
		await r.resolve4(PROBE_NAME);
		return true;
	} catch {
		return false;
	}
}

async function startOnce(dir: string, confPath: string, logPath: string, domains: string[]): Promise<{ child: ChildProcess; port: number } | string> {
	const port = await freePort();
	writeFileSync(logPath, '');
	chmodSync(logPath, 0o666);
	const args = [
		'--keep-in-foreground',
		`--conf-file=${confPath}`,
		`--port=${port}`,
		'--listen-address=127.0.0.1',
		'--bind-interfaces',
		'--no-resolv',
		'--no-hosts',
		'--no-poll',
		'--pid-file=',
		`--local=/${PROBE_DOMAIN}/`,
		...domains.map((d) => `--local=/${d}/`),
		'--log-queries',
		`--log-facility=${logPath}`,
	];
	const child = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
	let stderr = '';
	child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
	const server = `127.0.0.1:${port}`;
	const deadline = Date.now() + START_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) return `dnsmasq exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`;
		if (await answers(server)) return { child, port };
		await new Promise((r) => setTimeout(r, 50));
	}
	child.kill('SIGKILL');
	return `dnsmasq did not answer on ${server} within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
	const domains = opts.localDomains.map(asciiName);
	const conf = [`host-record=${PROBE_NAME},127.0.0.1`, ...configLines(opts.records)];
	const root = testServersRoot();
	mkdirSync(root, { recursive: true });
	const dir = join(root, `dns-${randomBytes(6).toString('hex')}`);
	mkdirSync(dir, { recursive: true });
	// dnsmasq drops to `nobody` after start; the log file must stay writable for it.
	chmodSync(dir, 0o777);
	const confPath = join(dir, 'dnsmasq.conf');
	const logPath = join(dir, 'queries.log');
	writeFileSync(confPath, conf.join('\n') + '\n');

	let started: { child: ChildProcess; port: number } | undefined;
	let lastError = '';
	for (let attempt = 0; attempt < START_ATTEMPTS && !started; attempt++) {
		const r = await startOnce(dir, confPath, logPath, domains);
		if (typeof r === 'string') lastError = r;
		else started = r;
	}
	if (!started) {
		rmSync(dir, { recursive: true, force: true });
		throw new Error(`dnsServer: could not start dnsmasq: ${lastError}`);
	}
	const { child, port } = started;
	const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
	const killOnExit = () => child.kill('SIGKILL');
	process.once('exit', killOnExit);
	let stopped = false;
	return {
		host: '127.0.0.1',
		port,
		server: `127.0.0.1:${port}`,
		queries: () => (existsSync(logPath) ? parseQueries(readFileSync(logPath, 'utf8')) : []),
		async stop() {
			if (stopped) return;
			stopped = true;
			process.removeListener('exit', killOnExit);
			if (child.exitCode === null && child.signalCode === null) {
				child.kill('SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(timer);
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

export interface SilentDnsServer {
	/** `127.0.0.1:port` of a UDP socket that receives queries and never answers. */
	server: string;
	/** Datagrams received so far. */
	readonly received: number;
	stop(): Promise<void>;
}

export async function startSilentDnsServer(): Promise<SilentDnsServer> {
	const sock = createSocket('udp4');
	let received = 0;
	sock.on('message', () => received++);
	await new Promise<void>((resolve, reject) => {
		sock.once('error', reject);
		sock.bind(0, '127.0.0.1', () => resolve());
	});
	const port = sock.address().port;
	let closed = false;
	return {
		server: `127.0.0.1:${port}`,
		get received() {
			return received;
		},
		stop: () =>
			new Promise<void>((resolve) => {
				if (closed) return resolve();
				closed = true;
				sock.close(() => resolve());
			}),
	};
}
