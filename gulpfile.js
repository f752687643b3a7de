// The asset step of the build, after `n8n-node build` (which compiles TypeScript and copies icons):
// 1. checks every node icon is a safe, square SVG (no scripts, no external references), so a bad icon fails the
//    build instead of showing a broken image in the editor;
// 2. checks and copies the template workflows into dist/workflows with an index, so `npm start` and the tests import
//    exactly what ships: production node types only (never `CUSTOM.`), no embedded secrets or credential ids, and
//    SQL that takes values only as query parameters (an expression inside a query is an injection waiting to happen).
//    The Postgres variants (workflows/postgres/, with schema.sql) go through the same checks, and more: their store
//    nodes use the "Cadence store" credential and no Data table (except the template that moves a base across),
//    their Cadence nodes are the Data-table twin's exactly (Send adds only the send ledger), and schema.sql can run
//    twice.
const { src, dest, series } = require('gulp');
const { Transform, Writable, pipeline } = require('node:stream');
const fs = require('node:fs');
const path = require('node:path');

const pkg = require('./package.json');
const PACKAGE_PREFIX = `${pkg.name}.`;
const ALLOWED_PREFIXES = [PACKAGE_PREFIX, 'n8n-nodes-base.', '@n8n/n8n-nodes-langchain.'];

function check(name, fn) {
	return new Transform({
		objectMode: true,
		transform(file, _enc, done) {
			try {
				const problems = fn(file.contents.toString('utf8'), file);
				if (problems.length) return done(new Error(`${name}: ${file.relative}: ${problems.join('; ')}`));
				done(null, file);
			} catch (error) {
				done(new Error(`${name}: ${file.relative}: ${error.message}`));
			}
		},
	});
}

