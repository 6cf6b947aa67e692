// The full import of the shared corpus of real wandb run dirs (../shared/corpus/runs): every run is
// served, summaries byte-faithful (NaN, Infinity and big integers compared as exact tokens), configs
// equal to config.yaml's values, files with the right bytes/md5, history counts, console lines, sweeps.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {openModel, writeTree, allPages, jsonTokens, canonical, CORPUS} from './helpers/model.mjs';

const RUNS = path.join(CORPUS, 'runs');
const haveCorpus = fs.existsSync(RUNS);

// What the corpus holds, read straight from disk: project → [{dir, id}], and sweep dirs.
function expectedRuns() {
	const projects = new Map();
	for (const p of fs.readdirSync(RUNS).sort()) {
		const runs = [];
		for (const d of fs.readdirSync(path.join(RUNS, p)).sort()) {
			if (d.startsWith('sweep-')) continue;
			const dir = path.join(RUNS, p, d);
			const m = /^(?:offline-run|run|dryrun)-\d{8}_\d{6}-(.+)$/.exec(d);
			const marker = fs.readdirSync(dir).map((f) => /^run-(.+?)\.wandb/.exec(f)).find(Boolean);
			runs.push({dir, id: m ? m[1] : marker ? marker[1] : d});
		}
		projects.set(p, runs);
	}
	return projects;
}

// Console lines: the text split at newlines, no empty line after a final newline.
function splitLines(text) {
	if (text === '') return [];
	return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

function filesOf(dir) {
	const root = fs.existsSync(path.join(dir, 'files')) ? path.join(dir, 'files') : dir;
	return {root, names: fs.readdirSync(root, {recursive: true}).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort()};
}

// YAML config values as canonical tokens (ints exact), independent of the importer.
function yamlCanonical(v) {
	if (typeof v === 'bigint') return `int:${v}`;
	if (typeof v === 'number') return `num:${v}`;
	if (Array.isArray(v)) return v.map(yamlCanonical);
	if (v && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v).sort()) o[k] = yamlCanonical(v[k]);
		return o;
	}
	return v;
}

const RUN_FIELDS = 'name state config summaryMetrics historyLineCount historyKeys fileCount logLineCount sweepName createdAt heartbeatAt commit host';

