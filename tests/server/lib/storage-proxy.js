// storage-proxy.js: the fault proxy in front of nginx, used only when `--faults` has rules with scope
// storage or all. Storage URLs then point here; each request draws from the "storage" fault channel
// and is either answered with the fault (5xx / 429, never reaching nginx), delayed (stall), cut off
// half-way through the body nginx returns (reset / truncate), or passed through untouched: method,
// path, query and every header (Range, and Authorization if a client wrongly sends one, so nginx's log
// still shows it) go to nginx, and its status, headers and body come back as they are.
// Answers the proxy makes itself are added to the storage log with a "fault" field; requests that
// reach nginx are logged by nginx.

import fs from 'node:fs';
import http from 'node:http';
import {listenLoopback} from './loopback.js';
import {isCutFault, isStatusFault, statusFaultResponse, rawHead, cutPoint, cutSocket} from './faults.js';

const sleep = ms => new Promise(r => setTimeout(r, ms));

function logOwnAnswer(fd, req, status, bytes, fault) {
	if (fd === null)
		return;
	fs.writeSync(fd, JSON.stringify({
		t: Date.now() / 1000, method: req.method, uri: req.url, status, bytes,
		range: req.headers.range || '', auth: req.headers.authorization ? 'present' : '', fault,
	}) + '\n');
}

// Headers without the hop-by-hop ones, which belong to each connection.
function endToEnd(headers) {
	const out = {};
	for (const [k, v] of Object.entries(headers)) {
		if (!/^(connection|keep-alive|transfer-encoding|proxy-.*|te|trailer|upgrade)$/i.test(k))
			out[k] = v;
	}
	return out;
}

// Forwards the response, cutting it after half of its Content-Length (or right after the head when
// the length is unknown).
function forwardCut(up, req, res, rule) {
	const socket = res.socket;
	const total = Number(up.headers['content-length']);
	let left = Number.isFinite(total) && req.method !== 'HEAD' ? cutPoint(total) : 0;
	socket.write(rawHead(up.statusCode, up.headers));
	if (left === 0) {
		up.destroy();
		cutSocket(socket, rule);
		return;
	}
	up.on('data', chunk => {
		if (left <= 0)
			return;
		const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
		left -= part.length;
		socket.write(part);
		if (left <= 0) {
			up.destroy();
			cutSocket(socket, rule);
		}
	});
}

export function startStorageProxy({nginxPort, faults, storageLog}) {
	const fd = storageLog ? fs.openSync(storageLog, 'a') : null;
	const agent = new http.Agent({keepAlive: true, maxSockets: 64});
	const server = http.createServer(async (req, res) => {
		const rule = faults.pick('storage');
		if (isStatusFault(rule)) {
			const f = statusFaultResponse(rule);
			const body = Buffer.from(JSON.stringify(f.body));
			logOwnAnswer(fd, req, f.status, body.length, rule.name);
			res.writeHead(f.status, {...f.headers, 'Content-Type': 'application/json',
				'Content-Length': body.length});
			res.end(body);
			return;
		}
		if (rule && rule.name === 'stall')
			await sleep(rule.ms);
		if (res.socket === null || res.socket.destroyed)
			return;
		const up = http.request({host: '127.0.0.1', port: nginxPort, method: req.method, path: req.url,
			headers: endToEnd(req.headers), agent}, upRes => {
			if (isCutFault(rule)) {
				forwardCut(upRes, req, res, rule);
				return;
			}
			res.writeHead(upRes.statusCode, endToEnd(upRes.headers));
			upRes.pipe(res);
		});
		up.on('error', err => {
			if (res.headersSent) {
				res.destroy();
				return;
			}
			const body = Buffer.from(JSON.stringify({errors: [{message: `storage unreachable: ${err.message}`}]}));
			logOwnAnswer(fd, req, 502, body.length, null);
			res.writeHead(502, {'Content-Type': 'application/json', 'Content-Length': body.length});
			res.end(body);
		});
		res.on('close', () => {
			if (!res.writableFinished)
				up.destroy();
		});
		req.pipe(up);
	});
	return listenLoopback(server, () => {
		agent.destroy();
		if (fd !== null)
			fs.closeSync(fd);
	});
}
