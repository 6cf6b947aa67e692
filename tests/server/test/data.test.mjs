// The data model and core resolvers, in-process: pagination and the page cap, every filter operator,
// ordering, visibility between users, run files (`names:` handles vs `pattern:`), history windows,
// console-line paging, the admin update, the generator and the sample data.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {openModel, writeTree, allPages, jsonTokens, canonical} from './helpers/model.mjs';

const SAMPLE = new URL('../sample-data/', import.meta.url).pathname;
const ALICE = `alice-${'a'.repeat(40)}`;
const BOB = `bob-${'b'.repeat(40)}`;

// Extended JSON → plain JS numbers (independent of lib/extjson.js, via the token reader).
function plain(text) {
	const walk = (v) => {
		if (Array.isArray(v)) return v.map(walk);
		if (v && typeof v === 'object' && 'obj' in v) return Object.fromEntries(Object.entries(v.obj).map(([k, x]) => [k, walk(x)]));
		if (v && typeof v === 'object' && 'tok' in v) return ['true', 'false', 'null'].includes(v.tok) ? JSON.parse(v.tok) : Number(v.tok);
		return v;
	};
	return walk(jsonTokens(text));
}

const unwrap = (config) => Object.fromEntries(Object.entries(plain(config)).map(([k, v]) => [k, v?.value]));

// ---- a generated project shared by the filter/order/pagination tests ------------------------------

const GEN = {kind: 'runs', entity: 'bench', project: 'gen', count: 300, seed: 42, runningFraction: 0.2, files: false,
	sweeps: 2, historyRows: [10, 40], configKeys: [20, 40]};
let gen;
let genRuns;

test.before(async () => {
	gen = await openModel(writeTree({'server.json': {generate: [GEN, {...GEN, project: 'big', count: 2500, seed: 5, sweeps: 0}]}}));
	genRuns = await allPages(async (after) => (await gen.q(
		'query($a: String) { project(name: "gen", entityName: "bench") { runs(first: 100, after: $a) { edges { node { name displayName state tags group jobType createdAt host sweepName config summaryMetrics user { username } } } pageInfo { endCursor hasNextPage } } } }',
		{a: after})).project.runs);
	for (const r of genRuns) {
		r.cfg = unwrap(r.config);
		r.sum = plain(r.summaryMetrics);
	}
});
test.after(() => gen.close());

async function filtered(filters, order) {
	const r = await gen.gql('query($f: JSONString, $o: String) { project(name: "gen", entityName: "bench") { runCount(filters: $f) runs(filters: $f, order: $o, first: 1000) { totalCount edges { node { name } } } } }',
		{f: typeof filters === 'string' ? filters : JSON.stringify(filters), o: order});
	if (r.errors) return {errors: r.errors.map((e) => e.message)};
	assert.equal(r.data.project.runCount, r.data.project.runs.totalCount);
	return r.data.project.runs.edges.map((e) => e.node.name);
}

const names = (runs) => runs.map((r) => r.name);

test('the generated project has the shape the filter tests rely on', () => {
	assert.equal(genRuns.length, 300);
	const states = new Set(genRuns.map((r) => r.state));
	assert.ok(states.has('running') && states.has('finished'));
	assert.ok(genRuns.some((r) => r.tags.length) && genRuns.some((r) => !r.tags.length));
	assert.ok(genRuns.some((r) => r.sum.total_tokens !== undefined) && genRuns.some((r) => r.sum.total_tokens === undefined));
	assert.ok(genRuns.some((r) => Number.isNaN(r.sum['train/loss'])));
	assert.ok(genRuns.some((r) => r.group === null) && genRuns.some((r) => r.group !== null));
	// createdAt strictly increasing in the default order (+created_at).
	for (let i = 1; i < genRuns.length; i++) assert.ok(genRuns[i - 1].createdAt < genRuns[i].createdAt);
});

test('filters: equality, $eq, $ne on plain fields', async () => {
	assert.deepEqual(await filtered({state: 'running'}), names(genRuns.filter((r) => r.state === 'running')));
	assert.deepEqual(await filtered({state: {$eq: 'finished'}}), names(genRuns.filter((r) => r.state === 'finished')));
	assert.deepEqual(await filtered({state: {$ne: 'finished'}}), names(genRuns.filter((r) => r.state !== 'finished')));
	assert.deepEqual(await filtered({jobType: 'eval'}), names(genRuns.filter((r) => r.jobType === 'eval')));
	assert.deepEqual(await filtered({group: null}), names(genRuns.filter((r) => r.group === null)));
	assert.deepEqual(await filtered({host: 'node-3'}), names(genRuns.filter((r) => r.host === 'node-3')));
	assert.deepEqual(await filtered({username: 'bench'}), names(genRuns));
	const one = genRuns[17];
	assert.deepEqual(await filtered({name: one.name}), [one.name]);
	assert.deepEqual(await filtered({displayName: one.displayName}), names(genRuns.filter((r) => r.displayName === one.displayName)));
});

