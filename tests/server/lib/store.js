// store.js: the in-memory model of the test server (users, entities, organizations, projects, runs,
// run files, sweeps), its visibility rules, and the mutation API the loaders use.
//
// Visibility: a user sees a project of an entity they belong to (their own entity, one of their
// teams, or an organization's entity they are a member of), any project whose access is public
// (PUBLIC, USER_READ, USER_WRITE), and, when they are the superuser (the `--api-key` user `tester`),
// every project that is not PRIVATE/RESTRICTED. Everything else is invisible and resolves to null.
// API keys live only in `keys` (never on a user record, so no resolver can leak them).
//
// Blobs (run files, artifact files) are written under storageDir by putBlob(); nginx serves that
// directory as the storage host. Other modules hang their data off `store.ext` and the project records.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {parseExt} from './extjson.js';
import {parseTime} from './filters.js';

export {paginate, encodeCursor, decodeCursor, DEFAULT_PAGE_CAP} from './paginate.js';

export const SUPERUSER = 'tester';
const PUBLIC_ACCESS = new Set(['PUBLIC', 'USER_READ', 'USER_WRITE']);
const MEMBERS_ONLY_ACCESS = new Set(['PRIVATE', 'RESTRICTED']);
export const DEFAULT_ACCESS = 'ENTITY_READ';
// Projects and entities with no dated content get this creation time (deterministic).
const EPOCH_MS = Date.UTC(2020, 0, 1);

export const base64 = (s) => Buffer.from(s, 'utf8').toString('base64');

// W&B style timestamps: UTC, no zone designator; `frac` adds microseconds (heartbeatAt style).
export function formatTime(ms, {frac = false} = {}) {
	const s = new Date(ms).toISOString();
	return frac ? `${s.slice(0, 23)}000` : s.slice(0, 19);
}

// A timestamp given as text (any ISO form) or epoch ms → {ms, text}; text keeps the source's
// precision but drops a trailing "Z" (the API's style). Returns null when it is not a time.
export function normalizeTime(t, {frac = false} = {}) {
	if (t === undefined || t === null) return null;
	if (typeof t === 'number') return Number.isFinite(t) ? {ms: t, text: formatTime(t, {frac})} : null;
	const ms = parseTime(String(t));
	if (Number.isNaN(ms)) return null;
	const s = String(t);
	const text = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?$/.test(s) ? s.replace(/Z$/, '') : formatTime(ms, {frac});
	return {ms, text: frac ? text : text.slice(0, 19)};
}

const MIME = {
	json: 'application/json', jsonl: 'application/x-ndjson', yaml: 'application/x-yaml', yml: 'application/x-yaml',
	log: 'text/plain', txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', html: 'text/html', py: 'text/x-python',
	patch: 'text/x-diff', diff: 'text/x-diff', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
	svg: 'image/svg+xml', mp4: 'video/mp4', wav: 'audio/wav', gz: 'application/gzip', h5: 'application/x-hdf5',
};

export function mimetypeOf(name) {
	const m = /\.([A-Za-z0-9]+)$/.exec(name);
	return (m && MIME[m[1].toLowerCase()]) || 'application/octet-stream';
}

// A storage-relative path must stay inside storageDir: no empty, "." or ".." segments.
function checkRelPath(relPath) {
	const segs = relPath.split('/');
	if (relPath.startsWith('/') || segs.some((s) => s === '' || s === '.' || s === '..')) {
		throw new Error(`bad storage path ${JSON.stringify(relPath)}`);
	}
}

function md5File(file) {
	const h = crypto.createHash('md5');
	const fd = fs.openSync(file, 'r');
	const buf = Buffer.allocUnsafe(1 << 20);
	try {
		for (;;) {
			const n = fs.readSync(fd, buf, 0, buf.length, null);
			if (n <= 0) break;
			h.update(buf.subarray(0, n));
		}
	} finally {
		fs.closeSync(fd);
	}
	return h.digest('base64');
}

const RUN_UPDATABLE = new Set(['state', 'summaryMetrics', 'config', 'heartbeatAt', 'tags', 'displayName', 'group', 'jobType', 'notes', 'description']);

