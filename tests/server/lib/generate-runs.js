// generate-runs.js: deterministic synthetic projects of any size (server.json `generate` entries of
// kind "runs").
//
// Everything derives from the entry's seed: a project-wide config schema (20-200 keys, nested
// sections, ints, floats, strings, lists, booleans, nulls, integers beyond 2^53), per-run values,
// summaries (with NaN/Infinity on diverged runs and big token counts), history curves, system
// events, console lines, states (a fraction running), tags/groups/jobTypes, increasing createdAt,
// and optionally sweeps. History, events and console lines are produced on demand from a stateless
// hash of (seed, run, step), so 10,000 runs cost only their config and summary text in memory.
// With `files` (default on) each run also gets config.yaml, wandb-summary.json, wandb-metadata.json,
// output.log and, for some runs, a media table file in storage, written exactly as the SDK would.

import {pyFloatRepr, stringifyRaw} from './extjson.js';

// ---- deterministic randomness ------------------------------------------------------------------

// Integer mixing (xorshift-multiply rounds) of any number of 32-bit inputs → [0, 1).
function mix(...xs) {
	let h = 0x9e3779b9;
	for (const x of xs) {
		h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
		h ^= h >>> 13;
		h = Math.imul(h, 0xc2b2ae35);
		h ^= h >>> 16;
	}
	return (h >>> 0) / 4294967296;
}

// A sequential generator seeded by 32-bit words.
function rng(...seed) {
	let i = 0;
	const s = seed.map((x) => x >>> 0);
	const next = () => mix(...s, i++);
	next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
	next.pick = (arr) => arr[Math.floor(next() * arr.length)];
	next.chance = (p) => next() < p;
	return next;
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

// ---- text emitters --------------------------------------------------------------------------------

const toJson = (tree) => stringifyRaw(tree, {floats: true});

// YAML the way PyYAML's safe_dump writes the wrapped config (block style, "- " lists at the key's
// indent); strings are double-quoted (JSON escapes are valid YAML), floats as Python prints them.
function yamlScalar(v) {
	if (v === null) return 'null';
	if (typeof v === 'bigint') return v.toString();
	if (typeof v === 'boolean') return v ? 'true' : 'false';
	if (typeof v === 'number') {
		if (Number.isNaN(v)) return '.nan';
		if (v === Infinity) return '.inf';
		if (v === -Infinity) return '-.inf';
		return pyFloatRepr(v);
	}
	return JSON.stringify(v);
}

function yamlKey(k) {
	return /^[A-Za-z_][A-Za-z0-9_\-/]*$/.test(k) && !/^(?:true|false|null|yes|no|on|off|y|n)$/i.test(k) ? k : JSON.stringify(k);
}

// ---- the project's config schema -------------------------------------------------------------------

const SECTIONS = ['model', 'optim', 'data', 'trainer', 'logging', 'augment', 'scheduler', 'eval', 'tokenizer', 'distributed'];
const LEAVES = ['lr', 'batch_size', 'dropout', 'hidden_size', 'num_layers', 'seed', 'weight_decay', 'warmup_steps',
	'momentum', 'eps', 'beta1', 'beta2', 'name', 'path', 'enabled', 'max_len', 'vocab_size', 'activation', 'init',
	'clip_norm', 'epochs', 'accumulate', 'precision', 'num_heads', 'ratio', 'patience', 'workers', 'shuffle', 'mode',
	'temperature', 'top_k', 'label_smoothing', 'cache_dir', 'log_every', 'save_every', 'resume', 'tags', 'sizes'];
const WORDS = ['adam', 'sgd', 'relu', 'gelu', 'bert-base', 'resnet50', 'cosine', 'linear', 'fp16', 'bf16', 'xavier',
	'/data/train', 's3://bucket/set', 'ünïcødé', 'a "quoted" value', 'tab\there', 'yes', 'null', '1e3', ''];
const KINDS = ['float', 'float', 'int', 'int', 'str', 'bool', 'list', 'null', 'bigint'];

// The project's config plan: a key tree sorted like PyYAML's sort_keys, leaves carry a value kind.
// Node: {key, kind} (leaf) or {key, children} (section). Stable for the project.
function makePlan(r, nKeys) {
	const fixed = [
		[['lr'], 'lr'], [['batch_size'], 'pow2'], [['optimizer'], 'optimizer'], [['seed'], 'int'],
		[['model', 'name'], 'str'], [['model', 'num_layers'], 'int'], [['model', 'encoder', 'hidden_size'], 'pow2'],
		[['model', 'dropout'], 'float'], [['epochs'], 'int'],
	];
	const paths = [...fixed];
	const used = new Set(fixed.map(([p]) => p.join('.')));
	let guard = 0;
	while (paths.length < nKeys && guard++ < nKeys * 20) {
		const depth = r.pick([1, 1, 2, 2, 2, 3]);
		const p = [];
		if (depth >= 2) p.push(r.pick(SECTIONS));
		if (depth === 3) p.push(r.pick(['encoder', 'decoder', 'head', 'train', 'val']));
		p.push(r.pick(LEAVES) + (r.chance(0.3) ? `_${r.int(1, 9)}` : ''));
		const key = p.join('.');
		// A key must not be both a leaf and a section of another key.
		if (used.has(key) || [...used].some((u) => u.startsWith(`${key}.`) || key.startsWith(`${u}.`))) continue;
		used.add(key);
		paths.push([p, r.pick(KINDS)]);
	}
	const root = new Map();
	for (const [p, kind] of paths) {
		let m = root;
		for (const k of p.slice(0, -1)) {
			if (!m.has(k)) m.set(k, new Map());
			m = m.get(k);
		}
		m.set(p[p.length - 1], kind);
	}
	const toNodes = (m) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, v]) => (v instanceof Map ?
		{key, json: JSON.stringify(key), yaml: yamlKey(key), children: toNodes(v)} :
		{key, json: JSON.stringify(key), yaml: yamlKey(key), kind: v}));
	return toNodes(root);
}

