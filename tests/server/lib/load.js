// load.js: build the store from a data directory: server.json (users, teams, organizations, project
// attributes, imports, generators, run overrides, reports), the run trees found directly under the data dir,
// and the artifact sections (handed to ./artifacts.js when that module exists).
//
// Order: users → teams → organizations → runs under <dataDir>/<entity>/<project>/ → `import`
// entries → `generate` runs → `projects` attributes → `runs` overrides → `reports` → artifacts. The
// `--api-key` key belongs to the superuser `tester` unless a configured user owns it.

import fs from 'node:fs';
import path from 'node:path';
import {Store, SUPERUSER} from './store.js';
import {importTree} from './import-runs.js';
import {generateRuns} from './generate-runs.js';

const TOP_KEYS = new Set(['users', 'teams', 'organizations', 'projects', 'import', 'generate', 'runs', 'reports', 'artifacts', 'registries']);
const RUN_OVERRIDE_KEYS = new Set(['entity', 'project', 'name', 'set']);

function readConfig(dataDir) {
	const file = path.join(dataDir, 'server.json');
	if (!fs.existsSync(file)) return {};
	let cfg;
	try {
		cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
	} catch (e) {
		throw new Error(`${file}: ${e.message}`);
	}
	if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${file}: must be a JSON object`);
	for (const k of Object.keys(cfg)) if (!TOP_KEYS.has(k)) throw new Error(`${file}: unknown key "${k}"`);
	for (const k of TOP_KEYS) {
		if (cfg[k] !== undefined && !Array.isArray(cfg[k])) throw new Error(`${file}: "${k}" must be a list`);
	}
	return cfg;
}

async function loadArtifactModule() {
	try {
		return await import('./artifacts.js');
	} catch (e) {
		if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('artifacts.js')) return null;
		throw new Error(`lib/artifacts.js failed to load: ${e.message}`);
	}
}

// Returns the populated store. seed: default seed of generators without their own.
export async function loadData({dataDir, storageDir, apiKey, seed = 1}) {
	if (!dataDir || !fs.statSync(dataDir).isDirectory()) throw new Error(`data dir ${dataDir} is not a directory`);
	const cfg = readConfig(dataDir);
	const store = new Store({storageDir});
	const rel = (p) => path.resolve(dataDir, p);

	for (const u of cfg.users ?? []) {
		store.addUser({username: u.username, apiKey: u.apiKey, email: u.email, name: u.name, teams: u.teams ?? []});
	}
	if (apiKey && !store.authenticate(apiKey)) store.addUser({username: SUPERUSER, apiKey, superuser: true});
	for (const t of cfg.teams ?? []) {
		if (!t.name) throw new Error('server.json: a team needs a name');
		store.ensureEntity(t.name, {kind: 'team'});
	}
	for (const o of cfg.organizations ?? []) {
		if (!o.name) throw new Error('server.json: an organization needs a name');
		store.ensureOrganization(o.name, {orgEntity: o.orgEntity, members: o.members ?? []});
	}
	for (const t of cfg.teams ?? []) {
		if (t.organization) {
			if (!store.organizations.has(t.organization)) store.ensureOrganization(t.organization);
			store.ensureEntity(t.name).organization = t.organization;
		}
	}

	importTree(store, dataDir, {layout: 'entity-per-dir'});
	for (const imp of cfg.import ?? []) {
		if (!imp.path) throw new Error('server.json: an import entry needs a path');
		importTree(store, rel(imp.path), {
			layout: imp.layout ?? 'entity-per-dir', entity: imp.entity, project: imp.project,
			projectAttrs: {...(imp.access !== undefined && {access: imp.access}), ...(imp.description !== undefined && {description: imp.description})},
		});
	}
	for (const g of cfg.generate ?? []) {
		if (g.kind === 'runs') generateRuns(store, g, {seed});
		else if (g.kind !== 'artifact') throw new Error(`server.json: unknown generate kind ${JSON.stringify(g.kind)}`);
	}
	for (const p of cfg.projects ?? []) {
		if (!p.entity || !p.name) throw new Error('server.json: a project entry needs entity and name');
		const {entity, name, ...attrs} = p;
		store.ensureProject(entity, name, attrs);
	}
	for (const o of cfg.runs ?? []) {
		for (const k of Object.keys(o)) if (!RUN_OVERRIDE_KEYS.has(k)) throw new Error(`server.json: runs entry: unknown key "${k}"`);
		const run = store.project(o.entity, o.project)?.runsByName.get(o.name);
		if (!run) throw new Error(`server.json: runs entry: no run ${o.entity}/${o.project}/${o.name}`);
		const err = store.applyRunUpdate(run, o.set ?? {});
		if (err) throw new Error(`server.json: runs entry ${o.entity}/${o.project}/${o.name}: ${err}`);
	}

	for (const r of cfg.reports ?? []) {
		if (!r.entity || !r.project) throw new Error('server.json: a report needs entity and project');
		const {entity, project, ...attrs} = r;
		store.addReport(entity, project, attrs);
	}

	const wantsArtifacts = (cfg.artifacts?.length ?? 0) + (cfg.registries?.length ?? 0) +
		(cfg.generate ?? []).filter((g) => g.kind === 'artifact').length > 0;
	const mod = await loadArtifactModule();
	if (mod) await mod.loadArtifacts(store, cfg, {dataDir, seed});
	else if (wantsArtifacts) throw new Error('server.json describes artifacts but lib/artifacts.js does not exist');
	return store;
}
