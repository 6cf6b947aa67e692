// resolvers-core.js: GraphQL resolvers for identity, entities, organizations, projects, runs, run
// files, history/events/console logs, sweeps, reports (views) and serverInfo, over the store
// (lib/store.js).
//
// Shape: {TypeName: {field(parent, args, ctx, info)}}; ctx = {store, user, baseUrl, storageUrl(relPath),
// apiUrl(path), pageCap}. Anything that does not exist or that ctx.user may not see resolves to null
// (never an error); malformed arguments (bad filters, order, cursors, specs) are GraphQL errors.
//
// File nodes (also usable by the artifact resolvers, which share the File type): {id, name,
// displayName?, sizeBytes, md5, mimetype, createdAtMs, updatedAtMs (null = no such file yet),
// storagePath (for directUrl), urlPath (API path behind File.url) or url, directUrl?, digest?,
// exists?, isReference?}.

import YAML from 'yaml';
import {paginate, DEFAULT_PAGE_CAP} from './paginate.js';
import {compileFilter, compileOrder, selectRuns, runFilter, runComparator} from './filters.js';
import {parseExt, stringifyRaw} from './extjson.js';
import {base64, formatTime, DEFAULT_ACCESS} from './store.js';

const DEFAULT_SAMPLES = 500;
const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const timeOrNull = (ms, frac = false) => (ms === null || ms === undefined ? null : formatTime(ms, {frac}));
const emptyConnection = () => ({edges: [], pageInfo: {hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null}, totalCount: 0});
const encPath = (s) => s.split('/').map(encodeURIComponent).join('/');

// Server features the SDK probes; other modules may add or override entries in store.ext.serverFeatures.
const FEATURES = ['ARTIFACT_REGISTRY_SEARCH', 'ARTIFACT_COLLECTION_MEMBERSHIP_FILES',
	'ARTIFACT_COLLECTION_MEMBERSHIP_FILE_DOWNLOAD_HANDLER', 'PROJECT_ARTIFACT_COLLECTION_MEMBERSHIP',
	'TOTAL_COUNT_IN_FILE_CONNECTION', 'ARTIFACT_COLLECTIONS_FILTERING_SORTING',
	'ARTIFACT_V2_DOWNLOAD_HANDLER_SUPPORTS_ARTIFACT_ID', 'STRUCTURED_CONSOLE_LOGS', 'SWEEPS_QUERY_FILTERING',
	'LARGE_FILENAMES'];
const SERVER_VERSION = '0.78.0';

// ---- helpers ---------------------------------------------------------------------------------------

// Evenly spaced picks that keep the first and last element (deterministic "sampling").
export function sampleEvenly(arr, n) {
	if (n === null || n === undefined || arr.length <= n) return arr;
	if (n <= 0) return [];
	if (n === 1) return [arr[arr.length - 1]];
	const out = [];
	for (let i = 0; i < n; i++) out.push(arr[Math.round(i * (arr.length - 1) / (n - 1))]);
	return out;
}

const toStep = (v, name) => {
	if (v === null || v === undefined) return null;
	const n = Number(v);
	if (!Number.isFinite(n)) throw new Error(`${name} must be a number`);
	return n;
};

// MySQL LIKE (case-sensitive here): % any run, _ one character, backslash escapes.
export function likeRegExp(pattern) {
	let re = '';
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
		else if (c === '%') re += '.*';
		else if (c === '_') re += '.';
		else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
	}
	return new RegExp(`^${re}$`, 's');
}

// A JSON object text restricted to some top-level keys (source text of each value kept).
function pickKeys(text, keys) {
	if (!keys || !keys.length) return text;
	let obj;
	try {
		obj = parseExt(text ?? '{}', {raw: true});
	} catch {
		return text;
	}
	if (!(obj instanceof Map)) return text;
	return stringifyRaw(new Map(keys.filter((k) => obj.has(k)).map((k) => [k, obj.get(k)])));
}

