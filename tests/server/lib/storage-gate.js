// storage-gate.js: what object stores do that a plain nginx does not, for `--storage-latency-ms` and
// `--storage-url-ttl`. nginx asks the gate about every storage request before it serves it (an
// auth_request subrequest carrying the original URI); the gate answers after the configured
// first-byte latency with 204 (serve) or, when URL expiry is enforced and the URL's X-Expires lies in
// the past, 403 (nginx then answers 403, as S3 and GCS answer an expired pre-signed URL). Bodies never
// pass through the gate, so bandwidth (and --storage-rate) stays nginx's own.

import http from 'node:http';
import {listenLoopback} from './loopback.js';

const sleep = ms => new Promise(r => setTimeout(r, ms));

// Whether the pre-signed URL uri (path + query) has expired at time nowS (epoch seconds).
export function urlExpired(uri, nowS) {
	const q = uri.indexOf('?');
	const params = new URLSearchParams(q < 0 ? '' : uri.slice(q + 1));
	const expires = Number(params.get('X-Expires'));
	return !Number.isFinite(expires) || expires < nowS;
}

// Starts the gate on a free 127.0.0.1 port; resolves to {port, close()}.
export function startStorageGate({latencyMs = 0, enforceExpiry = false}) {
	const server = http.createServer({keepAliveTimeout: 60000}, async (req, res) => {
		const uri = req.headers['x-original-uri'] || '';
		if (latencyMs > 0)
			await sleep(latencyMs);
		const status = enforceExpiry && urlExpired(uri, Date.now() / 1000) ? 403 : 204;
		res.writeHead(status, {'Content-Length': 0});
		res.end();
	});
	return listenLoopback(server);
}
