// Tests of the artifact model (lib/artifacts.js, lib/generate-artifacts.js) and its resolvers
// (lib/resolvers-artifacts.js): lookups by alias and version, `latest`, manifests and their digests,
// V1/V2 download routes, reference entries, registries, visibility, imported real manifests, the
// generator's determinism and scale. Server tests drive a real `tests/server/run` over HTTP and
// compare bytes fetched from storage with the manifests' digests.
import {test, before, after, describe} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {graphql as execGraphql} from 'graphql';
import {startServer, graphql, json, rawRequest, basic, tempDir, SERVER_DIR, KEY} from './helpers/server.mjs';
import {Store} from '../lib/store.js';
import {loadSchema, attachResolvers} from '../lib/schema.js';
import {resolvers as coreResolvers} from '../lib/resolvers-core.js';
import {resolvers as artifactResolvers} from '../lib/resolvers-artifacts.js';
import {
	loadArtifacts, logArtifactVersion, linkArtifact, manifestDigest, membershipByName, artifactModel, b64ToHex,
} from '../lib/artifacts.js';
import {expandGeneratedArtifact, generatedRange} from '../lib/generate-artifacts.js';

const SHARED = path.resolve(process.env.WB_SHARED_DIR ?? path.join(SERVER_DIR, '..', '..', '..', 'shared'));
const MANIFESTS = path.join(SHARED, 'corpus', 'manifests');
const MOZILLA = path.join(MANIFESTS, 'reconstructed', 'mozilla__search-term-data-validation__run-20231215_095521-y0fap6xc__job0.json');

const ALICE = 'alice-key-' + 'a'.repeat(30);
const BOB = 'bob-key-' + 'b'.repeat(32);

const md5hex = (buf) => crypto.createHash('md5').update(buf).digest('hex');
const md5b64 = (buf) => crypto.createHash('md5').update(buf).digest('base64');

// ------------------------------------------------------------------ queries, as the SDK sends them

const PROJECT_FRAGMENT = 'project { id internalId name entity { name } }';
const ARTIFACT_FRAGMENT = `fragment ArtifactFragment on Artifact {
	__typename id artifactSequence { __typename name ${PROJECT_FRAGMENT} } versionIndex artifactType { name }
	description metadata ttlDurationSeconds ttlIsInherited tags { __typename id name } historyStep state size
	digest commitHash fileCount createdAt updatedAt
	aliases @include(if: $includeAliases) { artifactCollection { __typename name ${PROJECT_FRAGMENT} } __typename id alias } }`;

const MEMBERSHIP_BY_NAME = `query ArtifactMembershipByName($entity: String!, $project: String!, $name: String!,
		$includeAliases: Boolean = false) {
	project(name: $project, entityName: $entity) {
		artifactCollectionMembership(name: $name) {
			__typename id versionIndex aliases { __typename id alias }
			artifactCollection { __typename name ${PROJECT_FRAGMENT} }
			artifact { ...ArtifactFragment } } } }
${ARTIFACT_FRAGMENT}`;

const MANIFEST_URL = `query FetchArtifactManifest($id: ID!) {
	artifact(id: $id) { currentManifest { file { directUrl } } } }`;

const MEMBERSHIP_FILES = `query ArtifactMembershipFiles($entity: String!, $project: String!, $collection: String!,
		$alias: String!, $fileNames: [String!], $cursor: String, $perPage: Int = 50) {
	project(name: $project, entityName: $entity) { artifactCollection(name: $collection) {
		artifactMembership(aliasName: $alias) { files(names: $fileNames, after: $cursor, first: $perPage) {
			totalCount pageInfo { __typename endCursor hasNextPage }
			edges { node { __typename id name: displayName url sizeBytes storagePath mimetype updatedAt digest md5 directUrl } } } } } } }`;

const PROJECT_ARTIFACTS = `query ProjectArtifacts($entity: String!, $project: String!, $type: String!, $collection: String!,
		$cursor: String, $perPage: Int = 50, $order: String, $filters: JSONString, $includeAliases: Boolean = true) {
	project(entityName: $entity, name: $project) { artifactType(name: $type) {
		artifactCollection(name: $collection) {
			artifacts(after: $cursor, first: $perPage, order: $order, filters: $filters) {
				totalCount pageInfo { __typename endCursor hasNextPage }
				edges { version node { ...ArtifactFragment } } } } } } }
${ARTIFACT_FRAGMENT}`;

const FETCH_REGISTRIES = `query FetchRegistries($organization: String!, $filters: JSONString, $cursor: String,
		$perPage: Int, $order: String) {
	organization(name: $organization) { orgEntity {
		projects(filters: $filters, after: $cursor, first: $perPage, order: $order) {
			pageInfo { __typename endCursor hasNextPage }
			edges { node { __typename id internalId name entity { name organization { name } } description createdAt
				updatedAt access allowAllArtifactTypes: allowAllArtifactTypesInRegistry
				artifactTypes(includeAll: true) { edges { node { name } } } } } } } } }`;

const REGISTRY_COLLECTIONS = `query RegistryCollections($organization: String!, $registryFilter: JSONString,
		$collectionFilter: JSONString, $collectionTypes: [ArtifactCollectionType!] = [PORTFOLIO],
		$cursor: String, $perPage: Int, $order: String) {
	organization(name: $organization) { orgEntity { name
		artifactCollections(projectFilters: $registryFilter, filters: $collectionFilter,
				collectionTypes: $collectionTypes, after: $cursor, first: $perPage, order: $order) {
			totalCount pageInfo { endCursor hasNextPage }
			edges { node { __typename id name description createdAt updatedAt ${PROJECT_FRAGMENT}
				type: defaultArtifactType { name } tags { edges { node { __typename id name } } } } } } } } }`;

const REGISTRY_VERSIONS = `query RegistryVersions($organization: String!, $registryFilter: JSONString,
		$collectionFilter: JSONString, $artifactFilter: JSONString, $cursor: String, $perPage: Int, $order: String) {
	organization(name: $organization) { orgEntity { name
		artifactMemberships(projectFilters: $registryFilter, collectionFilters: $collectionFilter,
				filters: $artifactFilter, after: $cursor, first: $perPage, order: $order) {
			pageInfo { endCursor hasNextPage }
			edges { node { id versionIndex aliases { alias } artifactCollection { __typename name ${PROJECT_FRAGMENT} }
				artifact { id digest artifactSequence { name } } } } } } } }`;

// ------------------------------------------------------------------ the test data directory