// One run's values, in plan order (depth first); null marks a top-level key this run lacks.
function planValues(plan, r) {
	const vals = [];
	const walk = (nodes, top) => {
		for (const n of nodes) {
			if (top && !n.children && n.kind !== 'lr' && r.chance(0.03)) {
				vals.push(SKIP);
				continue;
			}
			if (n.children) walk(n.children, false);
			else vals.push(value(n.kind, r));
		}
	};
	walk(plan, true);
	return vals;
}

const SKIP = Symbol('skip');

function planJson(plan, vals, head) {
	let i = 0;
	const inner = (nodes) => `{${nodes.map((n) => `${n.json}: ${n.children ? inner(n.children) : toJson(vals[i++])}`).join(', ')}}`;
	const parts = [head];
	for (const n of plan) {
		if (!n.children && vals[i] === SKIP) {
			i++;
			continue;
		}
		parts.push(`${n.json}: {"desc": null, "value": ${n.children ? inner(n.children) : toJson(vals[i++])}}`);
	}
	return `{${parts.join(', ')}}`;
}

function planYaml(plan, vals, head) {
	let i = 0;
	const out = [head];
	const leaf = (pad, keyText, v) => {
		if (Array.isArray(v) && v.length) {
			out.push(`${pad}${keyText}:`);
			for (const e of v) out.push(`${pad}- ${yamlScalar(e)}`);
		} else {
			out.push(`${pad}${keyText}: ${Array.isArray(v) ? '[]' : yamlScalar(v)}`);
		}
	};
	const section = (nodes, indent) => {
		const pad = ' '.repeat(indent);
		for (const n of nodes) {
			if (n.children) {
				out.push(`${pad}${n.yaml}:`);
				section(n.children, indent + 2);
			} else {
				leaf(pad, n.yaml, vals[i++]);
			}
		}
	};
	for (const n of plan) {
		if (!n.children && vals[i] === SKIP) {
			i++;
			continue;
		}
		out.push(`${n.yaml}:`, '  desc: null');
		if (n.children) {
			out.push('  value:');
			section(n.children, 4);
		} else {
			leaf('  ', 'value', vals[i++]);
		}
	}
	return `${out.join('\n')}\n`;
}