export class Store {
	constructor({storageDir = null} = {}) {
		this.storageDir = storageDir;
		this.users = new Map(); // username → user
		this.keys = new Map(); // apiKey → username
		this.entities = new Map(); // name → entity
		this.organizations = new Map(); // display name → organization
		this.projects = new Map(); // "entity/name" → project
		this.ext = {}; // for other modules (artifacts)
		this.counters = new Map();
		this.placeholders = new Map(); // team name → display-only owner user
		this.plain = new WeakMap(); // run → {config, summary} parsed caches
		this.madeDirs = new Set(); // storage directories known to exist
	}

	nextNumber(kind) {
		const n = (this.counters.get(kind) ?? 0) + 1;
		this.counters.set(kind, n);
		return n;
	}

	// ---- users, entities, organizations ------------------------------------------------------

	addUser({username, apiKey = null, email = null, name = null, teams = [], superuser = false}) {
		if (!username) throw new Error('a user needs a username');
		if (this.users.has(username)) throw new Error(`user ${username} defined twice`);
		const ent = this.entities.get(username);
		if (ent && ent.kind !== 'user') throw new Error(`user ${username} clashes with the ${ent.kind} entity of that name`);
		const n = this.nextNumber('user');
		const user = {
			username, name: name ?? username, email: email ?? `${username}@example.com`, numericId: n,
			id: base64(`User:${n}`), entity: username, teams: [...teams], superuser, createdAtMs: EPOCH_MS,
		};
		this.users.set(username, user);
		if (apiKey) {
			if (this.keys.has(apiKey)) throw new Error(`two users share an API key (${username})`);
			this.keys.set(apiKey, username);
		}
		this.ensureEntity(username, {kind: 'user'});
		for (const t of teams) this.ensureEntity(t, {kind: 'team'});
		return user;
	}

	authenticate(apiKey) {
		if (typeof apiKey !== 'string' || !this.keys.has(apiKey)) return null;
		return this.users.get(this.keys.get(apiKey)) ?? null;
	}

	// attrs: {kind: 'user'|'team'|'organization', organization: org display name}. An entity named
	// after a configured user is that user's; any other is a team unless said otherwise.
	ensureEntity(name, attrs = {}) {
		if (!name || typeof name !== 'string') throw new Error('an entity needs a name');
		let ent = this.entities.get(name);
		if (!ent) {
			const n = this.nextNumber('entity');
			const kind = attrs.kind ?? (this.users.has(name) ? 'user' : 'team');
			ent = {name, kind, organization: null, numericId: n, id: base64(`Entity:${n}`), createdAtMs: EPOCH_MS};
			this.entities.set(name, ent);
		} else if (attrs.kind && attrs.kind !== ent.kind) {
			throw new Error(`entity ${name} is a ${ent.kind}, not a ${attrs.kind}`);
		}
		if (attrs.organization) ent.organization = attrs.organization;
		return ent;
	}

	ensureOrganization(name, {orgEntity = null, members = []} = {}) {
		let org = this.organizations.get(name);
		if (!org) {
			const n = this.nextNumber('organization');
			org = {name, orgEntity: orgEntity ?? name, members: [], numericId: n, id: base64(`Organization:${n}`)};
			this.organizations.set(name, org);
		} else if (orgEntity && orgEntity !== org.orgEntity) {
			throw new Error(`organization ${name} has org entity ${org.orgEntity}, not ${orgEntity}`);
		}
		for (const m of members) if (!org.members.includes(m)) org.members.push(m);
		this.ensureEntity(org.orgEntity, {kind: 'organization', organization: name});
		return org;
	}

	// The user shown as owner of an entity's projects and runs: the user itself, a team's first
	// member, or a display-only user named after the team (it has no key and cannot log in).
	ownerOf(entityName) {
		const ent = this.entities.get(entityName);
		if (ent?.kind === 'user' && this.users.has(entityName)) return this.users.get(entityName);
		const member = [...this.users.values()].filter((u) => this.isMember(u, entityName) && !u.superuser)
			.sort((a, b) => a.numericId - b.numericId)[0];
		if (member) return member;
		let p = this.placeholders.get(entityName);
		if (!p) {
			const n = this.nextNumber('user');
			p = {username: entityName, name: entityName, email: null, numericId: n, id: base64(`User:${n}`),
				entity: entityName, teams: [], superuser: false, createdAtMs: EPOCH_MS, placeholder: true};
			this.placeholders.set(entityName, p);
		}
		return p;
	}

