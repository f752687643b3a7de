/**
 * Per-MTA knowledge (the "local host" that wrote the notice), in the way of Sisimai's Lhost modules: each MTA is
 * recognised by its own signals (sender, Subject, X-Mailer, Received, vendor headers), and then its own wording or
 * error codes decide the reason and the refused SMTP command where the generic rules would guess.
 *
 * Why this matters: "User unknown" with no SMTP command is a content filter's refusal by the generic rule, but
 * several MTAs only ever write those words for a missing mailbox, or name the command in their own way.
 */
import { headerValue, headerValues, type HeaderList } from '../mime';
import { bracketedAddress } from '../dsn';
import { findStatus, reasonFromStatus } from '../reasons';

export interface MtaProfile {
	name: string;
	/** Reason from this MTA's own wording or error codes, or ''. */
	reasonOf?(diagnostic: string, notice: string): string;
	/** The SMTP command this MTA's notice says was refused, or ''. */
	commandOf?(diagnostic: string): string;
	/** This MTA's own diagnostic text in the notice when the generic reader found none, or ''. */
	diagnosticOf?(notice: string): string;
	/** Whether this MTA means a temporary failure (for the class of a pseudo status code). */
	temporary?(reason: string, diagnostic: string): boolean;
	/** This MTA sends its delivery report as an attached message (the report inside counts as its own). */
	forwardsReport?: boolean;
	/** This MTA's own reading of the notice's recipients (when its layout defeats the generic reader). */
	rowsOf?(notice: string): MtaRow[];
}

export interface MtaRow {
	recipient: string;
	diagnostic: string;
	command: string;
}

interface MtaSignals {
	headers: HeaderList;
	subject: string;
	from: string;
	received: string[];
	/** First bytes of the notice text (boilerplate is the most stable signal of some MTAs). */
	notice: string;
	/** X-Mailer and Message-ID (or ''), read once: several checks look at them. */
	xMailer: string;
	messageId: string;
}

/** Substring table lookup: the first reason whose phrases occur in the text. */
function phraseReason(table: Array<[reason: string, phrases: string[]]>, raw: string): string {
	const text = raw.replace(/\s+/g, ' ');
	for (const [reason, phrases] of table) for (const p of phrases) if (text.includes(p)) return reason;
	return '';
}

/** Exchange 2000/2003 (IMS): "MSEXCH:IMS:... (000C05A6)" error codes. */
const EXCHANGE2003_CODES: Record<string, string> = {
	'000B099C': 'onhold',
	'000B09AA': 'onhold',
	'000B09B6': 'onhold',
	'000C05A6': 'userunknown',
	'00010256': 'systemerror',
	'000D06B5': 'systemerror',
	'00120270': 'networkerror',
	'00050311': 'contenterror',
	'000502CC': 'contenterror',
	'000B0981': 'securityerror',
	'000C0595': 'filtered',
};

/**
 * The first `(XXXXXXXX)` code after `MSEXCH:` on the same line. Each line is read once from its first `MSEXCH:`
 * (a later one on the same line can only find the same code or none).
 */
function msexchCode(text: string): string | undefined {
	let pos = 0;
	for (;;) {
		const at = text.indexOf('MSEXCH:', pos);
		if (at < 0) return undefined;
		let eol = text.indexOf('\n', at);
		if (eol < 0) eol = text.length;
		const m = /\(([0-9A-F]{8})\)/.exec(text.slice(at + 7, eol));
		if (m) return m[1];
		pos = eol + 1;
	}
}

const exchange2003: MtaProfile = {
	name: 'exchange2003',
	reasonOf(diagnostic, notice) {
		const code = msexchCode(diagnostic) ?? msexchCode(notice);
		return code ? (EXCHANGE2003_CODES[code] ?? '') : '';
	},
};

const DOMINO_TABLE: Array<[string, string[]]> = [
	[
		'userunknown',
		[
			'not listed in Domino Directory',
			'not listed in public Name & Address Book',
			'no se encuentra en el Directorio de Domino',
			"non répertorié dans l'annuaire Domino",
			'Domino ディレクトリには見つかりません',
		],
	],
	['filtered', ['Cannot route mail to user']],
	['systemerror', ['Several matches found in Domino Directory']],
];

const domino: MtaProfile = {
	name: 'domino',
	reasonOf: (diagnostic) => phraseReason(DOMINO_TABLE, diagnostic),
};

const NOTES_TABLE: Array<[string, string[]]> = [
	['userunknown', ['User not listed in public Name & Address Book', 'ディレクトリのリストにありません']],
	['networkerror', ['Message has exceeded maximum hop count']],
];

/**
 * Where a block starting at `start` ends: the first newline followed by blank space and a `---` rule, else the end
 * of the text. Each rule is looked at once, from its first dash back over the blank space before it.
 */
function blockEnd(text: string, start: number): number {
	const rule = /(?<!-)---/g;
	rule.lastIndex = start;
	let m: RegExpExecArray | null;
	while ((m = rule.exec(text)) !== null) {
		let w = m.index;
		while (w > start && /\s/.test(text[w - 1])) w--;
		const nl = text.indexOf('\n', w);
		if (nl >= start && nl < m.index) return nl;
	}
	return text.length;
}

