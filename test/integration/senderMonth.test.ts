/**
 * The simulated month (test/helpers/cadenceSim.ts, describeSimulatedMonth) on the Postgres store with the send
 * ledger: 30 days of both cadences with hourly re-runs and daily imports, the templates' SQL on a real PostgreSQL,
 * the real nodes in n8n-core's ExecuteContext, mail to a real SMTP server on loopback. Mandatory under CI when
 * PostgreSQL is installed; elsewhere skipped with the reason printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describeSimulatedMonth, postgresStore } from '../helpers/cadenceSim';
import { postgresBinDir, startPostgres } from '../helpers/postgres';

const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && process.env.CI) throw new Error(`the simulated month is mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[sender month] SKIPPED: ${skipReason}`);

describeSimulatedMonth(
	'a simulated month of both cadences on the Postgres store, with the send ledger',
	{
		name: 'postgres',
		async start() {
			const server = await startPostgres({ database: 'month' });
			server.psql(readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', 'schema.sql'), 'utf8'));
			const db = new pg.Pool({ connectionString: server.url, max: 2 });
			return {
				store: postgresStore(db),
				ledger: { host: server.host, port: server.port, database: server.database, user: server.user, password: server.password, ssl: 'disable' },
				async stop() {
					await db.end();
					await server.stop();
				},
			};
		},
	},
	undefined,
	Boolean(skipReason),
);