test('filters: $gt $gte $lt $lte on config (nested, .value) and summary_metrics', async () => {
	const lr = (r) => r.cfg.lr;
	assert.deepEqual(await filtered({'config.lr': {$gt: 0.001}}), names(genRuns.filter((r) => lr(r) > 0.001)));
	assert.deepEqual(await filtered({'config.lr.value': {$gte: 0.001}}), names(genRuns.filter((r) => lr(r) >= 0.001)));
	assert.deepEqual(await filtered({'config.lr': 0.001}), names(genRuns.filter((r) => lr(r) === 0.001)));
	assert.ok((await filtered({'config.lr': 0.001})).length > 0);
	const layers = (r) => r.cfg.model?.num_layers;
	assert.deepEqual(await filtered({'config.model.num_layers': {$lt: 500}}), names(genRuns.filter((r) => layers(r) < 500)));
	const hidden = (r) => r.cfg.model?.encoder?.hidden_size;
	assert.deepEqual(await filtered({'config.model.encoder.hidden_size': {$lte: 64}}), names(genRuns.filter((r) => hidden(r) <= 64)));
	const loss = (r) => r.sum['train/loss'];
	const want = names(genRuns.filter((r) => loss(r) > 0.2 && loss(r) <= 0.4));
	assert.ok(want.length > 0);
	assert.deepEqual(await filtered({'summary_metrics.train/loss': {$gt: 0.2, $lte: 0.4}}), want);
	// A string compared with a number matches nothing (no coercion).
	assert.deepEqual(await filtered({'config.lr': {$gt: 'a'}}), []);
});

test('filters: $in $nin $exists $regex, tags membership', async () => {
	const opt = (r) => r.cfg.optimizer;
	assert.deepEqual(await filtered({'config.optimizer': {$in: ['adam', 'sgd']}}), names(genRuns.filter((r) => ['adam', 'sgd'].includes(opt(r)))));
	assert.deepEqual(await filtered({'config.optimizer': {$nin: ['adam', 'sgd']}}), names(genRuns.filter((r) => !['adam', 'sgd'].includes(opt(r)))));
	assert.deepEqual(await filtered({'summary_metrics.total_tokens': {$exists: true}}), names(genRuns.filter((r) => r.sum.total_tokens !== undefined)));
	assert.deepEqual(await filtered({'summary_metrics.total_tokens': {$exists: false}}), names(genRuns.filter((r) => r.sum.total_tokens === undefined)));
	assert.deepEqual(await filtered({display_name: {$regex: '^(swift|bold)-'}}), names(genRuns.filter((r) => /^(swift|bold)-/.test(r.displayName))));
	assert.deepEqual(await filtered({displayName: {$regex: 'SWIFT', $options: 'i'}}), names(genRuns.filter((r) => /swift/i.test(r.displayName))));
	// tags: a scalar matches membership; $in any; $nin none; $ne not containing.
	assert.deepEqual(await filtered({tags: 'baseline'}), names(genRuns.filter((r) => r.tags.includes('baseline'))));
	assert.deepEqual(await filtered({tags: {$in: ['v2', 'fp16']}}), names(genRuns.filter((r) => r.tags.some((t) => ['v2', 'fp16'].includes(t)))));
	assert.deepEqual(await filtered({tags: {$nin: ['v2', 'fp16']}}), names(genRuns.filter((r) => !r.tags.some((t) => ['v2', 'fp16'].includes(t)))));
	assert.deepEqual(await filtered({tags: {$ne: 'debug'}}), names(genRuns.filter((r) => !r.tags.includes('debug'))));
	assert.deepEqual(await filtered({tags: {$regex: '^ün'}}), names(genRuns.filter((r) => r.tags.some((t) => t.startsWith('ün')))));
});

test('filters: $and $or $nor, createdAt ranges, sweep', async () => {
	const pivot = genRuns[100].createdAt;
	assert.deepEqual(await filtered({createdAt: {$gt: pivot}}), names(genRuns.slice(101)));
	assert.deepEqual(await filtered({created_at: {$lte: `${pivot}Z`}}), names(genRuns.slice(0, 101)));
	const running = (r) => r.state === 'running';
	const eval_ = (r) => r.jobType === 'eval';
	assert.deepEqual(await filtered({$and: [{state: 'running'}, {jobType: 'eval'}]}), names(genRuns.filter((r) => running(r) && eval_(r))));
	assert.deepEqual(await filtered({$or: [{state: 'running'}, {jobType: 'eval'}]}), names(genRuns.filter((r) => running(r) || eval_(r))));
	assert.deepEqual(await filtered({$nor: [{state: 'running'}, {jobType: 'eval'}]}), names(genRuns.filter((r) => !running(r) && !eval_(r))));
	const sweep = genRuns.find((r) => r.sweepName).sweepName;
	const inSweep = names(genRuns.filter((r) => r.sweepName === sweep));
	assert.ok(inSweep.length > 10);
	assert.deepEqual(await filtered({$and: [{sweep}]}), inSweep);
	assert.deepEqual(await filtered({}), names(genRuns));
	assert.deepEqual(await filtered(''), names(genRuns));
});