function value(kind, r) {
	switch (kind) {
	case 'lr': return r.pick([1e-5, 3e-5, 5e-5, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.1]);
	case 'pow2': return BigInt(2 ** r.int(3, 10));
	case 'optimizer': return r.pick(['adam', 'adamw', 'sgd', 'lion']);
	case 'float': return Math.round(r() * 1e6) / 1e6 * (r.chance(0.1) ? 1000 : 1);
	case 'int': return BigInt(r.int(0, 1000));
	case 'str': return r.pick(WORDS);
	case 'bool': return r.chance(0.5);
	case 'list': return Array.from({length: r.int(0, 4)}, () => BigInt(r.int(1, 512)));
	case 'null': return null;
	case 'bigint': return 9007199254740993n + BigInt(r.int(0, 1e9)) * 1000003n;
	default: throw new Error(kind);
	}
}

// ---- one run ---------------------------------------------------------------------------------------

const ADJ = ['swift', 'dainty', 'lucky', 'brisk', 'quiet', 'bold', 'misty', 'fresh', 'noble', 'sunny', 'gentle', 'royal'];
const NOUN = ['sun', 'river', 'forest', 'wave', 'moon', 'field', 'star', 'breeze', 'paper', 'night', 'dream', 'frog'];
const TAGS = ['baseline', 'ablation', 'lr-search', 'fp16', 'v2', 'debug', 'prod', 'long', 'ünïcode', 'sweep-candidate'];
const FINAL_STATES = [['finished', 0.85], ['failed', 0.07], ['crashed', 0.05], ['killed', 0.03]];

// Curves of one run as pure functions of the step (so any window can be produced on demand).
function curves(seed, idx, p) {
	const noise = (s, k) => mix(seed, idx, s, k) - 0.5;
	const loss = (s) => (p.nanFrom !== null && s >= p.nanFrom ? NaN :
		p.a * Math.exp(-p.b * s / Math.max(1, p.rows)) + p.c + 0.02 * noise(s, 1));
	return {
		loss,
		valLoss: (s) => loss(s) * 1.1 + 0.01 * noise(s, 2),
		acc: (s) => Math.min(1, Math.max(0, 1 - loss(s) / (p.a + p.c) + 0.01 * noise(s, 3))),
		lr: (s) => p.lr * 0.5 * (1 + Math.cos(Math.PI * s / Math.max(1, p.rows))),
		runtime: (s) => Math.round((5 + s * p.secPerStep + noise(s, 4)) * 1e6) / 1e6,
	};
}

function historyRow(c, p, s) {
	const row = new Map([['_step', BigInt(s)], ['_runtime', c.runtime(s)], ['_timestamp', p.t0 + c.runtime(s)],
		['train/loss', c.loss(s)], ['acc', c.acc(s)], ['lr', c.lr(s)], ['epoch', BigInt(Math.floor(s / p.stepsPerEpoch))]]);
	if (s % 10 === 9) row.set('val/loss', c.valLoss(s));
	return row;
}

const EVENT_EVERY_S = 30;

function eventRow(seed, idx, p, i) {
	const n = (k) => mix(seed, idx, 100000 + i, k);
	const rt = Math.min((i + 1) * EVENT_EVERY_S, p.runtime);
	return new Map([['system.cpu', Math.round(n(1) * 10000) / 100], ['system.memory', Math.round((20 + n(2) * 60) * 100) / 100],
		['system.gpu.0.gpu', Math.round(n(3) * 10000) / 100], ['system.gpu.0.memoryAllocated', Math.round(n(4) * 10000) / 100],
		['system.network.sent', BigInt(Math.floor(rt * 1000 + n(5) * 1000))], ['_wandb', true],
		['_timestamp', p.t0 + rt], ['_runtime', BigInt(Math.round(rt))]]);
}