test('the corpus imports completely and faithfully', {skip: !haveCorpus && 'no ../shared/corpus'}, async (t) => {
	const data = writeTree({'server.json': {import: [{entity: 'corpus', path: RUNS, layout: 'project-per-dir'}]}});
	const m = await openModel(data);
	t.after(() => m.close());
	const expected = expectedRuns();
	const nRuns = [...expected.values()].reduce((n, r) => n + r.length, 0);
	assert.equal(expected.size, 39);
	assert.equal(nRuns, 67);

	const projects = await allPages(async (after) => (await m.q(
		'query($a: String) { models(entityName: "corpus", first: 10, after: $a) { edges { node { name } } pageInfo { endCursor hasNextPage } } }',
		{a: after})).models);
	assert.deepEqual(projects.map((p) => p.name).sort(), [...expected.keys()]);

	let served = 0;
	for (const [project, runs] of expected) {
		const nodes = await allPages(async (after) => (await m.q(
			`query($p: String!, $a: String) { project(name: $p, entityName: "corpus") { runCount runs(first: 2, after: $a) { edges { node { ${RUN_FIELDS} } } pageInfo { endCursor hasNextPage } } } }`,
			{p: project, a: after})).project.runs);
		assert.deepEqual(nodes.map((n) => n.name).sort(), runs.map((r) => r.id).sort(), project);
		served += nodes.length;
		for (const {dir, id} of runs) {
			const node = nodes.find((n) => n.name === id);
			const where = `${project}/${id}`;
			const {root, names} = filesOf(dir);
			// Summary: same values, every number token identical (NaN, Infinity, big ints).
			const sumFile = path.join(root, 'wandb-summary.json');
			const sumText = fs.existsSync(sumFile) && fs.readFileSync(sumFile, 'utf8').trim() ? fs.readFileSync(sumFile, 'utf8') : '{}';
			assert.deepEqual(jsonTokens(node.summaryMetrics), jsonTokens(sumText), `${where} summary`);
			// Config: the values of config.yaml (run_config.yaml in the one renamed dir), ints exact.
			const cfgFile = ['config.yaml', 'run_config.yaml'].map((f) => path.join(root, f)).find((f) => fs.existsSync(f));
			const cfg = cfgFile ? YAML.parse(fs.readFileSync(cfgFile, 'utf8'), {intAsBigInt: true}) : {};
			assert.deepEqual(canonical(jsonTokens(node.config)), yamlCanonical(cfg), `${where} config`);
			// History rows, console lines, files.
			const histFile = path.join(root, 'wandb-history.jsonl');
			const histLines = fs.existsSync(histFile) ? fs.readFileSync(histFile, 'utf8').split('\n').filter((l) => l.trim()) : [];
			assert.equal(node.historyLineCount, histLines.length, `${where} history lines`);
			const lastStep = histLines.length ? Math.max(...histLines.map((l, i) => {
				const s = /"_step": (\d+)/.exec(l);
				return s ? Number(s[1]) : i;
			})) : -1;
			assert.equal(node.historyKeys.lastStep, lastStep, `${where} lastStep`);
			const logFile = path.join(root, 'output.log');
			assert.equal(node.logLineCount, fs.existsSync(logFile) ? splitLines(fs.readFileSync(logFile, 'utf8')).length : 0, `${where} log lines`);
			assert.equal(node.fileCount, names.length, `${where} file count`);
			const files = await allPages(async (after) => (await m.q(
				'query($p: String!, $r: String!, $a: String) { project(name: $p, entityName: "corpus") { run(name: $r) { files(first: 7, after: $a) { edges { node { name sizeBytes md5 url directUrl updatedAt } } pageInfo { endCursor hasNextPage } } } } }',
				{p: project, r: id, a: after})).project.run.files);
			assert.deepEqual(files.map((f) => f.name), names, `${where} files`);
			for (const f of files) {
				const bytes = fs.readFileSync(path.join(root, f.name));
				assert.equal(f.sizeBytes, bytes.length);
				assert.equal(f.md5, crypto.createHash('md5').update(bytes).digest('base64'));
				assert.ok(f.updatedAt);
				// The stored blob is the same bytes, where directUrl points.
				const stored = fs.readFileSync(path.join(m.storageDir, 'runs', 'corpus', project, id, f.name));
				assert.ok(stored.equals(bytes), `${where}/${f.name} stored bytes`);
				assert.ok(f.directUrl.endsWith(`/runs/corpus/${encodeURIComponent(project)}/${id}/${f.name.split('/').map(encodeURIComponent).join('/')}`));
			}
		}
	}
	assert.equal(served, 67);

	// Summaries with extended JSON tokens come back with them.
	const nanRun = await m.q('{ project(name: "AGKhalil__RL_implements", entityName: "corpus") { run(name: "29wa70cs") { summaryMetrics } } }');
	assert.match(nanRun.project.run.summaryMetrics, /: NaN/);

	// Sweeps: each sweep-<id>/config-<run>.yaml names a run of the sweep; the Runs filter finds them.
	let sweeps = 0;
	for (const project of expected.keys()) {
		for (const d of fs.readdirSync(path.join(RUNS, project)).filter((x) => x.startsWith('sweep-'))) {
			const id = d.slice('sweep-'.length);
			const want = fs.readdirSync(path.join(RUNS, project, d)).map((f) => /^config-(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean).sort();
			const r = await m.q('query($p: String!, $s: String!, $f: JSONString) { project(name: $p, entityName: "corpus") { sweep(sweepName: $s) { name config runCount } runs(filters: $f) { edges { node { name sweepName } } } } }',
				{p: project, s: id, f: JSON.stringify({$and: [{sweep: id}]})});
			assert.equal(r.project.sweep.name, id);
			assert.ok(YAML.parse(r.project.sweep.config).parameters);
			assert.deepEqual(r.project.runs.edges.map((e) => e.node.name).sort(), want);
			assert.equal(r.project.sweep.runCount, want.length);
			sweeps++;
		}
	}
	assert.equal(sweeps, 5);
});

test('a 37k-line console log pages back to the exact output.log', {skip: !haveCorpus && 'no ../shared/corpus'}, async (t) => {
	const project = 'dalisson__callback_training_loop';
	const data = writeTree({'server.json': {import: [{entity: 'corpus', path: path.join(RUNS, project), layout: 'runs', project}]}});
	const m = await openModel(data);
	t.after(() => m.close());
	const q = 'query($a: String) { project(name: "dalisson__callback_training_loop", entityName: "corpus") { run(name: "3v1gxofa") { logLineCount logLines(first: 1000, after: $a, useImprovedPagination: true) { edges { node { number line } } pageInfo { endCursor hasNextPage } } } } }';
	let count = 0;
	const lines = await allPages(async (after) => {
		const r = (await m.q(q, {a: after})).project.run;
		count = r.logLineCount;
		return r.logLines;
	});
	const text = fs.readFileSync(path.join(RUNS, project, 'run-20211019_161302-3v1gxofa', 'files', 'output.log'), 'utf8');
	assert.equal(lines.length, count);
	assert.ok(count > 30000);
	assert.deepEqual(lines.map((l) => l.number), lines.map((_, i) => i));
	assert.deepEqual(lines.map((l) => l.line), splitLines(text));
	assert.ok(!text.endsWith('\n') && text.endsWith(lines[lines.length - 1].line));
});
