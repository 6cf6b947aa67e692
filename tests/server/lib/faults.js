// faults.js: fault injection (`--faults SPEC`, `--seed N`).
//
// SPEC is a comma list of rules `NAME=RATE[:opt=val]...` plus optionally a bare `scope=S` item that sets
// the default scope of every rule (a rule's own `:scope=` wins). NAME is one of 500 502 503 429 reset
// stall truncate; RATE is a probability in [0, 1]. Options: `scope=graphql|storage|all` (default graphql),
// `retry_after=SECONDS` (429, default 1), `ms=N` (stall, default 5000).
//
// Channels: "graphql" (POST /graphql), "redirect" (the /files and /artifacts* routes of the API) and
// "storage" (the fault proxy in front of nginx). Scope graphql covers the first, storage the other two,
// all covers every one. /_admin is never faulted. Each channel has its own PRNG stream derived from the
// seed and draws one number per request; rules are tried in SPEC order with cumulative rates, so a
// request gets at most one fault and the same seed and request sequence give the same faults.

import {STATUS_CODES} from 'node:http';

export const FAULT_NAMES = ['500', '502', '503', '429', 'reset', 'stall', 'truncate'];
const SCOPES = {graphql: ['graphql'], storage: ['redirect', 'storage'], all: ['graphql', 'redirect', 'storage']};
const CHANNELS = ['graphql', 'redirect', 'storage'];

function parseNumber(text, what, {min = 0, max = Infinity, integer = false} = {}) {
	const v = Number(text);
	if (text === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
		throw new Error(`--faults: bad ${what} "${text}"`);
	return v;
}

// Parses SPEC into rules [{name, rate, scope, retryAfter, ms}]; throws Error with a message on bad input.
export function parseFaults(spec) {
	const items = String(spec).split(',').map(s => s.trim()).filter(Boolean);
	let defaultScope = 'graphql';
	const raw = [];
	for (const item of items) {
		const [head, ...opts] = item.split(':');
		const eq = head.indexOf('=');
		if (eq < 0)
			throw new Error(`--faults: "${item}" is not NAME=RATE`);
		const name = head.slice(0, eq).trim();
		const value = head.slice(eq + 1).trim();
		if (name === 'scope') {
			if (opts.length || !SCOPES[value])
				throw new Error(`--faults: bad scope "${item}"`);
			defaultScope = value;
			continue;
		}
		if (!FAULT_NAMES.includes(name))
			throw new Error(`--faults: unknown fault "${name}" (known: ${FAULT_NAMES.join(' ')})`);
		const rule = {name, rate: parseNumber(value, `rate for ${name}`, {max: 1}), scope: null,
			retryAfter: 1, ms: 5000};
		for (const opt of opts) {
			const [k, v = ''] = opt.split('=');
			if (k === 'scope' && SCOPES[v])
				rule.scope = v;
			else if (k === 'retry_after' && name === '429')
				rule.retryAfter = parseNumber(v, 'retry_after');
			else if (k === 'ms' && name === 'stall')
				rule.ms = parseNumber(v, 'stall ms', {integer: true});
			else
				throw new Error(`--faults: option "${opt}" does not apply to ${name}`);
		}
		raw.push(rule);
	}
	const rules = raw.map(r => ({...r, scope: r.scope || defaultScope}));
	for (const ch of CHANNELS) {
		const sum = rules.filter(r => SCOPES[r.scope].includes(ch)).reduce((a, r) => a + r.rate, 0);
		if (sum > 1 + 1e-9)
			throw new Error(`--faults: the rates on channel ${ch} add up to ${sum}, more than 1`);
	}
	return rules;
}

// mulberry32: small, fast, good enough for picking faults; seeded per channel.
function mulberry32(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export class FaultInjector {
	constructor(rules, seed = 1) {
		this.rules = rules;
		this.streams = {};
		CHANNELS.forEach((ch, i) => {
			this.streams[ch] = mulberry32(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b));
		});
	}

	// Whether any rule can fire on the storage proxy (only then is the proxy put in front of nginx).
	coversStorage() {
		return this.rules.some(r => r.rate > 0 && SCOPES[r.scope].includes('storage'));
	}

	// The rule to apply to the next request on `channel`, or null.
	pick(channel) {
		const rules = this.rules.filter(r => SCOPES[r.scope].includes(channel));
		if (!rules.length)
			return null;
		const u = this.streams[channel]();
		let acc = 0;
		for (const r of rules) {
			acc += r.rate;
			if (u < acc)
				return r;
		}
		return null;
	}
}

export function isStatusFault(rule) {
	return rule && /^\d+$/.test(rule.name);
}

export function isCutFault(rule) {
	return rule && (rule.name === 'reset' || rule.name === 'truncate');
}

// The response for a status fault: {status, headers, body (object, sent as JSON)}.
export function statusFaultResponse(rule) {
	const status = Number(rule.name);
	const headers = {};
	let message = `injected fault: HTTP ${status} ${STATUS_CODES[status]}`;
	if (status === 429) {
		headers['Retry-After'] = String(rule.retryAfter);
		headers['RateLimit-Limit'] = '1000';
		headers['RateLimit-Remaining'] = '0';
		headers['RateLimit-Reset'] = String(Math.ceil(rule.retryAfter));
		message = 'Rate limit exceeded';
	}
	return {status, headers, body: {errors: [{message}]}};
}

// The status line and headers of a response written straight to the socket (for cut responses, which
// the http module cannot produce: it would not send fewer bytes than Content-Length).
export function rawHead(status, headers) {
	let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] || 'Status'}\r\n`;
	for (const [k, v] of Object.entries(headers)) {
		if (v === undefined || /^(connection|transfer-encoding|keep-alive)$/i.test(k))
			continue;
		for (const one of [].concat(v))
			text += `${k}: ${one}\r\n`;
	}
	return text + 'Connection: close\r\n\r\n';
}

// Bytes of a body of `length` sent before a cut: half of it, rounded down.
export function cutPoint(length) {
	return Math.floor(length / 2);
}

// Ends a socket after a cut-off body: `reset` aborts with a TCP RST once what was written has gone out,
// `truncate` closes cleanly (FIN), leaving the client with fewer bytes than Content-Length promised.
export function cutSocket(socket, rule) {
	if (rule.name === 'truncate') {
		socket.end();
		return;
	}
	// An immediate RST could discard the queued head; wait for the kernel to take it first.
	socket.write('', () => setTimeout(() => socket.resetAndDestroy(), 10));
}

// Writes status + headers + the first half of `body` to the socket, then cuts (see cutSocket).
// Returns the number of body bytes sent.
export function sendCut(socket, rule, status, headers, body) {
	const n = cutPoint(body.length);
	socket.write(rawHead(status, {...headers, 'Content-Length': String(body.length)}));
	socket.write(body.subarray(0, n));
	cutSocket(socket, rule);
	return n;
}
