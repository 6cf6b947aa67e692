// server.js: entry point of the test server (`tests/server/run`): parses the command line, starts nginx
// on a private storage directory, loads the data directory into the in-memory model, serves the API
// (api.js) on 127.0.0.1 and prints `READY <base_url>`. SIGTERM or SIGINT closes the API, stops nginx,
// removes the temporary directory and exits 0.
//
// The GraphQL context every resolver gets:
//   store       the model loadData() built
//   user        the authenticated user record (store.authenticate)
//   baseUrl     http://127.0.0.1:<port>, no trailing slash
//   apiUrl(p)   baseUrl + p (p starts with "/" and is already percent-encoded)
//   storageUrl(relPath)  a pre-signed-looking storage URL for a file under the storage directory
//               (relPath is "/"-separated and not encoded; this encodes each segment); nginx serves it
//               without auth; it checks X-Expires only with --storage-url-ttl (storage-gate.js)
//   pageCap     server-side maximum page size (--page-cap), null when not given (paginate.js then
//               applies its default)

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {loadSchema, attachResolvers} from './schema.js';
import {createApi} from './api.js';
import {RequestLog} from './reqlog.js';
import {FaultInjector, parseFaults} from './faults.js';
import {startNginx, checkRate} from './nginx.js';
import {startStorageProxy} from './storage-proxy.js';
import {startStorageGate} from './storage-gate.js';

const USAGE = `usage: tests/server/run --data DIR [--port N] [--api-key KEY] [--latency-ms N] [--faults SPEC]
                       [--request-log FILE] [--page-cap N] [--seed N] [--storage-rate BYTES]
                       [--storage-latency-ms N] [--storage-url-ttl SECONDS]
(without --api-key, the key is read from WANDB_API_KEY; see tests/server/README.md)`;

const URL_TTL_S = 3600;

function fail(message) {
	process.stderr.write(`test server: ${message}\n${USAGE}\n`);
	process.exit(2);
}

function intOption(values, name, min, fallback) {
	const text = values[name];
	if (text === undefined)
		return fallback;
	const v = Number(text);
	if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < min)
		fail(`--${name} must be an integer >= ${min}, not "${text}"`);
	return v;
}

function parseCommandLine(argv) {
	let values;
	try {
		({values} = parseArgs({args: argv, strict: true, allowPositionals: false, options: {
			'data': {type: 'string'},
			'port': {type: 'string'},
			'api-key': {type: 'string'},
			'latency-ms': {type: 'string'},
			'faults': {type: 'string'},
			'request-log': {type: 'string'},
			'page-cap': {type: 'string'},
			'seed': {type: 'string'},
			'storage-rate': {type: 'string'},
			'storage-latency-ms': {type: 'string'},
			'storage-url-ttl': {type: 'string'},
			'help': {type: 'boolean'},
		}}));
	} catch (e) {
		fail(e.message);
	}
	if (values.help) {
		process.stdout.write(USAGE + '\n');
		process.exit(0);
	}
	if (!values.data)
		fail('--data DIR is required');
	if (!fs.statSync(values.data, {throwIfNoEntry: false})?.isDirectory())
		fail(`--data ${values.data}: not a directory`);
	const apiKey = values['api-key'] ?? process.env.WANDB_API_KEY;
	if (!apiKey)
		fail('--api-key KEY (or WANDB_API_KEY) is required');
	let faultRules = [];
	let storageRate = null;
	try {
		faultRules = values.faults ? parseFaults(values.faults) : [];
		storageRate = values['storage-rate'] ? checkRate(values['storage-rate']) : null;
	} catch (e) {
		fail(e.message);
	}
	return {
		dataDir: path.resolve(values.data),
		port: intOption(values, 'port', 0, 0),
		apiKey,
		latencyMs: intOption(values, 'latency-ms', 0, 0),
		faultRules,
		requestLog: values['request-log'] ? path.resolve(values['request-log']) : null,
		pageCap: intOption(values, 'page-cap', 1, null),
		seed: intOption(values, 'seed', 0, 1),
		storageRate,
		storageLatencyMs: intOption(values, 'storage-latency-ms', 0, 0),
		storageUrlTtl: intOption(values, 'storage-url-ttl', 1, null),
	};
}

