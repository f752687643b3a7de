/**
 * An independent DKIM verifier for tests: Debian's `python3-dkim` (dkimpy) run by `/usr/bin/python3` (the system
 * Python that has it, not a Python on PATH). The public keys come either from a real DNS server (dkimpy resolves
 * through dnspython, pointed at `host:port` only) or from a fixed name → TXT table handed to dkimpy's `dnsfunc`.
 * Many messages are verified in one Python process.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const SYSTEM_PYTHON = '/usr/bin/python3';
/** A verification run that takes longer than this is a failure, not a hang. */
const VERIFY_TIMEOUT_MS = 60_000;

export interface DkimVerdict {
	/** dkimpy's verdict on the first DKIM-Signature field. */
	ok: boolean;
	/** dkimpy's log lines (why a signature failed). */
	log: string;
	/** Tags of the first DKIM-Signature as dkimpy parsed them (d, s, a, h, ...), whitespace removed; {} without one. */
	tags: Record<string, string>;
}

export type DkimKeySource = { txt: Record<string, string> } | { dns: string };

const SCRIPT = String.raw`
import sys, json, os, io, logging, base64, re
import dkim
cfg = json.loads(os.environ['DKIM_VERIFY_CONFIG'])
messages = [base64.b64decode(m) for m in json.loads(sys.stdin.read())]
kwargs = {}
if 'dns' in cfg:
    import dns.resolver
    host, port = cfg['dns'].rsplit(':', 1)
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    r.timeout = 3
    r.lifetime = 5
    # dkimpy 1.1.4 looks keys up with dns.resolver.query, which asks the default resolver.
    dns.resolver.default_resolver = r
else:
    table = {k.lower(): v for k, v in cfg['txt'].items()}
    def dnsfunc(name, timeout=5):
        v = table.get(name.decode('ascii').rstrip('.').lower())
        return v.encode('ascii') if v is not None else None
    kwargs['dnsfunc'] = dnsfunc
out = []
for m in messages:
    stream = io.StringIO()
    logger = logging.getLogger('dkimverify%d' % len(out))
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler(stream))
    try:
        ok = bool(dkim.verify(m, logger=logger, **kwargs))
    except Exception as e:
        ok = False
        stream.write('exception: %r\n' % (e,))
    tags = {}
    try:
        d = dkim.DKIM(m)
        for name, value in d.headers:
            if name.lower() == b'dkim-signature':
                tags = {k.decode(): re.sub(r'\s+', '', v.decode('latin1')) for k, v in dkim.util.parse_tag_value(value).items()}
                break
    except Exception as e:
        stream.write('tags: %r\n' % (e,))
    out.append({'ok': ok, 'log': stream.getvalue(), 'tags': tags})
print(json.dumps(out))
`;

/** Whether the verifier can run here (python3-dkim installed). */
export function dkimpyAvailable(): boolean {
	return existsSync(SYSTEM_PYTHON) && existsSync('/usr/lib/python3/dist-packages/dkim/__init__.py');
}

/** dkimpy's verdict on each message, in order. */
export function verifyDkim(messages: Array<Buffer | string>, keys: DkimKeySource): Promise<DkimVerdict[]> {
	return new Promise((resolve, reject) => {
		const child = spawn(SYSTEM_PYTHON, ['-c', SCRIPT], {
			env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DKIM_VERIFY_CONFIG: JSON.stringify(keys) },
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		const timer = setTimeout(() => child.kill('SIGKILL'), VERIFY_TIMEOUT_MS);
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (err += d.toString()));
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			if (code !== 0) return reject(new Error(`dkimpy exited with ${code}: ${err.slice(-2000)}`));
			try {
				resolve(JSON.parse(out) as DkimVerdict[]);
			} catch {
				reject(new Error(`dkimpy printed no verdict: ${out.slice(0, 500)} ${err.slice(-2000)}`));
			}
		});
		child.stdin.end(JSON.stringify(messages.map((m) => Buffer.from(m).toString('base64'))));
	});
}