	userByName(username) {
		return this.users.get(username) ?? this.placeholders.get(username) ?? null;
	}

	orgsOfUser(user) {
		if (!user) return [];
		return [...this.organizations.values()].filter((o) => user.superuser || this.isOrgMember(user, o));
	}

	isOrgMember(user, org) {
		if (org.members.includes(user.username)) return true;
		return user.teams.some((t) => this.entities.get(t)?.organization === org.name);
	}

	isMember(user, entityName) {
		if (!user) return false;
		if (user.entity === entityName || user.teams.includes(entityName)) return true;
		const ent = this.entities.get(entityName);
		if (ent?.kind === 'organization') {
			const org = this.organizations.get(ent.organization);
			return Boolean(org && this.isOrgMember(user, org));
		}
		return false;
	}

	canSeeProject(user, project) {
		if (!user || !project) return false;
		if (this.isMember(user, project.entity)) return true;
		if (MEMBERS_ONLY_ACCESS.has(project.access)) return false;
		if (PUBLIC_ACCESS.has(project.access)) return true;
		return Boolean(user.superuser);
	}

	canSeeOrganization(user, org) {
		return Boolean(user && org && (user.superuser || this.isOrgMember(user, org)));
	}

	canSeeEntity(user, ent) {
		if (!user || !ent) return false;
		if (user.superuser || this.isMember(user, ent.name)) return true;
		if (ent.kind === 'organization' && this.canSeeOrganization(user, this.organizations.get(ent.organization))) return true;
		return this.projectsOf(user, ent.name).length > 0;
	}

	visibleEntity(user, name) {
		const ent = this.entities.get(name);
		return this.canSeeEntity(user, ent) ? ent : null;
	}

	// Entities a viewer lists as "teams": their teams; for the superuser every other visible entity
	// (so a client that discovers entities from viewer.entity + viewer.teams finds all imported data).
	viewerTeams(user) {
		if (!user) return [];
		let names = user.teams.filter((t) => this.entities.has(t));
		if (user.superuser) {
			names = [...this.entities.keys()].filter((n) => n !== user.entity && this.canSeeEntity(user, this.entities.get(n)));
		}
		return [...new Set(names)].sort().map((n) => this.entities.get(n));
	}

	// ---- projects, runs, sweeps ---------------------------------------------------------------

	// attrs: {access, description, createdAt}. Re-ensuring an existing project applies given attrs.
	ensureProject(entityName, name, attrs = {}) {
		if (!name || typeof name !== 'string' || name.includes('/')) throw new Error(`bad project name ${JSON.stringify(name)}`);
		this.ensureEntity(entityName);
		const key = `${entityName}/${name}`;
		let p = this.projects.get(key);
		if (!p) {
			const n = this.nextNumber('project');
			p = {
				entity: entityName, name, numericId: n, id: base64(`Project:v1:${name}:${entityName}`),
				internalId: base64(`ProjectInternalId:${n}`), description: null, access: DEFAULT_ACCESS,
				createdAtMs: null, updatedAtMs: null, fixedCreatedAt: false, runs: [], runsByName: new Map(),
				sweeps: new Map(),
			};
			this.projects.set(key, p);
		}
		if (attrs.access !== undefined) p.access = String(attrs.access).toUpperCase();
		if (attrs.description !== undefined) p.description = attrs.description;
		if (attrs.createdAt !== undefined) {
			const t = normalizeTime(attrs.createdAt);
			if (!t) throw new Error(`project ${key}: bad createdAt`);
			p.createdAtMs = t.ms;
			p.fixedCreatedAt = true;
		}
		return p;
	}

	project(entityName, name) {
		return this.projects.get(`${entityName}/${name}`) ?? null;
	}

	projectCreatedAtMs(p) {
		return p.createdAtMs ?? EPOCH_MS;
	}

	projectUpdatedAtMs(p) {
		return Math.max(p.updatedAtMs ?? 0, this.projectCreatedAtMs(p));
	}