/** Lotus Notes: the reasons sit in a "------- Failure Reasons --------" block. */
const notes: MtaProfile = {
	name: 'notes',
	reasonOf: (diagnostic, notice) => phraseReason(NOTES_TABLE, diagnostic) || phraseReason(NOTES_TABLE, notice),
	diagnosticOf(notice) {
		const head = /(?<!-)-{3,} ?Failure Reasons[ -]*\n/.exec(notice);
		if (!head) return '';
		const start = head.index + head[0].length;
		return notice.slice(start, blockEnd(notice, start)).replace(/\s+/g, ' ').trim();
	},
};

const IMAIL_TABLE: Array<[string, string[]]> = [
	['hostunknown', ['Unknown host']],
	['userunknown', ['Unknown user', 'Invalid final delivery userid']],
	['mailboxfull', ['User mailbox exceeds allowed size']],
	['virusdetected', ['Requested action not taken: virus detected']],
	['expired', ['Delivery failed ']],
];

const imailserver: MtaProfile = {
	name: 'imailserver',
	reasonOf: (diagnostic) => phraseReason(IMAIL_TABLE, diagnostic),
};

const mcafee: MtaProfile = {
	name: 'mcafee',
	reasonOf: (diagnostic) => phraseReason([['userunknown', [' User not exist', ' unknown.', '550 Unknown user ', 'No such user']]], diagnostic),
};

const verizon: MtaProfile = {
	name: 'verizon',
	reasonOf: (diagnostic) =>
		phraseReason([['userunknown', ['550 - Requested action not taken: no such user here', 'No valid recipients for this MM']]], diagnostic),
};

const MESSAGING_SERVER_TABLE: Array<[string, string[]]> = [['hostunknown', ['Illegal host/domain name found']]];

/** Oracle/Sun Messaging Server. */
const messagingServer: MtaProfile = {
	name: 'messagingserver',
	reasonOf: (diagnostic) => phraseReason(MESSAGING_SERVER_TABLE, diagnostic),
};

/** PowerMTA classifies every bounce itself (X-PowerMTA-BounceCategory). */
const POWERMTA_CATEGORIES: Record<string, string> = {
	'bad-domain': 'hostunknown',
	'bad-mailbox': 'userunknown',
	'inactive-mailbox': 'suspend',
	'message-expired': 'expired',
	'no-answer-from-host': 'networkerror',
	'policy-related': 'policyviolation',
	'quota-issues': 'mailboxfull',
	'routing-errors': 'systemerror',
	'spam-related': 'spamdetected',
};

export function powerMtaCategoryReason(dsnText: string): string {
	const m = /^X-PowerMTA-BounceCategory:\s*([\w-]+)/im.exec(dsnText);
	return m ? (POWERMTA_CATEGORIES[m[1].toLowerCase()] ?? '') : '';
}

const powerMta: MtaProfile = { name: 'powermta' };

/** Exchange Online names the command in its own words: "unknown recipient or mailbox unavailable -> 550 <x@y>". */
const office365: MtaProfile = {
	name: 'office365',
	commandOf: (diagnostic) => (/unknown recipient or mailbox unavailable ->/i.test(diagnostic) && diagnostic.includes('@') ? 'RCPT' : ''),
};

/** Yahoo's notice quotes the remote answer; an answer naming <address> answered RCPT. */
const yahoo: MtaProfile = {
	name: 'yahoo',
	commandOf: (diagnostic) => (/<[^<>\s]+@[^<>\s]+>/.test(diagnostic) ? 'RCPT' : ''),
};

/**
 * Old Sendmail (v5) transcripts: "5xx <rcpt>... text" lines, each preceded by the session that failed for it
 * (">>> RCPT To:<...>" then "<<< 550 ..."). The command and the answer before a recipient line are that
 * recipient's.
 */
const v5sendmail: MtaProfile = {
	name: 'v5sendmail',
	rowsOf(notice) {
		const rows: MtaRow[] = [];
		let command = '';
		let answer = '';
		const start = notice.search(/(?<!-)-{3,} ?Transcript of session follows/);
		const lines = notice.slice(start < 0 ? 0 : start).split('\n');
		for (let i = 0; i < lines.length && i < 2000 && rows.length < 500; i++) {
			const line = lines[i].trim();
			// `5xx <x@y>... text`, the address holding an `@` that neither opens nor closes it.
			const m = /^[45]\d\d[ -]+<([^<>\s]+)>\.\.\.\s*(.*)$/.exec(line);
			const at = m ? m[1].indexOf('@', 1) : -1;
			if (m && at > 0 && at < m[1].length - 1) {
				rows.push({ recipient: m[1].toLowerCase(), diagnostic: answer ? `${m[2]}: ${answer}` : m[2], command });
				command = '';
				answer = '';
			} else if (line.startsWith('>>> ')) command = commandWord(line.slice(4));
			else if (line.startsWith('<<< ')) answer = line.slice(4);
		}
		return rows;
	},
};

function commandWord(text: string): string {
	const m = /^(HELO|EHLO|MAIL|RCPT|DATA|QUIT|STARTTLS|AUTH)\b/i.exec(text);
	if (!m) return '';
	const c = m[1].toUpperCase();
	return c === 'EHLO' ? 'HELO' : c;
}

/** Writes "SMTP:RCPT host 192.0.2.8: 553 ..." in its technical details. */
const x3: MtaProfile = { name: 'x3' };