test('bad filters are GraphQL errors, never "all runs"', async () => {
	for (const [f, msg] of [['{not json', /not JSON/], [{state: {$foo: 1}}, /unknown operator \$foo/], [{$xor: []}, /unknown operator/],
		[{bogus: 1}, /unknown field "bogus"/], [{tags: {$in: 'x'}}, /needs an array/], ['[1]', /JSON object/],
		[{$and: []}, /non-empty array/], [{name: {$regex: '('}}, /bad \$regex/], [{state: {$exists: 'yes'}}, /true or false/]]) {
		const r = await filtered(f);
		assert.ok(r.errors, JSON.stringify(f));
		assert.match(r.errors[0], msg);
	}
});

test('order: created_at both ways, summary and config keys, ties by run ID, errors', async () => {
	assert.deepEqual(await filtered({}, '+created_at'), names(genRuns));
	assert.deepEqual(await filtered({}, '-created_at'), names(genRuns).reverse());
	const byLoss = await filtered({}, '+summary_metrics.train/loss');
	const losses = byLoss.map((n) => genRuns.find((r) => r.name === n).sum['train/loss']);
	const firstNaN = losses.findIndex(Number.isNaN);
	assert.ok(firstNaN > 0);
	assert.ok(losses.slice(firstNaN).every(Number.isNaN), 'NaN after every number');
	for (let i = 1; i < firstNaN; i++) assert.ok(losses[i - 1] <= losses[i]);
	assert.deepEqual(await filtered({}, '-summary_metrics.train/loss'), [...byLoss].reverse());
	// Equal lr values: ties broken by run ID, ascending.
	const byLr = await filtered({}, '+config.lr.value');
	const want = [...genRuns].sort((a, b) => a.cfg.lr - b.cfg.lr || (a.name < b.name ? -1 : 1));
	assert.deepEqual(byLr, names(want));
	// Missing values stay last both ways.
	for (const o of ['+summary_metrics.total_tokens', '-summary_metrics.total_tokens']) {
		const got = await filtered({}, o);
		const has = got.map((n) => genRuns.find((r) => r.name === n).sum.total_tokens !== undefined);
		assert.equal(has.indexOf(false), has.filter(Boolean).length, o);
	}
	const bad = await filtered({}, '+bogus_key');
	assert.match(bad.errors[0], /unknown key/);
});

test('pagination: many pages, totalCount, last/before, bad cursor', async () => {
	const q = 'query($a: String, $n: Int) { project(name: "big", entityName: "bench") { runs(first: $n, after: $a) { totalCount edges { cursor node { name createdAt } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } } }';
	let pages = 0;
	const seen = await allPages(async (after) => {
		pages++;
		const c = (await gen.q(q, {a: after, n: 300})).project.runs;
		assert.equal(c.totalCount, 2500);
		assert.equal(c.pageInfo.hasPreviousPage, after !== null);
		assert.equal(c.pageInfo.endCursor, c.edges[c.edges.length - 1].cursor);
		assert.equal(c.pageInfo.startCursor, c.edges[0].cursor);
		return c;
	});
	assert.equal(pages, 9);
	assert.equal(new Set(seen.map((r) => r.name)).size, 2500);
	for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].createdAt < seen[i].createdAt);
	// last/before: the five runs before the 100th.
	const first100 = (await gen.q(q, {n: 100})).project.runs;
	const lastEdge = first100.edges[99];
	const tail = (await gen.q('query($b: String) { project(name: "big", entityName: "bench") { runs(last: 5, before: $b) { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } } }',
		{b: lastEdge.cursor})).project.runs;
	assert.deepEqual(tail.edges.map((e) => e.node.name), first100.edges.slice(94, 99).map((e) => e.node.name));
	assert.deepEqual(tail.pageInfo, {hasNextPage: true, hasPreviousPage: true});
	const r = await gen.gql(q, {a: 'bm90LWEtY3Vyc29y', n: 10});
	assert.match(r.errors[0].message, /cursor/);
	const neg = await gen.gql(q, {n: -1});
	assert.match(neg.errors[0].message, /non-negative/);
});

test('pagination: the server-side page cap', async () => {
	const q = 'query($n: Int) { project(name: "big", entityName: "bench") { runs(first: $n) { edges { node { name } } pageInfo { hasNextPage } } } }';
	const capped = (await gen.q(q, {n: 1000}, {pageCap: 120})).project.runs;
	assert.equal(capped.edges.length, 120);
	assert.equal(capped.pageInfo.hasNextPage, true);
	const unasked = (await gen.q(q, {n: null}, {pageCap: 120})).project.runs;
	assert.equal(unasked.edges.length, 120);
	const small = (await gen.q(q, {n: 7}, {pageCap: 120})).project.runs;
	assert.equal(small.edges.length, 7);
	// Paging with a cap smaller than the page asked for still visits every run once.
	const all = await allPages(async (after) => (await gen.q(
		'query($a: String) { project(name: "big", entityName: "bench") { runs(first: 1000, after: $a) { edges { node { name } } pageInfo { endCursor hasNextPage } } } }',
		{a: after}, {pageCap: 400})).project.runs);
	assert.equal(new Set(all.map((x) => x.name)).size, 2500);
});

