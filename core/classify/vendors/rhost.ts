/**
 * Per-remote-host knowledge (the server that refused the message), in the way of Sisimai's Rhost modules: some
 * large providers word or number their refusals in their own way, so their own phrases and codes decide.
 * A provider is recognised by the remote MTA's host name or, failing that, by the recipient's domain.
 */

/** What a provider's rules see of a row. */
interface RowFacts {
	/** Diagnostic as written. */
	diagnostic: string;
	/** Lower-cased diagnostic. */
	lower: string;
	/** The report's status code (before any pseudo code), or ''. */
	status: string;
	/** The refused SMTP command, or ''. */
	command: string;
	/** The SMTP reply code of the answer, or ''. */
	replyCode: string;
}

interface RemoteHost {
	/** Host-name parts of the provider's MX hosts (matched as substrings, like the recipient's domain). */
	hosts: string[];
	reasonOf(row: RowFacts): string;
}

/** First reason whose lower-case phrases occur in the text. */
function phrases(table: Array<[reason: string, phrases: string[]]>, lower: string): string {
	for (const [reason, list] of table) for (const p of list) if (lower.includes(p)) return reason;
	return '';
}

/** Orange / La Poste / Wanadoo: "LPN007_416", "OFR_999" style error codes. */
const FRANCE_PTT_CODES: Record<string, string> = {
	'101': 'blocked',
	'102': 'blocked',
	'103': 'blocked',
	'104': 'toomanyconn',
	'305': 'securityerror',
	'401': 'authfailure',
	'402': 'securityerror',
	'403': 'rejected',
	'405': 'rejected',
	'415': 'rejected',
	'416': 'userunknown',
	'417': 'mailboxfull',
	'420': 'suspend',
	'421': 'rejected',
	'426': 'suspend',
	'505': 'systemerror',
	'506': 'spamdetected',
	'510': 'blocked',
	'514': 'mesgtoobig',
	'517': 'authfailure',
	'630': 'policyviolation',
	'999': 'blocked',
};

/** GoDaddy (secureserver.net): " IB212 " style codes. */
const GODADDY_CODES: Record<string, string> = {
	IB401: 'securityerror',
	IB501: 'notcompliantrfc',
	IB502: 'notcompliantrfc',
	IB506: 'rejected',
	IB508: 'authfailure',
	IB108: 'requireptr',
	IB212: 'spamdetected',
	IB705: 'virusdetected',
	IB605: 'toomanyconn',
	IB007: 'toomanyconn',
	IB101: 'speeding',
	IB110: 'blocked',
	IB111: 'blocked',
	IB112: 'blocked',
	IB113: 'blocked',
	IB504: 'speeding',
	IB510: 'speeding',
	IB607: 'speeding',
	IB103: 'badreputation',
	IB104: 'blocked',
	IB105: 'blocked',
	IB106: 'blocked',
};

/** Spectrum (charter.net): "AUP#1260" codes, as [from, to (0: a single code), reason]. */
const SPECTRUM_CODES: Array<[number, number, string]> = [
	[1000, 0, 'blocked'],
	[1010, 0, 'rejected'],
	[1020, 1080, 'rejected'],
	[1090, 0, 'systemerror'],
	[1100, 1150, 'requireptr'],
	[1160, 1190, 'policyviolation'],
	[1200, 1250, 'blocked'],
	[1260, 0, 'networkerror'],
	[1300, 1340, 'toomanyconn'],
	[1350, 1490, 'speeding'],
	[1500, 0, 'rejected'],
	[1520, 0, 'rejected'],
	[1530, 0, 'mesgtoobig'],
	[1540, 0, 'speeding'],
	[1550, 0, 'speeding'],
	[1560, 0, 'policyviolation'],
	[1580, 0, 'speeding'],
];

/**
 * Exchange Online / Outlook.com: [reason, status, low, high, phrase]. With low = high = 0 the status must equal
 * `status`; otherwise `status` is a prefix ("5.7.") and the last number must lie in [low, high].
 */