function iconProblems(svg) {
	const problems = [];
	const viewBox = /viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+([\d.]+)\s*"/.exec(svg);
	if (!/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(svg)) problems.push('not an <svg> document');
	if (!viewBox) problems.push('no viewBox');
	else if (Math.abs(Number(viewBox[1]) - Number(viewBox[2])) > 0.01) problems.push('not square');
	if (/<script|on[a-z]+\s*=|javascript:/i.test(svg)) problems.push('contains script');
	if (/(href|src)\s*=\s*"(?!#|data:)/i.test(svg)) problems.push('references an external resource');
	return problems;
}

function templateProblems(text) {
	const problems = [];
	const wf = JSON.parse(text);
	if (typeof wf.name !== 'string' || !wf.name) problems.push('no name');
	if (!Array.isArray(wf.nodes) || wf.nodes.length === 0) problems.push('no nodes');
	const names = new Set();
	for (const node of wf.nodes ?? []) {
		if (names.has(node.name)) problems.push(`duplicate node name "${node.name}"`);
		names.add(node.name);
		if (node.type.startsWith('CUSTOM.')) problems.push(`node "${node.name}" uses a dev type ${node.type}`);
		else if (!ALLOWED_PREFIXES.some((p) => node.type.startsWith(p))) problems.push(`node "${node.name}" has an unknown type ${node.type}`);
		for (const cred of Object.values(node.credentials ?? {})) {
			if (cred.id) problems.push(`node "${node.name}" embeds a credential id; reference credentials by name`);
		}
	}
	for (const [from, outputs] of Object.entries(wf.connections ?? {})) {
		if (!names.has(from)) problems.push(`connection from unknown node "${from}"`);
		for (const list of Object.values(outputs))
			for (const branch of list)
				for (const c of branch ?? []) {
					if (!names.has(c.node)) problems.push(`connection to unknown node "${c.node}"`);
				}
	}
	for (const node of wf.nodes ?? []) {
		const query = node.type === 'n8n-nodes-base.postgres' ? node.parameters?.query : undefined;
		if (typeof query === 'string' && (query.includes('{{') || query.startsWith('=')))
			problems.push(`node "${node.name}" builds SQL from an expression; pass values as query parameters`);
	}
	if (/"(password|secret|apiKey|accessToken)"\s*:\s*"[^"={]/i.test(text)) problems.push('looks like it embeds a secret');
	return problems;
}

const STORE_CREDENTIAL = 'Cadence store';
const LEDGER_CREDENTIAL = 'Cadence store ledger';
// What a Postgres Send may add to its Data-table twin: the send ledger and its credential, nothing else.
const LEDGER_PARAMETERS = ['sendLedger', 'ledgerTable', 'idempotencyKey'];

// Cadence nodes only a Data-table template has: the report counts its events in parts (Postgres counts them in SQL).
const DATA_TABLES_ONLY_NODES = new Set(['Count the part']);

function cadenceNodes(wf) {
	return Object.fromEntries(
		wf.nodes
			.filter((n) => n.type.startsWith(PACKAGE_PREFIX) && !DATA_TABLES_ONLY_NODES.has(n.name))
			.map((n) => {
				const parameters = { ...n.parameters };
				const credentials = { ...(n.credentials ?? {}) };
				if (n.type === `${PACKAGE_PREFIX}cadenceSend`) {
					for (const p of LEDGER_PARAMETERS) delete parameters[p];
					delete credentials.cadencePostgresApi;
				}
				return [n.name, JSON.stringify({ type: n.type, typeVersion: n.typeVersion, parameters, credentials, disabled: Boolean(n.disabled) })];
			}),
	);
}

function postgresTemplateProblems(wf, file) {
	const problems = [];
	const movesDataTables = /^7-/.test(path.basename(file.path));
	for (const node of wf.nodes ?? []) {
		if (node.type === 'n8n-nodes-base.dataTable' && !movesDataTables) problems.push(`node "${node.name}" uses a Data table in a Postgres template`);
		if (node.type === 'n8n-nodes-base.postgres') {
			if (node.credentials?.postgres?.name !== STORE_CREDENTIAL)
				problems.push(`node "${node.name}" must use the "${STORE_CREDENTIAL}" credential (type postgres)`);
			if (node.parameters?.operation !== 'executeQuery') problems.push(`node "${node.name}" is not an Execute Query`);
			const values = node.parameters?.options?.queryReplacement;
			if (values !== undefined && !(typeof values === 'string' && values.startsWith('=')))
				problems.push(`node "${node.name}" has fixed query parameters; build them with an expression`);
		}
		// Only the Send operation sends; Sender Status and Resume Sending use no ledger.
		if (node.type === `${PACKAGE_PREFIX}cadenceSend` && (node.parameters?.operation ?? 'send') === 'send') {
			if (node.parameters?.sendLedger !== 'postgres') problems.push(`Send node "${node.name}" must turn on the send ledger (sendLedger: postgres)`);
			if (node.credentials?.cadencePostgresApi?.name !== LEDGER_CREDENTIAL)
				problems.push(`Send node "${node.name}" must use the "${LEDGER_CREDENTIAL}" credential for its ledger`);
		}
	}
	const twinPath = path.join(path.dirname(file.path), '..', path.basename(file.path));
	if (fs.existsSync(twinPath)) {
		const ours = cadenceNodes(wf);
		const theirs = cadenceNodes(JSON.parse(fs.readFileSync(twinPath, 'utf8')));
		for (const name of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
			if (!(name in ours)) problems.push(`Cadence node "${name}" of the Data-table twin is missing`);
			else if (!(name in theirs)) problems.push(`Cadence node "${name}" is not in the Data-table twin`);
			else if (ours[name] !== theirs[name]) problems.push(`Cadence node "${name}" differs from the Data-table twin`);
		}
	} else if (!movesDataTables) problems.push(`no Data-table twin workflows/${path.basename(file.path)}`);
	return problems;
}

function schemaProblems(sql) {
	const problems = [];
	const statements = sql
		.replace(/--[^\n]*/g, '')
		.split(';')
		.map((s) => s.trim())
		.filter(Boolean);
	if (!statements.length) problems.push('no statements');
	for (const s of statements) {
		if (/^CREATE\s/i.test(s) && !/^CREATE\s+(UNIQUE\s+)?(TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s/i.test(s))
			problems.push(`not idempotent (use IF NOT EXISTS): ${s.slice(0, 60)}`);
		if (/^(DROP|TRUNCATE|DELETE)\s/i.test(s)) problems.push(`destroys data: ${s.slice(0, 60)}`);
	}
	return problems;
}

// pipe() does not pass a check's error on to the last stream, so gulp would only see a stalled task: pipeline()
// fails the task with the check's message.
function run(...streams) {
	return new Promise((resolve, reject) => pipeline(...streams, (error) => (error ? reject(error) : resolve())));
}

function icons() {
	return run(
		src(['nodes/**/*.svg', 'credentials/**/*.svg', 'icons/**/*.svg'], { allowEmpty: true }),
		check('icon', iconProblems),
		new Writable({ objectMode: true, write: (_f, _e, done) => done() }),
	);
}

function templates() {
	return run(
		src(['workflows/*.json', 'workflows/postgres/*.json', 'workflows/postgres/*.sql'], { base: 'workflows', allowEmpty: true }),
		check('template', (text, file) => {
			if (file.extname === '.sql') return schemaProblems(text);
			const problems = templateProblems(text);
			if (path.basename(path.dirname(file.path)) === 'postgres') problems.push(...postgresTemplateProblems(JSON.parse(text), file));
			return problems;
		}),
		dest('dist/workflows'),
	);
}

function templateIndex(done) {
	const dir = path.join(__dirname, 'workflows');
	const list = (sub) =>
		fs.existsSync(path.join(dir, sub))
			? fs
					.readdirSync(path.join(dir, sub))
					.filter((f) => f.endsWith('.json'))
					.sort()
					.map((f) => path.posix.join(sub, f))
			: [];
	const index = [...list('.'), ...list('postgres')].map((file) => {
		const wf = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
		return { file, name: wf.name, store: file.startsWith('postgres/') ? 'postgres' : 'data-table', nodes: wf.nodes.length };
	});
	fs.mkdirSync(path.join(__dirname, 'dist', 'workflows'), { recursive: true });
	fs.writeFileSync(path.join(__dirname, 'dist', 'workflows', 'index.json'), JSON.stringify(index, null, '\t') + '\n');
	done();
}

exports.icons = icons;
exports.templates = series(templates, templateIndex);
exports.build = series(icons, templates, templateIndex);
exports.default = exports.build;