function makeStorageUrl(port, ttl) {
	const secret = crypto.randomBytes(16);
	return relPath => {
		const encoded = relPath.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
		const expires = Math.floor(Date.now() / 1000) + ttl;
		const sig = crypto.createHmac('sha256', secret).update(`${encoded}\n${expires}`).digest('hex');
		return `http://127.0.0.1:${port}/${encoded}?X-Expires=${expires}&X-Signature=${sig}`;
	};
}

function listen(server, port) {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve(server.address().port));
	});
}

// The data loader and resolver maps live in their own modules (load.js, resolvers-*.js).
async function loadModel() {
	const [{loadData}, {resolvers: core}, {resolvers: arts}] = await Promise.all([
		import('./load.js'), import('./resolvers-core.js'), import('./resolvers-artifacts.js')]);
	return {loadData, maps: [core, arts]};
}

async function main() {
	const opts = parseCommandLine(process.argv.slice(2));
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wbsrv-'));
	const storageDir = path.join(tmp, 'storage');
	const nginxDir = path.join(tmp, 'nginx');
	fs.mkdirSync(storageDir);
	fs.mkdirSync(nginxDir);
	const log = new RequestLog(opts.requestLog);
	let nginx = null;
	let proxy = null;
	let gate = null;
	let server = null;
	let stopping = false;

	// Last resort on any exit path: no nginx and no temp dir left behind.
	process.on('exit', () => {
		if (nginx)
			nginx.killNow();
		fs.rmSync(tmp, {recursive: true, force: true});
	});

	async function shutdown(code) {
		if (stopping)
			return;
		stopping = true;
		if (server) {
			server.close();
			server.closeAllConnections();
		}
		if (proxy)
			proxy.close();
		if (gate)
			gate.close();
		if (nginx)
			await nginx.stop();
		log.close();
		process.exit(code);
	}
	process.on('SIGTERM', () => shutdown(0));
	process.on('SIGINT', () => shutdown(0));

	try {
		const storageLog = opts.requestLog ? `${opts.requestLog}.storage.jsonl` : null;
		if (opts.storageLatencyMs > 0 || opts.storageUrlTtl !== null)
			gate = await startStorageGate({latencyMs: opts.storageLatencyMs,
				enforceExpiry: opts.storageUrlTtl !== null});
		const nginxStarted = startNginx({workDir: nginxDir, storageDir, accessLog: storageLog,
			rate: opts.storageRate, gatePort: gate && gate.port}).then(n => { nginx = n; return n; });
		const faults = opts.faultRules.length ? new FaultInjector(opts.faultRules, opts.seed) : null;
		const schema = loadSchema();
		const {loadData, maps} = await loadModel();
		attachResolvers(schema, ...maps);
		const store = await loadData({dataDir: opts.dataDir, storageDir, apiKey: opts.apiKey, seed: opts.seed});
		await nginxStarted;
		if (stopping)
			return;
		nginx.exit.then(({code, signal}) => {
			if (!stopping) {
				process.stderr.write(`test server: nginx exited (${signal || code}): ${nginx.errorText()}\n`);
				shutdown(1);
			}
		});
		let storagePort = nginx.port;
		if (faults && faults.coversStorage()) {
			proxy = await startStorageProxy({nginxPort: nginx.port, faults, storageLog});
			storagePort = proxy.port;
		}
		const api = createApi({store, schema, log, faults, latencyMs: opts.latencyMs, pageCap: opts.pageCap,
			storageUrl: makeStorageUrl(storagePort, opts.storageUrlTtl ?? URL_TTL_S)});
		server = http.createServer({keepAliveTimeout: 30000}, api.handle);
		const port = await listen(server, opts.port);
		api.setBaseUrl(`http://127.0.0.1:${port}`);
		if (!stopping)
			process.stdout.write(`READY http://127.0.0.1:${port}\n`);
	} catch (err) {
		process.stderr.write(`test server: cannot start: ${err && err.stack || err}\n`);
		await shutdown(1);
	}
}

main();
