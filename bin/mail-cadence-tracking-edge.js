#!/usr/bin/env node
'use strict';
// mail-cadence-tracking-edge: answers Cadence tracking hits (pixel, redirects, unsubscribe pages) in front of n8n
// and passes to n8n only the hits that start an execution. Configuration comes from environment variables.

const USAGE = `Usage: mail-cadence-tracking-edge [--help]

Serves the Cadence Tracking Trigger's URL in front of n8n: answers every hit it can itself (pixel, redirect,
error and unsubscribe pages, with the same code as the trigger) and forwards to n8n only the requests that start
an execution, relaying n8n's answer. Set N8N_PROXY_HOPS=1 on n8n so events carry the client's IP.

Every client connection is bounded: closed when silent with no request in flight (from accept), request heads
and bodies must arrive in time, and at most CADENCE_MAX_CONNECTIONS are open (at the limit the connection idle
the longest is closed). Each connection is a file descriptor: keep ulimit -n above that limit.

Environment:`;

function help() {
	const { TRACKING_EDGE_ENV_HELP } = require('../dist/edge/index.js');
	const width = Math.max(...TRACKING_EDGE_ENV_HELP.map(([name]) => name.length));
	const lines = TRACKING_EDGE_ENV_HELP.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`);
	return `${USAGE}\n${lines.join('\n')}\n`;
}

function main() {
	const args = process.argv.slice(2);
	if (args.includes('--help') || args.includes('-h')) {
		process.stdout.write(help());
		return;
	}
	if (args.length > 0) {
		process.stderr.write(`unknown argument: ${args[0]}\n\n${help()}`);
		process.exit(2);
	}
	const { createTrackingEdge, trackingEdgeConfigFromEnv } = require('../dist/edge/index.js');
	let config;
	try {
		config = trackingEdgeConfigFromEnv(process.env);
	} catch (error) {
		process.stderr.write(`${error.message}\n\nRun with --help for the variables.\n`);
		process.exit(2);
	}
	const levels = { info: 0, warn: 1, error: 2, silent: 3 };
	const threshold = levels[config.logLevel];
	const log = (level, message, fields) => {
		if (levels[level] < threshold) return;
		process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
	};
	const edge = createTrackingEdge({ ...config.options, log });
	const logStats = () => log('info', 'tracking edge counters', edge.stats());
	const timer = config.statsSeconds > 0 ? setInterval(logStats, config.statsSeconds * 1000) : undefined;
	timer?.unref();
	edge.listen(config.port, config.host).then(
		(address) => {
			log('info', 'tracking edge listening', {
				url: `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}${edge.path}`,
				upstream: edge.upstream.href,
				machineHits: config.options.machineHits,
				maxConnections: edge.maxConnections,
			});
		},
		(error) => {
			log('error', `cannot listen on ${config.host}:${config.port}: ${error.message}`);
			process.exit(1);
		},
	);
	let stopping = false;
	const stop = (signal) => {
		if (stopping) return;
		stopping = true;
		if (timer) clearInterval(timer);
		logStats();
		log('info', `stopping on ${signal}`);
		edge.close().then(() => process.exit(0));
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
}

main();