	// Projects of an entity the user can see, by name.
	projectsOf(user, entityName) {
		const out = [];
		for (const p of this.projects.values()) if (p.entity === entityName && this.canSeeProject(user, p)) out.push(p);
		return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	}

	visibleProject(user, entityName, name) {
		const p = this.project(entityName, name);
		return this.canSeeProject(user, p) ? p : null;
	}

	// runAttrs: name (the run ID, required), displayName, state, config (wrapped JSON text), summary
	// (JSON text), systemMetrics (JSON text), tags, group, jobType, notes, description, host, commit,
	// username, sweepName, createdAt, heartbeatAt (ISO text or ms), metadata (object), history
	// ([{step, text}]), events ([text]), logLines ([string] or null), lazy ({history(), events(),
	// logLines()} generators used instead of stored rows), lastStep/historyLineCount/eventsLineCount/
	// logLineCount (with lazy data), historyKeys (object, else derived from the rows).
	addRun(entityName, projectName, a) {
		const p = this.ensureProject(entityName, projectName);
		if (!a.name) throw new Error(`${entityName}/${projectName}: a run needs a name`);
		if (p.runsByName.has(a.name)) throw new Error(`${entityName}/${projectName}: run ${a.name} added twice`);
		const created = normalizeTime(a.createdAt ?? EPOCH_MS);
		if (!created) throw new Error(`run ${a.name}: bad createdAt ${a.createdAt}`);
		const beat = normalizeTime(a.heartbeatAt ?? created.ms, {frac: true});
		if (!beat) throw new Error(`run ${a.name}: bad heartbeatAt ${a.heartbeatAt}`);
		const n = this.nextNumber('run');
		const history = a.history ?? null;
		const run = {
			project: p, entity: entityName, projectName, numericId: n, name: a.name,
			id: base64(`Run:v1:${a.name}:${projectName}:${entityName}`),
			displayName: a.displayName ?? a.name, state: a.state ?? 'finished',
			configText: a.config ?? '{}', summaryText: a.summary ?? '{}', systemText: a.systemMetrics ?? '{}',
			tags: a.tags ?? [], group: a.group ?? null, jobType: a.jobType ?? null, notes: a.notes ?? null,
			description: a.description ?? null, host: a.host ?? null, commit: a.commit ?? null,
			username: a.username ?? this.ownerOf(entityName).username, sweepName: a.sweepName ?? null,
			createdAtMs: created.ms, createdAt: created.text, heartbeatAtMs: beat.ms, heartbeatAt: beat.text,
			updatedAtMs: beat.ms, updatedAt: beat.text, metadata: a.metadata ?? null, exitcode: a.exitcode ?? null,
			history, events: a.events ?? null, logLines: a.logLines ?? null, lazy: a.lazy ?? null,
			historyLineCount: a.historyLineCount ?? (history ? history.length : 0),
			lastStep: a.lastStep ?? (history ? history.reduce((m, r) => Math.max(m, r.step), -1) : -1),
			eventsLineCount: a.eventsLineCount ?? (a.events ? a.events.length : 0),
			logLineCount: a.logLineCount ?? (a.logLines ? a.logLines.length : 0),
			historyKeys: a.historyKeys ?? null, files: new Map(),
		};
		p.runs.push(run);
		p.runsByName.set(run.name, run);
		if (!p.fixedCreatedAt && (p.createdAtMs === null || run.createdAtMs < p.createdAtMs)) p.createdAtMs = run.createdAtMs;
		p.updatedAtMs = Math.max(p.updatedAtMs ?? 0, run.updatedAtMs);
		return run;
	}

	// sweepAttrs: name (sweep ID), config (YAML text), method, state, displayName, description,
	// createdAt, runCountExpected.
	addSweep(entityName, projectName, s) {
		const p = this.ensureProject(entityName, projectName);
		if (!s.name) throw new Error('a sweep needs a name');
		if (p.sweeps.has(s.name)) throw new Error(`${entityName}/${projectName}: sweep ${s.name} added twice`);
		const n = this.nextNumber('sweep');
		const created = normalizeTime(s.createdAt ?? this.projectCreatedAtMs(p)) ?? normalizeTime(EPOCH_MS);
		const sweep = {
			project: p, name: s.name, numericId: n, id: base64(`Sweep:${n}`), config: s.config ?? '',
			method: s.method ?? 'random', state: s.state ?? 'FINISHED', displayName: s.displayName ?? null,
			description: s.description ?? null, createdAtMs: created.ms, runCountExpected: s.runCountExpected ?? null,
			username: s.username ?? this.ownerOf(entityName).username,
		};
		p.sweeps.set(sweep.name, sweep);
		return sweep;
	}