test('projects of an entity page through models/projects', async (t) => {
	const generate = Array.from({length: 23}, (_, i) => ({kind: 'runs', entity: 'many', project: `p${String(i).padStart(2, '0')}`, count: 1, files: false, seed: i}));
	const m = await openModel(writeTree({'server.json': {generate}}));
	t.after(() => m.close());
	for (const root of ['models', 'projects']) {
		const got = await allPages(async (after) => (await m.q(
			`query($a: String) { p: ${root}(entityName: "many", first: 5, after: $a) { edges { node { name entityName user { username } } } pageInfo { endCursor hasNextPage } } }`,
			{a: after})).p);
		assert.deepEqual(got.map((p) => p.name), generate.map((g) => g.project));
		assert.ok(got.every((p) => p.entityName === 'many' && p.user.username));
	}
	const filteredProjects = await m.q('{ entity(name: "many") { projects(first: 50, filters: "{\\"name\\": {\\"$regex\\": \\"^p1\\"}}", order: "-name") { edges { node { name } } } } }');
	assert.deepEqual(filteredProjects.entity.projects.edges.map((e) => e.node.name), generate.map((g) => g.project).filter((n) => n.startsWith('p1')).reverse());
});

// ---- visibility -------------------------------------------------------------------------------------

test('two users never see each other\'s private projects; the superuser sees all but PRIVATE', async (t) => {
	const K1 = 'u1-'.padEnd(43, '1');
	const K2 = 'u2-'.padEnd(43, '2');
	const run = (id) => ({[`run-20240101_000000-${id}/files/wandb-summary.json`]: '{"x": 1}'});
	const tree = {'server.json': {
		users: [{username: 'u1', apiKey: K1, teams: ['t1']}, {username: 'u2', apiKey: K2}],
		teams: [{name: 't1'}],
		projects: [{entity: 'u1', name: 'mine', access: 'PRIVATE'}, {entity: 'u2', name: 'mine', access: 'PRIVATE'},
			{entity: 'u2', name: 'open', access: 'PUBLIC'}, {entity: 't1', name: 'team', access: 'PRIVATE'}],
	}};
	for (const [p, id] of [['u1/mine', 'aaaa1111'], ['u2/mine', 'bbbb2222'], ['u2/open', 'cccc3333'], ['t1/team', 'dddd4444'], ['other/shared', 'eeee5555']]) {
		for (const [k, v] of Object.entries(run(id))) tree[`${p}/${k}`] = v;
	}
	const m = await openModel(writeTree(tree));
	t.after(() => m.close());
	const see = async (key, entity, name) => (await m.q('query($e: String!, $n: String!) { project(entityName: $e, name: $n) { name runs { edges { node { name } } } } }',
		{e: entity, n: name}, {key})).project !== null;
	assert.equal(await see(K1, 'u1', 'mine'), true);
	assert.equal(await see(K1, 't1', 'team'), true);
	assert.equal(await see(K1, 'u2', 'mine'), false);
	assert.equal(await see(K2, 'u1', 'mine'), false);
	assert.equal(await see(K2, 't1', 'team'), false);
	assert.equal(await see(K2, 'u2', 'mine'), true);
	assert.equal(await see(K1, 'u2', 'open'), true);
	assert.equal(await see(K1, 'other', 'shared'), false, 'an ENTITY_READ project is for its members and the superuser');
	// The superuser: everything imported except PRIVATE projects.
	assert.equal(await see(undefined, 'other', 'shared'), true);
	assert.equal(await see(undefined, 'u2', 'open'), true);
	assert.equal(await see(undefined, 'u1', 'mine'), false);
	assert.equal(await see(undefined, 't1', 'team'), false);
	// Entities with nothing visible are null; listings leave invisible projects out.
	assert.equal((await m.q('{ entity(name: "u1") { name } }', {}, {key: K2})).entity, null);
	assert.deepEqual((await m.q('{ models(entityName: "u2") { edges { node { name } } } }', {}, {key: K1})).models.edges.map((e) => e.node.name), ['open']);
	assert.equal((await m.q('{ models(entityName: "u1") { edges { node { name } } } }', {}, {key: K2})).models, null);
	// Run files follow the project's visibility.
	assert.ok(m.store.resolveRunFile(m.store.authenticate(K1), 'u1', 'mine', 'aaaa1111', 'wandb-summary.json'));
	assert.equal(m.store.resolveRunFile(m.store.authenticate(K2), 'u1', 'mine', 'aaaa1111', 'wandb-summary.json'), null);
	assert.equal(m.store.resolveRunFile(m.store.authenticate(K1), 'u1', 'mine', 'aaaa1111', 'nope'), null);
	// viewer: own entity and teams; the superuser lists every other visible entity as a team.
	const v1 = (await m.q('{ viewer { entity username teams { edges { node { name } } } } }', {}, {key: K1})).viewer;
	assert.deepEqual(v1, {entity: 'u1', username: 'u1', teams: {edges: [{node: {name: 't1'}}]}});
	const su = (await m.q('{ viewer { entity username admin teams { edges { node { name } } } } }')).viewer;
	assert.equal(su.username, 'tester');
	assert.deepEqual(su.teams.edges.map((e) => e.node.name), ['other', 't1', 'u1', 'u2']);
	// No API key is ever served.
	const keys = await m.q('{ viewer { apiKey apiKeys { edges { node { id } } } } }', {}, {key: K1});
	assert.deepEqual(keys.viewer, {apiKey: null, apiKeys: null});
	assert.equal(m.store.authenticate('wrong'), null);
});

