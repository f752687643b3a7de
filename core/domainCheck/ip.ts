/** IP addresses as bytes, for SPF's ip4/ip6/a/mx networks. Pure; never throws. */

/** 4 bytes for IPv4, 16 for IPv6; null when the text is no IP address. */
export function parseIp(text: string): Uint8Array | null {
	if (typeof text !== 'string') return null;
	const s = text.trim();
	return s.includes(':') ? parseIp6(s) : parseIp4(s);
}

function parseIp4(s: string): Uint8Array | null {
	const parts = s.split('.');
	if (parts.length !== 4) return null;
	const out = new Uint8Array(4);
	for (let i = 0; i < 4; i++) {
		if (!/^\d{1,3}$/.test(parts[i])) return null;
		const n = Number(parts[i]);
		if (n > 255) return null;
		out[i] = n;
	}
	return out;
}

function parseIp6(s: string): Uint8Array | null {
	if (s.length > 45) return null;
	const halves = s.split('::');
	if (halves.length > 2) return null;
	const groups = (h: string): number[] | null => {
		if (h === '') return [];
		const out: number[] = [];
		const parts = h.split(':');
		for (let i = 0; i < parts.length; i++) {
			const p = parts[i];
			// An IPv4 tail (::ffff:192.0.2.1) is two groups.
			if (i === parts.length - 1 && p.includes('.')) {
				const v4 = parseIp4(p);
				if (!v4) return null;
				out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
			} else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
			else return null;
		}
		return out;
	};
	const head = groups(halves[0]);
	const tail = halves.length === 2 ? groups(halves[1]) : [];
	if (!head || !tail) return null;
	const missing = 8 - head.length - tail.length;
	if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
	const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
	const out = new Uint8Array(16);
	all.forEach((g, i) => {
		out[2 * i] = g >> 8;
		out[2 * i + 1] = g & 0xff;
	});
	return out;
}

/** Whether `ip` lies in `network`/`bits` (same family only). */
export function inNetwork(ip: Uint8Array, network: Uint8Array, bits: number): boolean {
	if (ip.length !== network.length || bits < 0 || bits > ip.length * 8) return false;
	let rest = bits;
	for (let i = 0; i < ip.length && rest > 0; i++, rest -= 8) {
		const mask = rest >= 8 ? 0xff : (0xff << (8 - rest)) & 0xff;
		if ((ip[i] & mask) !== (network[i] & mask)) return false;
	}
	return true;
}

/** Canonical text: dotted IPv4, or IPv6 as 8 lower-case hex groups with the longest zero run written `::`. */
export function formatIp(ip: Uint8Array): string {
	if (ip.length === 4) return Array.from(ip).join('.');
	const g: number[] = [];
	for (let i = 0; i < 16; i += 2) g.push((ip[i] << 8) | ip[i + 1]);
	let best = -1;
	let bestLen = 0;
	for (let i = 0; i < 8; ) {
		if (g[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && g[j] === 0) j++;
		if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
		i = j;
	}
	const hex = g.map((x) => x.toString(16));
	if (best < 0) return hex.join(':');
	return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Loopback, private, link-local and shared (CGN) ranges: not the address a receiving server sees. */
const NON_PUBLIC: ReadonlyArray<[string, number]> = [
	['10.0.0.0', 8],
	['127.0.0.0', 8],
	['172.16.0.0', 12],
	['192.168.0.0', 16],
	['169.254.0.0', 16],
	['100.64.0.0', 10],
	['0.0.0.0', 8],
	['::1', 128],
	['::', 128],
	['fc00::', 7],
	['fe80::', 10],
];

export function isNonPublicIp(ip: Uint8Array): boolean {
	return NON_PUBLIC.some(([net, bits]) => inNetwork(ip, parseIp(net)!, bits));
}