const EXIM_TABLE: Array<[string, string[]]> = [
	['userunknown', ['user not found']],
	['hostunknown', ['all host address lookups failed permanently', 'all relevant MX records point to non-existent hosts', 'Unrouteable address']],
	['mailboxfull', ['mailbox is full', 'error: quota exceed']],
	['notaccept', ['an MX or SRV record indicated no SMTP service', 'no host found for existing SMTP connection']],
	['syntaxerror', ['angle-brackets nested too deep', 'expected word or "<"', 'domain missing in source-routed address', 'malformed address:']],
	['systemerror', ['delivery to file forbidden', 'delivery to pipe forbidden', 'local delivery failed', 'LMTP error after ']],
	['contenterror', ['Too many "Received" headers']],
];
/** Exim's words for a message it kept retrying and then gave up on (or froze). */
const EXIM_DELAYED = [
	'retry timeout exceeded',
	'No action is required on your part',
	'retry time not reached for any host after a long failure period',
	'all hosts have been failing for a long time and were last tried',
	'Delay reason: ',
	'has been frozen',
	'was frozen on arrival by ',
];

function eximCommand(diagnostic: string): string {
	const m = /SMTP error from remote (?:mail server|mailer) after (?:end of )?([A-Za-z]{4})|LMTP error after (?:end of )?([A-Za-z]{4})/.exec(
		diagnostic,
	);
	if (!m) return '';
	const c = (m[1] ?? m[2]).toUpperCase();
	return c === 'EHLO' ? 'HELO' : c;
}

/** Exim: "SMTP error from remote mail server after RCPT TO:<...>", its own routing and queue wording. */
const eximProfile: MtaProfile = {
	name: 'exim',
	commandOf: eximCommand,
	reasonOf(diagnostic) {
		const command = eximCommand(diagnostic);
		if (command === 'HELO') return 'blocked';
		if (command === 'MAIL') return '';
		const own = phraseReason(EXIM_TABLE, diagnostic);
		if (own) return own;
		if (EXIM_DELAYED.some((p) => diagnostic.includes(p))) return 'expired';
		if (diagnostic.includes('pipe to |')) return 'mailererror';
		return '';
	},
	// Exim retries full mailboxes and unreachable hosts: the bounce ends a temporary failure, unless a remote server
	// refused with a permanent (5xx) reply.
	temporary: (reason, diagnostic) =>
		reason === 'expired' || (reason === 'mailboxfull' && !/(?:^|\s)5\d\d[\s-]/.test(diagnostic)) || /(?:^|\s)4\d\d[\s-]/.test(diagnostic),
};

/** Zoho Mail: "ERROR_CODE :421, ERROR_CODE :, Host not reachable." */
const zoho: MtaProfile = {
	name: 'zoho',
	reasonOf: (diagnostic) => phraseReason([['expired', ['Host not reachable']]], diagnostic),
};

const EZWEB_TABLE: Array<[string, string[]]> = [
	['mailboxfull', ['The user(s) account is temporarily over quota']],
	['suspend', ['The user(s) account is disabled.', 'The user(s) account is temporarily limited.']],
	['expired', ['Your message was not delivered within ']],
	['onhold', ['Each of the following recipients was rejected by a remote mail server']],
];

/** au/EZweb (Japanese carrier) notices: a fixed set of English sentences under the Japanese text. */
const ezweb: MtaProfile = {
	name: 'ezweb',
	reasonOf: (diagnostic, notice) => phraseReason(EZWEB_TABLE, diagnostic) || phraseReason(EZWEB_TABLE, notice),
};

/** "The following recipients returned permanent errors: a@b. Reason: SMTP Server <ip> refused ... (DATA) ..." */
const x6: MtaProfile = {
	name: 'x6',
	rowsOf(notice) {
		const rows: MtaRow[] = [];
		for (const line of notice.split('\n')) {
			const m = /^The following recipients returned permanent errors: (\S+?)\.?(?:\s|$)/.exec(line);
			if (!m || !m[1].includes('@')) continue;
			const command = (/\((HELO|EHLO|MAIL FROM|RCPT TO|DATA)\)/.exec(line)?.[1] ?? '').split(' ')[0];
			rows.push({ recipient: m[1].replace(/^<|>$/g, '').toLowerCase(), diagnostic: line, command: command === 'EHLO' ? 'HELO' : command });
			if (rows.length >= 500) break;
		}
		return rows;
	},
};

/** Apache James: "Error message below:" then the answer; recipients as "  RCPT TO: a@b" in "Message details:". */
const apacheJames: MtaProfile = {
	name: 'apachejames',
	rowsOf(notice) {
		const at = notice.indexOf('Error message below:');
		if (at < 0) return [];
		const end = notice.indexOf('Message details:', at);
		const diagnostic = notice
			.slice(at, end < 0 ? at + 2000 : end)
			.replace(/\s+/g, ' ')
			.trim();
		const rows: MtaRow[] = [];
		for (const m of notice.matchAll(/^ {1,4}RCPT TO: *<?([^\s<>]+@[^\s<>]+)>?/gm)) {
			rows.push({ recipient: m[1].toLowerCase(), diagnostic, command: '' });
			if (rows.length >= 500) break;
		}
		return rows;
	},
};

const FML_BODY: Array<[string, string[]]> = [
	[
		'rejected',
		[' header may cause mail loop', 'NOT MEMBER article from ', 'reject mail from ', 'reject spammers:', 'You are not a member of this mailing list'],
	],
	['systemerror', [' has detected a loop condition so that', 'Duplicated Message-ID', 'Loop Back Warning:']],
	['securityerror', ['Security alert:']],
];
const FML_SUBJECT: Array<[string, string[]]> = [
	['rejected', [' are not member', 'NOT MEMBER article from ', 'reject mail ', 'Spam mail from a spammer is rejected']],
	['systemerror', ['fml system error message', 'Loop Alert: ', 'Loop Back Warning: ', 'WARNING: UNIX FROM Loop']],
	['securityerror', ['Security Alert']],
];