	// Reports (views of type "runs"). attrs: name, displayName, description, spec (object or JSON
	// text), type ("runs"), createdAt, updatedAt, username.
	addReport(entityName, projectName, a = {}) {
		const p = this.ensureProject(entityName, projectName);
		const n = this.nextNumber('view');
		const created = normalizeTime(a.createdAt ?? this.projectCreatedAtMs(p));
		const updated = normalizeTime(a.updatedAt ?? created?.ms);
		if (!created || !updated) throw new Error(`report ${a.name ?? n}: bad createdAt/updatedAt`);
		const spec = a.spec === undefined ? '{}' : typeof a.spec === 'string' ? a.spec : JSON.stringify(a.spec);
		const view = {
			project: p, numericId: n, id: base64(`View:${n}`), name: a.name ?? `report-${n}`, displayName: a.displayName ?? null,
			description: a.description ?? null, spec, type: a.type ?? 'runs', createdAtMs: created.ms, updatedAtMs: updated.ms,
			username: a.username ?? this.ownerOf(entityName).username,
		};
		(p.reports ??= []).push(view);
		return view;
	}

	sweepRuns(sweep) {
		return sweep.project.runs.filter((r) => r.sweepName === sweep.name);
	}

	visibleRun(user, entityName, projectName, runName) {
		const p = this.visibleProject(user, entityName, projectName);
		return p?.runsByName.get(runName) ?? null;
	}

	// ---- blobs and run files ------------------------------------------------------------------

	// Write a blob under storageDir: `src` is a Buffer (content) or a string (a file to copy).
	// Returns {md5 (base64), size}.
	putBlob(relPath, src) {
		if (!this.storageDir) throw new Error('the store has no storage directory');
		checkRelPath(relPath);
		const dest = path.join(this.storageDir, relPath);
		const dir = path.dirname(dest);
		if (!this.madeDirs.has(dir)) {
			fs.mkdirSync(dir, {recursive: true});
			this.madeDirs.add(dir);
		}
		if (typeof src === 'string') {
			fs.copyFileSync(src, dest);
			fs.chmodSync(dest, 0o644);
			return {md5: md5File(dest), size: fs.statSync(dest).size};
		}
		const buf = Buffer.isBuffer(src) ? src : Buffer.from(src);
		fs.writeFileSync(dest, buf);
		return {md5: crypto.createHash('md5').update(buf).digest('base64'), size: buf.length};
	}

	// Store a file of a run (content Buffer or source path) at runs/<entity>/<project>/<run>/<name>.
	putRunFile(run, name, src, {updatedAt = null} = {}) {
		const storagePath = `runs/${run.entity}/${run.projectName}/${run.name}/${name}`;
		const {md5, size} = this.putBlob(storagePath, src);
		const t = normalizeTime(updatedAt ?? run.heartbeatAtMs) ?? normalizeTime(run.heartbeatAtMs);
		const n = this.nextNumber('file');
		const file = {
			name, storagePath, md5, sizeBytes: size, mimetype: mimetypeOf(name), numericId: n,
			id: base64(`File:${n}`), createdAtMs: Math.min(run.createdAtMs, t.ms), updatedAtMs: t.ms,
		};
		run.files.set(name, file);
		return file;
	}

	resolveRunFile(user, entityName, projectName, runName, name) {
		const run = this.visibleRun(user, entityName, projectName, runName);
		return run?.files.get(name) ?? null;
	}

	// ---- heavy run data -----------------------------------------------------------------------

	runHistory(run) {
		return run.history ?? (run.lazy?.history ? run.lazy.history() : []);
	}

	runEvents(run) {
		return run.events ?? (run.lazy?.events ? run.lazy.events() : []);
	}