const MICROSOFT: Array<[string, string, number, number, string]> = [
	['authfailure', '4.7.26', 0, 0, 'must pass either spf or dkim validation, this message is not signed'],
	['authfailure', '4.7.323', 0, 0, 'tlsa-invalid: the domain failed dane validation'],
	['authfailure', '5.7.323', 0, 0, 'tlsa-invalid: the domain failed dane validation'],
	['authfailure', '4.7.324', 0, 0, 'dnssec-invalid: destination domain returned invalid dnssec records'],
	['authfailure', '5.7.324', 0, 0, 'dnssec-invalid: destination domain returned invalid dnssec records'],
	['authfailure', '4.7.325', 0, 0, 'certificate-host-mismatch'],
	['authfailure', '5.7.325', 0, 0, 'certificate-host-mismatch'],
	['authfailure', '5.7.23', 0, 0, 'the message was rejected because of sender policy framework violation'],
	['authfailure', '5.7.322', 0, 0, "certificate-expired: destination mail server's certificate is expired"],
	['authfailure', '5.7.509', 0, 0, 'does not pass dmarc verification'],
	['badreputation', '4.7.650', 0, 0, 'has been temporarily rate limited due to ip reputation'],
	['blocked', '4.4.2', 0, 0, 'connection dropped'],
	['blocked', '4.7.', 850, 899, 'access denied, please try again later'],
	['blocked', '5.7.25', 0, 0, 'must have a reverse dns record'],
	['blocked', '5.7.506', 0, 0, 'access denied, bad helo'],
	['blocked', '5.7.507', 0, 0, 'access denied, rejected by recipient'],
	['blocked', '5.7.510', 0, 0, 'does not accept email over ipv6'],
	['blocked', '5.7.511', 0, 0, 'access denied, banned sender'],
	['blocked', '5.7.513', 0, 0, 'using customer block list'],
	['blocked', '5.7.', 606, 649, 'access denied, banned sending ip '],
	['blocked', '4.7.', 500, 699, 'access denied, please try again later'],
	['blocked', '5.5.4', 0, 0, 'invalid domain name'],
	['blocked', '5.7.51', 0, 0, 'restrictdomainstoipaddresses or restrictdomainstocertificate'],
	['blocked', '5.7.1', 0, 0, 'part of their network is on our block list (s3150)'],
	['contenterror', '5.3.0', 0, 0, 'too many related errors'],
	['contenterror', '5.6.11', 0, 0, 'invalid characters'],
	['contenterror', '5.4.11', 0, 0, 'agent generated message depth exceeded'],
	['contenterror', '5.5.6', 0, 0, 'invalid message content'],
	['exceedlimit', '5.2.3', 0, 0, 'resolver.rst.recipsizelimit; message too large for this recipient'],
	['expired', '4.4.1', 0, 0, 'connection timed out'],
	['expired', '4.4.7', 0, 0, 'message delayed'],
	['expired', '4.4.7', 0, 0, 'message expired'],
	['expired', '5.4.300', 0, 0, 'message expired'],
	['mailboxfull', '5.2.2', 0, 0, 'mailbox full'],
	['mesgtoobig', '5.3.4', 0, 0, 'message size exceeds fixed maximum message size'],
	['mesgtoobig', '5.3.4', 0, 0, 'message too big for system'],
	['networkerror', '5.4.4', 0, 0, 'smtpsend.dns.nonexistentdomain; nonexistent domain'],
	['networkerror', '5.4.6', 0, 0, 'hop count exceeded - possible mail loop'],
	['networkerror', '4.4.316', 0, 0, 'connection refused'],
	['networkerror', '5.4.4', 0, 0, 'invalid arguments'],
	['networkerror', '5.4.6', 0, 0, 'routing loop detected'],
	['networkerror', '5.4.14', 0, 0, 'routing loop detected'],
	['norelaying', '5.7.1', 0, 0, 'unable to relay'],
	['norelaying', '5.4.1', 0, 0, 'relay access denied'],
	['norelaying', '5.7.64', 0, 0, 'tenantattribution; relay access denied'],
	['norelaying', '5.4.310', 0, 0, 'does not exist'],
	['notaccept', '4.3.2', 0, 0, 'system not accepting network messages'],
	['notaccept', '4.4.4', 0, 0, 'hosted tenant which has no mail-enabled subscriptions'],
	['notaccept', '5.3.2', 0, 0, 'storedrv.deliver: missing or bad storedriver mdb properties'],
	['policyviolation', '5.0.350', 0, 0, 'x-dg-ref header is too long'],
	['policyviolation', '5.0.350', 0, 0, 'requested action not taken: policy violation detected (as345)'],
	['policyviolation', '5.7.', 900, 999, 'delivery not authorized, message refused'],
	['rejected', '5.1.7', 0, 0, 'invalid address'],
	['rejected', '5.1.7', 0, 0, 'unknown sender address'],
	['rejected', '5.1.0', 0, 0, 'sender denied'],
	['rejected', '5.1.8', 0, 0, 'access denied, bad outbound sender'],
	['rejected', '5.7.1', 0, 0, 'delivery not authorized'],
	['rejected', '5.7.12', 0, 0, 'sender was not authenticated by organization'],
	['rejected', '5.7.124', 0, 0, 'sender not in allowed-senders list'],
	['rejected', '5.7.133', 0, 0, 'sender not authenticated for group'],
	['rejected', '5.7.134', 0, 0, 'sender was not authenticated for mailbox'],
	['rejected', '5.7.13', 0, 0, 'sender was not authenticated for public folder'],
	['rejected', '5.7.135', 0, 0, 'sender was not authenticated for public folder'],
	['rejected', '5.7.136', 0, 0, 'sender was not authenticated'],
	['rejected', '5.7.', 501, 503, 'access denied, spam abuse detected'],
	['rejected', '5.7.512', 0, 0, 'access denied, message must be rfc 5322 section 3.6.2 compliant'],
	['rejected', '5.7.750', 0, 0, 'service unavailable. client blocked from sending from unregistered domains'],
	['rejected', '5.7.', 501, 503, 'access denied, banned sender'],
	['securityerror', '5.7.3', 0, 0, 'cannot achieve exchange server authentication'],
	['securityerror', '5.7.3', 0, 0, 'not authorized'],
	['securityerror', '4.4.317', 0, 0, 'starttls is required to send mail'],
	['securityerror', '5.4.317', 0, 0, 'starttls is required to send mail'],
	['securityerror', '4.7.321', 0, 0, 'starttls-not-supported'],
	['securityerror', '5.7.321', 0, 0, 'starttls-not-supported'],
	['securityerror', '5.7.1', 0, 0, 'client was not authenticated'],
	['securityerror', '5.7.57', 0, 0, 'client was not authenticated to send anonymous mail during mail from'],
	['spamdetected', '5.2.1', 0, 0, 'content filter agent quarantined this message'],
	['speeding', '4.3.2', 0, 0, 'storedrv.deliver; recipient thread limit exceeded'],
	['speeding', '5.1.90', 0, 0, "you've reached your daily limit for message recipients"],
	['speeding', '5.2.2', 0, 0, 'submission quota exceeded'],
	['speeding', '5.2.121', 0, 0, "recipient's per hour message receive limit from specific sender exceeded"],
	['speeding', '5.2.122', 0, 0, "recipient's per hour message receive limit exceeded"],
	['speeding', '5.7.508', 0, 0, 'has exceeded permitted limits within'],
	['speeding', '5.7.', 700, 749, 'access denied, tenant has exceeded threshold'],
	['speeding', '5.7.', 700, 749, 'access denied, traffic not accepted from this ip'],
	['suspend', '5.7.504', 0, 0, 'recipient address rejected: access denied'],
	['suspend', '5.7.505', 0, 0, 'access denied, banned recipient'],
	['suspend', '5.2.1', 0, 0, 'mailbox cannot be accessed'],
	['syntaxerror', '5.3.3', 0, 0, 'unrecognized command'],
	['syntaxerror', '5.5.2', 0, 0, 'send hello first'],
	['systemerror', '4.3.2', 0, 0, 'service not available'],
	['systemerror', '4.3.2', 0, 0, 'service not active'],
	['systemerror', '5.3.5', 0, 0, 'system incorrectly configured'],
	['systemerror', '5.0.0', 0, 0, 'helo / ehlo requires domain address'],
	['systemerror', '5.1.4', 0, 0, 'destination mailbox address ambiguous'],
	['systemerror', '5.2.4', 0, 0, 'mailing list expansion problem'],
	['systemerror', '5.2.14', 0, 0, 'misconfigured forwarding address'],
	['systemerror', '4.4.3', 0, 0, 'temporary server error. please try again later attr18'],
	['systemerror', '4.7.0', 0, 0, 'temporary server error. please try again later. prx4 nexthop:'],
	['systemerror', '4.4.24', 0, 0, 'message failed to be replicated: insufficient system resource:'],
	['systemerror', '4.4.25', 0, 0, 'message failed to be replicated: no healthy secondary server available'],
	['systemerror', '4.4.28', 0, 0, 'message failed to be replicated: the operation was canceled'],
	['systemerror', '4.4.318', 0, 0, '(suspiciousremoteservererror)'],
	['systemerror', '5.4.318', 0, 0, '(suspiciousremoteservererror)'],
	['systemerror', '4.7.500', 0, 0, 'server busy. please try again later from '],
	['systemerror', '4.7.700', 0, 0, 'pfa agent busy, please try again.'],
	['systemfull', '4.3.1', 0, 0, 'insufficient system resources'],
	['toomanyconn', '5.5.3', 0, 0, 'too many recipients'],
	['toomanyconn', '4.5.3', 0, 0, 'too many recipients'],
	['toomanyconn', '5.2.122', 0, 0, 'the recipient has exceeded their limit for'],
	['userunknown', '5.1.1', 0, 0, 'resolver.adr.exrecipnotfound; not found'],
	['userunknown', '5.1.1', 0, 0, 'user unknown'],
	['userunknown', '5.1.3', 0, 0, 'storedrv.submit; invalid recipient address'],
	['userunknown', '5.1.', 4, 5, 'recipient address reserved by rfc 2606'],
	['userunknown', '5.1.6', 0, 0, 'recipient addresses in single label domains not accepted'],
	['userunknown', '5.1.1', 0, 0, 'bad destination mailbox address'],
	['userunknown', '5.1.10', 0, 0, 'recipient not found'],
	['userunknown', '5.4.1', 0, 0, 'recipient address rejected: access denied'],
	['userunknown', '5.5.0', 0, 0, 'requested action not taken: mailbox unavailable'],
	['userunknown', '5.1.2', 0, 0, 'invalid x.400 address'],
];