/** fml (a mailing-list manager): its -admin@ address reports loops and refused posts, one "<address>" line each. */
function fml(subject: string): MtaProfile {
	return {
		name: 'fml',
		reasonOf: (diagnostic) => phraseReason(FML_BODY, diagnostic) || phraseReason(FML_SUBJECT, subject),
		rowsOf(notice) {
			const end = notice.indexOf('Original mail as follows:');
			const rows: MtaRow[] = [];
			for (const line of (end < 0 ? notice : notice.slice(0, end)).split('\n')) {
				// `<x@y>` after at least one character of the line.
				let m = bracketedAddress(line, 1);
				while (m && /[\r\u2028\u2029]/.test(line[m[0] - 2])) m = bracketedAddress(line, m[0]);
				if (m) rows.push({ recipient: line.slice(m[0], m[1]).toLowerCase(), diagnostic: line.trim(), command: '' });
				else if (rows.length > 0 && line.trim()) rows[rows.length - 1].diagnostic += ' ' + line.trim();
				if (rows.length >= 500) break;
			}
			return rows;
		},
	};
}

/** qmail names the refused step in its own sentences ("... does not like recipient."). */
const QMAIL_COMMANDS: Array<[string, string[]]> = [
	['CONN', [' but greeting failed.']],
	['HELO', [' but my name was rejected.']],
	['MAIL', [' but sender was rejected.']],
	['RCPT', [' does not like recipient.']],
	['DATA', [' failed on DATA command', ' failed after I sent the message']],
];
const QMAIL_TABLE: Array<[string, string[]]> = [
	['userunknown', ['no mailbox here by that name', 'does not like recipient.']],
	['mailboxfull', ['disk quota exceeded']],
	['mesgtoobig', ['Message size exceeds fixed maximum message size:']],
	['hostunknown', ["Sorry, I couldn't find any host "]],
	['systemfull', ['Requested action not taken: mailbox unavailable (not enough free space)']],
	['systemerror', ['bad interpreter: No such file or directory', 'system error', 'Unable to']],
	['notaccept', ["Sorry, I couldn't find a mail exchanger or IP address"]],
	['networkerror', ["Sorry, I wasn't able to establish an SMTP connection", "Sorry. Although I'm listed as a best-preference MX or A for that host"]],
];
/** qmail-ldap's own failures. */
const QMAIL_LDAP_TABLE: Array<[string, string[]]> = [
	['suspend', ['Mailaddress is administratively disabled', 'Mailaddress is administrativley disabled']],
	['userunknown', ['Sorry, no mailbox here by that name']],
	['exceedlimit', ['The message exeeded the maximum size the user accepts']],
	[
		'systemerror',
		[
			'Automatic homedir creator crashed',
			'Illegal value in LDAP attribute',
			'LDAP attribute is not given but mandatory',
			'Timeout while performing search on LDAP server',
			'Too many results returned but needs to be unique',
			'Permanent error while executing qmail-forward',
			'Temporary error in automatic homedir creation',
			'Temporary error while executing qmail-forward',
			'Temporary failure in LDAP lookup',
			'Unable to contact LDAP server',
			'Unable to login into LDAP server, bad credentials',
		],
	],
];

function qmailCommand(diagnostic: string): string {
	for (const [command, phrases] of QMAIL_COMMANDS) for (const p of phrases) if (diagnostic.indexOf(p) > 0) return command;
	return '';
}

const qmail: MtaProfile = {
	name: 'qmail',
	commandOf: qmailCommand,
	reasonOf(diagnostic) {
		if (qmailCommand(diagnostic) === 'HELO') return 'blocked';
		// Refused at RCPT and then kept in the queue until it expired: nothing certain about the address.
		const refused = diagnostic.indexOf(' does not like recipient.');
		if (refused >= 0 && diagnostic.indexOf('this message has been in the queue too long.', refused) > 0) return 'onhold';
		// The remote server's own words ("Remote host said: ...") come first.
		const said = /Remote host said:.*/.exec(diagnostic)?.[0] ?? '';
		const saidReason = said ? phraseReason(QMAIL_TABLE, said) : '';
		// qmail-remote writes "does not like recipient." for 4xx answers too: a temporary refusal says nothing of the
		// mailbox unless the answer's own words do.
		if (!saidReason && /Remote host said:\s*4\d\d/.test(diagnostic)) return '';
		return (
			saidReason ||
			phraseReason(QMAIL_TABLE, diagnostic) ||
			phraseReason(QMAIL_LDAP_TABLE, diagnostic) ||
			(diagnostic.includes('this message has been in the queue too long.') ? 'expired' : '')
		);
	},
};