test('organizations: display name vs org entity, team → organization, user → organizations', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const a = await m.q(`{ t: entity(name: "vision-lab") { isTeam organization { name orgEntity { name } } }
		u: entity(name: "alice") { isTeam user { username organizations { name orgEntity { name } } } }
		o: organization(name: "Acme Research") { id name orgEntity { __typename id name entityType } } }`, {}, {key: ALICE});
	assert.deepEqual(a.t, {isTeam: true, organization: {name: 'Acme Research', orgEntity: {name: 'acme-research'}}});
	assert.deepEqual(a.u, {isTeam: false, user: {username: 'alice', organizations: [{name: 'Acme Research', orgEntity: {name: 'acme-research'}}]}});
	assert.equal(a.o.orgEntity.name, 'acme-research');
	assert.equal(a.o.orgEntity.__typename, 'Entity');
	const b = await m.q('{ o: organization(name: "Acme Research") { name } u: entity(name: "bob") { user { organizations { name } } } }', {}, {key: BOB});
	assert.deepEqual(b, {o: null, u: {user: {organizations: []}}});
	assert.equal((await m.q('{ organization(name: "nope") { name } }')).organization, null);
});

// ---- one sample-data run in depth -------------------------------------------------------------------

test('sample data: runs, running state, overrides, private project, generated project', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const r = await m.q(`{ project(name: "mnist-demo", entityName: "alice") { access runCount totalSweeps
		runs { edges { node { name displayName state tags group jobType notes commit host projectId sweepName user { username }
			config summaryMetrics historyLineCount fileCount logLineCount readOnly } } } } }`, {}, {key: ALICE});
	const runs = r.project.runs.edges.map((e) => e.node);
	assert.deepEqual(runs.map((x) => [x.name, x.state]), [['a1b2c3d4', 'finished'], ['e5f6g7h8', 'finished'], ['r7xk2m9q', 'running']]);
	assert.equal(runs[0].displayName, 'baseline / small lr');
	assert.deepEqual(runs[0].tags, ['demo', 'baseline']);
	assert.equal(runs[0].commit, '3f2c9d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d');
	assert.equal(runs[0].readOnly, false);
	assert.equal(typeof runs[0].projectId, 'string');
	// Big ints exact in both config and summary; NaN/Infinity survive.
	assert.match(runs[0].config, /"seed": \{"desc": null, "value": 18446744073709551557\}/);
	assert.match(runs[0].summaryMetrics, /"tokens_seen": 123456789012345678901/);
	assert.match(runs[1].summaryMetrics, /"val\/loss": NaN, "grad_norm": Infinity/);
	assert.match(runs[2].config, /"lr": \{"desc": null, "value": 1e-05\}/);
	const bobs = await m.q('{ project(name: "secret-experiments", entityName: "bob") { name } }', {}, {key: ALICE});
	assert.equal(bobs.project, null);
	const gen2 = await m.q('{ project(name: "generated", entityName: "vision-lab") { runCount totalSweeps } }', {}, {key: ALICE});
	assert.deepEqual(gen2.project, {runCount: 40, totalSweeps: 2});
	const sample = path.join(SAMPLE, 'alice', 'mnist-demo', 'run-20240101_120000-a1b2c3d4', 'files');
	assert.equal(runs[0].fileCount, fs.readdirSync(sample, {recursive: true}).filter((f) => fs.statSync(path.join(sample, f)).isFile()).length);
});

test('reports: project.allViews pages the reports of a project', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const q = `query($c: String, $t: String) { project(name: "mnist-demo", entityName: "alice") { allViews(viewType: $t, first: 1, after: $c) {
		edges { node { id name displayName description user { username } spec createdAt updatedAt entityName projectName } cursor }
		pageInfo { endCursor hasNextPage } } } }`;
	const views = await allPages(async (after) => (await m.q(q, {c: after, t: 'runs'}, {key: ALICE})).project.allViews);
	assert.equal(views.length, 1);
	const v = views[0];
	assert.deepEqual([v.name, v.displayName, v.user.username, v.entityName, v.projectName, v.createdAt, v.updatedAt],
		['x9y8z7w6', 'MNIST learning rates', 'alice', 'alice', 'mnist-demo', '2024-01-03T10:00:00', '2024-01-04T09:30:00']);
	assert.equal(JSON.parse(v.spec).blocks[0].children[0].text, 'Learning rates');
	assert.deepEqual((await m.q(q, {c: null, t: 'other'}, {key: ALICE})).project.allViews.edges, []);
	const none = await m.q('{ project(name: "legacy-flat", entityName: "alice") { allViews(first: 5) { edges { node { id } } pageInfo { hasNextPage } } } }', {}, {key: ALICE});
	assert.deepEqual(none.project.allViews, {edges: [], pageInfo: {hasNextPage: false}});
});