/** Google (Gmail's MX): [reply code, status, phrase]; the status matches whatever its class (4 or 5). */
const GOOGLE: Array<[string, string, string, string]> = [
	['authfailure', '451', '4.7.24', 'the spf record of the sending domain'],
	['authfailure', '550', '5.7.24', 'the spf record of the sending domain'],
	['authfailure', '421', '4.7.26', 'senders to authenticate with either spf or dkim'],
	['authfailure', '550', '5.7.26', 'fails to pass spf checks for an spf record with a hard fail'],
	['authfailure', '550', '5.7.26', 'has an spf record with a hard fail policy'],
	['authfailure', '451', '4.7.26', "is not accepted due to domain's dmarc policy"],
	['authfailure', '550', '5.7.1', 'fails to pass authentication checks'],
	['authfailure', '550', '5.7.26', 'fails to pass authentication checks'],
	['authfailure', '421', '4.7.27', 'senders to authenticate with spf'],
	['authfailure', '421', '4.7.27', 'senders to authenticate their email with spf'],
	['authfailure', '421', '4.7.30', 'senders to authenticate their email with dkim'],
	['authfailure', '550', '5.7.30', 'senders to authenticate with dkim'],
	['authfailure', '421', '4.7.32', 'aligned with either the authenticated spf or dkim'],
	['badreputation', '421', '4.7.0', 'very low reputation of the sending'],
	['badreputation', '550', '5.7.1', 'due to the very low reputation of the sending'],
	['blocked', '421', '4.7.0', 'ip not in whitelist for rcpt domain'],
	['blocked', '421', '4.7.0', 'try again later, closing connection.'],
	['blocked', '501', '5.5.4', 'empty helo/ehlo argument not allowed'],
	['blocked', '501', '5.5.4', 'helo/ehlo argument is invalid'],
	['blocked', '421', '4.7.0', 'an unusual rate of unsolicited mail'],
	['blocked', '421', '4.7.28', 'an unusual rate of mail'],
	['blocked', '550', '5.7.1', 'an unusual rate of unsolicited mail'],
	['blocked', '550', '5.7.28', 'an unusual rate of unsolicited mail'],
	['exceedlimit', '552', '5.2.3', "exceeded google's message size limits"],
	['exceedlimit', '552', '5.3.4', "exceeds google's limit of limit attachments."],
	['exceedlimit', '552', '5.3.4', "message exceeded google's message header size limits"],
	['exceedlimit', '552', '5.3.4', 'bytes per individual header size'],
	['exceedlimit', '552', '5.3.4', "exceeds google's header name limit of"],
	['exceedlimit', '552', '5.3.4', "exceeds google's message header size limit"],
	['expired', '421', '4.7.0', 'connection expired'],
	['expired', '451', '4.4.2', 'timeout - closing connection'],
	['mailboxfull', '452', '4.2.2', 'inbox is out of storage space'],
	['mailboxfull', '452', '4.2.2', 'is over quota'],
	['mailboxfull', '550', '5.7.1', 'email quota exceeded'],
	['mesgtoobig', '552', '5.3.4', "exceeded google's message size limits"],
	['mesgtoobig', '552', '5.3.4', "exceeds google's message size limit of"],
	['networkerror', '554', '5.4.6', 'message exceeded 50 hops'],
	['networkerror', '554', '5.6.0', 'message exceeded 50 hops'],
	['norelaying', '550', '5.7.0', 'mail relay denied'],
	['norelaying', '550', '5.7.1', 'invalid credentials for relay'],
	['norelaying', '550', '5.7.1', 'is not authorized to send email directly to our servers'],
	['notcompliantrfc', '550', '5.7.1', 'missing a valid address in the from: header'],
	['notcompliantrfc', '550', '5.7.1', 'multiple addresses in from: header are not accepted'],
	['notcompliantrfc', '550', '5.7.1', 'is not rfc 5322 compliant'],
	['notcompliantrfc', '550', '5.7.1', 'missing a valid message-id: header'],
	['notcompliantrfc', '550', '5.7.1', 'contains a unicode character in a disallowed header'],
	['notcompliantrfc', '550', '5.7.1', 'encoded-word syntax is not permitted'],
	['notcompliantrfc', '553', '5.1.7', 'is not a valid rfc 5321 address'],
	['notcompliantrfc', '554', '5.6.0', 'mail message is malformed'],
	['policyviolation', '552', '5.7.0', 'illegal attachment on your message'],
	['policyviolation', '552', '5.7.0', 'blocked because its content presents a potential security issue'],
	['policyviolation', '550', '5.7.1', 'has a policy that prohibited'],
	['policyviolation', '421', '4.7.28', 'sending messages with the same message-id:'],
	['rejected', '550', '5.7.0', 'mail sending denied'],
	['rejected', '550', '5.7.1', 'unauthenticated email is not accepted'],
	['requireptr', '421', '4.7.0', 'does not have a ptr record'],
	['requireptr', '421', '4.7.23', ' have a ptr record, or the ptr record'],
	['requireptr', '550', '5.7.1', 'does not meet ipv6 sending guidelines regarding ptr records and authentication'],
	['requireptr', '550', '5.7.25', 'does not have a ptr record'],
	['requireptr', '550', '5.7.25', 'does not match the ip address of the hostname'],
	['securityerror', '421', '4.7.0', 'tls required for rcpt domain'],
	['securityerror', '454', '4.7.0', 'too many login attempts'],
	['securityerror', '501', '5.5.2', 'cannot decode response'],
	['securityerror', '503', '5.7.0', 'no identity changes permitted'],
	['securityerror', '530', '5.5.1', 'authentication required.'],
	['securityerror', '530', '5.7.0', 'authentication required.'],
	['securityerror', '535', '5.7.1', 'application-specific password required'],
	['securityerror', '535', '5.7.9', 'application-specific password required'],
	['securityerror', '535', '5.7.1', 'please log in with your web browser'],
	['securityerror', '534', '5.7.9', 'please log in with your web browser'],
	['securityerror', '534', '5.7.14', 'please log in through your web browser'],
	['securityerror', '535', '5.7.1', 'username and password not accepted'],
	['securityerror', '535', '5.7.8', 'username and password not accepted'],
	['securityerror', '421', '4.7.29', 'senders to use tls/ssl for smtp'],
	['spamdetected', '421', '4.7.0', 'due to the nature of the content or the links within'],
	['spamdetected', '550', '5.7.1', 'likely unsolicited mail'],
	['speeding', '450', '4.2.1', 'is receiving mail too quickly'],
	['speeding', '450', '4.2.1', 'peak smtp relay limit exceeded for customer'],
	['speeding', '450', '4.2.1', 'rate that prevents additional messages from being delivered'],
	['speeding', '550', '5.4.5', 'daily sending quota exceeded'],
	['speeding', '550', '5.4.5', 'daily user sending limit exceeded'],
	['speeding', '550', '5.4.5', 'daily smtp relay limit exceeded for'],
	['speeding', '550', '5.7.1', 'daily smtp relay limit exceeded for'],
	['speeding', '550', '5.7.1', 'daily smtp relay sending limit exceeded for'],
	['speeding', '550', '5.7.1', 'this mail has been rate limited'],
	['suspend', '550', '5.2.1', 'account that you tried to reach is disabled'],
	['suspend', '550', '5.2.1', 'account that you tried to reach is inactive'],
	['syntaxerror', '451', '4.5.0', 'smtp protocol violation'],
	['syntaxerror', '525', '5.7.10', 'smtp protocol violation'],
	['syntaxerror', '535', '5.5.4', 'optional argument not permitted'],
	['syntaxerror', '454', '5.5.1', 'starttls may not be repeated'],
	['syntaxerror', '501', '5.7.11', 'syntax error'],
	['syntaxerror', '501', '5.5.2', 'syntax error'],
	['syntaxerror', '502', '5.5.1', 'too many unrecognized commands, goodbye'],
	['syntaxerror', '502', '5.5.1', 'unimplemented command'],
	['syntaxerror', '502', '5.5.1', 'unrecognized command'],
	['syntaxerror', '503', '5.5.1', 'bad sequence of commands'],
	['syntaxerror', '503', '5.5.1', 'ehlo/helo first'],
	['syntaxerror', '503', '5.5.1', 'mail first'],
	['syntaxerror', '503', '5.5.1', 'rcpt first'],
	['syntaxerror', '503', '5.5.1', 'no data after bdat'],
	['syntaxerror', '504', '5.7.4', 'unrecognized authentication type'],
	['syntaxerror', '504', '5.7.4', 'xoauth is no longer supported'],
	['syntaxerror', '530', '5.7.0', 'must issue a starttls command first'],
	['syntaxerror', '554', '5.7.0', 'too many unauthenticated commands'],
	['systemerror', '421', '4.3.0', 'temporary system problem'],
	['systemerror', '421', '4.7.0', 'temporary system problem'],
	['systemerror', '421', '4.4.5', 'server busy'],
	['systemerror', '451', '4.3.0', 'multiple destination domains per transaction is unsupported'],
	['systemerror', '451', '4.3.0', 'mail server has temporarily rejected this message'],
	['systemerror', '451', '4.3.0', 'mail server temporarily rejected message'],
	['systemerror', '452', '4.5.3', 'domain policy size per transaction exceeded'],
	['systemerror', '454', '4.7.0', 'cannot authenticate due to temporary system problem'],
	['toomanyconn', '452', '4.5.3', 'your message has too many recipients'],
	['toomanyconn', '550', '5.5.3', 'too many recipients for this sender'],
	['userunknown', '550', '5.1.1', 'the email account that you tried to reach does not exist'],
	['userunknown', '553', '5.1.2', "we weren't able to find the recipient domain"],
	['userunknown', '553', '5.1.3', 'is not a valid rfc 5321 address'],
];