/** Gmail's "(state N)" suffix: the step of the SMTP session that failed. */
const GMAIL_STATES: Record<string, [command: string, reason: string]> = {
	'6': ['MAIL', 'systemerror'],
	'8': ['AUTH', 'systemerror'],
	'9': ['AUTH', 'systemerror'],
	'12': ['AUTH', 'norelaying'],
	'13': ['HELO', 'blocked'],
	'14': ['RCPT', 'userunknown'],
	'15': ['DATA', 'filtered'],
	'17': ['DATA', 'filtered'],
	'18': ['DATA', 'filtered'],
};
const GMAIL_TABLE: Array<[string, string[]]> = [
	[
		'expired',
		[
			'DNS Error: Could not contact DNS servers',
			'Delivery to the following recipient has been delayed',
			'The recipient server did not accept our requests to connect',
		],
	],
	['hostunknown', ['DNS Error: Domain name not found', 'DNS Error: DNS server returned answer with no data']],
];

function gmailState(diagnostic: string): [string, string] | undefined {
	const m = /\(state (\d+)\)[^()]*$/.exec(diagnostic);
	return m ? GMAIL_STATES[m[1]] : undefined;
}

/** Gmail's own (pre-2015) notices. */
const gmail: MtaProfile = {
	name: 'gmail',
	commandOf: (diagnostic) => gmailState(diagnostic)?.[0] ?? '',
	reasonOf(diagnostic) {
		const reason = gmailState(diagnostic)?.[1] || phraseReason(GMAIL_TABLE, diagnostic);
		if (!reason) return '';
		// A precise status code in the remote answer outranks the session step.
		const status = findStatus(diagnostic);
		return status && !/\.0\.|\.0$/.test(status.slice(1)) ? reasonFromStatus(status) || reason : reason;
	},
};

/** Exchange 2007+ on premises: "RESOLVER.ADR.RecipNotFound; not found" style NDR codes. */
const EXCHANGE2007_CODES: Record<string, string> = {
	'SMTPSEND.DNS.NonExistentDomain': 'hostunknown',
	'SMTPSEND.DNS.MxLoopback': 'networkerror',
	'RESOLVER.ADR.BadPrimary': 'systemerror',
	'RESOLVER.ADR.RecipNotFound': 'userunknown',
	'RESOLVER.ADR.ExRecipNotFound': 'userunknown',
	'RESOLVER.ADR.RecipLimit': 'toomanyconn',
	'RESOLVER.ADR.InvalidInSmtp': 'systemerror',
	'RESOLVER.ADR.Ambiguous': 'systemerror',
	'RESOLVER.RST.AuthRequired': 'securityerror',
	'RESOLVER.RST.NotAuthorized': 'rejected',
	'RESOLVER.RST.RecipSizeLimit': 'mesgtoobig',
	'QUEUE.Expired': 'expired',
};

const exchange2007: MtaProfile = {
	name: 'exchange2007',
	reasonOf(diagnostic) {
		const m = / ((?:RESOLVER|QUEUE|SMTPSEND)\.[\w.]+);/.exec(diagnostic);
		return m ? (EXCHANGE2007_CODES[m[1]] ?? '') : '';
	},
};

const OPENSMTPD_TABLE: Array<[string, string[]]> = [
	['expired', ['Envelope expired']],
	['hostunknown', ['Invalid domain name', 'Domain does not exist']],
	['notaccept', ['Destination seem to reject all mails', 'No MX found for domain', 'No MX found for destination']],
	[
		'networkerror',
		[
			'Address family mismatch on destination MXs',
			'All routes to destination blocked',
			'bad DNS lookup error code',
			'Could not retrieve source address',
			'Loop detected',
			'Network error on destination MXs',
			'No valid route to remote MX',
			'No valid route to destination',
			'Temporary failure in MX lookup',
		],
	],
	['securityerror', ['Could not retrieve credentials']],
];

const openSmtpd: MtaProfile = { name: 'opensmtpd', reasonOf: (diagnostic) => phraseReason(OPENSMTPD_TABLE, diagnostic) };

/** Phrase-table MTAs: their notices carry a few fixed sentences that name the cause. */
function phraseProfile(name: string, table: Array<[string, string[]]>): MtaProfile {
	return { name, reasonOf: (diagnostic, notice) => phraseReason(table, diagnostic) || phraseReason(table, notice) };
}

const courier = phraseProfile('courier', [
	['hostunknown', ['No such domain.']],
	['systemerror', ["This domain's DNS violates RFC 1035."]],
	['networkerror', ['DNS lookup failed.']],
]);
const gmx = phraseProfile('gmx', [['expired', ['delivery retry timeout exceeded']]]);
const kddi = phraseProfile('kddi', [
	['mailboxfull', ['As their mailbox is full']],
	['norelaying', ['Due to the following SMTP relay error']],
	['hostunknown', ['As the remote domain doesnt exist']],
]);
const biglobe = phraseProfile('biglobe', [
	['filtered', ['Mail Delivery Failed... User unknown']],
	['mailboxfull', ["The number of messages in recipient's mailbox exceeded the local limit."]],
]);
/** amavisd-new ("Content-filter at ..."): " - spam", " - infected" after the refused address. */
const amavis = phraseProfile('amavis', [
	['spamdetected', [' - spam']],
	['virusdetected', [' - infected']],
	['contenterror', [' - bad header:']],
	['exceedlimit', [' - message size exceeds recipient']],
	['systemerror', [' - temporary mta failure on relaying', ' - rejected by next-hop mta on relaying', ' - unable to relay message back to mta']],
]);

