// api.js: the HTTP API in front of the model: routes, authentication, the GraphQL endpoint, the
// download redirects, the admin endpoint, latency and fault knobs, gzip and the request log.
//
//   POST /graphql                      GraphQL over HTTP (JSON body {query, variables, operationName})
//   GET  /files/<entity>/<project>/<run>/<name...>                              302 to storage
//   GET  /artifacts/<entity>/<md5hex>                                           302 to storage (layout V1)
//   GET  /artifactsV2/<region>/<entity>/<project>/<collection>[/<artifactID>]/<birthArtifactID>/<md5hex>/<basename>
//                                                                                302 to storage (layout V2)
//   POST /_admin/update-run            test-only: change a run in the live model
//   POST /_admin/log-artifact, /_admin/link-artifact   test-only: add an artifact version, link one
// Everything needs basic auth `api:<key>` (401 otherwise); anything else is 404.
//
// Status codes of /graphql: 200 when the operation executed (with `errors` next to `data` when a
// resolver failed); 400 when the request never reached execution: bad JSON, a syntax error, a
// validation error (unknown field, wrong argument), or variables that do not fit the operation
// (missing, wrong type), following the GraphQL-over-HTTP spec for application/json. The body always
// has the standard {"errors": [{"message", "locations", ...}]}.

import zlib from 'node:zlib';
import {parse, validate, execute, Source, Kind} from 'graphql';
import {authenticate} from './auth.js';
import {isCutFault, isStatusFault, statusFaultResponse, sendCut, cutPoint} from './faults.js';

const MAX_BODY = 64 << 20;
const DOC_CACHE_MAX = 1000;
const MAX_STDERR_REPORTS = 20;

const sleep = ms => new Promise(r => setTimeout(r, ms));

class HttpError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