function makeData() {
	const root = tempDir('wbsrv-art-');
	const dir = path.join(root, 'data');
	fs.mkdirSync(path.join(dir, 'src'), {recursive: true});
	const cBytes = crypto.randomBytes(3000);
	fs.writeFileSync(path.join(dir, 'src', 'c.bin'), cBytes);
	const config = {
		users: [
			{username: 'alice', apiKey: ALICE, teams: ['lab']},
			{username: 'bob', apiKey: BOB},
		],
		teams: [{name: 'lab', organization: 'Org Display'}],
		organizations: [{name: 'Org Display', orgEntity: 'org-ent', members: ['alice']}],
		projects: [
			{entity: 'alice', name: 'p', access: 'PRIVATE'},
			{entity: 'bob', name: 'private', access: 'PRIVATE'},
		],
		artifacts: [
			{entity: 'alice', project: 'p', type: 'dataset', name: 'ds', description: 'the dataset', tags: ['vision'],
				versions: [
					{files: {'a.txt': 'A\n', 'dir/b.bin': {size: 5000, seed: 'b'}, 'dir/c.bin': {file: 'src/c.bin'}},
						metadata: {rows: 1}},
					{files: {'a.txt': 'A\n', 'dir/b.bin': {size: 5000, seed: 'b2'}, 'dir/c.bin': {file: 'src/c.bin'},
						'refs/s3.bin': {ref: 's3://bucket/key', digest: 'abc-2', size: 10, extra: {etag: '"abc-2"', versionID: 'v9'}},
						'refs/web': {ref: 'https://example.com/x'}},
					aliases: ['best'], metadata: {rows: 2, nested: {score: 0.5}}, tags: ['clean']},
				]},
			{entity: 'alice', project: 'p', type: 'model', name: 'm', versions: [
				{files: {'w.bin': {size: 1000, seed: 'w0'}}, aliases: ['best']},
				{files: {'w.bin': {size: 1000, seed: 'w1'}, 'ds-a.txt': {artifact: 'alice/p/ds:v1', path: 'a.txt'},
					'ds-s3.bin': {artifact: 'alice/p/ds:best', path: 'refs/s3.bin'}}},
			]},
			{entity: 'alice', project: 'p', type: 'dataset', name: 'old', versions: [{layout: 'V1', files: {'x.txt': 'x\n'}}]},
			{entity: 'alice', project: 'p', type: 'job', name: 'job-imported', versions: [{manifest: MOZILLA}]},
			{entity: 'alice', project: 'p', type: 'dataset', name: 'regional', versions: [
				{region: 'coreweave-us', files: {'r.txt': 'r\n'}}]},
			{entity: 'bob', project: 'private', type: 'dataset', name: 'hidden', versions: [{files: {'s.txt': 'secret\n'}}]},
		],
		generate: [{kind: 'artifact', entity: 'alice', project: 'gen', type: 'dataset', name: 'g', versions: 3,
			files: 40, fileSize: 100, shared: 0.5, seed: 5}],
		registries: [{organization: 'Org Display', name: 'models', description: 'blessed models', collections: [
			{name: 'best-models', type: 'model', links: [
				{entity: 'alice', project: 'p', artifact: 'm:v1', aliases: ['prod']},
				{entity: 'alice', project: 'p', artifact: 'm:v0'},
			]},
			{name: 'empty', type: 'model'},
		]}],
	};
	fs.writeFileSync(path.join(dir, 'server.json'), JSON.stringify(config, null, 2));
	return {root, dir, cBytes};
}

// ------------------------------------------------------------------ helpers

async function gql(srv, query, variables = {}, key = ALICE) {
	const res = await graphql(srv, query, {variables, key});
	const body = json(res);
	assert.equal(res.status, 200, JSON.stringify(body));
	assert.equal(body.errors, undefined, JSON.stringify(body.errors));
	return body.data;
}

// GET a storage URL without credentials; the body as a Buffer.
async function storageGet(url, headers = {}) {
	const res = await fetch(url, {headers, redirect: 'manual'});
	assert.ok(res.status === 200 || res.status === 206, `${url}: ${res.status}`);
	return Buffer.from(await res.arrayBuffer());
}

// An authenticated download route: must be a 302 to storage; returns the Location.
async function redirectOf(url, key = ALICE) {
	const res = await rawRequest(url, {headers: {Authorization: basic(key)}});
	assert.equal(res.status, 302, `${url}: ${res.status} ${res.body}`);
	assert.ok(!res.headers.location.includes(key), 'the key leaked into the storage URL');
	return res.headers.location;
}

async function statusOf(url, key = ALICE) {
	return (await rawRequest(url, {headers: key ? {Authorization: basic(key)} : {}})).status;
}

async function membership(srv, entity, project, name, key = ALICE) {
	const d = await gql(srv, MEMBERSHIP_BY_NAME, {entity, project, name, includeAliases: true}, key);
	return d.project && d.project.artifactCollectionMembership;
}

async function manifestOf(srv, artifactId) {
	const d = await gql(srv, MANIFEST_URL, {id: artifactId});
	const url = d.artifact.currentManifest.file.directUrl;
	return JSON.parse((await storageGet(url)).toString('utf8'));
}

async function allFiles(srv, entity, project, collection, alias, perPage = 2) {
	const out = [];
	let cursor = null;
	for (;;) {
		const d = await gql(srv, MEMBERSHIP_FILES, {entity, project, collection, alias, cursor, perPage});
		const files = d.project.artifactCollection.artifactMembership.files;
		out.push(...files.edges.map((e) => e.node));
		if (!files.pageInfo.hasNextPage) return out;
		cursor = files.pageInfo.endCursor;
	}
}

// ------------------------------------------------------------------ pure functions

test('the artifact digest formula reproduces the digests of real artifacts', () => {
	// Digests recorded with the reconstructed manifests (corpus INDEX.md).
	const expected = {
		'mozilla__search-term-data-validation__run-20231215_095521-y0fap6xc__job0.json': '0c99f14f8b705097201ef003bd8a38d4',
		'0-KaiKai-0__stanford_alpaca__run-20231102_032820-iqu955sp__job0.json': '4e19aa9ec8ddcf621fa7c04b7087eaea',
		'yogabbagabb__genre_classification__run-20231228_153841-9nu4s2s4__job0.json': 'dabd0d645d2544b77db53394bf0ac2dd',
	};
	for (const [file, digest] of Object.entries(expected)) {
		const m = JSON.parse(fs.readFileSync(path.join(MANIFESTS, 'reconstructed', file), 'utf8'));
		assert.equal(manifestDigest(m.contents), digest, file);
	}
});

test('generated content is a pure function of the seed, and ranges can start anywhere', () => {
	const a = expandGeneratedArtifact({entity: 'e', project: 'p', type: 't', name: 'n', versions: 4, files: 200, seed: 9});
	const b = expandGeneratedArtifact({entity: 'e', project: 'p', type: 't', name: 'n', versions: 4, files: 200, seed: 9});
	const c = expandGeneratedArtifact({entity: 'e', project: 'p', type: 't', name: 'n', versions: 4, files: 200, seed: 10});
	assert.deepEqual(a, b);
	assert.notDeepEqual(a, c);
	// shared 0.5: about half of the files keep their content from one version to the next.
	for (let v = 1; v < 4; v++) {
		const same = Object.keys(a.versions[v].files).filter((p) => a.versions[v].files[p].seed === a.versions[v - 1].files[p].seed);
		assert.ok(same.length > 70 && same.length < 130, `v${v}: ${same.length} of 200 shared`);
	}
	const whole = generatedRange('s', 0, 100000);
	for (const off of [0, 1, 15, 16, 17, 4093, 65536, 99000])
		assert.deepEqual(generatedRange('s', off, 1000), whole.subarray(off, off + 1000), `offset ${off}`);
});