/** Mimecast: [reply code, phrase] by reason. */
const MIMECAST: Array<[string, string, string]> = [
	['authfailure', '550', 'spf sender invalid - envelope rejected'],
	['authfailure', '550', 'dkim sender invalid - envelope rejected'],
	['authfailure', '550', 'dmarc sender invalid - envelope rejected'],
	['badreputation', '451', 'internal resources are temporarily unavailable'],
	['badreputation', '550', 'local ct ip reputation - (reject)'],
	['blocked', '421', 'sender address blocked'],
	['blocked', '451', 'recipient temporarily unavailable'],
	['blocked', '451', 'ip temporarily blacklisted'],
	['expired', '550', 'journal messages past the expiration'],
	['mesgtoobig', '554', 'maximum email size exceeded'],
	['networkerror', '451', 'the incorrect hostname used for inbounds'],
	['networkerror', '550', 'the incorrect hostname used for inbounds'],
	['networkerror', '554', 'mail loop detected'],
	['norelaying', '451', 'open relay not allowed'],
	['norelaying', '451', 'open relay is not allowed'],
	['notaccept', '451', 'account inbounds disabled'],
	['onhold', '451', 'account outbounds disabled'],
	['onhold', '451', 'hostname is not authorized'],
	['onhold', '550', 'journal message past expiration'],
	['policyviolation', '550', 'anti-spoofing policy - inbound not allowed'],
	['policyviolation', '550', 'rejected by header-based anti-spoofing policy'],
	['policyviolation', '550', 'message bounced due to content examination policy'],
	['policyviolation', '554', 'host network not allowed'],
	['policyviolation', '554', 'host network, not allowed'],
	['rejected', '550', 'administrative prohibition envelope blocked'],
	['rejected', '550', 'envelope blocked - user entry'],
	['rejected', '550', 'envelope blocked - user domain entry'],
	['rejected', '550', 'rejected by header-based manually blocked senders'],
	['rejected', '550', 'rejected by header-based blocked senders'],
	['rejected', '550', 'envelope rejected - block policy for envelope from address'],
	['securityerror', '535', 'incorrect authentication data'],
	['securityerror', '550', 'submitter failed to disabled'],
	['securityerror', '550', 'submitter failed to authenticate'],
	['securityerror', '553', 'this route requires encryption (tls)'],
	['securityerror', '553', 'this route requires tls version 1.2 or greater'],
	['securityerror', '553', 'this route requires high-strength ciphers'],
	['securityerror', '554', 'configuration is invalid for this certificate'],
	['systemerror', '451', 'unable to process connection at this time'],
	['systemerror', '451', 'message ended early'],
	['systemerror', '451', 'unable to process command'],
	['systemerror', '451', 'unable to process an email at this time'],
	['toomanyconn', '451', 'account service is temporarily unavailable'],
	['toomanyconn', '452', 'too many recipients'],
	['toomanyconn', '550', 'exceeding outbound thread limit'],
	['userunknown', '501', 'invalid address'],
	['userunknown', '503', 'user unknown'],
	['userunknown', '550', 'invalid recipient'],
	['virusdetected', '554', 'email rejected due to security policies'],
];

