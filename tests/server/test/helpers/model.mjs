// Test helpers for the data model: load a data dir with lib/load.js into a temp storage dir and run
// GraphQL documents against the real schema with the real resolver maps, in-process (parse +
// validate + execute, as the HTTP endpoint does, minus HTTP).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parse, validate, execute} from 'graphql';
import {loadData} from '../../lib/load.js';
import {loadSchema, attachResolvers} from '../../lib/schema.js';
import {resolvers as core} from '../../lib/resolvers-core.js';

export const KEY = 'k'.repeat(40);
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
// The shared reference folder next to the repository (WB_SHARED_DIR overrides, as in tests/integration).
export const CORPUS = path.join(process.env.WB_SHARED_DIR ?? path.join(REPO, '..', 'shared'), 'corpus');

let schemaPromise = null;

// The schema with every resolver map that exists (the artifact map once its module is there).
async function schema() {
	if (!schemaPromise) {
		schemaPromise = (async () => {
			const maps = [core];
			if (fs.existsSync(new URL('../../lib/resolvers-artifacts.js', import.meta.url))) {
				maps.push((await import('../../lib/resolvers-artifacts.js')).resolvers);
			}
			return attachResolvers(loadSchema(), ...maps);
		})();
	}
	return schemaPromise;
}

// Temp dirs live until the test process exits.
const temps = [];
process.on('exit', () => temps.forEach((d) => fs.rmSync(d, {recursive: true, force: true})));

export function tempDir(prefix) {
	const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	temps.push(d);
	return d;
}

// Write files {relPath: string|Buffer} under a new temp dir; returns its path.
export function writeTree(files, prefix = 'wbsrv-data-') {
	const root = tempDir(prefix);
	for (const [rel, content] of Object.entries(files)) {
		const p = path.join(root, rel);
		fs.mkdirSync(path.dirname(p), {recursive: true});
		fs.writeFileSync(p, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
	}
	return root;
}

// Load a data dir; returns {store, storageDir, gql(query, variables, {key, pageCap}) → result,
// q(...) → data (throws on errors), close()}.
export async function openModel(dataDir, {apiKey = KEY, seed = 1, pageCap = 1000} = {}) {
	const storageDir = tempDir('wbsrv-storage-');
	const store = await loadData({dataDir, storageDir, apiKey, seed});
	const s = await schema();
	const baseUrl = 'http://api.test';
	const gql = async (query, variables = {}, opts = {}) => {
		const doc = parse(query);
		const errors = validate(s, doc);
		if (errors.length) return {errors};
		const user = store.authenticate(opts.key ?? apiKey);
		const ctx = {
			store, user, baseUrl, pageCap: opts.pageCap ?? pageCap,
			apiUrl: (p) => baseUrl + p,
			storageUrl: (rel) => `http://storage.test/${rel.split('/').map(encodeURIComponent).join('/')}`,
		};
		return execute({schema: s, document: doc, contextValue: ctx, variableValues: variables, rootValue: {}});
	};
	const q = async (query, variables = {}, opts = {}) => {
		const r = await gql(query, variables, opts);
		if (r.errors?.length) throw new Error(`GraphQL errors: ${r.errors.map((e) => e.message).join('; ')}`);
		return JSON.parse(JSON.stringify(r.data));
	};
	return {store, storageDir, gql, q, close: () => fs.rmSync(storageDir, {recursive: true, force: true})};
}

// Follow every page of a connection: fetch(after) → {edges, pageInfo}; returns all nodes.
export async function allPages(fetch, {maxPages = 10000} = {}) {
	const nodes = [];
	let after = null;
	for (let i = 0; i < maxPages; i++) {
		const conn = await fetch(after);
		nodes.push(...conn.edges.map((e) => e.node));
		if (!conn.pageInfo.hasNextPage) return nodes;
		after = conn.pageInfo.endCursor;
	}
	throw new Error('too many pages');
}

// Extended-JSON tokenizer for comparisons: values with every number kept as its exact source token
// (so NaN, Infinity and integers beyond 2^53 compare as text) and objects as sorted key lists.
// Written independently of lib/extjson.js on purpose.
export function jsonTokens(text) {
	let i = 0;
	const ws = () => { while (/\s/.test(text[i] ?? '')) i++; };
	const val = () => {
		ws();
		const c = text[i];
		if (c === '{') {
			i++;
			const out = {};
			ws();
			if (text[i] === '}') { i++; return {obj: out}; }
			for (;;) {
				ws();
				const k = str();
				ws();
				i++; // :
				out[k] = val();
				ws();
				if (text[i++] === '}') return {obj: out};
			}
		}
		if (c === '[') {
			i++;
			const out = [];
			ws();
			if (text[i] === ']') { i++; return out; }
			for (;;) {
				out.push(val());
				ws();
				if (text[i++] === ']') return out;
			}
		}
		if (c === '"') return str();
		const m = /^(?:true|false|null|NaN|-?Infinity|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(text.slice(i, i + 400));
		if (!m) throw new Error(`bad token at ${i}: ${text.slice(i, i + 20)}`);
		i += m[0].length;
		return {tok: m[0]};
	};
	const str = () => {
		let j = i + 1;
		while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
		const s = JSON.parse(text.slice(i, j + 1));
		i = j + 1;
		return s;
	};
	const v = val();
	ws();
	if (i !== text.length) throw new Error('trailing text');
	return v;
}

// Numbers as canonical tokens for value comparison: ints as BigInt text, floats via Number.
export function canonical(v) {
	if (Array.isArray(v)) return v.map(canonical);
	if (v && typeof v === 'object' && 'obj' in v) {
		const o = {};
		for (const k of Object.keys(v.obj).sort()) o[k] = canonical(v.obj[k]);
		return o;
	}
	if (v && typeof v === 'object' && 'tok' in v) {
		const t = v.tok;
		if (/^-?\d+$/.test(t)) return `int:${BigInt(t)}`;
		if (['true', 'false', 'null'].includes(t)) return JSON.parse(t);
		return `num:${Number(t)}`;
	}
	return v;
}