function parseSpec(spec) {
	let s = spec;
	if (typeof s === 'string') {
		try {
			s = JSON.parse(s);
		} catch (e) {
			throw new Error(`invalid sampledHistory spec: ${e.message}`);
		}
	}
	if (!s || typeof s !== 'object' || Array.isArray(s)) throw new Error('invalid sampledHistory spec: not an object');
	if (s.keys !== undefined && (!Array.isArray(s.keys) || !s.keys.every((k) => typeof k === 'string'))) {
		throw new Error('invalid sampledHistory spec: "keys" must be a list of strings');
	}
	return s;
}

// ---- project and sweep field maps for filters/order -------------------------------------------------

// Project fields for filters and order. `only` (a list of names), when given, limits them to those
// (registries document fewer; resolvers-artifacts.js).
export function projectFieldOf(store, only = null) {
	const fields = {
		name: {get: (p) => p.name}, id: {get: (p) => p.numericId}, entity_id: {get: (p) => store.entities.get(p.entity)?.numericId},
		entityName: {get: (p) => p.entity}, entity_name: {get: (p) => p.entity}, description: {get: (p) => p.description},
		access: {get: (p) => p.access},
		created_at: {get: (p) => store.projectCreatedAtMs(p), type: 'time'}, createdAt: {get: (p) => store.projectCreatedAtMs(p), type: 'time'},
		updated_at: {get: (p) => store.projectUpdatedAtMs(p), type: 'time'}, updatedAt: {get: (p) => store.projectUpdatedAtMs(p), type: 'time'},
	};
	return (name) => (!only || only.includes(name) ? fields[name] ?? null : null);
}

function selectProjects(store, projects, {filters, order}) {
	const fieldOf = projectFieldOf(store);
	const pred = compileFilter(filters, fieldOf);
	const cmp = compileOrder(order, (k) => fieldOf(k)?.get ?? null, {defaultOrder: '+name', tie: (p) => p.name});
	return projects.filter(pred).sort(cmp);
}

const SWEEP_FIELDS = {
	name: {get: (s) => s.name}, state: {get: (s) => s.state}, method: {get: (s) => s.method},
	displayName: {get: (s) => s.displayName}, display_name: {get: (s) => s.displayName},
	createdAt: {get: (s) => s.createdAtMs, type: 'time'}, created_at: {get: (s) => s.createdAtMs, type: 'time'},
};

// ---- resolvers ---------------------------------------------------------------------------------------

function visibleProjectArgs(ctx, {name, entityName}) {
	if (!name) return null;
	return ctx.store.visibleProject(ctx.user, entityName ?? ctx.user?.entity, name);
}

function entityProjects(ctx, entityName, args) {
	const {store, user} = ctx;
	if (!store.visibleEntity(user, entityName)) return null;
	return paginate(selectProjects(store, store.projectsOf(user, entityName), args), args, ctx);
}

function runConnection(ctx, runs, args) {
	const list = selectRuns(runs, args, ctx.store);
	return paginate(list, args, ctx, {key: (r) => r.name});
}

function memberOf(u, role) {
	return {id: u.id, name: u.name, username: u.username, email: null, photoUrl: null, role, admin: role === 'admin',
		pending: false, accountType: 'MEMBER', apiKey: null};
}

function runFileNode(run, f) {
	return {...f, urlPath: `/files/${encodeURIComponent(run.entity)}/${encodeURIComponent(run.projectName)}/${encodeURIComponent(run.name)}/${encPath(f.name)}`};
}

// The "open handle" the real server invents for a name that has no file yet (updatedAt null).
function inventedFile(run, name) {
	return {
		id: base64(`File:pending:${run.id}:${name}`), name, sizeBytes: 0, md5: null, mimetype: null, createdAtMs: null,
		updatedAtMs: null, storagePath: `runs/${run.entity}/${run.projectName}/${run.name}/${name}`, exists: false,
	};
}

