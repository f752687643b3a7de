/**
 * Verifies each contact's address before it is ever mailed: syntax (RFC 5321/6531, IDN), disposable-mail domains,
 * role accounts, and the domain's DNS (MX, else A/AAAA), each domain looked up once per run; optionally an SMTP
 * RCPT probe. The result goes on the item (Result Field); undeliverable contacts go to the second output with the
 * reason, everything else (deliverable, risky, unknown) to the first. Whole-batch: lookups run concurrently.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import {
	DEFAULT_ROLE_ACCOUNT_POLICY,
	DEFAULT_VERIFICATION_FIELD,
	DEFAULT_VERIFY_CACHE_MINUTES,
	DEFAULT_VERIFY_CONCURRENCY,
	MAX_VERIFY_CACHE_MINUTES,
	MAX_VERIFY_CONCURRENCY,
	reusableResult,
	ROLE_ACCOUNT_LOCAL_PARTS,
	type RoleAccountPolicy,
	type VerificationResult,
} from '../../../core/verify';
import { splitList } from '../../../core/tags';
import { DEFAULT_DNS_TIMEOUT_MS, MAX_DNS_TIMEOUT_MS, MIN_DNS_TRY_TIMEOUT_MS, parseDnsServers } from '../../../transport/dns';
import { createAddressVerifier, DEFAULT_SMTP_PROBE_PORT, DEFAULT_SMTP_PROBE_TIMEOUT_MS, type AddressVerifier } from '../../../transport/verify';
import { DEFAULT_EMAIL_FIELD, getField } from '../../shared/contactFields';
import { errorItem, itemError } from '../../shared/perItem';
import { forOperation } from './operation';

const verifyProperties: INodeProperties[] = [
	{
		displayName: 'DNS Server',
		name: 'dnsServer',
		type: 'string',
		default: '',
		placeholder: '127.0.0.1:53',
		description: "Resolver to ask, as IP or IP:port (several: comma-separated; IPv6 as [::1]:53). Empty: the system's resolvers.",
	},
	{
		displayName: 'DNS Timeout (Ms)',
		name: 'dnsTimeout',
		type: 'number',
		typeOptions: { minValue: MIN_DNS_TRY_TIMEOUT_MS, maxValue: MAX_DNS_TIMEOUT_MS },
		default: DEFAULT_DNS_TIMEOUT_MS,
		description:
			'Longest wait for one lookup, retries included. A domain that does not answer in time is "unknown" (dns-timeout), never undeliverable.',
	},
	{
		displayName: 'Cache Lifetime (Minutes)',
		name: 'cacheLifetime',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: MAX_VERIFY_CACHE_MINUTES },
		default: DEFAULT_VERIFY_CACHE_MINUTES,
		description:
			"How long a domain's answer is reused within the run, and how long a result already on the contact (its checkedAt) stands without new checks",
	},
	{
		displayName: 'Role Accounts',
		name: 'roleAccounts',
		type: 'options',
		default: DEFAULT_ROLE_ACCOUNT_POLICY,
		options: [
			{ name: 'Flag as Risky', value: 'flag', description: 'Kept, with status risky and reason role-account' },
			{ name: 'Undeliverable', value: 'undeliverable', description: 'Sent to the Undeliverable output' },
		],
		description:
			'Addresses such as postmaster@, support@ or noreply@ that name a function, not a person (info@ and sales@ are not role accounts here)',
	},
	{
		displayName: 'Result Field',
		name: 'resultField',
		type: 'string',
		default: DEFAULT_VERIFICATION_FIELD,
		description: 'Field the result is written to: { status, reason, detail, mx, domain, role, checkedAt }',
	},
	{
		displayName: 'SMTP Probe',
		name: 'smtpProbe',
		type: 'boolean',
		default: false,
		description: "Whether to ask the domain's mail server if it takes each address (RCPT TO, never DATA). Off by default: see the notice when on.",
	},
	{
		displayName:
			"The probe connects to the recipient's mail server on port 25 from this machine. Greylisting servers answer 'try later' (unknown), catch-all servers accept every address (risky), many accept and bounce later, most cloud and home networks block port 25, and probing many addresses harms your IP's reputation and can get it blocklisted.",
		name: 'smtpProbeNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { smtpProbe: [true] } },
	},
	{
		displayName: 'HELO Name',
		name: 'probeHeloName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'mail.your-domain.com',
		description: 'Host name sent with EHLO; it should be a name of this machine whose DNS points back to it',
		displayOptions: { show: { smtpProbe: [true] } },
	},
	{
		displayName: 'Probe Sender',
		name: 'probeMailFrom',
		type: 'string',
		default: '',
		placeholder: 'bounces@your-domain.com',
		description: 'Envelope sender of the probe (MAIL FROM); empty: the null sender &lt;&gt;',
		displayOptions: { show: { smtpProbe: [true] } },
	},
	{
		displayName: 'Probe Port',
		name: 'probePort',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 65535 },
		default: DEFAULT_SMTP_PROBE_PORT,
		displayOptions: { show: { smtpProbe: [true] } },
	},
	{
		displayName: 'Options',
		name: 'verifyOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Allowed Domains',
				name: 'allowDomains',
				type: 'string',
				default: '',
				description: 'Comma-separated domains never treated as disposable even if the blocklist has them',
			},
			{
				displayName: 'Lookups at Once',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: MAX_VERIFY_CONCURRENCY },
				default: DEFAULT_VERIFY_CONCURRENCY,
				description: 'Domains looked up at the same time (each domain is looked up once per run)',
			},
			{
				displayName: 'Probe Timeout (Ms)',
				name: 'probeTimeout',
				type: 'number',
				typeOptions: { minValue: 100 },
				default: DEFAULT_SMTP_PROBE_TIMEOUT_MS,
				description: 'Longest SMTP probe conversation; a server slower than this gives unknown (smtp-error)',
			},
			{
				displayName: 'Reuse Stored Results',
				name: 'reuseStored',
				type: 'boolean',
				default: true,
				description:
					'Whether a result already on the contact (Result Field), younger than the cache lifetime and not unknown, stands without new lookups',
			},
			{
				displayName: 'Role Local Parts',
				name: 'roleLocalParts',
				type: 'string',
				default: ROLE_ACCOUNT_LOCAL_PARTS.join(', '),
				description: 'Comma-separated local parts that are role accounts; dots, hyphens, underscores and +tags are ignored (no-reply = noreply)',
			},
		],
	},
];

export const description: INodeProperties[] = forOperation('verifyAddresses', verifyProperties);

interface VerifySettings {
	emailField: string;
	resultField: string;
	lifetimeMs: number;
	reuseStored: boolean;
}

function readSettings(ctx: IExecuteFunctions): { verifier: AddressVerifier; settings: VerifySettings } {
	const opts = ctx.getNodeParameter('verifyOptions', 0, {}) as IDataObject;
	const minutes = ctx.getNodeParameter('cacheLifetime', 0, DEFAULT_VERIFY_CACHE_MINUTES) as number;
	try {
		if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes < 0 || minutes > MAX_VERIFY_CACHE_MINUTES) {
			throw new RangeError(`Cache Lifetime must be 0 to ${MAX_VERIFY_CACHE_MINUTES} minutes, got ${String(minutes)}`);
		}
		const lifetimeMs = minutes * 60_000;
		const probeOn = ctx.getNodeParameter('smtpProbe', 0, false) as boolean;
		const verifier = createAddressVerifier({
			dns: {
				servers: parseDnsServers(ctx.getNodeParameter('dnsServer', 0, '') as string),
				timeoutMs: ctx.getNodeParameter('dnsTimeout', 0, DEFAULT_DNS_TIMEOUT_MS) as number,
			},
			concurrency: (opts.concurrency as number | undefined) ?? DEFAULT_VERIFY_CONCURRENCY,
			cacheLifetimeMs: lifetimeMs,
			rolePolicy: ctx.getNodeParameter('roleAccounts', 0, DEFAULT_ROLE_ACCOUNT_POLICY) as RoleAccountPolicy,
			roleLocalParts: opts.roleLocalParts === undefined ? ROLE_ACCOUNT_LOCAL_PARTS : splitList(opts.roleLocalParts, ','),
			disposable: { allow: splitList(opts.allowDomains ?? '', ',') },
			probe: probeOn
				? {
						heloName: ctx.getNodeParameter('probeHeloName', 0, '') as string,
						mailFrom: ctx.getNodeParameter('probeMailFrom', 0, '') as string,
						port: ctx.getNodeParameter('probePort', 0, DEFAULT_SMTP_PROBE_PORT) as number,
						timeoutMs: (opts.probeTimeout as number | undefined) ?? DEFAULT_SMTP_PROBE_TIMEOUT_MS,
					}
				: false,
		});
		const emailField = (ctx.getNodeParameter('emailField', 0, DEFAULT_EMAIL_FIELD) as string).trim() || DEFAULT_EMAIL_FIELD;
		const resultField = (ctx.getNodeParameter('resultField', 0, DEFAULT_VERIFICATION_FIELD) as string).trim() || DEFAULT_VERIFICATION_FIELD;
		return { verifier, settings: { emailField, resultField, lifetimeMs, reuseStored: opts.reuseStored !== false } };
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the Verify Addresses parameters' });
	}
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[], []];
	const { verifier, settings } = readSettings(this);
	const continueOnFail = this.continueOnFail();
	const nowMs = Date.now();
	const kept: INodeExecutionData[] = [];
	const undeliverable: INodeExecutionData[] = [];
	// Every item is read before any lookup: a misconfigured Email Field fails the node at once, not after the DNS work.
	const work: Array<Promise<VerificationResult> | VerificationResult | Error> = items.map((item, i) => {
		const email = getField(item.json, settings.emailField);
		if (email === undefined || email === null) {
			const error = new Error(`The item has no "${settings.emailField}" field (set Email Field to the field holding the address)`);
			if (!continueOnFail) throw itemError(this, error, i);
			return error;
		}
		const stored = settings.reuseStored ? reusableResult(getField(item.json, settings.resultField), nowMs, settings.lifetimeMs) : null;
		return stored ?? verifier.verify(email);
	});
	const results = await Promise.all(work);
	for (let i = 0; i < items.length; i++) {
		const r = results[i];
		const pairedItem = { item: i };
		// A failed item never reaches Send: it goes with the undeliverable ones.
		if (r instanceof Error) {
			undeliverable.push(errorItem(r, pairedItem, items[i].json));
			continue;
		}
		const json: IDataObject = { ...items[i].json, [settings.resultField]: r as unknown as IDataObject };
		if (r.status === 'undeliverable') undeliverable.push({ json: { ...json, reason: r.reason, detail: r.detail }, pairedItem });
		else kept.push({ json, pairedItem });
	}
	return [kept, undeliverable];
}
