// Tests of --storage-latency-ms (a delay before the first byte of every storage response, bandwidth
// untouched) and --storage-url-ttl (pre-signed URLs expire: 403 afterwards, a fresh URL works), through
// real `tests/server/run` processes.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {KEY, startServer, runExpectingFailure, rawRequest, basic, readJsonl, sleep} from './helpers/server.mjs';
import {makeDataDir} from './helpers/data.mjs';
import {urlExpired} from '../lib/storage-gate.js';

let data;

before(() => {
	data = makeDataDir();
});

after(() => {
	fs.rmSync(data.root, {recursive: true, force: true});
});

async function storageUrl(server) {
	const r = await rawRequest(data.runFileUrl(server), {headers: {Authorization: basic(KEY)}});
	assert.equal(r.status, 302);
	return r.headers.location;
}

// The median of n timed GETs of url (ms) and the last response.
async function timedGets(url, n, headers = {}) {
	const ms = [];
	let last;
	for (let i = 0; i < n; i++) {
		last = await rawRequest(url, {headers});
		ms.push(last.ms);
	}
	ms.sort((a, b) => a - b);
	return {ms: ms[Math.floor(n / 2)], last};
}

test('bad values of the new flags exit 2', async () => {
	for (const [args, pattern] of [
		[['--storage-latency-ms', 'soon'], /--storage-latency-ms/],
		[['--storage-latency-ms', '-5'], /--storage-latency-ms/],
		[['--storage-url-ttl', '0'], /--storage-url-ttl/],
	]) {
		const r = await runExpectingFailure(['--data', data.dir, '--api-key', KEY, ...args]);
		assert.equal(r.code, 2, args.join(' '));
		assert.match(r.stderr, pattern);
	}
});

test('--storage-latency-ms delays every storage answer, whole and ranged', async () => {
	const slow = await startServer(data.dir, ['--storage-latency-ms', '150']);
	const fast = await startServer(data.dir);
	try {
		const url = await storageUrl(slow);
		const whole = await timedGets(url, 3);
		assert.equal(whole.last.status, 200);
		assert.ok(whole.last.body.equals(data.runFileBytes));
		const range = await timedGets(url, 3, {Range: 'bytes=10-19'});
		assert.equal(range.last.status, 206);
		assert.ok(range.last.body.equals(data.runFileBytes.subarray(10, 20)));
		const base = await timedGets(await storageUrl(fast), 3);
		console.log(`# storage GET: ${whole.ms} ms with 150 ms latency, ${base.ms} ms without`);
		assert.ok(whole.ms >= 150 && range.ms >= 150, `${whole.ms} / ${range.ms} ms`);
		assert.ok(base.ms < 100, `${base.ms} ms without latency`);
		// The API itself is not delayed, and the storage log still records the requests.
		const api = await rawRequest(data.runFileUrl(slow), {headers: {Authorization: basic(KEY)}});
		assert.ok(api.ms < 100, `API took ${api.ms} ms`);
		const logged = readJsonl(slow.storageLog).filter(l => l.status === 206);
		assert.ok(logged.length >= 3);
		assert.ok(!logged.some(l => l.uri.includes('_storage_gate')));
	} finally {
		await slow.stop();
		await fast.stop();
	}
});

test('--storage-url-ttl: URLs work until they expire, then 403; fresh ones work', async () => {
	const s = await startServer(data.dir, ['--storage-url-ttl', '1']);
	try {
		const url = await storageUrl(s);
		const early = await rawRequest(url);
		assert.equal(early.status, 200);
		assert.ok(early.body.equals(data.runFileBytes));
		await sleep(2100);
		const late = await rawRequest(url, {headers: {Range: 'bytes=0-9'}});
		assert.equal(late.status, 403);
		const again = await rawRequest(await storageUrl(s));
		assert.equal(again.status, 200);
		assert.ok(again.body.equals(data.runFileBytes));
		const statuses = readJsonl(s.storageLog).map(l => l.status);
		assert.deepEqual(statuses.slice(-3), [200, 403, 200]);
	} finally {
		await s.stop();
	}
});

test('without --storage-url-ttl expired-looking URLs are still served', async () => {
	const s = await startServer(data.dir, ['--storage-latency-ms', '1']);
	try {
		const url = new URL(await storageUrl(s));
		url.searchParams.set('X-Expires', '1000');
		assert.equal((await rawRequest(url.toString())).status, 200);
	} finally {
		await s.stop();
	}
});

test('urlExpired reads X-Expires', () => {
	assert.equal(urlExpired('/a/b?X-Expires=100&X-Signature=ff', 99), false);
	assert.equal(urlExpired('/a/b?X-Expires=100&X-Signature=ff', 101), true);
	assert.equal(urlExpired('/a/b', 1), true);
	assert.equal(urlExpired('/a/b?X-Expires=soon', 1), true);
});