function sortedFiles(run) {
	return [...run.files.values()].sort(byName);
}

// One console line. Lines get timestamps spread from createdAt to heartbeatAt; from the first
// Python traceback on, lines count as stderr (level "error").
function logLineNode(run, lines, errorFrom, i) {
	const span = Math.max(0, run.heartbeatAtMs - run.createdAtMs);
	const ms = run.createdAtMs + (lines.length > 1 ? Math.round(span * i / (lines.length - 1)) : 0);
	return {id: `${run.id}:${i}`, number: i, line: lines[i], timestamp: formatTime(ms, {frac: true}),
		level: errorFrom >= 0 && i >= errorFrom ? 'error' : '', label: ''};
}

function sweepBestLoss(store, sweep) {
	let cfg;
	try {
		cfg = YAML.parse(sweep.config);
	} catch {
		return null;
	}
	const metric = cfg?.metric;
	if (!metric?.name) return null;
	const sign = metric.goal === 'maximize' ? -1 : 1;
	let best = null;
	for (const r of store.sweepRuns(sweep)) {
		const summary = store.runSummaryPlain(r);
		const v = Object.hasOwn(summary, metric.name) ? summary[metric.name] : undefined;
		if (typeof v === 'number' && Number.isFinite(v) && (best === null || sign * v < sign * best)) best = v;
	}
	return best;
}

