// First-run set-up of an n8n instance for the cadence templates, through n8n's own REST API: the owner account
// (so nobody has to click through the setup wizard), the data tables the templates use, and sample contacts.
// Used by `npm start` and by the end-to-end tests. Idempotent: what exists is left as it is.

/** Columns of the embedded default store. `id`, `createdAt` and `updatedAt` are system columns of every table. */
export const DATA_TABLES = {
	contacts: [
		['email', 'string'],
		['tags', 'string'],
		['language', 'string'],
		['segment', 'string'],
		['company', 'string'],
		['lastSentAt', 'date'],
	],
	events: [
		['eventId', 'string'],
		['type', 'string'],
		['at', 'date'],
		['email', 'string'],
		['campaign', 'string'],
		['batchTag', 'string'],
		['variant', 'string'],
		['messageId', 'string'],
		['token', 'string'],
		['class', 'string'],
		['url', 'string'],
		['reason', 'string'],
		['bounceHard', 'boolean'],
		['bounceStatus', 'string'],
		['channel', 'string'],
		['unique', 'boolean'],
		// The sender mailbox of a `sent` event (its From address); the mailbox or sending domain a `paused` or `resumed` event names.
		['mailbox', 'string'],
		// `mailbox` or `domain`: what a `paused` or `resumed` event stops or lifts.
		['scope', 'string'],
		// An inbox event's subject; an inbound lead's UTM fields and visitor id (from its substitute or visitor address).
		['subject', 'string'],
		['utmSource', 'string'],
		['utmMedium', 'string'],
		['utmCampaign', 'string'],
		['utmTerm', 'string'],
		['utmContent', 'string'],
		['visitorId', 'string'],
		// A `converted` event's value (recorded only when signed), currency and order id.
		['value', 'number'],
		['currency', 'string'],
		['orderId', 'string'],
		// A human open's or click's reader (network, software family) and whether it was a forward.
		['readerNetwork', 'string'],
		['readerAgent', 'string'],
		['forwarded', 'boolean'],
	],
	follow_up_tasks: [
		['email', 'string'],
		['kind', 'string'],
		['campaign', 'string'],
		['detail', 'string'],
		['status', 'string'],
		['owner', 'string'],
		['reason', 'string'],
	],
	// Erased addresses, as their pseudonym only (template 10): an import skips an address whose pseudonym is here.
	suppressed: [
		['pseudonym', 'string'],
		['at', 'date'],
	],
};

export const DEFAULT_OWNER = {
	email: 'owner@mail-cadence.local',
	firstName: 'Cadence',
	lastName: 'Owner',
	password: 'Cadence-demo-2026',
};

/** A tiny cookie-keeping client for n8n's REST API. */
export function restClient(baseUrl) {
	let cookie = '';
	async function call(method, path, body) {
		const res = await fetch(`${baseUrl}/rest${path}`, {
			method,
			headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}), 'browser-id': 'mail-cadence-setup' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const setCookie = res.headers.get('set-cookie');
		if (setCookie) cookie = setCookie.split(';')[0];
		const text = await res.text();
		let json;
		try {
			json = text ? JSON.parse(text) : {};
		} catch {
			json = { raw: text };
		}
		if (!res.ok) {
			const error = new Error(`${method} /rest${path} answered ${res.status}: ${text.slice(0, 300)}`);
			error.status = res.status;
			throw error;
		}
		return json.data ?? json;
	}
	return { call, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b), patch: (p, b) => call('PATCH', p, b) };
}

/** Creates the owner account unless one exists, then logs in. Returns the logged-in client. */
export async function ensureOwner(baseUrl, owner = DEFAULT_OWNER) {
	const api = restClient(baseUrl);
	const settings = await api.get('/settings');
	if (settings?.userManagement?.showSetupOnFirstLoad !== false) {
		await api.post('/owner/setup', owner);
	}
	await api.post('/login', { emailOrLdapLoginId: owner.email, password: owner.password });
	return api;
}

export async function personalProjectId(api) {
	const project = await api.get('/projects/personal');
	return project.id;
}

/**
 * Creates the templates' data tables that are missing, and adds the columns a table of an earlier version lacks
 * (rows and other columns are left as they are); returns { name: id }.
 */
export async function ensureDataTables(api, tables = DATA_TABLES) {
	const projectId = await personalProjectId(api);
	const listed = await api.get(`/projects/${projectId}/data-tables?take=100&skip=0`);
	const existing = new Map((listed.data ?? listed ?? []).map((t) => [t.name, t.id]));
	const ids = {};
	for (const [name, columns] of Object.entries(tables)) {
		if (existing.has(name)) {
			const id = existing.get(name);
			ids[name] = id;
			const present = await api.get(`/projects/${projectId}/data-tables/${id}/columns`);
			const names = new Set((present.data ?? present ?? []).map((c) => c.name));
			for (const [column, type] of columns) {
				if (!names.has(column)) await api.post(`/projects/${projectId}/data-tables/${id}/columns`, { name: column, type });
			}
			continue;
		}
		const created = await api.post(`/projects/${projectId}/data-tables`, {
			name,
			columns: columns.map(([column, type]) => ({ name: column, type })),
		});
		ids[name] = created.id;
	}
	return { projectId, ids };
}

export async function insertRows(api, projectId, tableId, rows) {
	if (rows.length === 0) return 0;
	return await api.post(`/projects/${projectId}/data-tables/${tableId}/insert`, { data: rows, returnType: 'count' });
}

export async function countRows(api, projectId, tableId) {
	const page = await api.get(`/projects/${projectId}/data-tables/${tableId}/rows?take=1&skip=0`);
	return page.count ?? 0;
}

export async function readRows(api, projectId, tableId, take = 1000) {
	const page = await api.get(`/projects/${projectId}/data-tables/${tableId}/rows?take=${take}&skip=0`);
	return page.data ?? [];
}

/**
 * Sample contacts for a first look: two segments, tags of today's batch and others, one reader, one risk contact
 * and one no-send address, on reserved example domains that never receive mail.
 */
export function sampleContacts(today = new Date()) {
	const day = Math.min(today.getUTCDate(), 30);
	const nn = (n) => String(n).padStart(2, '0');
	const rows = [];
	const people = ['anna', 'boris', 'carla', 'deniz', 'emma', 'felix', 'gita', 'hugo', 'ines', 'jon'];
	people.forEach((name, i) => {
		const batch = ((day - 1 + i) % 30) + 1;
		rows.push({
			email: `${name}@dealer${i % 4}.example`,
			tags: `English-Equipment Dealers-Marketing${nn(batch)}`,
			language: 'English',
			segment: 'Equipment Dealers',
			company: `Dealer ${i % 4}`,
		});
	});
	rows.push({
		email: 'olga@distrib.example',
		tags: `Russian-Distributors-Marketing${nn(day)}, Russian-Distributors-Read${nn(((day - 1) % 10) + 1)}`,
		language: 'Russian',
		segment: 'Distributors',
		company: 'Distrib',
	});
	rows.push({
		email: 'hr@dealer1.example',
		tags: `English-Equipment Dealers-Marketing${nn(day)}`,
		language: 'English',
		segment: 'Equipment Dealers',
		company: 'Dealer 1',
	});
	rows.push({
		email: 'pavel@rival.example',
		tags: `English-Equipment Dealers-Marketing${nn(day)}, Risk-Competitor`,
		language: 'English',
		segment: 'Equipment Dealers',
		company: 'Rival',
	});
	return rows;
}