function logLines(c, p) {
	const every = Math.max(1, Math.ceil(p.rows / 20));
	const lines = [`wandb: Tracking run ${p.displayName}`, `Training ${p.rows} steps, lr=${pyFloatRepr(p.lr)}`];
	for (let s = 0; s < p.rows; s += every) lines.push(`step ${s} epoch ${Math.floor(s / p.stepsPerEpoch)} loss ${c.loss(s).toFixed(4)}`);
	if (p.state === 'failed' || p.state === 'crashed') {
		lines.push('Traceback (most recent call last):', '  File "train.py", line 42, in <module>', 'RuntimeError: CUDA out of memory');
	} else if (p.state !== 'running') {
		lines.push('Training done.');
	}
	return lines;
}

function logLineCount(p) {
	const every = Math.max(1, Math.ceil(p.rows / 20));
	const tail = p.state === 'failed' || p.state === 'crashed' ? 3 : p.state === 'running' ? 0 : 1;
	return 2 + Math.ceil(p.rows / every) + tail;
}

// Depth-first leaf position of a top-level key in the plan.
function leafIndex(plan, key) {
	let i = 0;
	const count = (nodes) => nodes.reduce((n, x) => n + (x.children ? count(x.children) : 1), 0);
	for (const n of plan) {
		if (n.key === key) return i;
		i += n.children ? count(n.children) : 1;
	}
	throw new Error(`plan has no ${key}`);
}

// The SDK's own config entries (first in config.yaml: wandb_version, then _wandb).
const WANDB_T = '{"1": [1, 5, 11, 49, 55], "2": [1, 5, 11, 49, 55], "3": [13, 16, 23], "4": "3.10.12", "5": "0.16.6"}';
const wandbJson = (start) => '"wandb_version": 1, "_wandb": {"desc": null, "value": {"cli_version": "0.16.6", ' +
	`"framework": "torch", "is_jupyter_run": false, "is_kaggle_kernel": false, "python_version": "3.10.12", "t": ${WANDB_T}, ` +
	`"start_time": ${pyFloatRepr(start)}}}`;
const wandbYaml = (start) => ['wandb_version: 1', '_wandb:', '  desc: null', '  value:', '    cli_version: 0.16.6',
	'    framework: torch', '    is_jupyter_run: false', '    is_kaggle_kernel: false', '    python_version: 3.10.12',
	'    t:', '      1:', '      - 1', '      - 5', '      - 11', '      - 49', '      - 55', '      2:', '      - 1', '      - 5',
	'      - 11', '      - 49', '      - 55', '      3:', '      - 13', '      - 16', '      - 23', '      4: 3.10.12',
	'      5: 0.16.6', `    start_time: ${pyFloatRepr(start)}`].join('\n');

// ---- the generator ----------------------------------------------------------------------------------

function range(spec, name, dflt) {
	const v = spec[name] ?? dflt;
	const [lo, hi] = Array.isArray(v) ? v : [v, v];
	if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo) throw new Error(`generate: bad ${name} ${JSON.stringify(v)}`);
	return [lo, hi];
}

