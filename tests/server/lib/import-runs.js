// import-runs.js: import real wandb run directories, exactly as the SDK writes them, into the store.
//
// Layouts: modern (`run-*/files/{config.yaml, wandb-summary.json, wandb-metadata.json, output.log,
// requirements.txt, wandb-history.jsonl?, media/...}`, files outside files/ are SDK internals) and
// pre-0.10 flat (everything directly in the run dir); `offline-run-*` and `dryrun-*` alike.
// Run ID: the suffix of `run-<date>_<time>-<id>` (also offline-run-/dryrun-); for other names a
// `run-<id>.wandb[.synced]` file, else an `id`/`run_id` in wandb-metadata.json, else the dir name.
// `sweep-<id>/config-<run>.yaml` folders next to the runs define sweeps.
//
// Fidelity: wandb-summary.json text is kept verbatim (NaN, Infinity, big integers); config.yaml is
// converted to the JSON the server would hold, integers exact (BigInt), floats printed as Python
// does, key order kept. History/events rows keep their source text.

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {parseExt, pyFloatRepr, stringifyRaw} from './extjson.js';
import {normalizeTime} from './store.js';

const RUN_DIR_RE = /^(?:offline-run|run|dryrun)-(\d{8})_(\d{6})-(.+)$/;
const WANDB_FILES = ['config.yaml', 'run_config.yaml', 'wandb-summary.json', 'wandb-metadata.json',
	'wandb-history.jsonl', 'wandb-events.jsonl', 'output.log'];
const RUN_STATES = new Set(['running', 'finished', 'crashed', 'failed', 'killed', 'preempting', 'preempted', 'pending']);

// ---- config.yaml → JSON text ---------------------------------------------------------------------

function scalarJson(v) {
	if (v === null || v === undefined) return 'null';
	switch (typeof v) {
	case 'bigint': return v.toString();
	case 'number': return pyFloatRepr(v);
	case 'boolean': return v ? 'true' : 'false';
	case 'string': return JSON.stringify(v);
	default: break;
	}
	if (Buffer.isBuffer(v) || v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
	if (v instanceof Date) return JSON.stringify(v.toISOString());
	return JSON.stringify(String(v));
}

function keyText(node, doc) {
	if (node === null || node === undefined) return 'null';
	if (YAML.isAlias(node)) return keyText(node.resolve(doc), doc);
	if (YAML.isScalar(node)) {
		const v = node.value;
		if (typeof v === 'string') return v;
		if (typeof v === 'number') return pyFloatRepr(v);
		return v === null ? 'null' : String(v);
	}
	// A complex key (rare): its JSON text, so nothing is lost.
	return nodeJson(node, doc);
}

function nodeJson(node, doc) {
	if (node === null || node === undefined) return 'null';
	if (YAML.isAlias(node)) return nodeJson(node.resolve(doc), doc);
	if (YAML.isMap(node)) {
		return `{${node.items.map((p) => `${JSON.stringify(keyText(p.key, doc))}: ${nodeJson(p.value, doc)}`).join(', ')}}`;
	}
	if (YAML.isSeq(node)) return `[${node.items.map((x) => nodeJson(x, doc)).join(', ')}]`;
	if (YAML.isScalar(node)) return scalarJson(node.value);
	throw new Error(`unexpected YAML node ${node?.constructor?.name}`);
}

// The wrapped-config YAML the SDK writes → the JSON text of the same object (ints exact).
export function configYamlToJson(text) {
	const doc = YAML.parseDocument(text, {intAsBigInt: true});
	if (doc.errors.length) throw new Error(doc.errors[0].message);
	if (doc.contents === null) return '{}';
	if (!YAML.isMap(doc.contents)) throw new Error('config.yaml is not a mapping');
	return nodeJson(doc.contents, doc);
}

// ---- reading a run directory ---------------------------------------------------------------------

function readText(file) {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch (e) {
		if (e.code === 'ENOENT') return null;
		throw e;
	}
}

function isDir(p) {
	try {
		return fs.lstatSync(p).isDirectory();
	} catch {
		return false;
	}
}

// Relative paths (with "/") of every regular file under dir, sorted; symlinks are skipped.
function listFiles(dir, prefix = '') {
	const out = [];
	for (const ent of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : 1))) {
		const rel = prefix ? `${prefix}/${ent.name}` : ent.name;
		if (ent.isDirectory()) out.push(...listFiles(path.join(dir, ent.name), rel));
		else if (ent.isFile()) out.push(rel);
	}
	return out;
}