/** Cox: "AUP#CXBL" style codes. */
const COX_CODES: Record<string, string> = {
	CXBL: 'blocked',
	CXDNS: 'requireptr',
	CXSNDR: 'authfailure',
	CXSMTP: 'rejected',
	CXCNCT: 'toomanyconn',
	CXMXRT: 'toomanyconn',
	CDRBL: 'blocked',
	CXTHRT: 'securityerror',
	CXMJ: 'securityerror',
};

/** i.ua: ".i.ua/err/NN" help links. */
const IUA_CODES: Record<string, string> = {
	'1': 'norelaying',
	'2': 'userunknown',
	'3': 'suspend',
	'4': 'mailboxfull',
	'5': 'toomanyconn',
	'6': 'norelaying',
	'7': 'blocked',
	'8': 'rejected',
	'9': 'blocked',
	'10': 'filtered',
};

const REMOTE_HOSTS: RemoteHost[] = [
	{
		hosts: ['aspmx.l.google.com', 'gmail-smtp-in.l.google.com'],
		reasonOf(r) {
			if (!/^[245]\d\d$/.test(r.replyCode) || !/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status)) return '';
			const detail = r.status.slice(2);
			for (const [reason, reply, status, phrase] of GOOGLE)
				if (reply.slice(1) === r.replyCode.slice(1) && status.slice(2) === detail && r.lower.includes(phrase)) return reason;
			return '';
		},
	},
	{
		hosts: ['.mail.icloud.com', '.apple.com', '.me.com'],
		reasonOf: (r) =>
			phrases(
				[
					['authfailure', ['s dmarc policy', 'blocked for failing both spf and dkim autentication checks']],
					[
						'blocked',
						[
							'rejected due to having a domain present in the spamhaus',
							'rejected due to listing in spamhaus',
							'blocked - see https://support.proofpoint.com/dnsbl-lookup',
							'not accepting connections',
						],
					],
					['hasmoved', ['recipient no longer on server']],
					['mailboxfull', ['user is over quota']],
					['norelaying', ['relay access denied']],
					['notaccept', ['host/domain does not accept mail']],
					['policyviolation', ['due to local policy']],
					['rejected', ['sender address rejected']],
					['speeding', ['due to excessive volume']],
					['userunknown', ['inactive email address', 'user does not exist', 'unknown or illegal alias']],
				],
				r.lower,
			),
	},
	{
		hosts: ['cox.net'],
		reasonOf(r) {
			const code = /AUP#([0-9A-Z]+)/.exec(r.diagnostic)?.[1] ?? '';
			const byCode = COX_CODES[code] ?? (/^IPBL[01]{4,5}$/.test(code) ? 'blocked' : /^URLBL\d+$/.test(code) ? 'spamdetected' : '');
			if (byCode) return byCode;
			return phrases(
				[
					['blocked', ['cox too many bad commands from', 'too many invalid recipients']],
					['requireptr', ['dns check failure - try again later', 'rejected - no rdns']],
					['policyviolation', ['esmtp no data before greeting', 'attachment extension is forbidden']],
					['rejected', ['sender rejected']],
					['systemerror', ['esmtp server temporarily not available']],
					['toomanyconn', ['too many sessions from', 'requested action aborted: try again later', 'message threshold exceeded']],
					['userunknown', ['recipient rejected']],
				],
				r.lower,
			);
		},
	},
	{
		hosts: ['.email.ua'],
		reasonOf(r) {
			const m = /\.i\.ua\/err\/(\d{1,2})/.exec(r.lower);
			return m ? (IUA_CODES[String(Number(m[1]))] ?? '') : '';
		},
	},
	{
		hosts: ['.mimecast.com'],
		reasonOf(r) {
			if (!/^[245]\d\d$/.test(r.replyCode)) return '';
			for (const [reason, reply, phrase] of MIMECAST) if (reply === r.replyCode && r.lower.includes(phrase)) return reason;
			return '';
		},
	},
	{
		hosts: ['.qq.com'],
		reasonOf: (r) =>
			phrases(
				[
					['authfailure', ['spf check failed', 'dmarc check failed']],
					['blocked', ['suspected bounce attacks', 'suspected spam ip', 'connection denied']],
					['mesgtoobig', ['message too large']],
					['rejected', ['suspected spam', 'mail is rejected by recipients']],
					['spamdetected', ['spam is embedded in the email', 'mail content denied']],
					['speeding', ['mailbox unavailable or access denined']],
					['suspend', ['is a deactivated mailbox']],
					['syntaxerror', ['bad address syntax']],
					['toomanyconn', ['ip frequency limited', 'domain frequency limited', 'sender frequency limited', 'connection frequency limited']],
					['userunknown', ['mailbox not found']],
				],
				r.lower,
			),
	},
	{
		hosts: ['.prod.outlook.com', '.protection.outlook.com'],
		reasonOf(r) {
			if (!/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status)) return '';
			const last = Number(r.status.slice(r.status.lastIndexOf('.') + 1));
			for (const [reason, status, low, high, phrase] of MICROSOFT) {
				if (low === high ? r.status !== status : !r.status.startsWith(status) || last < low || last > high) continue;
				if (r.lower.includes(phrase)) return reason;
			}
			return '';
		},
	},
	{
		// au (KDDI): "550 : User unknown" is its address filter, "550 <x@y>: User unknown" a missing mailbox.
		hosts: ['.ezweb.ne.jp', 'msmx.au.com'],
		reasonOf: (r) =>
			phrases(
				[
					['filtered', ['550 : user unknown']],
					['userunknown', ['>: user unknown']],
				],
				r.lower,
			),
	},
	{
		// Yahoo Inc. (*.yahoodns.net)
		hosts: ['.yahoodns.net'],
		reasonOf: (r) =>
			phrases(
				[
					['authfailure', ['yahoo requires all senders to authenticate with either spf or dkim']],
					['blocked', [" because the ip is in spamhaus's list;", 'not accepted from ip addresses on spamhaus xbl']],
					['norelaying', ['relaying denied for ']],
					['notcompliantrfc', ['headers are not rfc compliant']],
					['policyviolation', ['not accepted for policy reasons']],
					[
						'rejected',
						[
							'temporarily deferred due to unexpected volume or user complaints',
							'due to unresolvable rfc.5321 domain',
							' will be permanently deferred',
						],
					],
					['speeding', ['user is receiving mail too quickly']],
					['suspend', [' is no longer valid.', 'this mailbox is disabled']],
					['syntaxerror', ['syntax error in parameters or arguments']],
					['toomanyconn', ['max message per connection reached']],
					['userunknown', ["dd this user doesn't have a ", 'mailbox not found']],
				],
				r.lower,
			),
	},
	{
		hosts: ['.laposte.net', '.orange.fr', '.wanadoo.fr'],
		reasonOf(r) {
			const m = /\b(?:LPN|LPNAAA|OFR|OUK)(?:_(\d{3})|\d{3}[-_](\d{3}))\b/i.exec(r.diagnostic);
			if (m) return FRANCE_PTT_CODES[m[1] ?? m[2]] ?? 'undefined';
			return r.lower.includes('spf/dns de votre nom de domaine') ? 'authfailure' : '';
		},
	},
	{
		hosts: ['smtp.secureserver.net', 'mailstore1.secureserver.net'],
		reasonOf(r) {
			const at = r.diagnostic.indexOf(' IB');
			const byCode = at > 1 ? GODADDY_CODES[r.diagnostic.slice(at + 1, at + 6)] : undefined;
			if (byCode) return byCode;
			return phrases(
				[
					['blocked', ['rbl reject', 'www.spamhaus.org/query/bl?ip=']],
					['expired', ['has been in the queue too long', 'delivery timeout']],
					['mailboxfull', ['account storage limit']],
					['spamdetected', ['message rejected for spam or virus content']],
					['suspend', ['account disabled']],
					['systemerror', ['message is looping']],
					['userunknown', ['recipient not found', 'account does not exist']],
				],
				r.lower,
			);
		},
	},
	{
		hosts: ['charter.net'],
		reasonOf(r) {
			const m = /AUP#[-A-Za-z]*(\d{4})/.exec(r.diagnostic);
			if (!m) return '';
			const n = Number(m[1]);
			for (const [from, to, reason] of SPECTRUM_CODES) if (n === from || (to > 0 && n >= from && n <= to)) return reason;
			return '';
		},
	},
	{
		// NTT docomo answers with bare codes: the status and the refused command carry the meaning.
		hosts: ['mfsmax.docomo.ne.jp'],
		reasonOf(r) {
			if (r.status === '5.1.1' || r.status === '5.0.911') return 'userunknown';
			if (r.status === '5.2.0') return 'filtered';
			const own = phrases(
				[
					['mailboxfull', ['552 too much mail data']],
					['toomanyconn', ['552 too many recipients']],
					['syntaxerror', ['503 bad sequence of commands', '504 command parameter not implemented']],
				],
				r.lower,
			);
			if (own) return own;
			if (r.status === '5.0.0' && r.command === 'RCPT') return 'userunknown';
			if (r.status === '5.0.0' && r.command === 'DATA') return 'rejected';
			return '';
		},
	},
];