test('run files: names invent open handles, pattern only matches existing files (LIKE)', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const q = `query($n: [String], $p: String) { project(name: "mnist-demo", entityName: "alice") { run(name: "a1b2c3d4") { fileCount
		files(names: $n, pattern: $p, first: 50) { totalCount edges { node { id name displayName sizeBytes md5 updatedAt url directUrl mimetype } } } } } }`;
	const files = async (n, p) => (await m.q(q, {n, p}, {key: ALICE})).project.run.files.edges.map((e) => e.node);
	const byNames = await files(['output.log', 'no/such.txt'], null);
	assert.deepEqual(byNames.map((f) => f.name), ['output.log', 'no/such.txt']);
	assert.ok(byNames[0].updatedAt && byNames[0].md5 && byNames[0].sizeBytes > 0);
	assert.equal(byNames[0].mimetype, 'text/plain');
	assert.equal(byNames[0].url, 'http://api.test/files/alice/mnist-demo/a1b2c3d4/output.log');
	assert.equal(byNames[0].displayName, 'output.log');
	assert.equal(byNames[1].updatedAt, null);
	assert.equal(byNames[1].md5, null);
	assert.equal(byNames[1].sizeBytes, 0);
	assert.ok(byNames[1].directUrl);
	assert.deepEqual((await files([], 'no/such.txt')).map((f) => f.name), []);
	assert.deepEqual((await files([], 'output.log')).map((f) => f.name), ['output.log']);
	assert.deepEqual((await files([], 'OUTPUT.log')).map((f) => f.name), [], 'case-sensitive');
	assert.deepEqual((await files([], '%.json')).map((f) => f.name), ['media/table/predictions_39_5c1d.table.json', 'wandb-metadata.json', 'wandb-summary.json']);
	assert.deepEqual((await files([], 'media/%')).map((f) => f.name), ['media/images/examples_39_a1b20f3e.png', 'media/table/predictions_39_5c1d.table.json']);
	assert.deepEqual((await files([], 'output.lo_')).map((f) => f.name), ['output.log']);
	assert.deepEqual((await files([], 'output\\_log')).map((f) => f.name), []);
	const all = await files([], null);
	assert.equal(all.length, (await m.q(q, {n: [], p: null}, {key: ALICE})).project.run.fileCount);
	assert.deepEqual(all.map((f) => f.name), [...all.map((f) => f.name)].sort());
	// The stored blob behind directUrl has the served md5 and size.
	const f = m.store.resolveRunFile(m.store.authenticate(ALICE), 'alice', 'mnist-demo', 'a1b2c3d4', 'media/images/examples_39_a1b20f3e.png');
	const bytes = fs.readFileSync(path.join(m.storageDir, f.storagePath));
	assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
	assert.equal(all.find((x) => x.name === f.name).sizeBytes, bytes.length);
});

test('history: maxStep exclusive, samples cap, sampling keeps ends; sampledHistory; events', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const q = `query($lo: Int64, $hi: Int64, $s: Int, $specs: [JSONString!]!) { project(name: "legacy-flat", entityName: "alice") { run(name: "meifn9dz") {
		historyLineCount historyKeys w: history(minStep: $lo, maxStep: $hi, samples: $s) all: history(samples: 1000) sampled: history(samples: $s)
		sampledHistory(specs: $specs) events(samples: 2) eventsLineCount systemMetrics } } }`;
	const specs = [JSON.stringify({keys: ['_step', 'lr'], minStep: 3, maxStep: 6, samples: 100}), JSON.stringify({keys: ['nope'], samples: 10})];
	const r = (await m.q(q, {lo: 5, hi: 8, s: 10, specs}, {key: ALICE})).project.run;
	const steps = (rows) => rows.map((x) => JSON.parse(x)._step);
	assert.equal(r.historyLineCount, 25);
	assert.equal(r.historyKeys.lastStep, 24);
	assert.ok(r.historyKeys.keys['train/loss']);
	assert.deepEqual(steps(r.w), [5, 6, 7]);
	assert.deepEqual(steps(r.all), Array.from({length: 25}, (_, i) => i));
	assert.equal(r.sampled.length, 10);
	assert.equal(steps(r.sampled)[0], 0);
	assert.equal(steps(r.sampled)[9], 24);
	assert.deepEqual(r.sampledHistory[0], [3, 4, 5, 6].map((s) => ({_step: s, lr: 0.01})));
	assert.deepEqual(r.sampledHistory[1], []);
	assert.equal(r.eventsLineCount, 3);
	assert.deepEqual(r.events.map((e) => JSON.parse(e)._runtime), [30, 90]);
	assert.deepEqual(JSON.parse(r.systemMetrics), {'system.cpu': 14.5, 'system.memory': 40.1, 'system.disk': 56.9});
	const win = (await m.q(q, {lo: 0, hi: 25, s: 4, specs: []}, {key: ALICE})).project.run;
	assert.equal(win.w.length, 4, 'a window larger than samples is capped');
	const scan = (await m.q(q, {lo: 30, hi: 40, s: 10, specs: []}, {key: ALICE})).project.run;
	assert.deepEqual(scan.w, []);
	const bad = await m.gql(q, {lo: 0, hi: 1, s: 1, specs: ['{"keys": 3}']}, {key: ALICE});
	assert.match(bad.errors[0].message, /keys/);
});