export function isRunDir(dir) {
	if (RUN_DIR_RE.test(path.basename(dir))) return true;
	if (isDir(path.join(dir, 'files'))) return true;
	return WANDB_FILES.some((f) => fs.existsSync(path.join(dir, f)));
}

function runIdOf(dir, metadata) {
	const m = RUN_DIR_RE.exec(path.basename(dir));
	if (m) return m[3];
	for (const f of fs.readdirSync(dir).sort()) {
		const w = /^run-(.+?)\.wandb(?:\.synced)?$/.exec(f);
		if (w) return w[1];
	}
	for (const k of ['id', 'run_id', 'runId']) if (typeof metadata?.[k] === 'string' && metadata[k]) return metadata[k];
	return path.basename(dir);
}

function splitLines(text) {
	const lines = text.split('\n');
	if (lines.length && lines[lines.length - 1] === '') lines.pop();
	return lines;
}

// JSONL rows → [{step, text}]; the step is the row's integral `_step`, else its index.
function historyRows(text, where) {
	const rows = [];
	for (const line of splitLines(text)) {
		const t = line.replace(/\r$/, '');
		if (!t.trim()) continue;
		let obj;
		try {
			obj = parseExt(t);
		} catch (e) {
			throw new Error(`${where}: ${e.message}`);
		}
		const s = obj?._step;
		rows.push({step: Number.isInteger(s) ? s : typeof s === 'number' && Number.isFinite(s) ? Math.round(s) : rows.length, text: t});
	}
	return rows;
}

// The latest system metrics: the `system.*` keys of the last events row, source text kept.
function systemMetricsText(events) {
	if (!events.length) return '{}';
	const last = parseExt(events[events.length - 1], {raw: true});
	const out = new Map();
	for (const [k, v] of last) if (k.startsWith('system.')) out.set(k, v);
	return stringifyRaw(out);
}