/** Amazon SES receiving (inbound) notices. */
const receivingSes = phraseProfile('receivingses', [
	['filtered', ['Mailbox does not exist']],
	['mesgtoobig', ['Message too large']],
	['mailboxfull', ['Mailbox full']],
	['contenterror', ['Message content rejected']],
]);
/** Outlook.com / Hotmail's own DSNs (X-Message-Delivery, X-Message-Info). */
const outlook = phraseProfile('outlook', [
	['hostunknown', ['The mail could not be delivered to the recipient because the domain is not reachable']],
	['userunknown', ['Requested action not taken: mailbox unavailable']],
]);
/** 1&1 / IONOS. */
const einsUndEins = phraseProfile('einsundeins', [['mesgtoobig', ['Mail size limit exceeded']]]);
/** Amazon SES sending, e-mail (not JSON) notices. */
const amazonSes = phraseProfile('amazonses', [['expired', ['Delivery expired']]]);

/** Forwards the real delivery report as an attachment to "NotificationRecipients". */
const x5: MtaProfile = { name: 'x5', forwardsReport: true };

const aol = phraseProfile('aol', [
	['hostunknown', ['Host or domain name not found']],
	['notaccept', ['type=MX: Malformed or unexpected name server reply']],
]);
/** Google Workspace notices (googlemail sender with X-Gm-Message-State). */
const gsuite = phraseProfile('gsuite', [
	['userunknown', ["because the address couldn't be found. Check for typos or unnecessary spaces and try again."]],
	['notaccept', ['Null MX']],
	['networkerror', [' had no relevant answers.', ' responded with code NXDOMAIN']],
]);
const messageLabs = phraseProfile('messagelabs', [
	['userunknown', ['542 ', ' Rejected', 'No such user']],
	['securityerror', ['Please turn on SMTP Authentication in your mail client']],
]);
/** Trend Micro InterScan MSS: "Unable to deliver" is its word for an unknown recipient. */
const interScan = phraseProfile('interscanmss', [['userunknown', ['Unable to deliver']]]);
const dragonFly = phraseProfile('dragonfly', [
	['expired', ['Could not deliver for the last ']],
	['hostunknown', ['DNS lookup failure: host ']],
]);

/** Facebook's "RCP-P1" style response codes. */
const FACEBOOK_CODES: Record<string, string> = {
	'RCP-P1': 'userunknown',
	'INT-P1': 'userunknown',
	'INT-P3': 'userunknown',
	'INT-P4': 'userunknown',
	'RCP-P2': 'filtered',
	'RCP-P3': 'filtered',
	'POL-P1': 'blocked',
	'POL-P2': 'blocked',
	'MSG-P1': 'mesgtoobig',
	'INT-P2': 'mesgtoobig',
	'MSG-P2': 'contenterror',
	'MSG-P3': 'contenterror',
	'POL-P6': 'contenterror',
	'POL-P7': 'contenterror',
	'POL-P3': 'notaccept',
	'POL-P4': 'notaccept',
	'POL-T1': 'notaccept',
	'POL-T2': 'notaccept',
	'POL-T3': 'notaccept',
	'DNS-P1': 'rejected',
	'DNS-P2': 'rejected',
	'DNS-T1': 'rejected',
	'DNS-P3': 'rejected',
	'DNS-T2': 'rejected',
	'CON-T1': 'systemerror',
	'RCP-T1': 'systemerror',
	'CON-T2': 'toomanyconn',
	'CON-T3': 'toomanyconn',
	'POL-P5': 'virusdetected',
	'RCP-T4': 'suspend',
	'MSG-T1': 'undefined',
	'CON-T4': 'undefined',
};

const facebook: MtaProfile = {
	name: 'facebook',
	reasonOf(diagnostic) {
		const code = /\b([A-Z]{3}-[PT]\d)\b/.exec(diagnostic)?.[1] ?? '';
		return FACEBOOK_CODES[code] ?? (code.startsWith('INT-T') ? 'systemerror' : '');
	},
};

/** A header's value, or '' when the header is absent. */
function header(s: MtaSignals, name: string): string {
	return headerValue(s.headers, name) ?? '';
}

/** Whether the header is present (even empty). */
function hasHeader(s: MtaSignals, name: string): boolean {
	return headerValue(s.headers, name) !== undefined;
}

/** Whether any Received line contains the text. */
function receivedHas(s: MtaSignals, text: string): boolean {
	return s.received.some((r) => r.includes(text));
}

/** Exchange Online headers; each one present is a signal of Office 365. */
const OFFICE365_HEADERS = [
	'x-ms-exchange-message-is-ndr',
	'x-microsoft-antispam-prvs',
	'x-exchange-antispam-report-test',
	'x-exchange-antispam-report-cfa-test',
	'x-ms-exchange-crosstenant-originalarrivaltime',
	'x-ms-exchange-crosstenant-fromentityheader',
	'x-ms-exchange-transport-crosstenantheadersstamped',
];

/** EZweb (au by KDDI): signals from its sender, Subject, Received and Message-ID; two are needed. */
function ezwebSignals(s: MtaSignals): number {
	const messageId = s.messageId;
	let n = 0;
	if (/Postmaster@(?:ezweb\.ne\.jp|au\.com)/i.test(s.from)) n++;
	if (s.subject === 'Mail System Error - Returned Mail') n++;
	if (s.received.some((r) => r.includes('ezweb.ne.jp (EZweb Mail) with') || r.includes('.au.com ('))) n++;
	if (/\.ezweb\.ne\.jp>\s*$|\.au\.com>\s*$/.test(messageId)) n++;
	return n;
}