	// Console lines, or null for a run without console output.
	runLogLines(run) {
		return run.logLines ?? (run.lazy?.logLines ? run.lazy.logLines() : null);
	}

	runHistoryKeys(run) {
		if (!run.historyKeys) {
			const keys = new Map();
			for (const row of this.runHistory(run)) {
				let obj;
				try {
					obj = parseExt(row.text);
				} catch {
					continue;
				}
				for (const [k, v] of Object.entries(obj)) {
					const type = v === null ? 'nil' : typeof v === 'object' ? (Array.isArray(v) ? 'list' : (v._type ?? 'map')) : typeof v;
					const counts = keys.get(k) ?? new Map();
					counts.set(type, (counts.get(type) ?? 0) + 1);
					keys.set(k, counts);
				}
			}
			const out = {};
			for (const [k, counts] of keys) out[k] = {typeCounts: [...counts].map(([type, count]) => ({type, count}))};
			run.historyKeys = {lastStep: run.lastStep, keys: out};
		}
		return {...run.historyKeys, lastStep: run.lastStep};
	}

	// Parsed caches for filters/ordering; invalid text reads as {}.
	runConfigPlain(run) {
		return this.cached(run, 'config', run.configText);
	}

	runSummaryPlain(run) {
		return this.cached(run, 'summary', run.summaryText);
	}

	cached(run, what, text) {
		let c = this.plain.get(run);
		if (!c) this.plain.set(run, (c = {}));
		if (!c[what] || c[what].text !== text) {
			let value;
			try {
				value = parseExt(text ?? '{}');
			} catch {
				value = {};
			}
			c[what] = {text, value};
		}
		return c[what].value;
	}

	// ---- live updates (admin endpoint) ---------------------------------------------------------

	// set: {state, summaryMetrics (JSON text), config (JSON text), heartbeatAt, tags, displayName,
	// group, jobType, notes, description}. Returns null on success or an error message; updatedAt
	// becomes "now" (the admin endpoint's runs change under a client's feet). Members of the run's
	// entity and the superuser may update; others who merely see a public project may not.
	updateRun(user, {entity, project, name, set} = {}) {
		const run = this.visibleRun(user, entity, project, name);
		if (!run) return `run ${entity}/${project}/${name} not found`;
		if (!user.superuser && !this.isMember(user, entity)) return `run ${entity}/${project}/${name} is read-only for ${user.username}`;
		return this.applyRunUpdate(run, set, {touch: true});
	}

	// The same without a visibility check (server.json `runs` overrides); touch: bump updatedAt.
	applyRunUpdate(run, set, {touch = false} = {}) {
		if (!set || typeof set !== 'object' || Array.isArray(set)) return '"set" must be an object';
		for (const k of Object.keys(set)) if (!RUN_UPDATABLE.has(k)) return `cannot set "${k}"`;
		const patch = {};
		for (const [k, v] of Object.entries(set)) {
			if (k === 'summaryMetrics' || k === 'config') {
				if (typeof v !== 'string') return `${k} must be JSON text`;
				try {
					const parsed = parseExt(v);
					if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `${k} must be a JSON object`;
				} catch (e) {
					return `${k}: ${e.message}`;
				}
				patch[k === 'config' ? 'configText' : 'summaryText'] = v;
			} else if (k === 'heartbeatAt') {
				const t = normalizeTime(v, {frac: true});
				if (!t) return 'heartbeatAt is not a timestamp';
				patch.heartbeatAtMs = t.ms;
				patch.heartbeatAt = t.text;
			} else if (k === 'tags') {
				if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return 'tags must be a list of strings';
				patch.tags = [...v];
			} else if (k === 'state' || k === 'displayName') {
				if (typeof v !== 'string' || !v) return `${k} must be a non-empty string`;
				patch[k] = v;
			} else {
				if (v !== null && typeof v !== 'string') return `${k} must be a string or null`;
				patch[k] = v;
			}
		}
		Object.assign(run, patch);
		if (touch) {
			const now = normalizeTime(Date.now(), {frac: true});
			run.updatedAtMs = now.ms;
			run.updatedAt = now.text;
			run.project.updatedAtMs = Math.max(run.project.updatedAtMs ?? 0, now.ms);
		}
		return null;
	}
}
