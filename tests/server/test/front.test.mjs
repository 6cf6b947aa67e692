// Tests of the test server's HTTP front: command line, READY and shutdown, auth, GraphQL request
// handling, gzip, latency, the request logs, storage (nginx) and the redirect routes, fault injection.
// Every test talks to a real `tests/server/run` child process over TCP.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
	KEY, startServer, runExpectingFailure, rawRequest, graphql, json, readJsonl, basic, childrenOf, alive,
	sleep,
} from './helpers/server.mjs';
import {makeDataDir} from './helpers/data.mjs';

let data;
let srv;

before(async () => {
	data = makeDataDir();
	srv = await startServer(data.dir);
});

after(async () => {
	if (srv)
		await srv.stop();
	fs.rmSync(data.root, {recursive: true, force: true});
});

const VIEWER = 'query Viewer { viewer { id username } }';

function lastLog(server, kind) {
	const lines = readJsonl(server.log).filter(l => !kind || l.kind === kind);
	return lines[lines.length - 1];
}

// ------------------------------------------------------------------ startup, command line

test('prints READY with a 127.0.0.1 base URL and starts fast', () => {
	assert.match(srv.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
	console.log(`# startup to READY: ${srv.startMs} ms`);
	assert.ok(srv.startMs < 5000, `startup took ${srv.startMs} ms`);
});

test('bad command lines exit 2 with a message', async () => {
	for (const [args, pattern] of [
		[['--port', '0', '--api-key', KEY], /--data DIR is required/],
		[['--data', data.dir, '--api-key', KEY, '--bogus'], /bogus/],
		[['--data', data.dir, '--api-key', KEY, '--faults', '418=0.5'], /unknown fault "418"/],
		[['--data', data.dir, '--api-key', KEY, '--faults', '500=0.7,503=0.5'], /add up to/],
		[['--data', data.dir, '--api-key', KEY, '--faults', 'stall=0.1:retry_after=2'], /does not apply/],
		[['--data', data.dir, '--api-key', KEY, '--latency-ms', '-3'], /--latency-ms/],
		[['--data', data.dir, '--api-key', KEY, '--storage-rate', 'fast'], /--storage-rate/],
	]) {
		const r = await runExpectingFailure(args);
		assert.equal(r.code, 2, args.join(' '));
		assert.match(r.stderr, pattern);
		assert.equal(r.stdout, '');
	}
});

test('SIGTERM: exit 0, nginx stopped, temp dir removed', async () => {
	const s = await startServer(data.dir);
	const kids = childrenOf(s.proc.pid).filter(k => k.comm === 'nginx');
	assert.equal(kids.length, 1, JSON.stringify(childrenOf(s.proc.pid)));
	const prefix = kids[0].args[kids[0].args.indexOf('-p') + 1];
	const tmp = path.dirname(prefix);
	assert.ok(fs.existsSync(tmp));
	const {code, signal} = await s.stop();
	assert.equal(code, 0);
	assert.equal(signal, null);
	assert.equal(alive(kids[0].pid), false, 'nginx still running');
	assert.equal(fs.existsSync(tmp), false, `${tmp} left behind`);
});

test('nginx does not outlive a killed server', async () => {
	const s = await startServer(data.dir);
	const ng = childrenOf(s.proc.pid).find(k => k.comm === 'nginx');
	s.proc.kill('SIGKILL');
	await s.exited;
	const tmp = path.dirname(ng.args[ng.args.indexOf('-p') + 1]);
	for (let i = 0; i < 100 && alive(ng.pid); i++)
		await sleep(20);
	assert.equal(alive(ng.pid), false, 'nginx orphaned');
	fs.rmSync(tmp, {recursive: true, force: true}); // SIGKILL gave the server no chance to
	await s.stop();
});

// ------------------------------------------------------------------------ auth

test('GraphQL auth: missing key 401, wrong key 401, wrong user 401, right key 200', async () => {
	const missing = await graphql(srv, VIEWER, {key: null});
	assert.equal(missing.status, 401);
	assert.ok(json(missing).errors[0].message);
	const wrong = await graphql(srv, VIEWER, {key: 'x'.repeat(40)});
	assert.equal(wrong.status, 401);
	const wrongUser = await rawRequest(`${srv.baseUrl}/graphql`, {method: 'POST',
		headers: {Authorization: basic(KEY, 'user')}, body: {query: VIEWER}});
	assert.equal(wrongUser.status, 401);
	const ok = await graphql(srv, VIEWER);
	assert.equal(ok.status, 200);
	const body = json(ok);
	assert.equal(body.errors, undefined);
	assert.equal(body.data.viewer.username, data.viewerName);
	assert.ok(body.data.viewer.id);
});

test('download routes and the admin endpoint need the key too', async () => {
	for (const url of [data.runFileUrl(srv), `${srv.baseUrl}/artifacts/e/${'0'.repeat(32)}`]) {
		assert.equal((await rawRequest(url)).status, 401, url);
		assert.equal((await rawRequest(url, {headers: {Authorization: basic('y'.repeat(40))}})).status, 401);
	}
	const admin = await rawRequest(`${srv.baseUrl}/_admin/update-run`, {method: 'POST', body: {}});
	assert.equal(admin.status, 401);
});

// -------------------------------------------------------------- GraphQL handling

test('a field not in the schema is a GraphQL error, never data', async () => {
	const r = await graphql(srv, 'query Viewer { viewer { id usernameTypo } }');
	assert.equal(r.status, 400);
	const body = json(r);
	assert.equal(body.data, undefined);
	assert.match(body.errors[0].message, /Cannot query field "usernameTypo" on type "User"/);
	assert.deepEqual(body.errors[0].locations, [{line: 1, column: 28}]);
});

test('wrong arguments, missing or mistyped variables, syntax errors are rejected with 400', async () => {
	const cases = [
		['{ viewer(nope: 1) { id } }', undefined, /Unknown argument "nope"/],
		['query P($e: String!) { project(name: "x", entityName: $e) { id } }', {}, /"\$e" of required type "String!" was not provided/],
		['query P($e: String!) { project(name: "x", entityName: $e) { id } }', {e: 5}, /String cannot represent a non string value/],
		['query { viewer { id }', undefined, /Syntax Error/],
		['query A { viewer { id } } query B { viewer { username } }', undefined, /Must provide operation name/],
	];
	for (const [query, variables, pattern] of cases) {
		const r = await graphql(srv, query, {variables});
		assert.equal(r.status, 400, query);
		const body = json(r);
		assert.equal(body.data, undefined, query);
		assert.match(body.errors.map(e => e.message).join('\n'), pattern);
	}
	const bad = await rawRequest(`${srv.baseUrl}/graphql`, {method: 'POST', headers: {Authorization: basic(KEY)},
		body: '{"query": '});
	assert.equal(bad.status, 400);
	assert.ok(json(bad).errors[0].message);
});

test('operationName picks the operation; an unimplemented root field is an error, not null', async () => {
	const two = 'query A { viewer { id } } query B { viewer { username } }';
	const r = await graphql(srv, two, {operationName: 'B'});
	assert.equal(r.status, 200);
	assert.deepEqual(json(r).data, {viewer: {username: data.viewerName}});
	const m = await graphql(srv, 'mutation { deleteRun(input: {id: "x"}) { clientMutationId } }');
	assert.equal(m.status, 200);
	const body = json(m);
	assert.equal(body.data.deleteRun, null);
	assert.match(body.errors[0].message, /Mutation\.deleteRun is not implemented/);
	assert.deepEqual(body.errors[0].path, ['deleteRun']);
});

test('responses are gzipped when the client accepts gzip', async () => {
	const plain = await graphql(srv, VIEWER);
	const gz = await graphql(srv, VIEWER, {headers: {'Accept-Encoding': 'gzip, deflate'}});
	assert.equal(plain.headers['content-encoding'], undefined);
	assert.equal(gz.headers['content-encoding'], 'gzip');
	assert.ok(gz.complete);
	assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
	const refused = await graphql(srv, VIEWER, {headers: {'Accept-Encoding': 'gzip;q=0, identity'}});
	assert.equal(refused.headers['content-encoding'], undefined);
});

test('unknown routes are 404, GET /graphql is 405', async () => {
	const auth = {Authorization: basic(KEY)};
	assert.equal((await rawRequest(`${srv.baseUrl}/nothing/here`, {headers: auth})).status, 404);
	assert.equal((await rawRequest(`${srv.baseUrl}/artifacts/e/not-a-digest`, {headers: auth})).status, 404);
	const get = await rawRequest(`${srv.baseUrl}/graphql`, {headers: auth});
	assert.equal(get.status, 405);
	assert.equal(get.headers.allow, 'POST');
});

// -------------------------------------------------------------------- request log

test('request log: one line per request with every field', async () => {
	const before = readJsonl(srv.log).length;
	const named = 'query Named($e: String) { project(name: "p", entityName: $e) { id } }';
	await graphql(srv, named, {variables: {e: 'e'}});
	await graphql(srv, '{ viewer { id } }', {operationName: ''});
	await rawRequest(data.runFileUrl(srv), {headers: {Authorization: basic(KEY)}});
	const lines = readJsonl(srv.log).slice(before);
	assert.equal(lines.length, 3);
	for (const l of lines) {
		for (const f of ['t', 'kind', 'op', 'query', 'variables', 'status', 'bytes', 'ms'])
			assert.ok(f in l, `field ${f} missing in ${JSON.stringify(l)}`);
		assert.ok(Math.abs(l.t * 1000 - Date.now()) < 60000);
		assert.ok(l.bytes > 0 && l.ms >= 0);
	}
	assert.deepEqual([lines[0].kind, lines[0].op, lines[0].variables, lines[0].status], ['graphql', 'Named', {e: 'e'}, 200]);
	assert.equal(lines[0].query, named);
	assert.equal(lines[1].op, null);
	assert.deepEqual([lines[2].kind, lines[2].status, lines[2].path], ['files', 302, new URL(data.runFileUrl(srv)).pathname]);
	assert.equal(JSON.stringify(lines).includes(KEY), false, 'the API key is in the request log');
});

test('--latency-ms delays every GraphQL request; --page-cap reaches the resolvers', async () => {
	const s = await startServer(data.dir, ['--latency-ms', '300', '--page-cap', '1']);
	try {
		const r = await graphql(s, VIEWER);
		assert.equal(r.status, 200);
		assert.ok(r.ms >= 300, `took ${r.ms} ms`);
		assert.ok(lastLog(s, 'graphql').ms >= 300);
		const files = await graphql(s, `query Files { project(name: "p", entityName: "e") { run(name: "abc123") {
			fileCount files(first: 10) { edges { node { name } } pageInfo { hasNextPage } } } } }`);
		const run = json(files).data.project.run;
		assert.ok(run.fileCount > 1);
		assert.equal(run.files.edges.length, 1);
		assert.equal(run.files.pageInfo.hasNextPage, true);
	} finally {
		await s.stop();
	}
});

// ---------------------------------------------------------------------- storage

async function redirectTarget(server, url, headers = {Authorization: basic(KEY)}) {
	const r = await rawRequest(url, {headers});
	assert.equal(r.status, 302, `${url}: ${r.status} ${r.body}`);
	return r.headers.location;
}

test('File.url redirects to nginx, which serves ranges without auth and logs no Authorization', async () => {
	const loc = await redirectTarget(srv, data.runFileUrl(srv));
	const u = new URL(loc);
	assert.equal(u.hostname, '127.0.0.1');
	assert.notEqual(u.port, String(srv.port));
	assert.match(u.search, /^\?X-Expires=\d+&X-Signature=[0-9a-f]{64}$/);
	const full = await rawRequest(loc);
	assert.equal(full.status, 200);
	assert.ok(full.body.equals(data.runFileBytes));
	const part = await rawRequest(loc, {headers: {Range: 'bytes=100-355'}});
	assert.equal(part.status, 206);
	assert.equal(part.headers['content-range'], `bytes 100-355/${data.runFileBytes.length}`);
	assert.ok(part.body.equals(data.runFileBytes.subarray(100, 356)));
	const tail = await rawRequest(loc, {headers: {Range: 'bytes=-10'}});
	assert.ok(tail.body.equals(data.runFileBytes.subarray(-10)));
	const log = readJsonl(srv.storageLog).filter(l => l.uri === u.pathname + u.search);
	assert.equal(log.length, 3);
	assert.deepEqual(log.map(l => [l.method, l.status, l.bytes, l.range, l.auth]), [
		['GET', 200, data.runFileBytes.length, '', ''],
		['GET', 206, 256, 'bytes=100-355', ''],
		['GET', 206, 10, 'bytes=-10', ''],
	]);
	// A client that wrongly sends its key to storage is seen, and the key itself is not written.
	const leak = await rawRequest(loc, {headers: {Authorization: basic(KEY)}});
	assert.equal(leak.status, 200);
	const last = readJsonl(srv.storageLog).pop();
	assert.equal(last.auth, 'present');
	const text = fs.readFileSync(srv.storageLog, 'utf8');
	assert.equal(text.includes(KEY) || text.includes(basic(KEY).split(' ')[1]), false);
	for (const f of ['t', 'method', 'uri', 'status', 'bytes', 'range', 'auth'])
		assert.ok(f in last, f);
});

test('a missing run file is 404; storage refuses other methods', async () => {
	const r = await rawRequest(data.runFileUrl(srv, 'no-such-file.txt'), {headers: {Authorization: basic(KEY)}});
	assert.equal(r.status, 404);
	const loc = await redirectTarget(srv, data.runFileUrl(srv));
	assert.equal((await rawRequest(loc, {method: 'DELETE'})).status, 403);
});

test('--storage-rate caps storage bandwidth per connection', async () => {
	// At the file's size per second, the download takes about a second (nginx paces it).
	const s = await startServer(data.dir, ['--storage-rate', `${data.runFileBytes.length}`]);
	try {
		const loc = await redirectTarget(s, data.runFileUrl(s));
		const big = await rawRequest(loc);
		assert.ok(big.body.equals(data.runFileBytes));
		const fast = await rawRequest((await redirectTarget(srv, data.runFileUrl(srv))));
		console.log(`# ${data.runFileBytes.length} bytes: ${big.ms} ms capped, ${fast.ms} ms uncapped`);
		assert.ok(big.ms >= 800 && big.ms < 3000, `took ${big.ms} ms`);
		assert.ok(fast.ms < 500, `uncapped took ${fast.ms} ms`);
	} finally {
		await s.stop();
	}
});

test('admin endpoint: update-run reports problems as 400 and never faults', async () => {
	const s = await startServer(data.dir, ['--faults', '500=1:scope=all']);
	try {
		const url = `${s.baseUrl}/_admin/update-run`;
		const auth = {Authorization: basic(KEY)};
		const bad = await rawRequest(url, {method: 'POST', headers: auth, body: {...data.runRef, name: 'no-such-run', set: {state: 'finished'}}});
		assert.equal(bad.status, 400);
		assert.ok(json(bad).errors[0].message);
		const ok = await rawRequest(url, {method: 'POST', headers: auth, body: {...data.runRef, set: {state: 'finished'}}});
		assert.equal(ok.status, 200);
		assert.deepEqual(json(ok), {ok: true});
		assert.equal(lastLog(s, 'admin').status, 200);
		assert.equal((await graphql(s, VIEWER)).status, 500);
	} finally {
		await s.stop();
	}
});

// ------------------------------------------------------ end to end with the real model

const md5b64 = buf => crypto.createHash('md5').update(buf).digest('base64');

test('File.url and File.directUrl from GraphQL both lead to the file\'s bytes', async () => {
	const r = await graphql(srv, `query RunFiles { project(name: "p", entityName: "e") { run(name: "abc123") {
		files(names: ["media/blob.bin"]) { edges { node { name url directUrl sizeBytes md5 } } } } } }`);
	assert.equal(r.status, 200);
	const node = json(r).data.project.run.files.edges[0].node;
	assert.equal(node.url, data.runFileUrl(srv));
	assert.equal(node.sizeBytes, data.runFileBytes.length);
	assert.equal(node.md5, md5b64(data.runFileBytes));
	const direct = await rawRequest(node.directUrl);
	assert.ok(direct.body.equals(data.runFileBytes));
	const viaUrl = await rawRequest(await redirectTarget(srv, node.url));
	assert.ok(viaUrl.body.equals(data.runFileBytes));
});

const MANIFEST = `query Manifest($c: String!) { project(name: "p", entityName: "e") { artifactCollection(name: $c) {
	artifactMembership(aliasName: "latest") { versionIndex artifact { id currentManifest { file { directUrl } } } } } } }`;

async function manifestOf(server, collection) {
	const r = await graphql(server, MANIFEST, {variables: {c: collection}});
	assert.equal(r.status, 200, String(r.body));
	const m = json(r).data.project.artifactCollection.artifactMembership;
	const got = await rawRequest(m.artifact.currentManifest.file.directUrl);
	assert.equal(got.status, 200);
	return {id: m.artifact.id, versionIndex: m.versionIndex, manifest: json(got)};
}

test('artifact blobs download through the V1 and V2 routes, with the manifest\'s digests', async () => {
	const hex = b64 => Buffer.from(b64, 'base64').toString('hex');
	const auth = {Authorization: basic(KEY)};
	const v2 = await manifestOf(srv, 'ds2');
	assert.equal(v2.manifest.storagePolicyConfig.storageLayout, 'V2');
	for (const [p, entry] of Object.entries(v2.manifest.contents)) {
		const tail = `${encodeURIComponent(entry.birthArtifactID)}/${hex(entry.digest)}/${path.basename(p)}`;
		for (const url of [`${srv.baseUrl}/artifactsV2/default/e/p/ds2/${tail}`,
			`${srv.baseUrl}/artifactsV2/default/e/p/ds2/${encodeURIComponent(v2.id)}/${tail}`]) {
			const got = await rawRequest(await redirectTarget(srv, url));
			assert.equal(md5b64(got.body), entry.digest, url);
			assert.equal(got.body.length, entry.size);
		}
		const wrongCollection = await rawRequest(`${srv.baseUrl}/artifactsV2/default/e/p/ds1/${tail}`, {headers: auth});
		assert.equal(wrongCollection.status, 404);
	}
	const v1 = await manifestOf(srv, 'ds1');
	assert.equal(v1.manifest.storagePolicyConfig.storageLayout, 'V1');
	const [entry] = Object.values(v1.manifest.contents);
	const got = await rawRequest(await redirectTarget(srv, `${srv.baseUrl}/artifacts/e/${hex(entry.digest)}`));
	assert.equal(got.body.toString(), 'old v1 text');
	assert.equal((await rawRequest(`${srv.baseUrl}/artifacts/other/${hex(entry.digest)}`, {headers: auth})).status, 404);
	assert.equal((await rawRequest(`${srv.baseUrl}/artifacts/e/${'f'.repeat(32)}`, {headers: auth})).status, 404);
	const logged = readJsonl(srv.log).filter(l => l.kind === 'artifacts').map(l => l.status);
	assert.ok(logged.includes(302) && logged.includes(404));
});

test('admin endpoints change the live model', async () => {
	const s = await startServer(data.dir);
	try {
		const auth = {Authorization: basic(KEY)};
		const state = async () => json(await graphql(s, 'query S { project(name: "p", entityName: "e") { run(name: "abc123") { state } } }')).data.project.run.state;
		assert.equal(await state(), 'finished');
		const upd = await rawRequest(`${s.baseUrl}/_admin/update-run`, {method: 'POST', headers: auth,
			body: {...data.runRef, set: {state: 'running'}}});
		assert.equal(upd.status, 200);
		assert.equal(await state(), 'running');
		const logA = await rawRequest(`${s.baseUrl}/_admin/log-artifact`, {method: 'POST', headers: auth,
			body: {entity: 'e', project: 'p', type: 'dataset', name: 'ds2', files: {'a.txt': 'changed'}}});
		assert.equal(logA.status, 200, String(logA.body));
		assert.equal(json(logA).version, 'v1');
		const after = await manifestOf(s, 'ds2');
		assert.equal(after.versionIndex, 1);
		assert.deepEqual(Object.keys(after.manifest.contents), ['a.txt']);
		const link = await rawRequest(`${s.baseUrl}/_admin/link-artifact`, {method: 'POST', headers: auth,
			body: {entity: 'e', project: 'p', artifact: 'ds2:v1', target: {entity: 'e', project: 'p', collection: 'best'}}});
		assert.equal(link.status, 200, String(link.body));
		const bad = await rawRequest(`${s.baseUrl}/_admin/link-artifact`, {method: 'POST', headers: auth,
			body: {entity: 'e', project: 'p', artifact: 'ds2:v9', target: {entity: 'e', project: 'p', collection: 'best'}}});
		assert.equal(bad.status, 400);
		assert.match(json(bad).errors[0].message, /not found/);
	} finally {
		await s.stop();
	}
});

// ------------------------------------------------------------------------ faults

// What a client sees, reduced to the fault name that explains it (null: a normal answer).
function observed(r, stallMs) {
	if (r.status === null)
		return `no response (${r.error})`;
	if ([500, 502, 503, 429].includes(r.status))
		return String(r.status);
	if (r.error === 'ECONNRESET')
		return 'reset';
	if (!r.complete)
		return 'truncate';
	return r.ms >= stallMs ? 'stall' : null;
}

const MIXED = '500=0.1,502=0.1,503=0.1,429=0.1:retry_after=3,reset=0.1,stall=0.1:ms=600,truncate=0.1';

async function faultSequence(args, n) {
	const s = await startServer(data.dir, args);
	try {
		const seen = [];
		for (let i = 0; i < n; i++) {
			const r = await graphql(s, VIEWER);
			seen.push(observed(r, 600)); /* far above a loaded machine's normal answer time */
			if (r.status === 429) {
				assert.equal(r.headers['retry-after'], '3');
				assert.equal(r.headers['ratelimit-reset'], '3');
				assert.equal(r.headers['ratelimit-remaining'], '0');
				assert.ok(r.headers['ratelimit-limit']);
			}
			if ([500, 502, 503, 429].includes(r.status))
				assert.ok(json(r).errors[0].message);
			if (seen[i] === 'reset' || seen[i] === 'truncate') {
				assert.equal(r.status, 200);
				assert.ok(Number(r.headers['content-length']) > r.body.length);
			}
		}
		const logged = readJsonl(s.log).map(l => l.fault);
		return {seen, logged};
	} finally {
		await s.stop();
	}
}

test('GraphQL faults: every kind appears, matches the log, repeats with the seed', async () => {
	const a = await faultSequence(['--faults', MIXED, '--seed', '7'], 50);
	for (const kind of ['500', '502', '503', '429', 'reset', 'stall', 'truncate'])
		assert.ok(a.seen.includes(kind), `${kind} never seen: ${a.seen}`);
	assert.ok(a.seen.includes(null));
	assert.deepEqual(a.seen, a.logged);
	const b = await faultSequence(['--faults', MIXED, '--seed', '7'], 50);
	assert.deepEqual(b.seen, a.seen);
	const c = await faultSequence(['--faults', MIXED, '--seed', '8'], 50);
	assert.notDeepEqual(c.seen, a.seen);
});

test('stall waits the given time; faults stay off storage unless scoped there', async () => {
	const s = await startServer(data.dir, ['--faults', 'stall=1:ms=400']);
	try {
		const r = await graphql(s, VIEWER);
		assert.equal(r.status, 200);
		assert.ok(r.ms >= 400, `${r.ms} ms`);
		const loc = await redirectTarget(s, data.runFileUrl(s));
		const got = await rawRequest(loc);
		assert.ok(got.ms < 400);
		assert.ok(got.body.equals(data.runFileBytes));
	} finally {
		await s.stop();
	}
});

test('storage faults: redirect routes and a proxy in front of nginx, which passes ranges through', async () => {
	const spec = 'scope=storage,503=0.2,reset=0.2,truncate=0.2,429=0.1';
	const s = await startServer(data.dir, ['--faults', spec, '--seed', '3']);
	try {
		assert.equal((await graphql(s, VIEWER)).status, 200, 'GraphQL is not in scope');
		const seenRedirect = [];
		let loc = null;
		for (let i = 0; i < 40; i++) {
			const r = await rawRequest(data.runFileUrl(s), {headers: {Authorization: basic(KEY)}});
			seenRedirect.push(observed(r, Infinity));
			if (r.status === 302 && r.complete)
				loc = r.headers.location;
		}
		for (const kind of ['503', 'reset', 'truncate', '429', null])
			assert.ok(seenRedirect.includes(kind), `${kind} not seen on /files: ${seenRedirect}`);
		const seenStorage = [];
		for (let i = 0; i < 40; i++) {
			const r = await rawRequest(loc, {headers: {Range: 'bytes=10-809'}});
			const kind = observed(r, Infinity);
			seenStorage.push(kind);
			if (kind === null) {
				assert.equal(r.status, 206);
				assert.ok(r.body.equals(data.runFileBytes.subarray(10, 810)));
			} else if (kind === 'reset' || kind === 'truncate') {
				assert.equal(r.status, 206);
				assert.equal(r.body.length, 400);
				assert.ok(r.body.equals(data.runFileBytes.subarray(10, 410)));
			}
		}
		for (const kind of ['503', 'reset', 'truncate', '429', null])
			assert.ok(seenStorage.includes(kind), `${kind} not seen on storage: ${seenStorage}`);
		const own = readJsonl(s.storageLog).filter(l => l.fault);
		assert.deepEqual(own.map(l => l.fault), seenStorage.filter(k => k === '503' || k === '429'));
	} finally {
		await s.stop();
	}
});
