/**
 * Inbox bench, IMAP side, on a private Dovecot over loopback:
 *  1. first scan of a mailbox of N messages (the trigger started from a date before all of them), polled in
 *     batches of BATCH until caught up: messages per second and memory;
 *  2. an incremental poll that finds one new message, in mailboxes of 1,000 and 10,000 messages: its cost must
 *     not grow with the mailbox.
 * Baselines measured in the same run: a bare imapflow FETCH of every message source (the transfer floor, no
 * classification, no state), classifyMessage alone over the same bytes in memory (the CPU floor), and a bare
 * connect + login + SELECT + logout (the floor of any poll).
 * Mailboxes are filled by writing Maildir files directly (Dovecot indexes them before timing starts).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { classifyMessage } from '../../core/classify';
import { runInboxPoll, withInboxClient, type ImapConnectionOptions } from '../../transport/inbox';
import { INBOX_MESSAGE_KINDS, type InboxPollState } from '../../core/inbox';
import { dovecotVersion, startDovecot } from '../helpers/dovecot';

const SIZES = (process.env.BENCH_INBOX_SIZES ?? '1000,10000')
	.split(',')
	.map(Number)
	.filter((n) => n > 0);
const BATCH = Number(process.env.BENCH_INBOX_BATCH ?? 500);
const POLL_REPEATS = Number(process.env.BENCH_INBOX_POLLS ?? 15);
const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

async function main() {
	if (!dovecotVersion()) {
		console.log('dovecot is not installed (apt-get install dovecot-imapd): inbox bench skipped');
		return;
	}
	const corpus = readdirSync(CORPUS)
		.filter((f) => f.endsWith('.eml'))
		.sort()
		.map((f) => readFileSync(join(CORPUS, f)));
	const server = await startDovecot({ users: { bench: 'bench-pw' } });
	const conn: ImapConnectionOptions = { host: server.host, port: server.port, tls: 'none', user: 'bench', password: 'bench-pw' };
	const classify = (raw: Buffer) => classifyMessage(raw);
	const pollOptions = (mailbox: string) => ({ mailboxes: [mailbox], maxMessages: BATCH, rescanDays: 7, kinds: INBOX_MESSAGE_KINDS, classify });
	const results: Record<string, unknown> = { dovecot: dovecotVersion(), batch: BATCH, sizes: SIZES, corpusFiles: corpus.length };
	const appender = new ImapFlow({
		host: server.host,
		port: server.port,
		secure: false,
		doSTARTTLS: false,
		auth: { user: 'bench', pass: 'bench-pw' },
		logger: false,
		disableAutoIdle: true,
	});

	try {
		await appender.connect();
		// ---- fill
		const boxes: Record<number, string> = {};
		for (const n of SIZES) {
			const mailbox = `Bench${n}`;
			boxes[n] = mailbox;
			const t = process.hrtime.bigint();
			server.writeMaildir(
				'bench',
				mailbox,
				Array.from({ length: n }, (_, i) => corpus[i % corpus.length]),
			);
			// Let Dovecot scan and index the new files now, so the timings below are reads, not its first sync.
			const status = server.doveadm(['mailbox', 'status', '-u', 'bench', 'messages uidnext', mailbox]).stdout.trim();
			server.doveadm(['index', '-u', 'bench', mailbox], true);
			console.log(`filled ${mailbox}: ${status} in ${round(ms(t) / 1000, 2)} s`);
		}
		const largest = Math.max(...SIZES);
		const scanBox = boxes[largest];
		const scanMessages = Array.from({ length: largest }, (_, i) => corpus[i % corpus.length]);
		// The transfer baseline reads its own identical copy, so both reads meet Dovecot equally cold.
		const baseBox = `Baseline${largest}`;
		server.writeMaildir('bench', baseBox, scanMessages);
		server.doveadm(['mailbox', 'status', '-u', 'bench', 'messages', baseBox]);
		server.doveadm(['index', '-u', 'bench', baseBox], true);
		// Warm the classifier's code paths (JIT) before anything is timed.
		for (const m of corpus) classifyMessage(m);

		// ---- baseline 1: classifyMessage alone over the same bytes
		gc();
		let t = process.hrtime.bigint();
		for (const m of scanMessages) classifyMessage(m);
		const classifyOnlyMs = ms(t);

		// ---- baseline 2: bare FETCH of the same items in the same batches on one connection, nothing else
		t = process.hrtime.bigint();
		let fetchedBytes = 0;
		await withInboxClient(conn, async (client) => {
			const lock = await client.getMailboxLock(baseBox, { readOnly: true });
			try {
				for (let from = 1; from <= largest; from += BATCH) {
					const range = `${from}:${Math.min(largest, from + BATCH - 1)}`;
					for await (const m of client.fetch(range, { uid: true, internalDate: true, source: { maxLength: 2 * 1024 * 1024 } })) {
						fetchedBytes += m.source?.length ?? 0;
					}
				}
			} finally {
				lock.release();
			}
		});
		const bareFetchMs = ms(t);

		// ---- first scan with the engine: polls of BATCH until caught up, state through JSON as n8n stores it
		gc();
		const heap0 = process.memoryUsage().heapUsed;
		const rss0 = process.memoryUsage().rss;
		let peakHeap = 0;
		let peakRss = 0;
		let state: InboxPollState | undefined;
		let events = 0;
		let polls = 0;
		let processed = 0;
		t = process.hrtime.bigint();
		for (;;) {
			const r = await withInboxClient(conn, (client) =>
				runInboxPoll(client, state, { ...pollOptions(scanBox), startFrom: polls === 0 ? new Date(Date.now() - 3 * 86_400_000) : undefined }),
			);
			polls++;
			events += r.events.length;
			processed += r.mailboxes[0].processed;
			if (r.mailboxes[0].error) throw new Error(r.mailboxes[0].error);
			state = JSON.parse(JSON.stringify(r.state)) as InboxPollState;
			const mem = process.memoryUsage();
			peakHeap = Math.max(peakHeap, mem.heapUsed - heap0);
			peakRss = Math.max(peakRss, mem.rss - rss0);
			if (!r.mailboxes[0].more) break;
		}
		const scanMs = ms(t);
		if (processed !== largest) throw new Error(`first scan processed ${processed} of ${largest}`);
		results.firstScan = {
			mailbox: largest,
			polls,
			events,
			seconds: round(scanMs / 1000, 2),
			messagesPerSecond: Math.round((largest / scanMs) * 1000),
			bareFetchSeconds: round(bareFetchMs / 1000, 2),
			bareFetchMessagesPerSecond: Math.round((largest / bareFetchMs) * 1000),
			fetchedMB: round(fetchedBytes / 1e6, 1),
			classifyOnlySeconds: round(classifyOnlyMs / 1000, 2),
			scanOverBareFetch: round(scanMs / bareFetchMs, 2),
			scanOverFetchPlusClassify: round(scanMs / (bareFetchMs + classifyOnlyMs), 2),
			peakHeapGrowthMB: round(peakHeap / 1e6, 1),
			peakRssGrowthMB: round(peakRss / 1e6, 1),
			stateBytes: JSON.stringify(state).length,
		};

		// ---- incremental polls: one new message, each mailbox size. The floor of any poll (connect + login + SELECT +
		// logout) is measured the same way, right after an append, so both pay Dovecot's Maildir resync of that
		// mailbox (a directory scan that does grow with the mailbox, and is not ours).
		const incremental: Record<string, unknown> = {};
		const floors: number[] = [];
		for (const n of SIZES) {
			const mailbox = boxes[n];
			// Cursor at the end of the mailbox, as after a completed first scan.
			let s: unknown = (await withInboxClient(conn, (c) => runInboxPoll(c, undefined, pollOptions(mailbox)))).state;
			const oneNew: number[] = [];
			const nothingNew: number[] = [];
			const floor: number[] = [];
			for (let i = 0; i < POLL_REPEATS; i++) {
				await appender.append(mailbox, corpus[i % corpus.length]);
				let t0 = process.hrtime.bigint();
				const r = await withInboxClient(conn, (c) => runInboxPoll(c, s, pollOptions(mailbox)));
				oneNew.push(ms(t0));
				if (r.mailboxes[0].processed !== 1) throw new Error(`incremental poll read ${r.mailboxes[0].processed} messages, expected 1`);
				s = JSON.parse(JSON.stringify(r.state));
				t0 = process.hrtime.bigint();
				const idle = await withInboxClient(conn, (c) => runInboxPoll(c, s, pollOptions(mailbox)));
				nothingNew.push(ms(t0));
				if (idle.mailboxes[0].processed !== 0) throw new Error('an idle poll read messages');
				await appender.append(mailbox, corpus[(i + 7) % corpus.length]);
				t0 = process.hrtime.bigint();
				await withInboxClient(conn, async (client) => {
					const lock = await client.getMailboxLock(mailbox, { readOnly: true });
					lock.release();
				});
				floor.push(ms(t0));
				// Consume that message unmeasured, so the next measured poll again finds exactly one.
				s = JSON.parse(JSON.stringify((await withInboxClient(conn, (c) => runInboxPoll(c, s, pollOptions(mailbox)))).state));
			}
			floors.push(median(floor));
			incremental[n] = {
				oneNewMs: round(median(oneNew), 2),
				nothingNewMs: round(median(nothingNew), 2),
				floorMs: round(median(floor), 2),
				oneNewOverFloor: round(median(oneNew) / median(floor), 2),
				oneNewMinusFloorMs: round(median(oneNew) - median(floor), 2),
			};
		}
		const floorMs = median(floors);
		// Each poll of the scan is its own connection (as in n8n): add that floor to the baseline sum too.
		const scan = results.firstScan as Record<string, number>;
		scan.scanOverFetchClassifyAndConnects = round(scanMs / (bareFetchMs + classifyOnlyMs + polls * median(floors)), 2);
		const small = incremental[Math.min(...SIZES)] as { oneNewMs: number; oneNewOverFloor: number };
		const big = incremental[largest] as { oneNewMs: number; oneNewOverFloor: number };
		results.incrementalPoll = {
			repeats: POLL_REPEATS,
			floorConnectLoginSelectMs: round(floorMs, 2),
			bySize: incremental,
			largestOverSmallest: round(big.oneNewMs / small.oneNewMs, 2),
			overFloorLargestOverSmallest: round(big.oneNewOverFloor / small.oneNewOverFloor, 2),
		};
	} finally {
		await appender.logout().catch(() => undefined);
		await server.stop();
	}

	const fs = results.firstScan as Record<string, number>;
	const inc = results.incrementalPoll as {
		largestOverSmallest: number;
		overFloorLargestOverSmallest: number;
		bySize: Record<string, { oneNewMs: number; nothingNewMs: number; floorMs: number; oneNewOverFloor: number; oneNewMinusFloorMs: number }>;
	};
	console.log(
		`\nFirst scan of ${fs.mailbox} messages (${fs.fetchedMB} MB) in ${fs.polls} polls of ${BATCH}: ${fs.seconds} s = ${fs.messagesPerSecond} msg/s`,
	);
	console.log(
		`  baseline bare FETCH of the same items, same batches, one connection: ${fs.bareFetchSeconds} s = ${fs.bareFetchMessagesPerSecond} msg/s; classifyMessage alone: ${fs.classifyOnlySeconds} s`,
	);
	console.log(
		`  scan / bare fetch = ${fs.scanOverBareFetch}x; scan / (bare fetch + classify) = ${fs.scanOverFetchPlusClassify}x; scan / (bare fetch + classify + one connection per poll) = ${fs.scanOverFetchClassifyAndConnects}x`,
	);
	console.log(`  peak heap growth ${fs.peakHeapGrowthMB} MB, peak RSS growth ${fs.peakRssGrowthMB} MB, state ${fs.stateBytes} bytes`);
	console.log(`Incremental poll (connect, login, SELECT, SEARCH, FETCH, classify, logout), median of ${POLL_REPEATS}:`);
	for (const [n, r] of Object.entries(inc.bySize)) {
		console.log(
			`  mailbox ${n}: one new message ${r.oneNewMs} ms = ${r.oneNewOverFloor}x the floor (connect+login+SELECT+logout after an append: ${r.floorMs} ms; our part ${r.oneNewMinusFloorMs} ms); nothing new ${r.nothingNewMs} ms`,
		);
	}
	console.log(
		`  one-new poll, largest / smallest mailbox = ${inc.largestOverSmallest}x; as a multiple of its floor = ${inc.overFloorLargestOverSmallest}x`,
	);
	writeFileSync(join(process.cwd(), 'bench-results', 'inbox.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
