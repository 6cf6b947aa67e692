// Test helpers: start tests/server/run as a child process, make raw HTTP requests, read its logs.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const SERVER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RUN = path.join(SERVER_DIR, 'run');
export const KEY = 'k'.repeat(40);

export function tempDir(prefix = 'wbsrv-test-') {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Starts the server; resolves to {proc, baseUrl, port, log, storageLog, startMs, stop()} once it prints
// READY. args are extra command-line arguments.
export async function startServer(dataDir, args = [], {apiKey = KEY} = {}) {
	const tmp = tempDir();
	const log = path.join(tmp, 'requests.jsonl');
	const argv = ['--data', dataDir, '--port', '0', '--api-key', apiKey, '--request-log', log, ...args];
	const t0 = Date.now();
	const proc = spawn(RUN, argv, {stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	proc.stderr.on('data', d => { stderr += d; });
	const exited = new Promise(resolve => proc.once('exit', (code, signal) => resolve({code, signal})));
	const baseUrl = await new Promise((resolve, reject) => {
		let out = '';
		proc.stdout.on('data', d => {
			out += d;
			const m = /^READY (\S+)\n/m.exec(out);
			if (m)
				resolve(m[1]);
		});
		exited.then(({code, signal}) => reject(new Error(`server exited (${signal || code}) before READY: ${stderr}`)));
	});
	const server = {
		proc, baseUrl, port: Number(new URL(baseUrl).port), log, storageLog: `${log}.storage.jsonl`,
		startMs: Date.now() - t0, exited, stderr: () => stderr,
		async stop() {
			if (proc.exitCode === null && proc.signalCode === null)
				proc.kill('SIGTERM');
			const r = await exited;
			fs.rmSync(tmp, {recursive: true, force: true});
			return r;
		},
	};
	return server;
}

// Runs the server with args expected to be rejected; resolves to {code, stdout, stderr}.
export function runExpectingFailure(args) {
	return new Promise(resolve => {
		const proc = spawn(RUN, args, {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		proc.stdout.on('data', d => { stdout += d; });
		proc.stderr.on('data', d => { stderr += d; });
		proc.once('exit', code => resolve({code, stdout, stderr}));
	});
}

export function basic(key, user = 'api') {
	return 'Basic ' + Buffer.from(`${user}:${key}`).toString('base64');
}

// One HTTP/1.1 request over a fresh TCP connection, read until the server closes it, so what the
// server really sent is seen: a cut body, a reset, a stall. Resolves to
// {status, headers (lower-case names), body (Buffer), complete (body length == Content-Length),
//  error (socket error code or null), ms}.
export function rawRequest(url, {method = 'GET', headers = {}, body = null} = {}) {
	const u = new URL(url);
	const payload = body === null ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
	let head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n`;
	for (const [k, v] of Object.entries(headers))
		head += `${k}: ${v}\r\n`;
	if (payload)
		head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`;
	const t0 = Date.now();
	return new Promise(resolve => {
		const chunks = [];
		let error = null;
		const s = net.connect(Number(u.port), u.hostname, () => {
			s.write(head + '\r\n');
			if (payload)
				s.write(payload);
		});
		s.on('data', c => chunks.push(c));
		s.on('error', e => { error = e.code || e.message; });
		s.on('close', () => {
			const all = Buffer.concat(chunks);
			const end = all.indexOf('\r\n\r\n');
			const res = {status: null, headers: {}, body: Buffer.alloc(0), complete: false, error, ms: Date.now() - t0};
			if (end < 0)
				return resolve(res);
			const lines = all.subarray(0, end).toString('latin1').split('\r\n');
			res.status = Number(lines[0].split(' ')[1]);
			for (const line of lines.slice(1)) {
				const i = line.indexOf(':');
				res.headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
			}
			res.body = all.subarray(end + 4);
			const len = res.headers['content-length'];
			res.complete = len !== undefined && Number(len) === res.body.length;
			resolve(res);
		});
	});
}

export function graphql(server, query, {variables, operationName, key = KEY, headers = {}} = {}) {
	const auth = key === null ? {} : {Authorization: basic(key)};
	return rawRequest(`${server.baseUrl}/graphql`, {method: 'POST', headers: {...auth, ...headers},
		body: {query, variables, operationName}});
}

export function json(res) {
	return JSON.parse(res.body.toString('utf8'));
}

export function readJsonl(file) {
	if (!fs.existsSync(file))
		return [];
	return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
}

// Child processes of pid (from /proc), as [{pid, comm, args}].
export function childrenOf(pid) {
	const out = [];
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		try {
			const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(fields[1]) === pid) {
				const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
				const args = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
				out.push({pid: Number(d), comm, args, state: fields[0]});
			}
		} catch { /* the process went away */ }
	}
	return out;
}

// Whether pid is a live process (a zombie counts as gone).
export function alive(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
	} catch {
		return false;
	}
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));