function acceptsGzip(req) {
	const header = req.headers['accept-encoding'];
	if (!header)
		return false;
	return header.split(',').some(part => {
		const [name, ...params] = part.trim().split(';').map(s => s.trim());
		if (name !== 'gzip' && name !== '*')
			return false;
		const q = params.find(p => p.startsWith('q='));
		return !q || Number(q.slice(2)) > 0;
	});
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		req.on('data', c => {
			size += c.length;
			if (size > MAX_BODY) {
				reject(new HttpError(413, `request body over ${MAX_BODY} bytes`));
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

// One request/response pair: accumulates the request-log entry and sends the answer exactly once.
class Exchange {
	constructor(req, res, log, kind, path) {
		this.req = req;
		this.res = res;
		this.log = log;
		this.rule = null;
		this.entry = {t0: Date.now(), kind, path};
	}

	json(status, obj, headers = {}) {
		let body = Buffer.from(JSON.stringify(obj));
		const h = {...headers, 'Content-Type': 'application/json', Vary: 'Accept-Encoding'};
		if (acceptsGzip(this.req)) {
			body = zlib.gzipSync(body);
			h['Content-Encoding'] = 'gzip';
		}
		if (obj && Array.isArray(obj.errors) && obj.errors.length)
			this.entry.error = obj.errors[0].message;
		this.send(status, h, body);
	}

	error(status, message, headers = {}) {
		this.json(status, {errors: [{message}]}, headers);
	}

	send(status, headers, body) {
		const head = this.req.method === 'HEAD';
		const socket = this.res.socket;
		const fault = this.rule ? this.rule.name : null;
		if (!socket || socket.destroyed) {
			this.log.write({...this.entry, status, bytes: 0, fault, error: 'the client closed the connection'});
			return;
		}
		const cut = isCutFault(this.rule);
		this.log.write({...this.entry, status, bytes: head ? 0 : cut ? cutPoint(body.length) : body.length, fault});
		if (cut && !head) {
			sendCut(socket, this.rule, status, headers, body);
			return;
		}
		this.res.writeHead(status, {...headers, 'Content-Length': body.length});
		this.res.end(head ? undefined : body);
	}

	// Draws a fault for this request; answers it and returns true when it is a status fault, sleeps
	// through a stall; cut faults are applied when the answer is sent.
	async fault(faults, channel) {
		this.rule = faults ? faults.pick(channel) : null;
		if (isStatusFault(this.rule)) {
			const f = statusFaultResponse(this.rule);
			this.json(f.status, f.body, f.headers);
			return true;
		}
		if (this.rule && this.rule.name === 'stall')
			await sleep(this.rule.ms);
		return false;
	}
}

// Splits a raw path after `prefix` into percent-decoded segments (empty segments kept: a V2 URL has
// one when the birthArtifactID is missing); null when a segment is not valid percent-encoding.
function segments(rawPath, prefix) {
	try {
		return rawPath.slice(prefix.length).split('/').map(decodeURIComponent);
	} catch {
		return null;
	}
}

const MD5_HEX = /^[0-9a-fA-F]{32}$/;

// Parses an artifact download path into [md5hex, where] or null.
function artifactTarget(rawPath) {
	if (rawPath.startsWith('/artifacts/')) {
		const s = segments(rawPath, '/artifacts/');
		if (!s || s.length !== 2 || !s[0] || !MD5_HEX.test(s[1]))
			return null;
		return [s[1].toLowerCase(), {entity: s[0]}];
	}
	const s = segments(rawPath, '/artifactsV2/');
	if (!s || (s.length !== 7 && s.length !== 8))
		return null;
	const [region, entity, project, collection] = s;
	const [artifactID, birthArtifactID, md5hex, basename] = s.length === 8 ? s.slice(4) : [null, ...s.slice(4)];
	if (!MD5_HEX.test(md5hex) || !entity || !project || !collection)
		return null;
	return [md5hex.toLowerCase(), {region, entity, project, collection, artifactID, birthArtifactID, basename}];
}

export function createApi({store, schema, log, faults, latencyMs, pageCap, storageUrl}) {
	const docCache = new Map(); // query text -> {document, errors}
	let baseUrl = null;
	let reported = 0;

	function reportInternal(err, what) {
		// stderr may be a pipe nobody reads until the server exits: keep it short.
		if (reported++ < MAX_STDERR_REPORTS)
			process.stderr.write(`test server: internal error in ${what}: ${err && err.stack || err}\n`);
	}

	function parseAndValidate(query) {
		let hit = docCache.get(query);
		if (hit)
			return hit;
		let document;
		try {
			document = parse(new Source(query, 'request'));
		} catch (e) {
			return {document: null, errors: [e]};
		}
		hit = {document, errors: validate(schema, document)};
		if (docCache.size >= DOC_CACHE_MAX)
			docCache.delete(docCache.keys().next().value);
		docCache.set(query, hit);
		return hit;
	}

	function contextFor(user) {
		return {store, user, baseUrl, storageUrl, apiUrl: p => baseUrl + p, pageCap};
	}

	async function graphql(x) {
		const {req} = x;
		if (req.method !== 'POST')
			return x.error(405, 'use POST for /graphql', {Allow: 'POST'});
		const raw = await readBody(req);
		let body = null;
		try {
			body = JSON.parse(raw.toString('utf8'));
		} catch { /* reported below, after faults and auth */ }
		const ok = body && typeof body === 'object' && !Array.isArray(body);
		if (ok) {
			x.entry.query = typeof body.query === 'string' ? body.query : null;
			x.entry.variables = body.variables ?? null;
			x.entry.op = typeof body.operationName === 'string' && body.operationName ? body.operationName : null;
		}
		if (latencyMs)
			await sleep(latencyMs);
		if (await x.fault(faults, 'graphql'))
			return;
		const user = await authenticate(store, req);
		if (!user)
			return x.error(401, 'invalid or missing API key');
		if (!ok)
			return x.error(400, 'the body must be a JSON object {"query", "variables", "operationName"}');
		if (typeof body.query !== 'string')
			return x.error(400, 'the request has no "query" string');
		const vars = body.variables ?? null;
		if (vars !== null && (typeof vars !== 'object' || Array.isArray(vars)))
			return x.error(400, '"variables" must be an object');
		const {document, errors} = parseAndValidate(body.query);
		if (document && !x.entry.op) {
			const ops = document.definitions.filter(d => d.kind === Kind.OPERATION_DEFINITION);
			if (ops.length === 1 && ops[0].name)
				x.entry.op = ops[0].name.value;
		}
		if (errors.length)
			return x.json(400, {errors});
		const result = await execute({schema, document, rootValue: {}, contextValue: contextFor(user),
			variableValues: vars, operationName: x.entry.op});
		// No `data` at all means the request failed before execution (variables, operation choice).
		x.json('data' in result ? 200 : 400, result);
	}

	async function redirect(x, resolve) {
		const {req} = x;
		if (req.method !== 'GET' && req.method !== 'HEAD')
			return x.error(405, 'use GET', {Allow: 'GET, HEAD'});
		if (await x.fault(faults, 'redirect'))
			return;
		const user = await authenticate(store, req);
		if (!user)
			return x.error(401, 'invalid or missing API key');
		const target = await resolve(user);
		if (!target)
			return x.error(404, 'not found');
		const location = storageUrl(target.storagePath);
		x.send(302, {Location: location, 'Content-Type': 'text/plain'}, Buffer.from(`Found. Redirecting to ${location}\n`));
	}

	function files(x, rawPath) {
		const s = segments(rawPath, '/files/');
		if (!s || s.length < 4 || s.slice(0, 4).some(p => !p))
			return x.error(404, 'not found');
		const [entity, project, run, ...name] = s;
		return redirect(x, user => store.resolveRunFile(user, entity, project, run, name.join('/')));
	}

	function artifacts(x, rawPath) {
		const target = artifactTarget(rawPath);
		if (!target)
			return x.error(404, 'not found');
		return redirect(x, user => store.resolveArtifactBlob(user, target[0], target[1]));
	}

	// Admin actions: the store hook and how it reports. update-run answers null or an error string;
	// the artifact hooks (lib/artifacts.js) answer {ok: true, ...} or {error}.
	const ADMIN = {
		'/_admin/update-run': async (user, body) => {
			const problem = await store.updateRun(user, body);
			return problem ? {error: problem} : {ok: true};
		},
		'/_admin/log-artifact': (user, body) => store.logArtifact(user, body),
		'/_admin/link-artifact': (user, body) => store.linkArtifact(user, body),
	};

	async function admin(x, rawPath) {
		const {req} = x;
		if (req.method !== 'POST')
			return x.error(405, 'use POST', {Allow: 'POST'});
		const raw = await readBody(req);
		const user = await authenticate(store, req);
		if (!user)
			return x.error(401, 'invalid or missing API key');
		let body;
		try {
			body = JSON.parse(raw.toString('utf8'));
		} catch (e) {
			return x.error(400, `bad JSON: ${e.message}`);
		}
		const result = await ADMIN[rawPath](user, body);
		if (!result || result.error)
			return x.error(400, result ? result.error : 'no answer');
		x.json(200, result);
	}

	function route(rawPath) {
		if (rawPath === '/graphql')
			return ['graphql', graphql];
		if (rawPath.startsWith('/files/'))
			return ['files', files];
		if (rawPath.startsWith('/artifacts/') || rawPath.startsWith('/artifactsV2/'))
			return ['artifacts', artifacts];
		if (Object.hasOwn(ADMIN, rawPath))
			return ['admin', admin];
		return ['other', x => x.error(404, 'not found')];
	}

	async function handle(req, res) {
		const rawPath = req.url.split('?')[0];
		const [kind, handler] = route(rawPath);
		const x = new Exchange(req, res, log, kind, kind === 'graphql' ? null : rawPath);
		try {
			await handler(x, rawPath);
		} catch (err) {
			if (err instanceof HttpError)
				return x.error(err.status, err.message);
			reportInternal(err, `${req.method} ${rawPath}`);
			if (!res.headersSent)
				x.error(500, `internal error: ${err && err.message}`);
		}
	}

	return {
		handle,
		setBaseUrl(url) { baseUrl = url; },
	};
}