test('console lines: forward pages, tail, legacy backwards paging, stderr level', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const text = fs.readFileSync(path.join(SAMPLE, 'alice/mnist-demo/run-20240101_120000-a1b2c3d4/files/output.log'), 'utf8');
	const want = text.slice(0, -1).split('\n');
	const q = `query($a: String, $f: Int, $l: Int, $imp: Boolean) { project(name: "mnist-demo", entityName: "alice") { run(name: "a1b2c3d4") {
		logLineCount logLines(first: $f, after: $a, last: $l, useImprovedPagination: $imp) { edges { node { number timestamp level label line } } pageInfo { endCursor hasNextPage } } } } }`;
	const lines = await allPages(async (after) => (await m.q(q, {a: after, f: 3, imp: true}, {key: ALICE})).project.run.logLines);
	assert.deepEqual(lines.map((l) => l.line), want);
	assert.deepEqual(lines.map((l) => l.number), want.map((_, i) => i));
	assert.ok(lines.every((l) => l.level === '' && l.label === '' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/.test(l.timestamp)));
	assert.ok(lines.some((l) => l.line.includes('\r')), 'carriage returns kept');
	const tail = (await m.q(q, {l: 2}, {key: ALICE})).project.run;
	assert.equal(tail.logLineCount, want.length);
	assert.deepEqual(tail.logLines.edges.map((e) => e.node.line), want.slice(-2));
	// Legacy (no useImprovedPagination): `first` ignored, `after` pages backwards.
	const legacy = (await m.q(q, {f: 2}, {key: ALICE, pageCap: 4})).project.run.logLines;
	assert.deepEqual(legacy.edges.map((e) => e.node.number), [want.length - 4, want.length - 3, want.length - 2, want.length - 1]);
	const tb = await m.q('{ project(name: "legacy-flat", entityName: "alice") { run(name: "meifn9dz") { logLines(first: 10, useImprovedPagination: true) { edges { node { level line } } } } } }', {}, {key: ALICE});
	assert.deepEqual(tb.project.run.logLines.edges.map((e) => e.node.level), ['', 'error', 'error', 'error']);
	const none = await m.q('{ project(name: "generated", entityName: "vision-lab") { runs(first: 1) { edges { node { logLines(last: 1) { edges { node { line } } } } } } } }', {}, {key: ALICE});
	assert.ok(none.project.runs.edges[0].node.logLines.edges.length === 1);
});

test('updateRun changes the live model and bumps updatedAt; bad updates are refused', async (t) => {
	const m = await openModel(SAMPLE);
	t.after(() => m.close());
	const alice = m.store.authenticate(ALICE);
	const q = '{ project(name: "mnist-demo", entityName: "alice") { run(name: "a1b2c3d4") { state summaryMetrics config heartbeatAt updatedAt tags displayName } } }';
	const before = (await m.q(q, {}, {key: ALICE})).project.run;
	const set = {state: 'running', summaryMetrics: '{"loss": NaN, "_step": 99999999999999999999}', config: '{"lr": {"desc": null, "value": 0.5}}',
		heartbeatAt: '2030-01-01T00:00:00.5Z', tags: ['x'], displayName: 'renamed'};
	assert.equal(m.store.updateRun(alice, {entity: 'alice', project: 'mnist-demo', name: 'a1b2c3d4', set}), null);
	const after = (await m.q(q, {}, {key: ALICE})).project.run;
	assert.equal(after.state, 'running');
	assert.equal(after.summaryMetrics, set.summaryMetrics);
	assert.equal(after.config, set.config);
	assert.equal(after.heartbeatAt, '2030-01-01T00:00:00.5');
	assert.deepEqual(after.tags, ['x']);
	assert.equal(after.displayName, 'renamed');
	assert.ok(after.updatedAt > before.updatedAt);
	const filteredNow = await m.q('{ project(name: "mnist-demo", entityName: "alice") { runs(filters: "{\\"config.lr\\": 0.5}") { edges { node { name } } } } }', {}, {key: ALICE});
	assert.deepEqual(filteredNow.project.runs.edges.map((e) => e.node.name), ['a1b2c3d4']);
	const run = {entity: 'alice', project: 'mnist-demo', name: 'a1b2c3d4'};
	assert.match(m.store.updateRun(alice, {...run, set: {bogus: 1}}), /cannot set "bogus"/);
	assert.match(m.store.updateRun(alice, {...run, set: {summaryMetrics: '{oops'}}), /summaryMetrics/);
	assert.match(m.store.updateRun(alice, {...run, set: {summaryMetrics: '[1]'}}), /object/);
	assert.match(m.store.updateRun(alice, {...run, set: {heartbeatAt: 'soon'}}), /timestamp/);
	assert.match(m.store.updateRun(alice, {...run, set: {tags: 'x'}}), /list of strings/);
	assert.match(m.store.updateRun(alice, {...run, set: []}), /object/);
	assert.match(m.store.updateRun(alice, {...run, name: 'nope', set: {}}), /not found/);
	assert.match(m.store.updateRun(m.store.authenticate(BOB), {entity: 'alice', project: 'legacy-flat', name: 'meifn9dz', set: {state: 'x'}}), /not found/);
	assert.match(m.store.updateRun(m.store.authenticate(BOB), {...run, set: {state: 'x'}}), /read-only/, 'a public project is not writable by others');
	assert.equal(m.store.updateRun(m.store.authenticate('k'.repeat(40)), {...run, set: {state: 'finished'}}), null, 'the superuser may');
});