/** Exim: its sender name, its Message-ID layout (`<xxxxxx-xxxxxx-xx@`) and its Subjects; two are needed. */
function eximSignals(s: MtaSignals): number {
	const msgid = s.messageId.trim();
	let n = 0;
	if (/^"?Mail Delivery System/.test(s.from)) n++;
	if (msgid[0] === '<' && msgid[8] === '-' && msgid[18] === '@') n++;
	if (
		/Delivery Status Notification|Mail delivery failed|Mail failure|Message frozen|Warning: message |error\(s\) in forwarding or filtering/.test(
			s.subject,
		)
	)
		n++;
	return n;
}

/** Office 365: its localised Subjects, its Exchange Online headers and Outlook Received lines; two are needed. */
function office365Signals(s: MtaSignals): number {
	let n = 0;
	if (/Undeliverable:|Onbestelbaar:|Não_entregue:/.test(s.subject)) n++;
	for (const name of OFFICE365_HEADERS) if (hasHeader(s, name)) n++;
	if (s.received.some((r) => /\.outlook\.com|\.protection\.outlook\.com/.test(r))) n++;
	return n;
}

/** Outlook.com's own DSNs (without the Exchange Online signals): Subject, its headers, Hotmail Received; two needed. */
function outlookSignals(s: MtaSignals): number {
	let n = 0;
	if (s.subject.includes('Delivery Status Notification')) n++;
	if (hasHeader(s, 'x-message-delivery')) n++;
	if (hasHeader(s, 'x-message-info')) n++;
	if (receivedHas(s, '.hotmail.com')) n++;
	return n;
}

/** Exchange 2007 and later on premises: a localised "Undeliverable" Subject with a language tag, no Exchange Online headers. */
function isExchange2007(s: MtaSignals): boolean {
	const language = header(s, 'content-language').trim();
	return (
		/^(?:Undeliverable|Non_remis_|Non recapitabile)/.test(s.subject) &&
		(language.length === 2 || language.length === 5) &&
		!hasHeader(s, 'x-ms-exchange-crosstenant-originalarrivaltime') &&
		!hasHeader(s, 'x-ms-exchange-crosstenant-fromentityheader')
	);
}

/** One recognisable MTA: the test of its signals and its profile (or how to pick it from the signals). */
interface MtaCheck {
	name: string;
	test(s: MtaSignals): boolean;
	profile: MtaProfile | ((s: MtaSignals) => MtaProfile);
}

/** The MTAs in the order they are tried: the first whose test passes wrote the notice. */
const MTA_CHECKS: MtaCheck[] = [
	{
		name: 'exchange2003',
		test: (s) =>
			hasHeader(s, 'x-ms-embedded-report') ||
			/^(?:Internet Mail Service \(|Microsoft Exchange Server Internet Mail Connector)/.test(s.xMailer) ||
			/^Produced By Microsoft Exchange/.test(header(s, 'x-mimeole')) ||
			receivedHas(s, ' with Internet Mail Service ('),
		profile: exchange2003,
	},
	{ name: 'domino', test: (s) => /^DELIVERY[ _]FAILURE:/.test(s.subject), profile: domino },
	{ name: 'notes', test: (s) => /^Undeliverable message/.test(s.subject), profile: notes },
	{ name: 'imailserver', test: (s) => /^Undeliverable Mail /.test(s.subject) || /^<SMTP32 v/.test(s.xMailer), profile: imailserver },
	{ name: 'mcafee', test: (s) => header(s, 'x-nai-header').includes('Modified by McAfee') && s.subject === 'Delivery Status', profile: mcafee },
	{
		name: 'verizon',
		test: (s) => receivedHas(s, '.vtext.com (') || /post_master@vtext\.com|sysadmin@[\w.-]*\.vzwpix\.com/i.test(s.from),
		profile: verizon,
	},
	{
		name: 'messagingserver',
		test: (s) => /Boundary_\(ID_/.test(header(s, 'content-type')) || /^Delivery Notification: /.test(s.subject),
		profile: messagingServer,
	},
	{ name: 'powermta', test: (s) => /Delivery report/.test(s.subject) && /Hello, this is the mail server on /.test(s.notice), profile: powerMta },
	{ name: 'yahoo', test: (s) => hasHeader(s, 'x-ymailisg'), profile: yahoo },
	{
		name: 'v5sendmail',
		test: (s) => /^Returned mail: /.test(s.subject) && /(?<!-)-{3,} ?Transcript of session follows ?-{3,}/.test(s.notice),
		profile: v5sendmail,
	},
	{ name: 'x3', test: (s) => /^"?Mail Delivery System/.test(s.from) && /^Delivery status notification/.test(s.subject), profile: x3 },
	{ name: 'zoho', test: (s) => hasHeader(s, 'x-zohomail'), profile: zoho },
	{
		name: 'x5',
		test: (s) => header(s, 'to').includes('NotificationRecipients') && /Mail Delivery Subsystem/.test(s.from + ' ' + s.subject),
		profile: x5,
	},
	{ name: 'receivingses', test: (s) => hasHeader(s, 'x-ses-outgoing'), profile: receivingSes },
	{
		name: 'einsundeins',
		test: (s) => s.from.startsWith('"Mail Delivery System"') && s.subject === 'Mail delivery failed: returning message to sender',
		profile: einsUndEins,
	},
	{
		name: 'amazonses',
		test: (s) => hasHeader(s, 'x-amz-sns-message-id') || /@email-bounces\.amazonses\.com|@amazonses\.com/i.test(s.from),
		profile: amazonSes,
	},
	{ name: 'amavis', test: (s) => s.from.startsWith('"Content-filter at '), profile: amavis },
	{ name: 'gmx', test: (s) => hasHeader(s, 'x-gmx-antispam'), profile: gmx },
	{
		name: 'courier',
		test: (s) =>
			/Courier mail server at /.test(s.from) ||
			/NOTICE: mail delivery status\.|WARNING: delayed mail\./.test(s.subject) ||
			/^<courier\./.test(s.messageId),
		profile: courier,
	},
	{
		name: 'biglobe',
		test: (s) => /postmaster@(?:biglobe|inacatv|tmtv|ttv)\.ne\.jp/i.test(s.from) && s.subject.startsWith('Returned mail:'),
		profile: biglobe,
	},
	{
		name: 'kddi',
		test: (s) => /no-reply@.*\.dion\.ne\.jp/.test(s.from) || header(s, 'reply-to').trim() === 'no-reply@app.auone-net.jp',
		profile: kddi,
	},
	// MX Logic (McAfee SaaS) runs Exim underneath.
	{ name: 'mxlogic', test: (s) => hasHeader(s, 'x-mx-bounce') || hasHeader(s, 'x-mxl-hash') || hasHeader(s, 'x-mxl-notehash'), profile: eximProfile },
	// Mail.Ru too, with its own Message-IDs.
	{ name: 'mailru', test: (s) => /mailer-daemon@.*mail\.ru/i.test(s.from) && /\.mail\.ru>|smailru\.net>/.test(s.messageId), profile: eximProfile },
	// Google Workspace and Gmail write the same notice; only Workspace adds X-Gm-Message-State.
	{
		name: 'gmail',
		test: (s) => s.from.includes('<mailer-daemon@googlemail.com>') && s.subject.includes('Delivery Status Notification'),
		profile: (s) => (hasHeader(s, 'x-gm-message-state') ? gsuite : gmail),
	},
	{ name: 'aol', test: (s) => hasHeader(s, 'x-aol-ip'), profile: aol },
	{
		name: 'facebook',
		test: (s) => s.from.trim() === 'Facebook <mailer-daemon@mx.facebook.com>' && s.subject === 'Sorry, your message could not be delivered',
		profile: facebook,
	},
	{
		name: 'messagelabs',
		test: (s) => hasHeader(s, 'x-msg-ref') && s.from.includes('MAILER-DAEMON@messagelabs.com') && s.subject.startsWith('Mail Delivery Failure'),
		profile: messageLabs,
	},
	{
		name: 'interscan',
		test: (s) =>
			/^"InterScan (?:MSS|Notification)"/.test(s.from) ||
			['Mail could not be delivered', 'メッセージを配信できません。', 'メール配信に失敗しました'].includes(s.subject),
		profile: interScan,
	},
	{ name: 'dragonfly', test: (s) => s.subject.includes('Mail delivery failed') && receivedHas(s, ' (DragonFly Mail Agent'), profile: dragonFly },
	{
		name: 'opensmtpd',
		test: (s) => /Delivery status notification/.test(s.subject) && /Mailer Daemon </.test(s.from) && receivedHas(s, ' (OpenSMTPD) with '),
		profile: openSmtpd,
	},
	{ name: 'exchange2007', test: isExchange2007, profile: exchange2007 },
	{
		name: 'qmail',
		test: (s) =>
			s.subject === 'failure notice' ||
			s.subject.startsWith('Permanent Delivery Failure') ||
			s.received.some((r) => /\(qmail \d+ invoked (?:for bounce|from network)\)/.test(r)),
		profile: qmail,
	},
	{ name: 'fml', test: (s) => hasHeader(s, 'x-mlserver') && /-admin@/.test(s.from) && s.messageId.includes('.FML'), profile: (s) => fml(s.subject) },
	{
		name: 'apachejames',
		test: (s) => s.subject === '[BOUNCE]' || s.messageId.includes('.JavaMail.') || receivedHas(s, 'JAMES SMTP Server'),
		profile: apacheJames,
	},
	{ name: 'x6', test: (s) => /^There was an error sending your mail/.test(s.subject), profile: x6 },
	{ name: 'ezweb', test: (s) => ezwebSignals(s) >= 2, profile: ezweb },
	{ name: 'exim', test: (s) => !/\.mail\.ru\b/.test(s.from) && eximSignals(s) >= 2, profile: eximProfile },
	{ name: 'office365', test: (s) => office365Signals(s) >= 2, profile: office365 },
	// Outlook.com's own DSNs, when the Exchange Online signals were not there.
	{ name: 'outlook', test: (s) => outlookSignals(s) >= 2, profile: outlook },
];

/** Recognises the MTA that wrote a notice, or null (then the generic rules decide alone). */
export function detectMta(s: MtaSignals): MtaProfile | null {
	for (const check of MTA_CHECKS) {
		if (!check.test(s)) continue;
		return typeof check.profile === 'function' ? check.profile(s) : check.profile;
	}
	return null;
}

export function mtaSignals(headers: HeaderList, subject: string, from: string, notice: string): MtaSignals {
	return {
		headers,
		subject,
		from,
		received: headerValues(headers, 'received'),
		notice: notice.slice(0, 4000),
		xMailer: headerValue(headers, 'x-mailer') ?? '',
		messageId: headerValue(headers, 'message-id') ?? '',
	};
}
