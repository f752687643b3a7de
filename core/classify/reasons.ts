/**
 * Bounce reasons in Sisimai's vocabulary, decided from the diagnostic text first (MTAs say more in words than in
 * codes, and often send a generic 5.0.0) and from the enhanced status code (RFC 3463) second.
 *
 * "Hard" follows Sisimai: only the reasons that say the address itself is dead. Policy, reputation and content
 * blocks are the sender's problem, so they are soft.
 */

export const HARD_REASONS: ReadonlySet<string> = new Set(['userunknown', 'hostunknown', 'hasmoved', 'notaccept']);

export function isHardReason(reason: string): boolean {
	return HARD_REASONS.has(reason);
}

/**
 * Ordered (reason, pattern) table over lower-cased, whitespace-collapsed diagnostic text. Earlier rows win, so the
 * more specific statements (a full mailbox, a moved user) come before the generic ones ("rejected", "blocked").
 */
/**
 * Specific wordings of well-known MTAs and providers whose generic words would mislead the general rules. They
 * are rare, so one combined test screens them all before each is tried in order.
 */
const SPECIFIC_RULES: Array<[reason: string, pattern: RegExp]> = [
	['notcompliantrfc', /multiple (?:[\d.]+ )*addresses in from/],
	[
		'filtered',
		/only accepting mail from specific|message rejected due to user rules|refuses? to receive (?:this )?mail|(?:have been|has been|was) blocked by the recipient|this account is protected by|restricted sms e-?mail|not currently being accepted for this mailbox/,
	],
	[
		'rejected',
		/\bbatv\b|no third-party dsns|empty envelope senders?|fully qualified (?:e-?mail )?address required|sender not pre-approved|senderfilterconfig|returned mail not accepted here|emetteur invalide|unroutable sender address|(?:sender|sender address|e-?mail address|an address that) (?:has been|is in my) black ?list/,
	],
	[
		'blocked',
		/bad sender ip|sender ip address rejected|accepting mail from your ip|zombied|too many spams from your ip|(?:you are|currently) sending spam|open proxy|extreme bad ip|mail from dynamic ips|looks suspiciously like spammer|helo command rejected|not accepting connections|connection (?:was )?dropped by remote host|connection reset by peer/,
	],
	[
		'spamdetected',
		/spam or virus|spam\/virus|banned content|unacceptable content|recurrent pattern|\buribl\b|bulk\.advertising|(?:mail|message) content (?:denied|rejected)|rejecting mail content/,
	],
	[
		'norelaying',
		/not (?:an open relay|configured to relay)|insecure mail relay|\bas a relay\b|relaying mail to|we don't handle mail for|requires authentication when attempting to send to a non-local/,
	],
	[
		'policyviolation',
		/illegal attachment|members-only list|closed mailing list|not subscribed to this group|organizational settings|mass mailer|containing images or other attachments|due to security policies/,
	],
	[
		'systemerror',
		/forwarding loop broken|can't create user output file|interrupted system call|error while being processed|loop was found in the mail exchanger|queue file write error|system config error/,
	],
	['networkerror', /mail forwarding loop|forwarding loop count|message looping|unable to resolve route/],
	[
		'networkerror',
		/could not connect and send the mail|dns records for the destination computer could not be found|host not found, try again|malformed (?:or unexpected )?name server reply/,
	],
	['systemfull', /requested mail action aborted: exceeded storage allocation/],
	[
		'mesgtoobig',
		/max(?:imum)? (?:inbound )?message size exceeded|exceeded maximum inbound message size|line limit exceeded|taille limite du message|mail file size exceeds the maximum size/,
	],
	['exceedlimit', /message header size exceeds limit/],
	[
		'contenterror',
		/invalid mime headers|improperly-formatted binary content|unnecessary base64|improper use of 8-bit data|header size exceeds|mime complexity/,
	],
	['toomanyconn', /too many smtp sessions|trop de connexions|too many errors from your ip|max emails per hour/],
	['speeding', /try again slower/],
	['requireptr', /forward dns entry does not point to the sending ip|unresolvable relay host name|dynamic ip or generic dns ptr/],
	['securityerror', /authentication turned on in your email client|not subscribed to ses|executable files are not allowed/],
	[
		'spamdetected',
		/content filter rejection|blacklisted url|detected that this message is|temporarily blocked by our filter|sender domain listed at/,
	],
	['policyviolation', /header (?:are not accepted|error)|given low priority/],
	[
		'rejected',
		/access denied \((?:in reply to mail from|sender blacklisted)|backscatter protection|bouncedeny|secumail|administrative prohibition|not a registered gateway user|address is not verified|provide a valid from|rule imposed mailbox access|sender is spammer|spam reporting address|empty e-?mail address|unsigned dsn|not allowed to post to this mailing list|submit messages to this e-mail system has been rejected|envelope blocked/,
	],
	[
		'blocked',
		/client host rejected: was not authenticated|\bgo away\b|invalid ip for sending mail|(?:refused|blocked) - see http|has not passed validation|server access forbidden by your ip|unwanted messages have been sent from the following ip|requires confirmation|confirm this mail server|no matches to nameserver query/,
	],
	['notaccept', /mail receiving disabled|no route for current request|smtp protocol returned a permanent error/],
	['expired', /delivery attempts will continue to be|failed to deliver to domain|has been delayed|not been collected after/],
	['systemerror', /could not load drd|there is no mdb|timeout waiting for input/],
	['mailererror', /\|\| exit|maidrop/],
	['filtered', /bounced address|not found recipient account|resolver\.rst\.notauthorized|is not accepting any mail/],
	['suspend', /recipient suspend the service/],
	[
		'userunknown',
		/can't accept user|no mail ?box available for this user|account unavailable|destination server rejected recipients|recipient address rejected: (?:invalid-recipient|userunknown|user unknown)|recipient unknown|recipient notfound|envelope recipient has been denied|recipients was undeliverable|#5\.1\.1 bad address|mailbox unavaiable/,
	],
];
const SPECIFIC_ANY = new RegExp(SPECIFIC_RULES.map(([, re]) => `(?:${re.source})`).join('|'));

const TEXT_RULES: Array<[reason: string, pattern: RegExp]> = [
	[
		'mailboxfull',
		/mailbox (?:is )?full|mail ?box (?:has )?exceeded|over ?quota|quota (?:exceeded|exceed|full)|exceeded (?:the )?(?:storage|quota|mailbox)|(?:mailbox|account|user|recipient)(?:'s)? (?:is )?(?:over|full|at capacity|storage (?:limit|full))|not enough (?:disk )?(?:space|storage)|insufficient (?:disk|mailbox) space|disk quota|mailbox size limit|is full|full mailbox|storage (?:quota|allocation|limit) (?:exceeded|reached)|exceeds? (?:the )?(?:size of |storage )?(?:mailbox|quota)|mailfolder is full|has exceeded (?:his|her|their|its) quota|user (?:has )?too many messages|exceeding receiving limits|too much mail data|exceed(?:ing|s)? (?:their|its|the|his|her) (?:mailbox )?quota|(?:over|exceed) the allowed quota|quota usage exceeded|quota violation|diskspace quota|(?:does not have|not sufficient) (?:enough )?(?:disk ?)?space|space has been used up|mailbox would exceed|destinataire pleine/,
	],
	[
		'mailboxfull',
		/insufficient storage|(?:postfach|mailbox) (?:\S+ )?voll\b|(?:mailbox|postvak) (?:is )?vol\b|quota (?:\S+ )?(?:überschritten|dépassé|superata|excedida|overschreden)|speicherplatz (?:\S+ )?(?:erschöpft|überschritten|voll)|bo[iî]te [^.]{0,30}pleine|buz[óo]n (?:\S+ )?lleno|cuota (?:\S+ )?(?:excedida|superada)|casella (?:\S+ )?piena|spazio (?:\S+ )?esaurito|caixa (?:postal |de correio |de entrada )?(?:\S+ )?cheia|cota (?:\S+ )?excedida|quotum (?:\S+ )?overschreden|postvak (?:\S+ )?vol\b|skrzynka (?:\S+ )?pełna|ящик (?:\S+ )?(?:переполнен|полон)|(?:превышена|превышен) (?:\S+ )?квот|квота (?:\S+ )?превышена|メールボックスがいっぱい|容量超過|容量オーバー|容量を超え|邮箱已满|邮箱空间不足|信箱已满|邮箱容量不足/,
	],
	// A local delivery program failed (procmail, a pipe): the mailer's problem, whatever the program printed.
	['mailererror', /command output:|procmail:|\bx-unix;|unable to deliver to program/],
	['onhold', /\bon hold\b/],
	['networkerror', /name service error|routing loop|hop count exceeded|too many hops/],
	['toomanyconn', /connection rate limit|ip frequency limit|too many recipients(?! (?:this|per|an|in the) (?:hour|day|minute))/],
	['exceedlimit', /exceeds fixed maximum message size/],
	['securityerror', /unauthenticated senders? not allowed/],
	['policyviolation', /blocked because (?:its|the) content/],
	['notcompliantrfc', /multiple (?:\d+ )?addresses in from/],
	['authfailure', /authentication information/],
	['suspend', /recipient account is blocked/],
	// Gmail's and queue managers' words for giving up after retries, whatever the last error was.
	[
		'expired',
		/did not accept our requests to connect|message will be retried|retry timeout exceeded|message expired|connection timed out|server did not respond|message timed out|have been failing for a long time|unable to deliver message after multiple retries|not reachable within the allowed queue period|could not find a gateway for/,
	],
	[
		'mesgtoobig',
		/message (?:is )?too (?:large|big)|message (?:size|length) (?:exceeds|too|is larger)|(?:exceeds|over) (?:the )?(?:maximum )?(?:message )?size limit|size limit exceeded|message exceeds (?:the )?(?:maximum|fixed)|mail size limit|too big for (?:the )?system|message file too big|exceeds maximum (?:message )?size/,
	],
	['exceedlimit', /exceeds? (?:the )?(?:recipient|administrative) limit|too many recipients|recipient limit/],
	[
		'mesgtoobig',
		/nachricht (?:\S+ )?zu gro(?:ß|ss)|e-mail (?:\S+ )?zu gro(?:ß|ss)|message (?:\S+ )?trop (?:volumineux|gros|grand)|taille du message (?:\S+ )?trop|mensaje (?:\S+ )?demasiado grande|messaggio (?:\S+ )?troppo grande|mensagem (?:\S+ )?(?:muito grande|grande demais)|bericht (?:\S+ )?te groot|сообщение (?:\S+ )?слишком (?:большое|велико)|メールサイズ|邮件过大|邮件大小超过/,
	],
	[
		'hasmoved',
		/has (?:been )?moved|address (?:has )?changed|no longer (?:uses|at|with) this|changed (?:his|her|their) (?:e-?mail )?address|new (?:e-?mail )?address is/,
	],
	[
		'notaccept',
		/null mx|no smtp service|couldn't find a mail exchanger|does not accept (?:e-?)?mail|not accept(?:ing)? (?:any )?(?:e-?)?mail|host does not receive any mail|no mx record/,
	],
	[
		'suspend',
		/(?:account|mailbox|address|user|recipient)(?: has been| is|'s) (?:temporarily )?(?:disabled|suspended|inactive|deactivated|frozen|locked|closed|blocked by administrator)|(?:disabled|suspended|inactive|deactivated|expired|locked) (?:account|mailbox|user)|mailbox unavailable due to inactivity|account (?:is )?(?:not active|expired|on hold)|inactive user|is suspended|currently suspended|user suspended|temporarily disabled|temporar(?:y|ily) locked|has been suspended|mailbox (?:is )?disabled|user is terminated|(?:user or domain|account that you tried to reach) is disabled|archived recipient|destinataire archiv|temporarily inactive/,
	],
	// The domain, not the mailbox, is unknown ("recipient domain does not exist"): read before the mailbox words.
	[
		'hostunknown',
		/\bdomain (?:name )?(?:does not|doesn't) exist|\bdomain (?:name )?(?:is )?not found|unknown domain|no such domain|domain (?:\S+ )?(?:nicht gefunden|existiert nicht|unbekannt)|unbekannte domain|domaine (?:\S+ )?(?:inconnu|introuvable|inexistant)|domaine [^.]{0,20}n'existe pas|dominio (?:\S+ )?(?:desconocido|inexistente|inesistente|no existe|no encontrado|sconosciuto|non esiste|non trovato)|dom[íi]nio (?:\S+ )?(?:inexistente|desconhecido|n[ãa]o existe|n[ãa]o encontrado)|domein (?:\S+ )?(?:bestaat niet|onbekend)|onbekend domein|домен (?:\S+ )?не (?:существует|найден)/,
	],
	[
		'userunknown',
		/user(?:name)? (?:is )?unknown|unknown (?:user|recipient|local[- ]part|mailbox|address|account)|no such (?:user|recipient|mailbox|account|address|person)|(?:user|recipient|mailbox|account|address|addressee) (?:\S+ )?(?:was )?not (?:found|exist|known|listed)|(?:user|recipient|mailbox|account|address|addressee)(?: \S+)? (?:does|did)(?: not|n't) exist|(?:doesn't|does not) have (?:a|an) \S+ account|invalid (?:recipient|mailbox|user|address|e-?mail address)|(?:recipient|destination mailbox) address (?:unknown|is invalid|invalid)|bad destination (?:mailbox )?address|not a valid (?:user|mailbox|recipient)|mailbox (?:not present|unavailable|does not exist|not found|is not available)|address (?:unknown|not found|does not exist|invalid|is not valid)|no mailbox (?:here )?by that name|user not local|no longer (?:active|valid|exists?)|(?:user|account|mailbox) (?:has been )?(?:removed|deleted)|not our customer|invalid (?:final delivery )?userid|no valid recipients|unknown or illegal (?:alias|user)|not listed in (?:the )?(?:\w+ )?(?:directory|address book|public name)|no (?:account|mailbox) (?:by that name|found|available)|is not (?:a known user|an active address)|not present in directory|addresses were unknown|address could not be found|not a local address|recipient (?:is )?not (?:local|accepted)|recipient not ok|badrcptto|badrecipientto|validrcptto|utilisateur inconnu|no existe (?:dicha persona|ese usuario)|nessun utente|user (?:not active|missing home directory)|unknown virtual user|there is no one at this address|e-?mail name is not found|account that you tried to reach does not exist|mailbox (?:invalid|is unavailable)/,
	],
	// The same statement in other wordings and languages (German, French, Spanish, Italian, Portuguese, Dutch, Polish,
	// Russian, Japanese, Chinese).
	[
		'userunknown',
		/addressee unknown|unknown addressee|no such local (?:user|recipient|mailbox|part)|(?:does not|doesn't) have an account|benutzer unbekannt|unbekannter (?:benutzer|empfänger)|empfänger (?:\S+ )?unbekannt|(?:adresse|mailbox|postfach|benutzer|empfänger|konto) (?:\S+ )?existiert nicht|kein (?:solcher )?benutzer|destinataire inconnu|adresse (?:e-?mail )?inconnue|(?:adresse|utilisateur|destinataire|boîte|compte)[^.]{0,30}n'existe pas|bo[iî]te (?:aux lettres )?inexistante|compte inexistant|usuario desconocido|destinatario (?:desconocido|sconosciuto|inesistente)|(?:usuario|cuenta|buz[óo]n|destinatario|direcci[óo]n) (?:\S+ )?no existe|buz[óo]n inexistente|cuenta inexistente|utente (?:sconosciuto|inesistente)|casella (?:\S+ )?inesistente|(?:utente|casella|indirizzo) (?:\S+ )?non esiste|usu[áa]rio (?:desconhecido|inexistente)|utilizador (?:desconhecido|inexistente)|destinat[áa]rio (?:desconhecido|inexistente)|conta inexistente|(?:conta|usu[áa]rio|endere[çc]o|caixa postal) (?:\S+ )?n[ãa]o existe|gebruiker onbekend|onbekende (?:gebruiker|ontvanger)|(?:mailbox|gebruiker|adres) bestaat niet|nieznany u[żz]ytkownik|u[żz]ytkownik nie istnieje|(?:adres|konto|skrzynka) nie istnieje|пользователь не найден|нет такого пользователя|(?:адрес|пользователь|ящик|получатель)(?: \S+)? не существует|неизвестный (?:пользователь|получатель)|宛先不明|ユーザー?が存在しません|存在しないユーザ|该用户不存在|用户不存在|收件人不存在|用户名不存在|地址不存在|账户不存在|帐户不存在|查无此人/,
	],
	[
		'hostunknown',
		/(?:host|domain)(?: name)? (?:is )?(?:unknown|not found)|unknown (?:host|domain)|no such (?:host|domain)|(?:host|domain) (?:name )?(?:does not|doesn't) exist|domain (?:name )?not exist|name or service not known|unrouteable (?:mail )?domain|non-?existent (?:host|domain)|host or domain name not found|(?:recipient|destination) domain (?:is )?(?:invalid|not found)|no (?:valid )?mx (?:or a )?record|dns (?:lookup )?(?:failed|error) for (?:the )?domain|nxdomain|illegal host|domain is not reachable|domain (?:is )?unreachable|(?<![@\w.-])(?:[a-z0-9-]+\.)+[a-z]{2,} does not exist|domain (?:must|may not) exist|mail domain mentioned in e-?mail address is unknown|unknown domain name|unroute?able address/,
	],
	[
		'norelaying',
		/relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))|not (?:permitted|allowed|authori[sz]ed) to relay|unable to relay|we do not relay|relay not permitted|no relaying|relaying prohibited|relay access/,
	],
	[
		'authfailure',
		/\bspf\b|sender policy framework|\bdkim\b|\bdmarc\b|domainkeys|dns-based authentication|unauthenticated (?:email|mail)|(?:is|was) not authenticated|authentication (?:checks? )?(?:failed|failure)|failed (?:the )?authentication/,
	],
	[
		'requireptr',
		/reverse (?:dns|lookup|mapping|hostname)|\bptr\b|\brdns\b|cannot find your (?:hostname|reverse)|no (?:reverse|ptr)|does not have (?:a )?reverse|(?:client|your) host(?:name)? (?:does not|doesn't|did not) resolve|ip name lookup failed|unresolvable (?:address|hostname)|hostname (?:does not|doesn't) match/,
	],
	[
		'badreputation',
		/(?:poor|bad|low) (?:ip )?reputation|reputation (?:score|problems)|reputation (?:is|of)|ip reputation|sender reputation|temporarily deferred due to (?:user )?complaints|not accepting mail from this ip|\[tss0[1-9]\]|deferred due to .{0,40}complaints/,
	],
	[
		'speeding',
		/rate (?:limit|limited|exceeded)|too many (?:messages|emails|mails)|sending rate|throttl|too fast|exceeded (?:the )?(?:message|sending|rate)|receiving mail at a rate|frequency limit|too much mail/,
	],
	['toomanyconn', /too many (?:connections|concurrent|simultaneous|sessions|hosts)|connection (?:limit|rate limit)|concurrent connections/],
	['virusdetected', /virus|malware|infected|trojan|worm detected/],
	[
		'spamdetected',
		/spam(?!haus|cop)|junk mail|\bjunk\b|unsolicited|bulk (?:e-?)?mail|message content rejected|content (?:is )?(?:considered|identified)|scored as|looks like|classified as|rejected as|uce\b|message (?:was )?(?:rejected|refused|blocked) (?:by|due to) (?:the )?content/,
	],
	[
		'blocked',
		/blacklist|blocklist|block ?list|black ?list|\brbl\b|dnsbl|spamhaus|spamcop|sorbs|barracuda|listed (?:at|on|in|by)|client host (?:\S+ )?(?:rejected|blocked)|(?:your|the|sending|client) (?:ip|host|server|network)(?: address)?(?: \S+)? (?:is |has been |was )?(?:blocked|banned|blacklisted|rejected|not allowed|denied|refused)|(?:connection|access) (?:refused|denied)|(?:ip|host) (?:address )?(?:blocked|banned)|banned|blocked (?:using|by|because)|not allowed to (?:connect|send)|connections? (?:not accepted|refused|rejected)|refused to talk|use the smtp server of your isp|no access from mail server|dial-?up|dynamic ip|residential/,
	],
	// The sending IP blocked, in German, French, Spanish, Italian and Portuguese.
	[
		'blocked',
		/(?:ip-adresse|ip adresse|adresse ip|direcci[óo]n ip|indirizzo ip|endere[çc]o ip)[^.]{0,30}(?:gesperrt|blockiert|bloqu[ée]|bloquead|bloccat)/,
	],
	[
		'policyviolation',
		/policy|prohibited|violat|restricted (?:content|attachment)|attachment (?:type )?(?:not allowed|blocked|rejected|is not permitted)/,
	],
	[
		'filtered',
		/filter(?:ed|ing)?\b|recipient (?:preference|has set)|rejected by (?:the )?recipient|refused by (?:the )?recipient|(?:user|recipient) (?:has )?(?:reject|refus|block)|delivery (?:to this address )?(?:is )?restricted|not authori[sz]ed to (?:send|receive)|sender (?:is )?not (?:in|on) (?:the )?(?:allow|white)|recipient does not accept/,
	],
	[
		'rejected',
		/sender (?:\S+ )?(?:address )?(?:rejected|refused|denied|invalid|unknown|not allowed|blocked|verify failed)|(?:rejected|refused|denied) (?:the )?sender|(?:invalid|unknown|bad|unverifiable) sender|sender (?:domain|address) (?:must|does not|doesn't|is)|(?:envelope|mail) from|domain of sender|sender verification|your (?:e-?mail )?address (?:is|has been) (?:rejected|blocked)|not a valid sender|purported responsible address/,
	],
	[
		'securityerror',
		/delivery not authori[sz]ed|starttls|\btls\b|ssl|certificate|encryption (?:is )?required|authentication (?:is )?required|must (?:issue|authenticate)|secure connection|credentials/,
	],
	[
		'notcompliantrfc',
		/rfc ?(?:5322|2822|822|5321|2821)|not (?:rfc[- ]?)?compliant|duplicate (?:header|message-id)|multiple (?:from|to|date|subject)|(?:header|message-id) (?:is )?(?:missing|invalid|malformed)|bare (?:lf|cr)/,
	],
	[
		'contenterror',
		/content (?:error|rejected|not accepted)|mime (?:error|violation)|malformed|illegal character|invalid character|message (?:header|body) (?:error|invalid)/,
	],
	[
		'syntaxerror',
		/syntax error|command (?:not )?(?:recognized|unrecognized|not implemented|unknown)|unrecognized command|bad sequence|invalid command|syntax/,
	],
	['systemfull', /insufficient system storage|system (?:is )?full|disk (?:is )?full|out of (?:disk|storage)|no space left/],
	[
		'mailererror',
		/mailer|command (?:failed|died|output)|exit (?:code|status)|pipe to|procmail|x-unix|unable to deliver to program|local delivery failed|\bsh:|program failed|unknown mailer error/,
	],
	[
		'systemerror',
		/system (?:error|failure|problem)|server (?:error|failure)|internal (?:error|server|failure)|local error|mail loop|loop(?:s)? (?:back|detected)|configuration (?:error|problem)|misconfigur|temporary (?:local )?(?:failure|problem|error)|resources? (?:temporarily )?unavailable|service (?:currently )?(?:not available|unavailable)|processing error|database/,
	],
	// qmail ends every failure with "Giving up on <IP>.": that is not a queue expiry.
	[
		'expired',
		/expired|retry (?:timeout|time)|time(?:out)? exceeded|could not be delivered (?:for|within)|has not been delivered|was not delivered within|undeliverable for|too long in (?:the )?queue|queue(?:d)? (?:too long|for)|giving up(?! on \d)|gave up|cannot send message for|delivery time|in the queue too long|has been in (?:the )?queue|did not accept our requests to connect|message will be retried|still undelivered after/,
	],
	[
		'networkerror',
		/network (?:error|is unreachable|unreachable)|timed? ?out|no route to host|connection (?:reset|lost|closed|dropped|failed|died)|lost connection|host (?:is )?unreachable|(?:could|can)(?:n't|not) connect|unable to connect|failed to connect|no answer|not responding|dns (?:error|failure|problem|timeout)|temporary dns|mx lookup|broken pipe/,
	],
];

/**
 * Generic wording ("recipient address rejected", "denied", "blocked") that only decides when the status code says
 * nothing specific: Postfix, for one, prefixes every RCPT refusal with "Recipient address rejected:".
 */
const WEAK_RULES: Array<[reason: string, pattern: RegExp | ((text: string) => boolean)]> = [
	['userunknown', (t) => /(?:recipient|destination mailbox) address rejected|recipient rejected|rcpt_to/.test(t) || recipientThenInvalid(t)],
	['rejected', /sender|from address|return(?:-| )path|mail from/],
	['blocked', /\bblocked\b|\bip\b/],
	['policyviolation', /not permitted|not allowed/],
	['systemerror', /try (?:again )?later|transaction failed|temporar/],
	['networkerror', /network|connection|socket/],
	['expired', /deferred|delayed/],
	['rejected', /\brejected\b|\brefused\b|denied/],
];

/**
 * "recipient" then, later on the same line, "invalid" or "unknown" (`/\brecipient\b.*\b(?:invalid|unknown)/`), read
 * in one pass over the words instead of one scan to the end of the line per "recipient".
 */
function recipientThenInvalid(t: string): boolean {
	const re = /\brecipient\b|\b(?:invalid|unknown)|[\n\r\u2028\u2029]/g;
	let seen = false;
	let m: RegExpExecArray | null;
	while ((m = re.exec(t)) !== null) {
		if (m[0].length === 1) seen = false;
		else if (m[0] === 'recipient') seen = true;
		else if (seen) return true;
	}
	return false;
}

export function weakReasonFromText(text: string): string {
	if (!text) return '';
	const t = text.toLowerCase();
	for (const [reason, rule] of WEAK_RULES) if (typeof rule === 'function' ? rule(t) : rule.test(t)) return reason;
	return '';
}

/** qmail-remote's sentences (qmail and its derivatives) for each refused step, as the command they name. */
const QMAIL_REMOTE_STEPS: Array<[phrase: string, command: string]> = [
	['does not like recipient', 'rcpt'],
	['but sender was rejected', 'mail'],
	['failed on data command', 'data'],
	['failed after i sent the message', 'data'],
	['but my name was rejected', 'helo'],
	['but greeting failed', 'connect'],
];

function qmailRemoteCommand(t: string): [string, string] | null {
	for (const [phrase, command] of QMAIL_REMOTE_STEPS) if (t.includes(phrase)) return [phrase, command];
	return null;
}

/** The SMTP command a diagnostic says the refusal answered, or ''. */
export function commandOf(text: string): string {
	const t = text.toLowerCase();
	const m =
		/(?:in reply to|after|response to|during|most progress was)\s+(?:the\s+)?(?:end of\s+)?(rcpt to|rcpt|mail from|mail|data|ehlo|helo|end of data|connect)\b/.exec(
			t,
		) ??
		/\[(rcpt_to|mail_from|data)\]/.exec(t) ??
		/did not like our (rcpt to|mail from|data|ehlo|helo)/.exec(t) ??
		/smtp command\W{0,20}(rcpt to|rcpt|mail from|mail|data|ehlo|helo)\b/.exec(t) ??
		// Sendmail transcripts: the command (>>>) answered by the refusal (<<< 5xx).
		/>>> ?(rcpt to|mail from|data|ehlo|helo)\b(?:(?!>>>)[\s\S]){0,400}?<<< ?[45]\d\d/.exec(t) ??
		qmailRemoteCommand(t);
	if (!m) return '';
	const c = m[1].replace('_', ' ');
	if (c.startsWith('rcpt')) return 'RCPT';
	if (c.startsWith('mail')) return 'MAIL';
	if (c.includes('data')) return 'DATA';
	if (c === 'ehlo' || c === 'helo') return 'HELO';
	return 'CONN';
}

/**
 * The last SMTP command word written in capitals in a transcript-like text ("SMTP:RCPT host ...", ">>> DATA"), or
 * ''. Only capitals count: in prose "data" or "mail" are ordinary words.
 */
export function commandWordOf(text: string): string {
	const re = /\b(HELO|EHLO|STARTTLS|AUTH (?:PLAIN|LOGIN|CRAM-|DIGEST-)|MAIL F|RCPT|DATA|QUIT)/g;
	let last = '';
	let m: RegExpExecArray | null;
	let n = 0;
	while ((m = re.exec(text)) !== null && n++ < 50) last = m[1];
	if (!last) return '';
	if (last === 'MAIL F') return 'MAIL';
	if (last === 'EHLO' || last === 'HELO') return 'HELO';
	if (last.startsWith('AUTH') || last === 'STARTTLS' || last === 'QUIT') return last.split(' ')[0];
	return last;
}

/** Reason from the diagnostic text, or '' when no rule matches. */
export function reasonFromText(text: string): string {
	if (!text) return '';
	const t = text.toLowerCase();
	if (SPECIFIC_ANY.test(t)) for (const [reason, re] of SPECIFIC_RULES) if (re.test(t)) return reason;
	for (const [reason, re] of TEXT_RULES) if (re.test(t)) return reason;
	return reasonFromClauses(t);
}

/** Characters of a diagnostic read clause by clause (the statement sits in the server's first sentences). */
export const CLAUSE_SCAN_MAX = 2000;
/** Words of one clause looked at: a subject and its predicate are close together. */
export const CLAUSE_MAX_WORDS = 12;

/**
 * Word stems (lower case, matched at the start of a word) of the statements a refusal makes, in English, German,
 * French, Spanish, Italian, Portuguese, Dutch, Polish and Russian. A clause says one thing when it holds a subject
 * and a predicate of the same statement, whatever the word order and wording of its language.
 */
const CLAUSE_WORDS = {
	/** The recipient's address, mailbox or account. */
	user: [
		'user',
		'recipient',
		'addressee',
		'mailbox',
		'account',
		'address',
		'benutzer',
		'empfänger',
		'nutzer',
		'adresse',
		'e-mail-adresse',
		'empfängeradresse',
		'postfach',
		'konto',
		'utilisateur',
		'destinataire',
		'compte',
		'usuario',
		'destinatario',
		'cuenta',
		'dirección',
		'buzón',
		'utente',
		'indirizzo',
		'casella',
		'usuário',
		'utilizador',
		'destinatário',
		'conta',
		'endereço',
		'gebruiker',
		'ontvanger',
		'adres',
		'użytkownik',
		'adresat',
		'odbiorca',
		'skrzynk',
		'пользовател',
		'получател',
		'адрес',
		'ящик',
		'аккаунт',
	],
	/** A mailbox that can be full. */
	box: [
		'mailbox',
		'inbox',
		'postfach',
		'postvak',
		'boîte',
		'boite',
		'buzón',
		'buzon',
		'casella',
		'caixa',
		'skrzynk',
		'ящик',
		'account',
		'konto',
		'compte',
		'cuenta',
		'conta',
	],
	/** The recipient's domain. */
	domain: ['domain', 'domaine', 'dominio', 'domínio', 'domein', 'domen', 'домен', 'zieldomain'],
	/** The sender, its envelope or its client: a clause about them is not about the recipient. */
	sender: [
		'sender',
		'from',
		'helo',
		'ehlo',
		'return-path',
		'reply-to',
		'client',
		'absender',
		'expéditeur',
		'emetteur',
		'émetteur',
		'remitente',
		'mittente',
		'remetente',
		'afzender',
		'nadawc',
		'отправител',
	],
	/** A mailbox's storage. */
	quota: ['quota', 'cuota', 'cota', 'quotum', 'kwot', 'квот', 'speicher', 'storage', 'espace', 'espacio', 'spazio', 'espaço', 'ruimte'],
	/** The message and its size. */
	message: [
		'message',
		'nachricht',
		'mensaje',
		'messaggio',
		'mensagem',
		'bericht',
		'wiadomoś',
		'сообщени',
		'письм',
		'size',
		'größe',
		'taille',
		'tamaño',
		'dimension',
		'tamanho',
		'grootte',
		'rozmiar',
		'размер',
	],
	/** Unknown, nonexistent or invalid. */
	unknown: [
		'unknown',
		'unbekannt',
		'inconnu',
		'desconocid',
		'desconhecid',
		'sconosciut',
		'onbekend',
		'nieznan',
		'неизвестн',
		'inexist',
		'inesist',
		'nonexist',
		'non-exist',
		'introuvable',
		'invalid',
		'ungültig',
		'inválid',
		'ongeldig',
		'nieprawidłow',
		'недействительн',
		'несуществующ',
	],
	/** A negation, and the verbs it denies ("does not exist", "nicht gefunden", "n'existe pas", "не существует"). */
	negation: ['not', "doesn't", "isn't", "wasn't", 'nicht', 'pas', 'no', 'non', 'não', 'nao', 'niet', 'nie', 'не'],
	exists: [
		'exist',
		'found',
		'known',
		'existiert',
		'esiste',
		'istnieje',
		'существ',
		'найден',
		'gefunden',
		'trouv',
		'encontrad',
		'trovat',
		'gevonden',
		'bestaat',
		'znalez',
	],
	/** "There is no such ...": a negation of existence on its own. */
	none: ['kein', 'keine', 'нет'],
	/** Full, or over its limit. */
	full: ['full', 'voll', 'plein', 'pleine', 'lleno', 'llena', 'pieno', 'piena', 'cheio', 'cheia', 'vol', 'pełn', 'переполнен', 'полон'],
	exceeded: ['exceed', 'überschr', 'dépass', 'exced', 'superat', 'overschr', 'przekrocz', 'превыш'],
	/** Too large. */
	big: ['large', 'big', 'groß', 'gross', 'volumineux', 'gros', 'grande', 'groot', 'duż', 'больш', 'велик'],
	/** Blocked. */
	blocked: ['blocked', 'gesperrt', 'blockiert', 'bloqué', 'bloquead', 'bloccat', 'zablokowan', 'geblokkeerd', 'заблокирован'],
} as const;

type ClauseWord = keyof typeof CLAUSE_WORDS;

/** Which kinds of statement word a word is (a bit per kind). */
function clauseWordKinds(word: string): number {
	let kinds = 0;
	let bit = 1;
	for (const kind of Object.keys(CLAUSE_WORDS) as ClauseWord[]) {
		const stems = CLAUSE_WORDS[kind];
		// Short words (no, not, nie, vol, ...) must match whole; longer stems match the start of a word.
		for (const stem of stems)
			if (stem.length <= 4 ? word === stem : word.startsWith(stem)) {
				kinds |= bit;
				break;
			}
		bit <<= 1;
	}
	return kinds;
}

/** A word without the non-letters around it (quotes, digits, dashes), in one pass from each end. */
function trimToLetters(word: string): string {
	const isLetter = (ch: string) => ch.toLowerCase() !== ch.toUpperCase() || ch.charCodeAt(0) > 0x2e7f;
	let a = 0;
	let b = word.length;
	while (a < b && !isLetter(word[a])) a++;
	while (b > a && !isLetter(word[b - 1])) b--;
	return word.slice(a, b);
}

const KIND_BIT = Object.fromEntries((Object.keys(CLAUSE_WORDS) as ClauseWord[]).map((k, i) => [k, 1 << i])) as Record<ClauseWord, number>;

/**
 * The reason a clause states by its subject and predicate (see CLAUSE_WORDS): the recipient's domain unknown
 * (hostunknown), a mailbox or quota full or exceeded (mailboxfull), the message too large (mesgtoobig), the
 * recipient unknown or not existing (userunknown), blocked; or ''. A fallback for wordings the phrase rules do not
 * know; reads each clause once (linear in the text).
 */
export function reasonFromClauses(lowerText: string): string {
	const text = lowerText.length > CLAUSE_SCAN_MAX ? lowerText.slice(0, CLAUSE_SCAN_MAX) : lowerText;
	// A colon stays inside the clause: "From: domain is invalid" is about the sender.
	for (const clause of text.split(/[.;!?()[\]<>\n"]+/)) {
		let seen = 0;
		let words = 0;
		for (const word of clause.split(/[\s,]+/)) {
			if (!word) continue;
			if (++words > CLAUSE_MAX_WORDS) break;
			const w = trimToLetters(word);
			seen |= clauseWordKinds(w);
			// French and Italian elision (l'utente, n'existe, d'utilisateur): the word after it, and n' as a negation.
			const apostrophe = w.search(/['’]/);
			if (apostrophe > 0 && apostrophe <= 3) {
				seen |= clauseWordKinds(w.slice(apostrophe + 1));
				if (w.slice(0, apostrophe) === 'n') seen |= KIND_BIT.negation;
			}
		}
		const has = (k: ClauseWord) => (seen & KIND_BIT[k]) !== 0;
		const denied = has('unknown') || has('none') || (has('negation') && has('exists'));
		if (has('sender')) continue;
		if (has('domain') && denied) return 'hostunknown';
		if ((has('quota') && (has('exceeded') || has('full'))) || (has('box') && has('full'))) return 'mailboxfull';
		if (has('message') && (has('big') || has('exceeded'))) return 'mesgtoobig';
		if (has('user') && denied) return 'userunknown';
		if (has('blocked')) return 'blocked';
	}
	return '';
}

/**
 * RFC 3463 subject (the middle number) → detail (the last number) → reason. Details not listed say nothing specific.
 * Subject 6 (media) has one reason for every detail, in STATUS_SUBJECT_REASONS.
 */
const STATUS_DETAIL_REASONS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
	// Addressing.
	'1': {
		1: 'userunknown',
		2: 'hostunknown',
		3: 'userunknown',
		4: 'userunknown',
		5: 'userunknown',
		6: 'hasmoved',
		7: 'rejected',
		8: 'rejected',
		9: 'systemerror',
		10: 'userunknown',
	},
	// Mailbox.
	'2': { 0: 'filtered', 1: 'suspend', 2: 'mailboxfull', 3: 'exceedlimit', 4: 'systemerror' },
	// Mail system.
	'3': { 0: 'systemerror', 1: 'systemfull', 2: 'toomanyconn', 3: 'systemerror', 4: 'mesgtoobig', 5: 'systemerror' },
	// Network and routing.
	'4': {
		0: 'networkerror',
		1: 'networkerror',
		2: 'networkerror',
		3: 'systemerror',
		4: 'networkerror',
		5: 'toomanyconn',
		6: 'networkerror',
		7: 'expired',
	},
	// Mail delivery protocol.
	'5': { 1: 'syntaxerror', 2: 'syntaxerror', 3: 'exceedlimit', 4: 'syntaxerror', 5: 'syntaxerror' },
	// Security or policy.
	'7': {
		2: 'policyviolation',
		4: 'securityerror',
		5: 'securityerror',
		6: 'securityerror',
		7: 'securityerror',
		8: 'securityerror',
		9: 'policyviolation',
		10: 'securityerror',
		11: 'securityerror',
		13: 'suspend',
		14: 'securityerror',
		15: 'securityerror',
		16: 'mesgtoobig',
		17: 'hasmoved',
		18: 'hasmoved',
		19: 'hasmoved',
		20: 'authfailure',
		21: 'authfailure',
		22: 'authfailure',
		23: 'authfailure',
		24: 'authfailure',
		25: 'requireptr',
		26: 'authfailure',
		27: 'notaccept',
		28: 'spamdetected',
		29: 'authfailure',
		30: 'securityerror',
	},
};
/** Subjects whose every detail means one reason. */
const STATUS_SUBJECT_REASONS: Readonly<Record<string, string>> = { '6': 'contenterror' };

/** Reason from an RFC 3463 enhanced status code, or '' for codes that say nothing specific (x.0.0, x.7.1, ...). */
export function reasonFromStatus(status: string): string {
	const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(status);
	if (!m) return '';
	const sub = m[2];
	const det = Number(m[3]);
	if (m[1] === '2') return 'delivered';
	// Sisimai's pseudo codes: a 9xx detail under subject 0 names the reason itself.
	if (det >= 900 && sub === '0') return PSEUDO_TO_REASON[det] ?? '';
	// Keys are digits only, so no lookup reaches an inherited property.
	return STATUS_SUBJECT_REASONS[sub] ?? STATUS_DETAIL_REASONS[sub]?.[det] ?? '';
}

const PSEUDO: Record<string, number> = {
	undefined: 900,
	onhold: 901,
	syntaxerror: 902,
	norelaying: 909,
	filtered: 910,
	userunknown: 911,
	hostunknown: 912,
	hasmoved: 916,
	rejected: 918,
	suspend: 921,
	mailboxfull: 922,
	exceedlimit: 923,
	systemerror: 930,
	systemfull: 931,
	notaccept: 932,
	mesgtoobig: 934,
	mailererror: 939,
	networkerror: 944,
	toomanyconn: 945,
	expired: 947,
	contenterror: 960,
	securityerror: 970,
	blocked: 971,
	policyviolation: 972,
	requireptr: 973,
	authfailure: 974,
	notcompliantrfc: 975,
	badreputation: 976,
	speeding: 977,
	spamdetected: 980,
	virusdetected: 981,
};
const PSEUDO_TO_REASON: Record<number, string> = Object.fromEntries(Object.entries(PSEUDO).map(([r, n]) => [n, r]));

/**
 * A status code for a row whose report carried none: the classes of RFC 3463 with Sisimai's convention of a
 * 9xx detail that names the reason (e.g. 5.0.911 for an unknown user), so rows stay comparable.
 */
export function statusForReason(reason: string, temporary: boolean): string {
	return `${temporary ? 4 : 5}.0.${PSEUDO[reason] ?? 900}`;
}

/** The first RFC 3463 enhanced status code in a text (not part of an IP address or a version number). */
export function findStatus(text: string): string {
	const m = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/.exec(text);
	return m ? `${m[1]}.${m[2]}.${m[3]}` : '';
}

/** All RFC 3463 codes in a text, in order. */
export function findStatuses(text: string): string[] {
	const out: string[] = [];
	const re = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/g;
	let m: RegExpExecArray | null;
	while ((m = re.exec(text)) !== null && out.length < 20) out.push(`${m[1]}.${m[2]}.${m[3]}`);
	return out;
}

/** The first SMTP reply code in a diagnostic (`550 ...`, `550-...`, `said: 550`). */
export function findReplyCode(text: string): string {
	const m = /(?:^|[\s:;([])([245][0-5]\d)(?:[\s,;.-]|$)/.exec(text);
	return m ? m[1] : '';
}