// ---- the generator ------------------------------------------------------------------------------------

test('generator: deterministic, files as the SDK writes them, lazy rows match counts', async (t) => {
	const spec = {kind: 'runs', entity: 'g', project: 'p', count: 30, seed: 9, historyRows: [5, 30], sweeps: 1};
	const a = await openModel(writeTree({'server.json': {generate: [spec]}}));
	const b = await openModel(writeTree({'server.json': {generate: [spec]}}));
	const c = await openModel(writeTree({'server.json': {generate: [{...spec, seed: 10}]}}));
	t.after(() => [a, b, c].forEach((x) => x.close()));
	const q = `{ project(name: "p", entityName: "g") { runs(first: 100) { edges { node { name config summaryMetrics state createdAt historyLineCount historyKeys
		logLineCount eventsLineCount history(samples: 1000) events(samples: 1000) sweepName
		files(first: 20) { edges { node { name directUrl } } } logLines(first: 1000, useImprovedPagination: true) { edges { node { line } } } } } } } }`;
	const ra = (await a.q(q)).project.runs.edges.map((e) => e.node);
	const rb = (await b.q(q)).project.runs.edges.map((e) => e.node);
	const rc = (await c.q(q)).project.runs.edges.map((e) => e.node);
	const strip = (runs) => runs.map(({files, ...x}) => x);
	assert.deepEqual(strip(ra), strip(rb));
	assert.notDeepEqual(ra.map((x) => x.config), rc.map((x) => x.config));
	for (const r of ra) {
		const cfgKeys = Object.keys(plain(r.config)).filter((k) => k !== '_wandb' && k !== 'wandb_version');
		assert.ok(cfgKeys.length >= 8, 'config keys');
		assert.equal(r.history.length, r.historyLineCount);
		assert.deepEqual(r.history.map((h) => plain(h)._step), Array.from({length: r.historyLineCount}, (_, i) => i));
		assert.equal(r.historyKeys.lastStep, r.historyLineCount - 1);
		assert.equal(r.events.length, r.eventsLineCount);
		assert.equal(r.logLines.edges.length, r.logLineCount);
		// The last history row is what the summary says.
		const last = plain(r.history[r.history.length - 1]);
		const sum = plain(r.summaryMetrics);
		assert.ok(Object.is(last['train/loss'], sum['train/loss']) && Object.is(last.acc, sum.acc), r.name);
		// Files: config.yaml parses (independently) to the served config; the summary and console
		// files are the served texts.
		const file = (n) => fs.readFileSync(path.join(a.storageDir, 'runs', 'g', 'p', r.name, n), 'utf8');
		const yamlCfg = YAML.parse(file('config.yaml'), {intAsBigInt: true});
		assert.deepEqual(canonical(jsonTokens(r.config)), canonicalYaml(yamlCfg));
		assert.equal(file('wandb-summary.json'), r.summaryMetrics);
		assert.equal(file('output.log'), `${r.logLines.edges.map((e) => e.node.line).join('\n')}\n`);
		assert.ok(r.files.edges.some((f) => f.node.name === 'wandb-metadata.json'));
	}
	assert.ok(ra.some((r) => r.sweepName) && ra.some((r) => !r.sweepName));
});

function canonicalYaml(v) {
	if (typeof v === 'bigint') return `int:${v}`;
	if (typeof v === 'number') return `num:${v}`;
	if (Array.isArray(v)) return v.map(canonicalYaml);
	if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonicalYaml(v[k])]));
	return v;
}

test('generator: 10,000 runs in a few seconds', async (t) => {
	const t0 = Date.now();
	const m = await openModel(writeTree({'server.json': {generate: [{kind: 'runs', entity: 'b', project: 'p', count: 10000, seed: 3, files: false}]}}));
	const ms = Date.now() - t0;
	t.after(() => m.close());
	t.diagnostic(`10,000 runs generated in ${ms} ms`);
	assert.equal((await m.q('{ project(name: "p", entityName: "b") { runCount } }')).project.runCount, 10000);
	assert.ok(ms < 15000, `${ms} ms`);
});

test('server.json errors are reported, not ignored', async () => {
	for (const [cfg, msg] of [[{bogus: 1}, /unknown key "bogus"/], [{generate: [{kind: 'nope'}]}, /unknown generate kind/],
		[{runs: [{entity: 'x', project: 'y', name: 'z', set: {}}]}, /no run x\/y\/z/], [{users: {}}, /must be a list/],
		[{import: [{path: 'missing', entity: 'e', layout: 'project-per-dir'}]}, /not a directory/]]) {
		await assert.rejects(openModel(writeTree({'server.json': cfg})), msg);
	}
	await assert.rejects(openModel(writeTree({'server.json': '{oops'})), /server\.json/);
	await assert.rejects(openModel(writeTree({'e/p/run-20240101_000000-abc/files/config.yaml': 'a: [1,'})), /config\.yaml/);
});