function dirTime(dir) {
	const m = RUN_DIR_RE.exec(path.basename(dir));
	if (!m) return null;
	const [d, t] = [m[1], m[2]];
	return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}`;
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// Read one run dir into the attributes store.addRun takes, plus the list of its files.
export function readRunDir(dir) {
	const filesRoot = isDir(path.join(dir, 'files')) ? path.join(dir, 'files') : dir;
	const flat = filesRoot === dir;
	const where = (f) => path.join(filesRoot, f);
	const metaText = readText(where('wandb-metadata.json'));
	let metadata = null;
	if (metaText !== null && metaText.trim()) {
		try {
			metadata = parseExt(metaText);
		} catch (e) {
			throw new Error(`${where('wandb-metadata.json')}: ${e.message}`);
		}
	}
	const configFile = ['config.yaml', 'run_config.yaml'].map(where).find((f) => fs.existsSync(f));
	let config = '{}';
	if (configFile) {
		try {
			config = configYamlToJson(fs.readFileSync(configFile, 'utf8'));
		} catch (e) {
			throw new Error(`${configFile}: ${e.message}`);
		}
	}
	let summary = readText(where('wandb-summary.json'));
	if (summary === null || !summary.trim()) summary = '{}';
	let summaryObj;
	try {
		summaryObj = parseExt(summary);
	} catch (e) {
		throw new Error(`${where('wandb-summary.json')}: ${e.message}`);
	}
	const historyText = readText(where('wandb-history.jsonl'));
	const history = historyText === null ? [] : historyRows(historyText, where('wandb-history.jsonl'));
	const eventsText = readText(where('wandb-events.jsonl'));
	const events = eventsText === null ? [] : historyRows(eventsText, where('wandb-events.jsonl')).map((r) => r.text);
	const logText = readText(where('output.log'));

	// Times: start from metadata, else the dir name; the last sign of life is the latest of the
	// metadata heartbeat, start + runtime, and the last logged timestamp.
	const created = normalizeTime(metadata?.startedAt) ?? normalizeTime(dirTime(dir)) ??
		(num(summaryObj?._timestamp) !== null ? normalizeTime(1000 * (num(summaryObj._timestamp) - (num(summaryObj._runtime) ?? 0))) : null) ??
		normalizeTime(Date.UTC(2020, 0, 1));
	const beats = [created.ms];
	const hb = normalizeTime(metadata?.heartbeatAt);
	if (hb) beats.push(hb.ms);
	const runtime = num(summaryObj?._wandb?.runtime) ?? num(summaryObj?._runtime);
	if (runtime !== null) beats.push(created.ms + 1000 * runtime);
	if (num(summaryObj?._timestamp) !== null) beats.push(1000 * num(summaryObj._timestamp));
	const heartbeatMs = Math.max(...beats.filter(Number.isFinite));
	const heartbeatAt = hb && hb.ms === heartbeatMs ? hb.text : heartbeatMs;

	// The 0.8 SDK kept metadata.state current; newer ones write "running" at start and never update
	// it, so only a terminal state counts there.
	let state = 'finished';
	const ms = metadata?.state;
	if (RUN_STATES.has(ms) && (flat || ms !== 'running')) state = ms;

	const git = metadata?.git && typeof metadata.git === 'object' ? metadata.git : {};
	return {
		attrs: {
			name: runIdOf(dir, metadata),
			state, config, summary, systemMetrics: systemMetricsText(events),
			host: typeof metadata?.host === 'string' ? metadata.host : null,
			commit: typeof git.commit === 'string' ? git.commit : null,
			jobType: typeof metadata?.jobType === 'string' ? metadata.jobType : null,
			createdAt: created.text, heartbeatAt, metadata, exitcode: num(metadata?.exitcode),
			history, events, logLines: logText === null ? null : splitLines(logText),
		},
		filesRoot,
		files: listFiles(filesRoot),
	};
}

// ---- sweeps --------------------------------------------------------------------------------------

// sweep-<id>/config-<run>.yaml files hold each run's parameter values; the sweep config is
// reconstructed from them (method unknown: "random"; every parameter as a list of seen values).
function readSweepDir(dir) {
	const id = path.basename(dir).slice('sweep-'.length);
	const runs = [];
	const params = new Map();
	for (const f of fs.readdirSync(dir).sort()) {
		const m = /^config-(.+)\.yaml$/.exec(f);
		if (!m) continue;
		runs.push(m[1]);
		const doc = YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8')) ?? {};
		for (const [k, v] of Object.entries(doc)) {
			if (k === 'wandb_version' || k === '_wandb') continue;
			const value = v && typeof v === 'object' && 'value' in v ? v.value : v;
			const seen = params.get(k) ?? [];
			if (!seen.some((x) => JSON.stringify(x) === JSON.stringify(value))) seen.push(value);
			params.set(k, seen);
		}
	}
	const parameters = {};
	for (const [k, values] of params) parameters[k] = {values};
	const config = `# reconstructed by the test server from ${runs.map((r) => `config-${r}.yaml`).join(', ')}\n` +
		YAML.stringify({method: 'random', parameters});
	return {id, runs, config};
}

// ---- trees ---------------------------------------------------------------------------------------