/** The remote MTA's host name named in a diagnostic ("host mx.example.com[...] said", "while talking to x."). */
export function remoteHostIn(text: string): string {
	const m =
		/while talking to ([\w.-]+)|\bhost ([\w.-]+\.[a-z]{2,})\[|remote system: dns;\s*([\w.-]+)/i.exec(text) ??
		// Providers sign their answers with the answering host: "... (AS16012609) [XX.prod.protection.outlook.com]".
		/\[((?:[a-z0-9-]+\.)+[a-z]{2,})\]/i.exec(text);
	return m ? (m[1] ?? m[2] ?? m[3]).replace(/\.$/, '').toLowerCase() : '';
}

/** Reason from the refusing provider's own wording or codes, or ''. */
export function remoteHostReason(remoteHost: string, recipient: string, diagnostic: string, status = '', command = '', replyCode = ''): string {
	if (!diagnostic) return '';
	const host = remoteHost.toLowerCase();
	const domain = recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase();
	const useDomain = domain.length > 3 && domain.includes('.');
	for (const r of REMOTE_HOSTS) {
		// The remote host contains one of the provider's host names, or the recipient's domain is one of them.
		if (!r.hosts.some((h) => (host !== '' && host.includes(h)) || (useDomain && (h === domain || h.endsWith('.' + domain))))) continue;
		return r.reasonOf({ diagnostic, lower: diagnostic.toLowerCase(), status, command, replyCode });
	}
	return '';
}