export const resolvers = {
	Query: {
		viewer: (_, __, ctx) => ctx.user ?? null,
		user: (_, {userName, id}, {store}) => {
			const u = userName ? store.users.get(userName) : [...store.users.values()].find((x) => x.id === id);
			return u ?? null;
		},
		entity: (_, {name}, {store, user}) => store.visibleEntity(user, name ?? user?.entity),
		organization: (_, {name, id}, {store, user}) => {
			const org = name !== undefined && name !== null ? store.organizations.get(name) :
				[...store.organizations.values()].find((o) => o.id === id);
			return store.canSeeOrganization(user, org) ? org : null;
		},
		project: (_, args, ctx) => visibleProjectArgs(ctx, args),
		model: (_, args, ctx) => visibleProjectArgs(ctx, args),
		models: (_, args, ctx) => entityProjects(ctx, args.entityName ?? ctx.user?.entity, args),
		projects: (_, args, ctx) => entityProjects(ctx, args.entityName ?? ctx.user?.entity, args),
		serverInfo: () => ({}),
	},

	User: {
		email: (u, _, {user}) => (user && (user.superuser || user.username === u.username) ? u.email : null),
		apiKey: () => null,
		apiKeys: () => null,
		admin: (u) => Boolean(u.superuser),
		flags: () => '{}',
		createdAt: (u) => formatTime(u.createdAtMs),
		defaultEntity: (u, _, {store, user}) => store.visibleEntity(user, u.entity),
		userEntity: (u, _, {store, user}) => store.visibleEntity(user, u.entity),
		defaultEntityId: (u, _, {store}) => store.entities.get(u.entity)?.numericId ?? null,
		teams: (u, args, ctx) => {
			const teams = ctx.store.viewerTeams(u).filter((e) => ctx.store.canSeeEntity(ctx.user, e));
			return paginate(teams, args, ctx, {key: (e) => e.name});
		},
		organizations: (u, _, {store, user}) => store.orgsOfUser(u).filter((o) => store.canSeeOrganization(user, o)),
		projects: (u, args, ctx) => entityProjects(ctx, u.entity, args) ?? emptyConnection(),
		private: () => false,
		signupRequired: () => false,
		hideTeamsFromPublic: () => false,
		totalRuns: (u, _, {store, user}) => store.projectsOf(user, u.entity).reduce((n, p) => n + p.runs.length, 0),
		uploadHeaders: () => [],
		photoUploadUrl: () => '',
		emails: () => [],
	},

	Entity: {
		isTeam: (e) => e.kind !== 'user',
		entityType: (e) => e.kind.toUpperCase(),
		available: () => true,
		readOnly: (e, _, {store, user}) => !store.isMember(user, e.name),
		readOnlyAdmin: () => false,
		privateOnly: () => false,
		codeSavingEnabled: () => true,
		defaultAccess: () => DEFAULT_ACCESS,
		isPaid: () => false,
		createdAt: (e) => formatTime(e.createdAtMs),
		organization: (e, _, {store, user}) => {
			const org = e.organization ? store.organizations.get(e.organization) : null;
			return store.canSeeOrganization(user, org) ? org : null;
		},
		organizationId: (e, _, {store}) => (e.organization ? store.organizations.get(e.organization)?.id ?? null : null),
		user: (e, _, {store}) => (e.kind === 'user' ? store.users.get(e.name) ?? null : null),
		members: (e, _, {store}) => {
			if (e.kind === 'user') {
				const u = store.users.get(e.name);
				return u ? [memberOf(u, 'admin')] : [];
			}
			return [...store.users.values()].filter((u) => !u.superuser && store.isMember(u, e.name))
				.sort((a, b) => a.numericId - b.numericId).map((u) => memberOf(u, 'member'));
		},
		memberCount: (e, args, ctx, info) => resolvers.Entity.members(e, args, ctx, info).length,
		projects: (e, args, ctx) => entityProjects(ctx, e.name, args) ?? emptyConnection(),
		project: (e, {name}, {store, user}) => (name ? store.visibleProject(user, e.name, name) : null),
		runCount: (e, {filters}, {store, user}) => {
			const pred = runFilter(filters, store);
			return store.projectsOf(user, e.name).reduce((n, p) => n + p.runs.filter(pred).length, 0);
		},
		storageBytes: (e, _, {store, user}) => store.projectsOf(user, e.name)
			.reduce((n, p) => n + p.runs.reduce((m, r) => m + [...r.files.values()].reduce((k, f) => k + f.sizeBytes, 0), 0), 0),
		photoUploadUrl: () => '',
		uploadHeaders: () => [],
		accessTokens: () => [],
		tagCategories: () => [],
		defaultAlerts: () => [],
	},

	Organization: {
		orgEntity: (o, _, {store}) => store.entities.get(o.orgEntity) ?? null,
		available: () => true,
		orgType: () => 'ORGANIZATION',
		flags: () => '{}',
		members: (o, _, {store}) => o.members.map((m) => store.users.get(m)).filter(Boolean).map((u) => ({
			id: u.id, name: u.name, username: u.username, role: 'member', admin: false, photoUrl: '', user: u,
		})),
		teams: (o, _, {store, user}) => [...store.entities.values()]
			.filter((e) => e.kind === 'team' && e.organization === o.name && store.canSeeEntity(user, e)).sort(byName),
		projects: (o, args, ctx) => entityProjects(ctx, o.orgEntity, args) ?? emptyConnection(),
	},

	Project: {
		entityName: (p) => p.entity,
		entity: (p, _, {store}) => store.entities.get(p.entity),
		entityId: (p, _, {store}) => store.entities.get(p.entity)?.numericId ?? null,
		createdAt: (p, _, {store}) => formatTime(store.projectCreatedAtMs(p)),
		updatedAt: (p, _, {store}) => formatTime(store.projectUpdatedAtMs(p)),
		lastActive: (p, _, {store}) => formatTime(store.projectUpdatedAtMs(p)),
		readOnly: (p, _, {store, user}) => !store.isMember(user, p.entity),
		public: (p) => ['PUBLIC', 'USER_READ', 'USER_WRITE'].includes(p.access),
		isBenchmark: () => false,
		isPublished: () => false,
		user: (p, _, {store}) => store.ownerOf(p.entity),
		userId: (p, _, {store}) => store.ownerOf(p.entity).numericId,
		views: () => '{}',
		totalRuns: (p) => p.runs.length,
		runCount: (p, {filters}, {store}) => p.runs.filter(runFilter(filters, store)).length,
		runActiveCount: (p, {filters}, {store}) => {
			const pred = runFilter(filters, store);
			return p.runs.filter((r) => r.state === 'running' && pred(r)).length;
		},
		runs: (p, args, ctx) => {
			const names = args.names?.length ? new Set(args.names) : null;
			return runConnection(ctx, names ? p.runs.filter((r) => names.has(r.name)) : p.runs, args);
		},
		run: (p, {name}) => p.runsByName.get(name) ?? null,
		bucket: (p, {name}) => p.runsByName.get(name) ?? null,
		totalSweeps: (p) => p.sweeps.size,
		sweep: (p, {sweepName}) => p.sweeps.get(sweepName) ?? null,
		sweeps: (p, args, ctx) => {
			const pred = compileFilter(args.filters, (n) => SWEEP_FIELDS[n] ?? null);
			const cmp = compileOrder(args.order, (k) => SWEEP_FIELDS[k]?.get ?? null, {defaultOrder: '+created_at', tie: (s) => s.name});
			return paginate([...p.sweeps.values()].filter(pred).sort(cmp), args, ctx, {key: (s) => s.name});
		},
		allViews: (p, args, ctx) => {
			const views = (p.reports ?? []).filter((v) => (!args.viewType || v.type === args.viewType) && (!args.viewName || v.name === args.viewName));
			return paginate(views, args, ctx);
		},
		tags: (p) => [...new Set(p.runs.flatMap((r) => r.tags))].sort().map((name, i) => ({name, colorIndex: i})),
		totalUsers: () => 1,
		totalRunTime: (p) => p.runs.reduce((n, r) => n + (r.heartbeatAtMs - r.createdAtMs) / 1000, 0),
		storageBytes: (p) => p.runs.reduce((n, r) => n + [...r.files.values()].reduce((k, f) => k + f.sizeBytes, 0), 0),
	},

	Run: {
		config: (r, {keys}) => pickKeys(r.configText, keys),
		summaryMetrics: (r, {keys}) => pickKeys(r.summaryText, keys),
		systemMetrics: (r) => r.systemText,
		wandbConfig: (r, {keys}) => {
			let cfg;
			try {
				cfg = parseExt(r.configText, {raw: true});
			} catch {
				return '{}';
			}
			const w = cfg instanceof Map ? cfg.get('_wandb') : null;
			const inner = w instanceof Map && w.has('value') ? w.get('value') : w;
			if (!(inner instanceof Map)) return '{}';
			const wanted = keys?.length ? keys.filter((k) => inner.has(k)) : [...inner.keys()];
			return stringifyRaw(new Map(wanted.map((k) => [k, inner.get(k)])));
		},
		projectId: (r) => r.project.numericId,
		project: (r) => r.project,
		model: (r) => r.project,
		user: (r, _, {store}) => store.userByName(r.username),
		userId: (r, _, {store}) => store.userByName(r.username)?.numericId ?? null,
		readOnly: (r, _, {store, user}) => !store.isMember(user, r.entity),
		sweep: (r) => (r.sweepName ? r.project.sweeps.get(r.sweepName) ?? null : null),
		stopped: () => false,
		running: (r) => r.state === 'running',
		failed: (r) => r.state === 'failed' || r.state === 'crashed',
		shouldStop: () => false,
		pendingUpdates: () => false,
		computeSeconds: (r) => Math.round((r.heartbeatAtMs - r.createdAtMs) / 1000),
		storageBytes: (r) => [...r.files.values()].reduce((n, f) => n + f.sizeBytes, 0),
		tagColors: (r) => r.tags.map((name, i) => ({name, colorIndex: i})),
		defaultColorIndex: (r) => r.numericId % 30,
		fileCount: (r) => r.files.size,
		files: (r, args, ctx) => {
			let list;
			if (args.names?.length) list = [...new Set(args.names)].map((n) => r.files.get(n) ?? inventedFile(r, n));
			else list = sortedFiles(r);
			if (args.pattern !== undefined && args.pattern !== null) {
				const re = likeRegExp(args.pattern);
				list = list.filter((f) => f.exists !== false && re.test(f.name));
			}
			return paginate(list, args, ctx, {key: (f) => f.name, node: (f) => runFileNode(r, f)});
		},
		historyKeys: (r, _, {store}) => store.runHistoryKeys(r),
		history: (r, {samples, minStep, maxStep}, {store}) => {
			let rows = store.runHistory(r);
			const lo = toStep(minStep, 'minStep');
			const hi = toStep(maxStep, 'maxStep');
			if (lo !== null || hi !== null) rows = rows.filter((x) => (lo === null || x.step >= lo) && (hi === null || x.step < hi));
			return sampleEvenly(rows, samples ?? DEFAULT_SAMPLES).map((x) => x.text);
		},
		sampledHistory: (r, {specs}, {store}) => {
			const rows = store.runHistory(r);
			return specs.map((raw) => {
				const spec = parseSpec(raw);
				const lo = toStep(spec.minStep, 'minStep');
				const hi = toStep(spec.maxStep, 'maxStep');
				const keys = spec.keys ?? [];
				const out = [];
				for (const row of rows) {
					if ((lo !== null && row.step < lo) || (hi !== null && row.step > hi)) continue;
					const obj = parseExt(row.text);
					if (!keys.every((k) => Object.hasOwn(obj, k) && obj[k] !== null)) continue;
					out.push(keys.length ? Object.fromEntries(keys.map((k) => [k, obj[k]])) : obj);
				}
				return sampleEvenly(out, spec.samples ?? DEFAULT_SAMPLES);
			});
		},
		parquetHistory: (r, {liveKeys}, {store}) => ({
			parquetUrls: [],
			liveData: store.runHistory(r).map((row) => {
				const obj = parseExt(row.text);
				return liveKeys.length ? Object.fromEntries(liveKeys.filter((k) => Object.hasOwn(obj, k)).map((k) => [k, obj[k]])) : obj;
			}),
		}),
		events: (r, {samples}, {store}) => sampleEvenly(store.runEvents(r), samples ?? DEFAULT_SAMPLES),
		logLines: (r, args, ctx) => {
			const lines = ctx.store.runLogLines(r);
			if (!lines) return null;
			const errorFrom = lines.findIndex((l) => l.startsWith('Traceback (most recent call last):'));
			const indexes = Array.from({length: lines.length}, (_, i) => i);
			const opts = {key: (i) => String(i), node: (i) => logLineNode(r, lines, errorFrom, i)};
			// Current servers page forward with useImprovedPagination; `last` alone is the tail; the
			// legacy resolver ignores `first` and pages backwards from `after`.
			if (args.useImprovedPagination || (args.last !== undefined && args.last !== null)) {
				return paginate(indexes, args, ctx, opts);
			}
			return paginate(indexes, {before: args.after, last: ctx.pageCap ?? DEFAULT_PAGE_CAP}, ctx, opts);
		},
		runInfo: (r) => {
			const m = r.metadata;
			if (!m || typeof m !== 'object') return null;
			const str = (v) => (typeof v === 'string' ? v : null);
			const int = (v) => (Number.isInteger(v) ? v : null);
			const git = m.git && typeof m.git === 'object' ? {remote: str(m.git.remote), commit: str(m.git.commit)} : null;
			return {
				program: str(m.program), args: Array.isArray(m.args) ? m.args.map(String) : [], os: str(m.os), python: str(m.python),
				colab: str(m.colab), executable: str(m.executable), codeSaved: Boolean(m.codePath), cpuCount: int(m.cpu_count),
				gpuCount: int(m.gpu_count), gpu: str(m.gpu), git,
			};
		},
	},

	File: {
		displayName: (f) => f.displayName ?? f.name,
		url: (f, {upload}, {apiUrl}) => {
			if (upload) return null;
			if (f.urlPath) return apiUrl(f.urlPath);
			return f.url ?? null;
		},
		directUrl: (f, _, {storageUrl}) => f.directUrl ?? storageUrl(f.storagePath),
		digest: (f) => f.digest ?? f.md5 ?? null,
		exists: (f) => f.exists !== false,
		isReference: (f) => Boolean(f.isReference),
		createdAt: (f) => timeOrNull(f.createdAtMs),
		updatedAt: (f) => timeOrNull(f.updatedAtMs),
		uploadHeaders: () => [],
		storageBucket: () => null,
	},

	FileConnection: {
		uploadHeaders: () => [],
	},

	Sweep: {
		createdAt: (s) => formatTime(s.createdAtMs),
		updatedAt: (s, _, {store}) => formatTime(Math.max(s.createdAtMs, ...store.sweepRuns(s).map((r) => r.updatedAtMs))),
		heartbeatAt: (s, _, {store}) => formatTime(Math.max(s.createdAtMs, ...store.sweepRuns(s).map((r) => r.heartbeatAtMs))),
		runCount: (s, _, {store}) => store.sweepRuns(s).length,
		runs: (s, args, ctx) => {
			const list = ctx.store.sweepRuns(s).sort(runComparator(args.order, ctx.store));
			return paginate(list, args, ctx, {key: (r) => r.name});
		},
		bestLoss: (s, _, {store}) => sweepBestLoss(store, s),
		project: (s) => s.project,
		user: (s, _, {store}) => store.userByName(s.username),
		agents: () => emptyConnection(),
		agent: () => null,
		priorRuns: () => emptyConnection(),
		runTime: (s, _, {store}) => Math.round(store.sweepRuns(s).reduce((n, r) => n + (r.heartbeatAtMs - r.createdAtMs) / 1000, 0)),
		earlyStopJobRunning: () => false,
		controllerRunName: () => '',
		controller: () => null,
		scheduler: () => null,
	},

	View: {
		entityName: (v) => v.project.entity,
		entity: (v, _, {store}) => store.entities.get(v.project.entity),
		projectName: (v) => v.project.name,
		project: (v) => v.project,
		projectId: (v) => v.project.numericId,
		user: (v, _, {store}) => store.userByName(v.username),
		createdAt: (v) => formatTime(v.createdAtMs),
		updatedAt: (v) => formatTime(v.updatedAtMs),
		locked: () => false,
		starCount: () => 0,
		viewCount: () => 0,
		uploadHeaders: () => [],
		accessTokens: () => [],
	},

	ServerInfo: {
		features: (_, __, {store}) => {
			const f = new Map(FEATURES.map((n) => [n, true]));
			for (const [n, on] of Object.entries(store.ext.serverFeatures ?? {})) f.set(n, Boolean(on));
			return [...f].map(([name, isEnabled]) => ({name, isEnabled}));
		},
		cliVersionInfo: () => ({min_cli_version: '0.10.0', max_cli_version: '1.0.0'}),
		latestLocalVersionInfo: () => ({outOfDate: false, latestVersionString: SERVER_VERSION, versionOnThisInstanceString: SERVER_VERSION}),
		frontendHost: (_, __, {baseUrl}) => baseUrl ?? '',
		pollingOK: () => true,
		isGoogleIap: () => false,
		hasLocalLicense: () => true,
		exposesExplicitRunQueueAckPath: () => false,
		availableBucketProviders: () => [],
		availableCloudRegions: () => [],
		licenseFlags: () => [],
		messageOfTheDay: () => null,
		slackClientID: () => '',
		userLimitReached: () => false,
		viewOnlyUserLimitReached: () => false,
		secureStorageConnectorEnabled: () => false,
		registeredModelLimitReached: () => false,
		actionHistoryLimit: () => 100,
	},
};