function subdirs(dir) {
	return fs.readdirSync(dir, {withFileTypes: true}).filter((e) => e.isDirectory() && !e.name.startsWith('.'))
		.map((e) => e.name).sort();
}

function storeRun(store, entity, project, {attrs, filesRoot, files}) {
	const run = store.addRun(entity, project, attrs);
	for (const f of files) store.putRunFile(run, f, path.join(filesRoot, f));
	return run;
}

// Import one run dir into entity/project. Returns the run.
export function importRunDir(store, entity, project, dir) {
	return storeRun(store, entity, project, readRunDir(dir));
}

// Import every run dir and sweep dir of a project dir. Returns {runs, sweeps, skipped}; a dir that
// is neither, or a resumed run's earlier dir (same run ID, earlier name), is listed in skipped.
export function importProjectDir(store, entity, project, dir, projectAttrs = {}) {
	store.ensureProject(entity, project, projectAttrs);
	const result = {runs: [], sweeps: [], skipped: []};
	const runDirs = new Map(); // run ID → {dir, parsed}
	const sweepDirs = [];
	for (const name of subdirs(dir)) {
		const d = path.join(dir, name);
		if (/^sweep-.+/.test(name) && !isRunDir(d)) {
			sweepDirs.push(d);
		} else if (isRunDir(d)) {
			const parsed = readRunDir(d);
			const prev = runDirs.get(parsed.attrs.name);
			if (prev) result.skipped.push(prev.dir);
			runDirs.set(parsed.attrs.name, {dir: d, parsed});
		} else {
			result.skipped.push(d);
		}
	}
	for (const {parsed} of runDirs.values()) result.runs.push(storeRun(store, entity, project, parsed));
	const p = store.project(entity, project);
	for (const d of sweepDirs) {
		const s = readSweepDir(d);
		const members = s.runs.map((r) => p.runsByName.get(r)).filter(Boolean);
		const createdAt = members.length ? Math.min(...members.map((r) => r.createdAtMs)) : undefined;
		const sweep = store.addSweep(entity, project, {name: s.id, config: s.config, method: 'random', state: 'FINISHED', createdAt});
		for (const r of members) r.sweepName = sweep.name;
		result.sweeps.push(sweep);
	}
	return result;
}

// Import a tree. layout: "entity-per-dir" (<root>/<entity>/<project>/<run-dir>), "project-per-dir"
// (<root>/<project>/<run-dir> under opts.entity) or "runs" (<root>/<run-dir> into opts.entity/
// opts.project). Top-level names starting with "_" or "." are not entities (room for other data).
// projectAttrs (access, description) apply to every project created. Returns a summary.
export function importTree(store, root, {layout = 'entity-per-dir', entity, project, projectAttrs = {}} = {}) {
	if (!isDir(root)) throw new Error(`import: ${root} is not a directory`);
	const summary = {projects: 0, runs: 0, sweeps: 0, skipped: []};
	const add = (r) => {
		summary.projects++;
		summary.runs += r.runs.length;
		summary.sweeps += r.sweeps.length;
		summary.skipped.push(...r.skipped);
	};
	if (layout === 'entity-per-dir') {
		for (const e of subdirs(root).filter((n) => !n.startsWith('_'))) {
			for (const pr of subdirs(path.join(root, e))) add(importProjectDir(store, e, pr, path.join(root, e, pr), projectAttrs));
		}
	} else if (layout === 'project-per-dir') {
		if (!entity) throw new Error('import: layout project-per-dir needs an entity');
		for (const pr of subdirs(root)) add(importProjectDir(store, entity, pr, path.join(root, pr), projectAttrs));
	} else if (layout === 'runs') {
		if (!entity || !project) throw new Error('import: layout runs needs an entity and a project');
		add(importProjectDir(store, entity, project, root, projectAttrs));
	} else {
		throw new Error(`import: unknown layout ${JSON.stringify(layout)}`);
	}
	return summary;
}