// spec: {entity, project, count, seed, runningFraction (0.1), historyRows ([50, 300]), configKeys
// ([20, 200]), files (true), sweeps (0), access, description, startTime (ISO, default 2024-01-01)}.
export function generateRuns(store, spec, {seed: defaultSeed = 1} = {}) {
	const {entity, project} = spec;
	if (!entity || !project) throw new Error('generate runs: entity and project are required');
	const count = spec.count ?? 10;
	if (!Number.isInteger(count) || count < 0) throw new Error(`generate runs: bad count ${spec.count}`);
	const seed = (spec.seed ?? defaultSeed) >>> 0;
	const runningFraction = spec.runningFraction ?? 0.1;
	const [hLo, hHi] = range(spec, 'historyRows', [50, 300]);
	const [kLo, kHi] = range(spec, 'configKeys', [20, 200]);
	const withFiles = spec.files ?? true;
	const t0 = spec.startTime ? Date.parse(spec.startTime) : Date.UTC(2024, 0, 1);
	if (Number.isNaN(t0)) throw new Error(`generate runs: bad startTime ${spec.startTime}`);
	const attrs = {};
	if (spec.access !== undefined) attrs.access = spec.access;
	if (spec.description !== undefined) attrs.description = spec.description;
	store.ensureProject(entity, project, attrs);

	const pr = rng(seed, 0x5eed);
	const plan = makePlan(pr, pr.int(kLo, kHi));
	const lrIndex = leafIndex(plan, 'lr');
	const sweepIds = Array.from({length: spec.sweeps ?? 0}, () => Array.from({length: 8}, () => pr.pick(ID_CHARS)).join(''));
	const ids = new Set();
	const runs = [];
	let created = t0;
	let prevDisplay = null;
	for (let i = 0; i < count; i++) {
		const r = rng(seed, i + 1);
		let id;
		do id = Array.from({length: 8}, () => r.pick(ID_CHARS)).join(''); while (ids.has(id));
		ids.add(id);
		created += 1000 * (300 + r.int(0, 600));
		const running = r() < runningFraction;
		let state = 'running';
		if (!running) {
			let x = r();
			state = FINAL_STATES.find(([, w]) => (x -= w) < 0)?.[0] ?? 'finished';
		}
		const rows = r.int(hLo, hHi);
		const secPerStep = 0.2 + r() * 20;
		const diverged = state !== 'running' && r.chance(0.05);
		const displayName = i % 37 === 36 && prevDisplay ? prevDisplay :
			i % 50 === 49 ? `lr=${r.pick(['0.1', '0.01'])}/bs=${2 ** r.int(3, 8)}` : `${r.pick(ADJ)}-${r.pick(NOUN)}-${i + 1}`;
		prevDisplay = displayName;
		const p = {
			rows, secPerStep, t0: created / 1000, a: 1 + r() * 3, b: 2 + r() * 5, c: 0.05 + r() * 0.3,
			nanFrom: diverged ? r.int(0, Math.max(0, rows - 1)) : null, stepsPerEpoch: Math.max(1, Math.ceil(rows / r.int(1, 20))),
			lr: 0, displayName, state, runtime: 0,
		};

		// Config: plan values (a few top-level keys absent), wrapped, with the SDK's _wandb block.
		const vals = planValues(plan, r);
		p.lr = vals[lrIndex];
		const c = curves(seed, i, p);
		const last = rows - 1;
		p.runtime = c.runtime(last) + r.int(1, 30);

		// Summary = the last logged values, plus run totals.
		const summary = new Map([['_runtime', p.runtime], ['_step', BigInt(last)], ['_timestamp', p.t0 + p.runtime],
			['_wandb', new Map([['runtime', BigInt(Math.floor(p.runtime))]])], ['acc', c.acc(last)], ['epoch', BigInt(Math.floor(last / p.stepsPerEpoch))],
			['lr', c.lr(last)], ['train/loss', c.loss(last)]]);
		const lastVal = last - ((last + 1) % 10);
		if (lastVal >= 0) summary.set('val/loss', c.valLoss(lastVal));
		if (r.chance(0.2)) summary.set('total_tokens', 9007199254740993n + BigInt(r.int(0, 1e9)) * 7919n);
		if (r.chance(0.05)) summary.set('grad_norm', r.chance(0.5) ? Infinity : -Infinity);
		summary.set('best', new Map([['step', BigInt(r.int(0, last))], ['val/loss', p.c]]));
		const media = withFiles && r.chance(0.1) ? `media/table/predictions_${last}_${id.slice(0, 6)}.table.json` : null;
		const mediaText = media ? toJson(new Map([['columns', ['id', 'label', 'score']],
			['data', Array.from({length: 5}, (_, j) => [BigInt(j), r.pick(['cat', 'dog']), Math.round(r() * 1e4) / 1e4])]])) : null;
		if (media) {
			summary.set('predictions', new Map([['_type', 'table-file'], ['path', media], ['ncols', 3n], ['nrows', 5n],
				['size', BigInt(Buffer.byteLength(mediaText))]]));
		}

		const nEvents = Math.max(1, Math.min(100, Math.ceil(p.runtime / EVENT_EVERY_S)));
		const lastEvent = eventRow(seed, i, p, nEvents - 1);
		const system = new Map([...lastEvent].filter(([k]) => k.startsWith('system.')));
		const sweepName = sweepIds.length && i % 4 === 0 ? sweepIds[(i / 4) % sweepIds.length] : null;
		const tags = [...new Set(Array.from({length: r.int(0, 3)}, () => r.pick(TAGS)))];
		const configText = planJson(plan, vals, wandbJson(p.t0));
		const summaryText = toJson(summary);
		const run = store.addRun(entity, project, {
			name: id, displayName, state, config: configText, summary: summaryText, systemMetrics: toJson(system),
			tags, group: r.chance(0.5) ? `group-${r.int(1, 5)}` : null, jobType: r.pick(['train', 'train', 'train', 'eval', null]),
			notes: r.chance(0.1) ? 'notes with "quotes", ünïcode and a\nnewline' : null,
			host: `node-${r.int(1, 16)}`, commit: Array.from({length: 40}, () => r.pick('0123456789abcdef')).join(''),
			sweepName, createdAt: created, heartbeatAt: created + 1000 * p.runtime,
			exitcode: state === 'running' ? null : state === 'finished' ? 0 : 1,
			historyLineCount: rows, lastStep: last, eventsLineCount: nEvents, logLineCount: logLineCount(p),
			lazy: {
				history: () => Array.from({length: rows}, (_, s) => ({step: s, text: toJson(historyRow(c, p, s))})),
				events: () => Array.from({length: nEvents}, (_, k) => toJson(eventRow(seed, i, p, k))),
				logLines: () => logLines(c, p),
			},
			historyKeys: {keys: Object.fromEntries(['_step', '_runtime', '_timestamp', 'train/loss', 'acc', 'lr', 'epoch', 'val/loss']
				.map((k) => [k, {typeCounts: [{type: 'number', count: k === 'val/loss' ? Math.floor(rows / 10) : rows}]}]))},
		});
		if (withFiles) {
			const metadata = {
				os: 'Linux-5.15.0-x86_64-with-glibc2.35', python: '3.10.12', heartbeatAt: run.heartbeatAt,
				startedAt: run.createdAt, program: 'train.py', args: ['--lr', pyFloatRepr(p.lr)], host: run.host,
				username: store.ownerOf(entity).username, executable: '/usr/bin/python3', cpu_count: 8, gpu: 'NVIDIA A100-SXM4-80GB',
				gpu_count: 1, git: {remote: `https://example.com/${entity}/${project}.git`, commit: run.commit},
			};
			store.putRunFile(run, 'config.yaml', Buffer.from(planYaml(plan, vals, wandbYaml(p.t0))));
			store.putRunFile(run, 'wandb-summary.json', Buffer.from(summaryText));
			store.putRunFile(run, 'wandb-metadata.json', Buffer.from(JSON.stringify(metadata, null, 4)));
			store.putRunFile(run, 'output.log', Buffer.from(`${logLines(c, p).join('\n')}\n`));
			if (media) store.putRunFile(run, media, Buffer.from(mediaText));
		}
		runs.push(run);
	}
	sweepIds.forEach((sid, k) => {
		const members = runs.filter((x) => x.sweepName === sid);
		const config = `method: ${['bayes', 'random', 'grid'][k % 3]}\nmetric:\n  goal: minimize\n  name: train/loss\n` +
			'parameters:\n  lr:\n    values: [0.0001, 0.001, 0.01]\n  batch_size:\n    values: [16, 32, 64]\n';
		store.addSweep(entity, project, {
			name: sid, config, method: ['bayes', 'random', 'grid'][k % 3], state: k === 0 && members.some((x) => x.state === 'running') ? 'RUNNING' : 'FINISHED',
			createdAt: members.length ? members[0].createdAtMs : t0, displayName: `sweep-${k + 1}`,
		});
	});
	return {runs: runs.length, sweeps: sweepIds.length};
}