test('same seed → same digests in two independent loads; versions share blobs', async () => {
	const entry = {kind: 'artifact', entity: 'e', project: 'p', type: 'dataset', name: 'd', versions: 3, files: 300,
		fileSize: 64, shared: 0.5, seed: 77};
	const digests = [];
	for (let i = 0; i < 2; i++) {
		const dir = tempDir();
		try {
			const store = new Store({storageDir: dir});
			await loadArtifacts(store, {generate: [entry]});
			const p = store.project('e', 'p');
			const vs = [0, 1, 2].map((v) => membershipByName(p, `d:v${v}`).artifact);
			digests.push(vs.map((a) => a.digest));
			// Shared content is stored once, and keeps the birth id of the version that first held it.
			const blobs = new Set(vs.flatMap((a) => a.manifest.entries.map((e) => e.hex)));
			assert.equal(artifactModel(store).blobs.size, blobs.size);
			assert.ok(blobs.size < 3 * 300 && blobs.size > 300);
			for (const e of vs[2].manifest.entries) {
				const first = vs.find((a) => a.manifest.entries.some((x) => x.hex === e.hex));
				assert.equal(e.birthArtifactID, first.id);
			}
			assert.equal(fs.readdirSync(path.join(dir, 'artifacts', 'md5')).length, blobs.size);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	}
	assert.deepEqual(digests[0], digests[1]);
	assert.equal(new Set(digests[0]).size, 3);
});

test('a 10,000-file dataset with two versions loads in reasonable time', async () => {
	const dir = tempDir();
	try {
		const store = new Store({storageDir: dir});
		const t0 = Date.now();
		await loadArtifacts(store, {generate: [{kind: 'artifact', entity: 'e', project: 'p', type: 'dataset', name: 'big',
			versions: 2, files: 10000, fileSize: 256, shared: 0.5, seed: 3}]});
		const ms = Date.now() - t0;
		console.log(`# 10,000 files x 2 versions: ${ms} ms`);
		assert.ok(ms < 60000, `${ms} ms`);
		const a = membershipByName(store.project('e', 'p'), 'big:latest').artifact;
		assert.equal(a.fileCount, 10000);
		assert.equal(a.size, 10000 * 256);
		const manifest = JSON.parse(fs.readFileSync(path.join(dir, a.manifest.storagePath), 'utf8'));
		assert.equal(Object.keys(manifest.contents).length, 10000);
		assert.equal(manifestDigest(manifest.contents), a.digest);
		// Spot-check stored bytes against their digests.
		for (const p of ['data/000/item-000000.bin', 'data/009/item-009999.bin', 'data/004/item-004321.bin']) {
			const e = manifest.contents[p];
			assert.equal(md5b64(fs.readFileSync(path.join(dir, 'artifacts', 'md5', b64ToHex(e.digest)))), e.digest);
		}
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test('config mistakes are reported with the artifact and the reason', async () => {
	const dir = tempDir();
	try {
		const load = (cfg) => loadArtifacts(new Store({storageDir: dir}), cfg, {dataDir: dir});
		const one = (v, extra = {}) => ({artifacts: [{entity: 'e', project: 'p', type: 't', name: 'n', versions: [v], ...extra}]});
		await assert.rejects(load(one({files: {'a': {nope: 1}}})), /e\/p\/n file "a": expected text/);
		await assert.rejects(load(one({files: {'../a': 'x'}})), /bad entry path/);
		await assert.rejects(load(one({files: {a: 'x'}, layout: 'V3'})), /layout must be V1 or V2/);
		await assert.rejects(load(one({files: {a: 'x'}, aliases: ['v3']})), /bad alias "v3"/);
		await assert.rejects(load(one({files: {a: {artifact: 'e/p/none:v0'}}})), /no artifact e\/p\/none:v0/);
		await assert.rejects(load(one({files: {a: 'x'}, run: 'nope'})), /no run nope/);
		await assert.rejects(load({registries: [{organization: 'Nope', name: 'x'}]}), /no organization "Nope"/);
		await assert.rejects(load(one({files: {a: 'x'}, alias: ['best']})), /artifacts\[0\]\.versions\[0\]: unknown key "alias"/);
		await assert.rejects(load({generate: [{kind: 'artifact', entity: 'e', project: 'p', type: 't', name: 'g', file: 3}]}),
			/generate\[0\]: unknown key "file"/);
		await assert.rejects(load({generate: [{kind: 'artifact', entity: 'e', project: 'p', type: 't', name: 'g', files: -1}]}),
			/generate\[0\]: "files" must be an integer >= 0/);
		await assert.rejects(load({artifacts: [
			{entity: 'e', project: 'p', type: 't', name: 'n', versions: [{files: {a: 'x'}}]},
			{entity: 'e', project: 'p', type: 'other', name: 'n', versions: [{files: {a: 'y'}}]}]}), /is a t sequence, not a other sequence/);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

// ------------------------------------------------------------------ in-process GraphQL: live changes

describe('live model changes (in process)', () => {
	let dir;
	let store;
	let schema;
	const ctx = () => ({store, user: store.users.get('tester'), baseUrl: 'http://api', pageCap: null,
		apiUrl: (p) => `http://api${p}`, storageUrl: (p) => `http://storage/${p}`});
	const run = async (source, variableValues) => {
		const r = await execGraphql({schema, source, variableValues, contextValue: ctx()});
		assert.equal(r.errors, undefined, JSON.stringify(r.errors));
		return JSON.parse(JSON.stringify(r.data));
	};

	before(async () => {
		dir = tempDir();
		store = new Store({storageDir: dir});
		store.addUser({username: 'tester', apiKey: KEY, superuser: true});
		store.ensureOrganization('Org', {orgEntity: 'org-ent'});
		await loadArtifacts(store, {
			artifacts: [{entity: 'e', project: 'p', type: 'model', name: 'm', versions: [
				{files: {'w': 'w0'}}, {files: {'w': 'w1'}, aliases: ['best']}]}],
			registries: [{organization: 'Org', name: 'reg', collections: [{name: 'c', type: 'model',
				links: [{entity: 'e', project: 'p', artifact: 'm:v1'}]}]},
			{entity: 'e', collections: [{name: 'mr', type: 'model', links: [{entity: 'e', project: 'p', artifact: 'm:v0'}]}]}],
		});
		schema = attachResolvers(loadSchema(), coreResolvers, artifactResolvers);
	});
	after(() => fs.rmSync(dir, {recursive: true, force: true}));

	const LATEST = `query($p: String!, $e: String!, $n: String!) { project(entityName: $e, name: $p) {
		artifactCollectionMembership(name: $n) { versionIndex aliases { alias } artifact { id } } } }`;

	test('a legacy model registry is a portfolio in an ordinary project', async () => {
		const d = await run(LATEST, {e: 'e', p: 'model-registry', n: 'mr:latest'});
		assert.equal(d.project.artifactCollectionMembership.versionIndex, 0);
		assert.equal(d.project.artifactCollectionMembership.artifact.id, membershipByName(store.project('e', 'p'), 'm:v0').artifact.id);
	});

	test('latest and named aliases move when a new version is logged', async () => {
		let d = await run(LATEST, {e: 'e', p: 'p', n: 'm:latest'});
		assert.equal(d.project.artifactCollectionMembership.versionIndex, 1);
		assert.deepEqual(d.project.artifactCollectionMembership.aliases.map((a) => a.alias), ['v1', 'latest', 'best']);
		await logArtifactVersion(store, {entity: 'e', project: 'p', type: 'model', name: 'm', files: {'w': 'w2'},
			aliases: ['best']}, {nowMs: Date.now()});
		d = await run(LATEST, {e: 'e', p: 'p', n: 'm:latest'});
		assert.equal(d.project.artifactCollectionMembership.versionIndex, 2);
		assert.deepEqual(d.project.artifactCollectionMembership.aliases.map((a) => a.alias), ['v2', 'latest', 'best']);
		d = await run(LATEST, {e: 'e', p: 'p', n: 'm:v1'});
		assert.deepEqual(d.project.artifactCollectionMembership.aliases.map((a) => a.alias), ['v1']);
		// Logging content identical to an existing version adds no version (W&B dedups by digest).
		await logArtifactVersion(store, {entity: 'e', project: 'p', type: 'model', name: 'm', files: {'w': 'w0'},
			aliases: ['again']}, {nowMs: Date.now()});
		d = await run(LATEST, {e: 'e', p: 'p', n: 'm:again'});
		assert.equal(d.project.artifactCollectionMembership.versionIndex, 0);
		d = await run(LATEST, {e: 'e', p: 'p', n: 'm:latest'});
		assert.equal(d.project.artifactCollectionMembership.versionIndex, 2);
	});

	test('linking into a registry portfolio gives the next portfolio version and moves its latest', async () => {
		const v2 = membershipByName(store.project('e', 'p'), 'm:v2').artifact;
		linkArtifact(store, v2, store.project('org-ent', 'wandb-registry-reg'), 'c', {aliases: ['prod'], nowMs: Date.now()});
		const d = await run(LATEST, {e: 'org-ent', p: 'wandb-registry-reg', n: 'c:latest'});
		assert.equal(d.project.artifactCollectionMembership.versionIndex, 1);
		assert.equal(d.project.artifactCollectionMembership.artifact.id, v2.id);
		assert.deepEqual(d.project.artifactCollectionMembership.aliases.map((a) => a.alias), ['v1', 'latest', 'prod']);
		const old = await run(LATEST, {e: 'org-ent', p: 'wandb-registry-reg', n: 'c:v0'});
		assert.deepEqual(old.project.artifactCollectionMembership.aliases.map((a) => a.alias), ['v0']);
	});

	test('rawManifest versions keep hostile manifest text byte for byte, or make N entries', async () => {
		const text = '{"version":1,"contents":{"../x":{"digest":"a","size":0},"../x":{"digest":"b"}}}';
		const raw = (await logArtifactVersion(store, {entity: 'e', project: 'h', type: 'dataset', name: 'bad',
			rawManifest: text}, {nowMs: Date.now()})).artifact;
		assert.equal(fs.readFileSync(path.join(dir, raw.manifest.storagePath), 'utf8'), text);
		assert.equal(raw.digest, crypto.createHash('md5').update(text).digest('hex'));
		assert.equal(raw.fileCount, 1); // what JSON.parse sees: the duplicate key collapses
		const many = (await logArtifactVersion(store, {entity: 'e', project: 'h', type: 'dataset', name: 'many',
			rawManifest: {entries: 3}}, {nowMs: Date.now()})).artifact;
		const m = JSON.parse(fs.readFileSync(path.join(dir, many.manifest.storagePath), 'utf8'));
		assert.deepEqual(Object.keys(m.contents), ['f/0000000', 'f/0000001', 'f/0000002']);
		assert.deepEqual(m.contents['f/0000001'], {digest: crypto.createHash('md5').digest('base64'), size: 0});
		assert.equal(many.fileCount, 3);
		await assert.rejects(logArtifactVersion(store, {entity: 'e', project: 'h', type: 'dataset', name: 'x',
			rawManifest: {entries: -1}}), /rawManifest/);
	});

	test('the admin hooks log and link, and refuse server-side paths', async () => {
		const tester = store.users.get('tester');
		const r = await store.logArtifact(tester, {entity: 'e', project: 'p', type: 'model', name: 'm', files: {'w': 'w3'}});
		assert.deepEqual([r.ok, r.version], [true, 'v3']);
		assert.match((await store.logArtifact(tester, {entity: 'e', project: 'p', type: 'model', name: 'm',
			files: {'w': {file: '/etc/passwd'}}})).error, /not accepted/);
		const l = store.linkArtifact(tester, {entity: 'e', project: 'p', artifact: 'm:v3',
			target: {organization: 'Org', registry: 'reg', collection: 'c'}, aliases: ['canary']});
		assert.deepEqual([l.ok, l.version], [true, 'v2']);
		assert.match(store.linkArtifact(tester, {entity: 'e', project: 'p', artifact: 'm:v9', target: {}}).error, /not found/);
	});
});

// ------------------------------------------------------------------ the real server

describe('through the server', () => {
	let data;
	let srv;

	before(async () => {
		data = makeData();
		srv = await startServer(data.dir, [], {apiKey: ALICE});
	});
	after(async () => {
		if (srv)
			await srv.stop();
		fs.rmSync(data.root, {recursive: true, force: true});
	});

	test('serverInfo advertises the artifact features the SDK probes', async () => {
		const d = await gql(srv, 'query ServerFeaturesQuery { serverInfo { features { name isEnabled } } }');
		const on = new Set(d.serverInfo.features.filter((f) => f.isEnabled).map((f) => f.name));
		for (const f of ['ARTIFACT_REGISTRY_SEARCH', 'PROJECT_ARTIFACT_COLLECTION_MEMBERSHIP', 'ARTIFACT_COLLECTION_MEMBERSHIP_FILES'])
			assert.ok(on.has(f), f);
	});

	test('lookup by name:alias and name:vN; absent things are null', async () => {
		const latest = await membership(srv, 'alice', 'p', 'ds:latest');
		const best = await membership(srv, 'alice', 'p', 'ds:best');
		const v1 = await membership(srv, 'alice', 'p', 'ds:v1');
		const bare = await membership(srv, 'alice', 'p', 'ds');
		assert.equal(latest.versionIndex, 1);
		for (const m of [best, v1, bare]) {
			assert.equal(m.id, latest.id);
			assert.equal(m.artifact.id, latest.artifact.id);
		}
		assert.deepEqual(latest.aliases.map((a) => a.alias), ['v1', 'latest', 'best']);
		assert.equal(latest.artifactCollection.__typename, 'ArtifactSequence');
		assert.deepEqual(latest.artifactCollection.project.entity, {name: 'alice'});
		const a = latest.artifact;
		assert.equal(a.state, 'COMMITTED');
		assert.equal(a.versionIndex, 1);
		assert.equal(a.artifactType.name, 'dataset');
		assert.equal(a.artifactSequence.name, 'ds');
		assert.deepEqual(JSON.parse(a.metadata), {rows: 2, nested: {score: 0.5}});
		assert.deepEqual(a.tags.map((t) => t.name), ['clean']);
		assert.equal(a.fileCount, 5, 'fileCount includes references');
		assert.equal(a.size, 2 + 5000 + 3000 + 10, 'size includes references');
		assert.equal(a.ttlDurationSeconds, -2);
		assert.equal(a.ttlIsInherited, true);
		assert.match(a.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
		assert.match(a.digest, /^[0-9a-f]{32}$/);
		assert.match(Buffer.from(a.id, 'base64').toString(), /^Artifact:\d+$/);
		const v0 = await membership(srv, 'alice', 'p', 'ds:v0');
		assert.deepEqual(v0.aliases.map((x) => x.alias), ['v0']);
		assert.notEqual(v0.artifact.digest, a.digest);
		for (const name of ['ds:v2', 'ds:nope', 'nope:latest'])
			assert.equal(await membership(srv, 'alice', 'p', name), null, name);
		const d = await gql(srv, MEMBERSHIP_BY_NAME, {entity: 'alice', project: 'nope', name: 'ds:v0'});
		assert.equal(d.project, null);
		// Legacy routes and lookup by id.
		const legacy = await gql(srv, `query { project(entityName: "alice", name: "p") {
			artifact(name: "ds:best") { id artifactType { name } }
			artifactType(name: "dataset") { artifact(name: "ds:v0") { id } artifactCollection(name: "m") { id } } } }`);
		assert.equal(legacy.project.artifact.id, a.id);
		assert.equal(legacy.project.artifactType.artifact.id, v0.artifact.id);
		assert.equal(legacy.project.artifactType.artifactCollection, null, 'm is a model, not a dataset');
		const byId = await gql(srv, `query ArtifactByID($id: ID!, $includeAliases: Boolean = true) {
			artifact(id: $id) { ...ArtifactFragment } } ${ARTIFACT_FRAGMENT}`, {id: a.id});
		assert.equal(byId.artifact.digest, a.digest);
	});

	test('types, collections and versions: listing, filters, order, pagination', async () => {
		const d = await gql(srv, `query { project(entityName: "alice", name: "p") {
			artifactTypes { edges { node { __typename name } } }
			artifactType(name: "dataset") { name artifactCollections { totalCount edges { node { __typename name } } } }
			artifactCollections(filters: "{\\"tag\\": \\"vision\\"}") { totalCount edges { node { name description
				tags { edges { node { name } } } } } } } }`);
		assert.deepEqual(d.project.artifactTypes.edges.map((e) => e.node.name).sort(), ['dataset', 'job', 'model']);
		assert.deepEqual(d.project.artifactType.artifactCollections.edges.map((e) => e.node.name).sort(), ['ds', 'old', 'regional']);
		assert.deepEqual(d.project.artifactCollections.edges.map((e) => [e.node.name, e.node.description]), [['ds', 'the dataset']]);
		const list = async (vars) => (await gql(srv, PROJECT_ARTIFACTS, {entity: 'alice', project: 'gen', type: 'dataset',
			collection: 'g', ...vars})).project.artifactType.artifactCollection.artifacts;
		const all = await list({filters: JSON.stringify({state: 'COMMITTED'})});
		assert.equal(all.totalCount, 3);
		assert.deepEqual(all.edges.map((e) => e.version), ['v2', 'v1', 'v0'], 'newest first by default');
		assert.deepEqual(all.edges.map((e) => e.node.versionIndex), [2, 1, 0]);
		const asc = await list({order: '+versionIndex', perPage: 2});
		assert.deepEqual(asc.edges.map((e) => e.version), ['v0', 'v1']);
		assert.equal(asc.pageInfo.hasNextPage, true);
		const rest = await list({order: '+versionIndex', perPage: 2, cursor: asc.pageInfo.endCursor});
		assert.deepEqual(rest.edges.map((e) => e.version), ['v2']);
		assert.equal(rest.pageInfo.hasNextPage, false);
		assert.deepEqual((await list({filters: JSON.stringify({alias: 'latest'})})).edges.map((e) => e.version), ['v2']);
		assert.deepEqual((await list({filters: JSON.stringify({'metadata.version': {$lte: 1}})})).edges.map((e) => e.version), ['v1', 'v0']);
		assert.equal((await list({filters: JSON.stringify({state: 'DELETED'})})).totalCount, 0);
		const bad = json(await graphql(srv, PROJECT_ARTIFACTS, {key: ALICE, variables: {entity: 'alice', project: 'gen',
			type: 'dataset', collection: 'g', filters: '{"nope": 1}'}}));
		assert.match(bad.errors[0].message, /unknown field "nope"/);
	});

	test('the manifest from directUrl is real-format JSON whose digests match the served bytes', async () => {
		const m = await membership(srv, 'alice', 'p', 'ds:v1');
		const res = await gql(srv, MANIFEST_URL, {id: m.artifact.id});
		const url = res.artifact.currentManifest.file.directUrl;
		assert.ok(url.startsWith('http://127.0.0.1:'));
		assert.ok(!url.startsWith(srv.baseUrl), 'the manifest comes from storage, not the API');
		const manifest = JSON.parse((await storageGet(url)).toString('utf8'));
		assert.equal(manifest.version, 1);
		assert.equal(manifest.storagePolicy, 'wandb-storage-policy-v1');
		assert.deepEqual(manifest.storagePolicyConfig, {storageLayout: 'V2'});
		assert.deepEqual(Object.keys(manifest.contents), ['a.txt', 'dir/b.bin', 'dir/c.bin', 'refs/s3.bin', 'refs/web']);
		assert.equal(manifestDigest(manifest.contents), m.artifact.digest);
		assert.equal(manifest.contents['a.txt'].digest, md5b64('A\n'));
		assert.equal(manifest.contents['dir/c.bin'].digest, md5b64(data.cBytes));
		const v0 = await membership(srv, 'alice', 'p', 'ds:v0');
		// a.txt and c.bin are unchanged since v0: born there; b.bin changed: born in v1.
		assert.equal(manifest.contents['a.txt'].birthArtifactID, v0.artifact.id);
		assert.equal(manifest.contents['dir/c.bin'].birthArtifactID, v0.artifact.id);
		assert.equal(manifest.contents['dir/b.bin'].birthArtifactID, m.artifact.id);
		// Every stored file, fetched through its directUrl, has the manifest's digest and size.
		const files = await allFiles(srv, 'alice', 'p', 'ds', 'v1');
		assert.deepEqual(files.map((f) => f.name), ['a.txt', 'dir/b.bin', 'dir/c.bin'], 'references are not files');
		for (const f of files) {
			const bytes = await storageGet(f.directUrl);
			assert.equal(md5b64(bytes), manifest.contents[f.name].digest, f.name);
			assert.equal(bytes.length, manifest.contents[f.name].size);
			assert.equal(f.md5, manifest.contents[f.name].digest);
			assert.equal(f.sizeBytes, bytes.length);
		}
	});

	test('V2 download route: 302 to storage, right bytes; wrong segments and keys are refused', async () => {
		const m = await membership(srv, 'alice', 'p', 'ds:v1');
		const manifest = await manifestOf(srv, m.artifact.id);
		const e = manifest.contents['dir/b.bin'];
		const hex = b64ToHex(e.digest);
		const birth = encodeURIComponent(e.birthArtifactID);
		const url = `${srv.baseUrl}/artifactsV2/default/alice/p/ds/${birth}/${hex}/b.bin`;
		const bytes = await storageGet(await redirectOf(url));
		assert.equal(md5hex(bytes), hex);
		// The form with the artifact id segment, and the File.url the API hands out.
		const withId = `${srv.baseUrl}/artifactsV2/default/alice/p/ds/${encodeURIComponent(m.artifact.id)}/${birth}/${hex}/b.bin`;
		assert.equal(md5hex(await storageGet(await redirectOf(withId))), hex);
		const files = await allFiles(srv, 'alice', 'p', 'ds', 'v1');
		const f = files.find((x) => x.name === 'dir/b.bin');
		assert.equal(f.url, url);
		const v0 = await membership(srv, 'alice', 'p', 'ds:v0');
		for (const [bad, why] of [
			[`${srv.baseUrl}/artifactsV2/default/alice/p/ds/${encodeURIComponent(v0.artifact.id)}/${hex}/b.bin`, 'wrong birth id'],
			[`${srv.baseUrl}/artifactsV2/default/alice/p/m/${birth}/${hex}/b.bin`, 'wrong collection'],
			[`${srv.baseUrl}/artifactsV2/gcp-us/alice/p/ds/${birth}/${hex}/b.bin`, 'wrong region'],
			[`${srv.baseUrl}/artifactsV2/default/alice/p/ds/${birth}/${'0'.repeat(32)}/b.bin`, 'unknown digest'],
			[`${srv.baseUrl}/artifactsV2/default/alice/p/ds/${encodeURIComponent(v0.artifact.id)}/${birth}/${hex}/b.bin`, 'artifact id of a version without it'],
		])
			assert.equal(await statusOf(bad), 404, why);
		assert.equal(await statusOf(url, null), 401);
		assert.equal(await statusOf(url, 'wrong'), 401);
		assert.equal(await statusOf(url, BOB), 404, 'bob cannot see alice/p');
		// An empty birth segment is accepted (entries without birthArtifactID).
		assert.equal(await statusOf(`${srv.baseUrl}/artifactsV2/default/alice/p/ds//${hex}/b.bin`), 302);
		// A region other than "default" is part of the path.
		const r = await membership(srv, 'alice', 'p', 'regional:v0');
		const rf = (await allFiles(srv, 'alice', 'p', 'regional', 'v0'))[0];
		assert.ok(rf.url.startsWith(`${srv.baseUrl}/artifactsV2/coreweave-us/alice/p/regional/`), rf.url);
		assert.equal(md5hex(await storageGet(await redirectOf(rf.url))), md5hex('r\n'));
		assert.deepEqual((await manifestOf(srv, r.artifact.id)).storagePolicyConfig, {storageLayout: 'V2', storageRegion: 'coreweave-us'});
	});

	test('V1 layout: manifest without birth ids, /artifacts/<entity>/<md5> route', async () => {
		const m = await membership(srv, 'alice', 'p', 'old:latest');
		const manifest = await manifestOf(srv, m.artifact.id);
		assert.deepEqual(manifest.storagePolicyConfig, {storageLayout: 'V1'});
		assert.deepEqual(manifest.contents, {'x.txt': {digest: md5b64('x\n'), size: 2}});
		const hex = md5hex('x\n');
		const [f] = await allFiles(srv, 'alice', 'p', 'old', 'v0');
		assert.equal(f.url, `${srv.baseUrl}/artifacts/alice/${hex}`);
		assert.equal((await storageGet(await redirectOf(f.url))).toString(), 'x\n');
		assert.equal(await statusOf(`${srv.baseUrl}/artifacts/bob/${hex}`), 404, 'not held in entity bob');
		assert.equal(await statusOf(`${srv.baseUrl}/artifacts/alice/${md5hex('secret\n')}`), 404);
		assert.equal(await statusOf(`${srv.baseUrl}/artifacts/bob/${md5hex('secret\n')}`), 404, 'bob\'s private blob, alice asking');
		assert.equal(await statusOf(`${srv.baseUrl}/artifacts/bob/${md5hex('secret\n')}`, BOB), 302);
	});

	test('range reads on storage', async () => {
		const [f] = (await allFiles(srv, 'alice', 'p', 'ds', 'v1')).filter((x) => x.name === 'dir/c.bin');
		const part = await storageGet(f.directUrl, {Range: 'bytes=100-1099'});
		assert.deepEqual(part, data.cBytes.subarray(100, 1100));
	});

	test('reference entries: kept in the manifest, no blob, wandb-artifact refs point at the target', async () => {
		const ds = await membership(srv, 'alice', 'p', 'ds:v1');
		const dsManifest = await manifestOf(srv, ds.artifact.id);
		assert.deepEqual(dsManifest.contents['refs/s3.bin'], {digest: 'abc-2', ref: 's3://bucket/key', size: 10,
			extra: {etag: '"abc-2"', versionID: 'v9'}});
		assert.deepEqual(dsManifest.contents['refs/web'], {digest: 'https://example.com/x', ref: 'https://example.com/x'});
		const files = await gql(srv, MEMBERSHIP_FILES, {entity: 'alice', project: 'p', collection: 'ds', alias: 'v1',
			fileNames: ['refs/s3.bin', 'a.txt', 'missing']});
		assert.deepEqual(files.project.artifactCollection.artifactMembership.files.edges.map((e) => e.node.name), ['a.txt']);
		const m = await membership(srv, 'alice', 'p', 'm:latest');
		const manifest = await manifestOf(srv, m.artifact.id);
		const ref = manifest.contents['ds-a.txt'];
		const mm = /^wandb-artifact:\/\/([0-9a-f]+)\/(.+)$/.exec(ref.ref);
		assert.ok(mm, ref.ref);
		assert.equal(Buffer.from(mm[1], 'hex').toString('base64'), ds.artifact.id);
		assert.equal(mm[2], 'a.txt');
		assert.equal(ref.size, 0);
		assert.equal(ref.digest, dsManifest.contents['a.txt'].digest);
		// A reference to a reference is collapsed to the external one.
		assert.deepEqual(manifest.contents['ds-s3.bin'], dsManifest.contents['refs/s3.bin']);
		// The target resolves through artifact(id:).
		const t = await gql(srv, 'query($id: ID!) { artifact(id: $id) { artifactSequence { name } versionIndex } }',
			{id: Buffer.from(mm[1], 'hex').toString('base64')});
		assert.deepEqual(t.artifact, {artifactSequence: {name: 'ds'}, versionIndex: 1});
	});

	test('filesByManifestEntries returns URLs for stored entries only', async () => {
		const m = await membership(srv, 'alice', 'p', 'ds:v1');
		const manifest = await manifestOf(srv, m.artifact.id);
		const entries = Object.entries(manifest.contents).map(([name, e]) => ({name, digest: e.digest,
			birthArtifactID: e.birthArtifactID ?? null, ref: e.ref ?? null, size: e.size ?? null}));
		entries.push({name: 'a.txt', digest: 'd3Jvbmc=', ref: null});
		const d = await gql(srv, `query ArtifactFileURLsByManifestEntries($id: ID!, $entries: [ArtifactManifestEntryInput!],
				$storageLayout: String!, $manifestVersion: String!, $storageRegion: String) {
			artifact(id: $id) { filesByManifestEntries(storageLayout: $storageLayout, manifestVersion: $manifestVersion,
				entries: $entries, storageRegion: $storageRegion) {
				pageInfo { hasNextPage endCursor } edges { node { name directUrl } } } } }`,
		{id: m.artifact.id, entries, storageLayout: 'V2', manifestVersion: '1'});
		const conn = d.artifact.filesByManifestEntries;
		assert.equal(conn.pageInfo.hasNextPage, false);
		assert.deepEqual(conn.edges.map((e) => e.node.name), ['a.txt', 'dir/b.bin', 'dir/c.bin']);
		for (const {node} of conn.edges)
			assert.equal(md5b64(await storageGet(node.directUrl)), manifest.contents[node.name].digest);
	});

	test('an imported real manifest keeps paths, sizes and layout; digests are those of the served bytes', async () => {
		const real = JSON.parse(fs.readFileSync(MOZILLA, 'utf8'));
		const m = await membership(srv, 'alice', 'p', 'job-imported:latest');
		const manifest = await manifestOf(srv, m.artifact.id);
		assert.deepEqual(Object.keys(manifest.contents), Object.keys(real.contents));
		assert.equal(manifest.storagePolicyConfig.storageLayout, real.storagePolicyConfig.storageLayout);
		const files = await allFiles(srv, 'alice', 'p', 'job-imported', 'v0', 50);
		for (const f of files) {
			const e = manifest.contents[f.name];
			assert.equal(e.size, real.contents[f.name].size);
			assert.equal(e.birthArtifactID, m.artifact.id);
			const bytes = await storageGet(f.directUrl);
			assert.equal(bytes.length, e.size);
			assert.equal(md5b64(bytes), e.digest);
		}
		assert.equal(files.length, Object.keys(real.contents).length);
	});

	test('run lineage: createdBy / usedBy resolve (a user when no run is recorded)', async () => {
		const d = await gql(srv, `query($id: ID!) { artifact(id: $id) {
			createdBy { __typename ... on User { username } ... on Run { name } } usedBy { totalCount } } }`,
		{id: (await membership(srv, 'alice', 'p', 'ds:v0')).artifact.id});
		assert.deepEqual(d.artifact, {createdBy: {__typename: 'User', username: 'alice'}, usedBy: {totalCount: 0}});
	});

	test('registries: org → registry projects → portfolios → linked versions with their own index', async () => {
		const regs = await gql(srv, FETCH_REGISTRIES, {organization: 'Org Display',
			filters: JSON.stringify({name: {$regex: '^wandb-registry-'}})});
		const nodes = regs.organization.orgEntity.projects.edges.map((e) => e.node);
		assert.equal(nodes.length, 1);
		assert.equal(nodes[0].name, 'wandb-registry-models');
		assert.equal(nodes[0].description, 'blessed models');
		assert.deepEqual(nodes[0].entity, {name: 'org-ent', organization: {name: 'Org Display'}});
		assert.equal(nodes[0].allowAllArtifactTypes, true);
		assert.deepEqual(nodes[0].artifactTypes.edges.map((e) => e.node.name), ['model']);

		const colls = await gql(srv, REGISTRY_COLLECTIONS, {organization: 'Org Display',
			registryFilter: JSON.stringify({name: 'wandb-registry-models'})});
		const cs = colls.organization.orgEntity.artifactCollections;
		assert.equal(cs.totalCount, 2);
		assert.deepEqual(cs.edges.map((e) => [e.node.__typename, e.node.name, e.node.type.name]).sort(),
			[['ArtifactPortfolio', 'best-models', 'model'], ['ArtifactPortfolio', 'empty', 'model']]);
		const none = await gql(srv, REGISTRY_COLLECTIONS, {organization: 'Org Display', collectionTypes: ['SEQUENCE']});
		assert.equal(none.organization.orgEntity.artifactCollections.totalCount, 0);

		// best-models: v0 = m:v1 (aliases prod), v1 = m:v0 (latest): indexes are the portfolio's own.
		const reg0 = await membership(srv, 'org-ent', 'wandb-registry-models', 'best-models:v0');
		const reg1 = await membership(srv, 'org-ent', 'wandb-registry-models', 'best-models:latest');
		const src1 = await membership(srv, 'alice', 'p', 'm:v1');
		const src0 = await membership(srv, 'alice', 'p', 'm:v0');
		assert.equal(reg0.artifact.id, src1.artifact.id);
		assert.equal(reg0.artifact.digest, src1.artifact.digest);
		assert.deepEqual(reg0.aliases.map((a) => a.alias), ['v0', 'prod']);
		assert.equal(reg0.artifactCollection.__typename, 'ArtifactPortfolio');
		assert.deepEqual(reg0.artifactCollection.project.entity, {name: 'org-ent'});
		assert.equal(reg1.versionIndex, 1);
		assert.equal(reg1.artifact.id, src0.artifact.id);
		assert.equal(reg1.artifact.artifactSequence.name, 'm', 'the source sequence');
		assert.equal(reg1.artifact.versionIndex, 0, 'versionIndex without a collection is the source index');
		// Listing the portfolio gives portfolio versions.
		const versions = await gql(srv, PROJECT_ARTIFACTS, {entity: 'org-ent', project: 'wandb-registry-models',
			type: 'model', collection: 'best-models'});
		assert.deepEqual(versions.project.artifactType.artifactCollection.artifacts.edges.map((e) => [e.version, e.node.id]),
			[['v1', src0.artifact.id], ['v0', src1.artifact.id]]);
		// The version's memberships show the link.
		const links = await gql(srv, `query FetchLinkedArtifacts($artifactID: ID!) { artifact(id: $artifactID) {
			artifactMemberships { edges { node { versionIndex aliases { alias }
				artifactCollection { __typename name project { name entity { name } } } } } } } }`, {artifactID: src1.artifact.id});
		assert.deepEqual(links.artifact.artifactMemberships.edges.map((e) => [e.node.artifactCollection.__typename,
			e.node.artifactCollection.project.name, e.node.versionIndex]),
		[['ArtifactSequence', 'p', 1], ['ArtifactPortfolio', 'wandb-registry-models', 0]]);
		// Versions across registries.
		const vs = await gql(srv, REGISTRY_VERSIONS, {organization: 'Org Display',
			artifactFilter: JSON.stringify({alias: 'prod'})});
		assert.deepEqual(vs.organization.orgEntity.artifactMemberships.edges.map((e) => [e.node.artifactCollection.name,
			e.node.versionIndex, e.node.artifact.id]), [['best-models', 0, src1.artifact.id]]);
		// Files of a registry version download through the registry path.
		const files = await allFiles(srv, 'org-ent', 'wandb-registry-models', 'best-models', 'v0');
		const w = files.find((f) => f.name === 'w.bin');
		assert.ok(w.url.startsWith(`${srv.baseUrl}/artifactsV2/default/org-ent/wandb-registry-models/best-models/`), w.url);
		assert.equal(md5b64(await storageGet(await redirectOf(w.url))), w.md5);
	});

	test('visibility: bob sees neither alice\'s private artifacts nor the registry', async () => {
		const m = await membership(srv, 'alice', 'p', 'ds:v1');
		const d = await gql(srv, `query($id: ID!) { artifact(id: $id) { id } organization(name: "Org Display") { id }
			project(entityName: "org-ent", name: "wandb-registry-models") { id } }`, {id: m.artifact.id}, BOB);
		assert.deepEqual(d, {artifact: null, organization: null, project: null});
		const hidden = await membership(srv, 'bob', 'private', 'hidden:v0', BOB);
		assert.equal(hidden.versionIndex, 0);
		assert.equal((await gql(srv, 'query($id: ID!) { artifact(id: $id) { id } }', {id: hidden.artifact.id})).artifact, null);
		assert.equal(await membership(srv, 'bob', 'private', 'hidden:v0'), null);
		const w = (await allFiles(srv, 'org-ent', 'wandb-registry-models', 'best-models', 'v0'))[0];
		assert.equal(await statusOf(w.url, BOB), 404);
	});

	// Changes the model: keep it last in this suite.
	test('admin endpoints: a logged version becomes latest, a link moves the registry\'s latest', async () => {
		const admin = (route, body, key = ALICE) => rawRequest(`${srv.baseUrl}/_admin/${route}`, {method: 'POST',
			headers: {Authorization: basic(key)}, body});
		const before = await membership(srv, 'alice', 'p', 'm:latest');
		let res = await admin('log-artifact', {entity: 'alice', project: 'p', type: 'model', name: 'm',
			files: {'w.bin': {size: 1000, seed: 'w2'}}, aliases: ['best']});
		assert.equal(res.status, 200, res.body.toString());
		const logged = json(res);
		assert.equal(logged.version, 'v2');
		const now = await membership(srv, 'alice', 'p', 'm:latest');
		assert.equal(now.versionIndex, 2);
		assert.equal(now.artifact.id, logged.id);
		assert.equal(now.artifact.digest, logged.digest);
		assert.deepEqual(now.aliases.map((a) => a.alias), ['v2', 'latest', 'best']);
		assert.deepEqual((await membership(srv, 'alice', 'p', `m:v${before.versionIndex}`)).aliases.map((a) => a.alias), ['v1']);
		const manifest = await manifestOf(srv, logged.id);
		assert.equal(manifestDigest(manifest.contents), logged.digest);
		res = await admin('link-artifact', {entity: 'alice', project: 'p', artifact: 'm:v2',
			target: {organization: 'Org Display', registry: 'models', collection: 'best-models'}, aliases: ['prod']});
		assert.equal(res.status, 200, res.body.toString());
		const reg = await membership(srv, 'org-ent', 'wandb-registry-models', 'best-models:prod');
		assert.equal(reg.versionIndex, 2);
		assert.deepEqual(reg.aliases.map((a) => a.alias), ['v2', 'latest', 'prod']);
		// Bob may neither see nor write alice's project; server-side files are refused.
		res = await admin('log-artifact', {entity: 'alice', project: 'p', type: 'model', name: 'm', files: {x: 'y'}}, BOB);
		assert.equal(res.status, 400);
		res = await admin('log-artifact', {entity: 'alice', project: 'p', type: 'model', name: 'm',
			files: {x: {file: 'server.json'}}});
		assert.equal(res.status, 400);
		assert.match(json(res).errors[0].message, /not accepted/);
	});
});

// ------------------------------------------------------------------ sample data and a big file

test('the sample data directory loads, with its registry link and V1 artifact', async () => {
	const srv = await startServer(path.join(SERVER_DIR, 'sample-data'), [], {apiKey: KEY});
	try {
		const d = await gql(srv, `query { project(entityName: "acme-research", name: "wandb-registry-models") {
			artifactCollectionMembership(name: "mnist-classifier:production") { versionIndex
				artifact { artifactSequence { name project { name } } aliases(artifactCollectionName: "classifier") { alias } } } }
			old: project(entityName: "alice", name: "legacy-flat") { artifactCollectionMembership(name: "old-layout:latest") {
				files { edges { node { url } } } } }
			demo: project(entityName: "alice", name: "mnist-demo") { run(name: "a1b2c3d4") {
				outputArtifacts { totalCount edges { node { artifactSequence { name } versionIndex
					createdBy { ... on Run { name } } } } }
				inputArtifacts { edges { usedAs node { artifactSequence { name } versionIndex } } } } } }`, {}, KEY);
		const run = d.demo.run;
		assert.deepEqual(run.outputArtifacts.edges.map((e) => e.node),
			[{artifactSequence: {name: 'classifier'}, versionIndex: 0, createdBy: {name: 'a1b2c3d4'}}]);
		assert.deepEqual(run.inputArtifacts.edges.map((e) => [e.usedAs, e.node]),
			[[[], {artifactSequence: {name: 'mnist-small'}, versionIndex: 0}]]);
		const m = d.project.artifactCollectionMembership;
		assert.equal(m.versionIndex, 0);
		assert.deepEqual(m.artifact.artifactSequence, {name: 'classifier', project: {name: 'mnist-demo'}});
		assert.deepEqual(m.artifact.aliases.map((a) => a.alias), ['v1', 'latest', 'best']);
		for (const e of d.old.artifactCollectionMembership.files.edges)
			assert.match(e.node.url, /\/artifacts\/alice\/[0-9a-f]{32}$/);
	} finally {
		await srv.stop();
	}
});

test('a generated 300 MB file: streamed at load, served with ranges, md5 matches', async () => {
	const SIZE = 300 * 1000 * 1000 + 7;
	const root = tempDir('wbsrv-big-');
	const dir = path.join(root, 'data');
	fs.mkdirSync(dir);
	const gen = {kind: 'artifact', entity: 'bench', project: 'big', type: 'model', name: 'weights', versions: 1,
		files: 2, fileSize: 10, bigFile: SIZE, seed: 12};
	fs.writeFileSync(path.join(dir, 'server.json'), JSON.stringify({generate: [gen]}));
	const srv = await startServer(dir, [], {apiKey: KEY});
	try {
		console.log(`# startup with a ${SIZE} byte file: ${srv.startMs} ms`);
		// The server never held the file in memory.
		const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'))[1]) * 1024;
		console.log(`# server peak RSS: ${Math.round(hwm / 1e6)} MB`);
		assert.ok(hwm < 250e6, `server peak RSS ${hwm} bytes`);
		const d = await gql(srv, MEMBERSHIP_FILES, {entity: 'bench', project: 'big', collection: 'weights', alias: 'latest',
			fileNames: ['big.bin']}, KEY);
		const f = d.project.artifactCollection.artifactMembership.files.edges[0].node;
		assert.equal(f.sizeBytes, SIZE);
		const t0 = Date.now();
		const res = await fetch(await redirectOf(f.url, KEY));
		const h = crypto.createHash('md5');
		let n = 0;
		for await (const chunk of res.body) {
			h.update(chunk);
			n += chunk.length;
		}
		console.log(`# full download + md5: ${Date.now() - t0} ms`);
		assert.equal(n, SIZE);
		assert.equal(h.digest('base64'), f.md5);
		const seed = expandGeneratedArtifact(gen).versions[0].files['big.bin'].seed;
		for (const off of [0, 123456789, SIZE - 4096]) {
			const part = await storageGet(f.directUrl, {Range: `bytes=${off}-${off + 4095}`});
			assert.deepEqual(part, generatedRange(seed, off, 4096), `range at ${off}`);
		}
	} finally {
		await srv.stop();
		fs.rmSync(root, {recursive: true, force: true});
	}
});
