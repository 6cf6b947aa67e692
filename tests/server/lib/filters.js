// filters.js: MongoDB-style `filters` (JSONString) and `order` strings as the W&B API takes them.
//
// Generic part: compileFilter(filters, fieldOf) and compileOrder(order, keyOf, opts) work on any item
// type; the caller maps field names to value getters (fieldOf returns null for an unknown field,
// which is an error, never "match everything"). Run part: runFilter()/runComparator() know the run
// fields the SDK documents (name, displayName/display_name, state, tags, group, jobType, createdAt,
// heartbeatAt, host, username, sweep, config.<path>, summary_metrics.<path>, ...).
//
// Semantics (MongoDB's): a field whose value is an array (tags) matches when any element matches;
// $ne/$nin are the negations of $eq/$in; null or a missing value "does not exist" and equals null;
// $gt/$gte/$lt/$lte compare numbers with numbers and strings with strings only; $regex is a
// JavaScript RegExp (close to the RE2 syntax the real server uses), with optional $options.
// Date fields compare as instants (strings without a zone are UTC).

const COMPARE_OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$regex', '$options']);

export class FilterError extends Error {}

const bad = (msg) => {
	throw new FilterError(`invalid filters: ${msg}`);
};

// JSONString or object → object ({} for null/empty).
export function parseFilters(filters) {
	if (filters === undefined || filters === null || filters === '') return {};
	let f = filters;
	if (typeof f === 'string') {
		try {
			f = JSON.parse(f);
		} catch (e) {
			bad(`not JSON (${e.message})`);
		}
	}
	if (f === null || typeof f !== 'object' || Array.isArray(f)) bad('the filter must be a JSON object');
	return f;
}

// Parse a W&B timestamp (ISO-8601, zone optional = UTC) to epoch ms; NaN if it is not one.
export function parseTime(s) {
	if (typeof s !== 'string') return NaN;
	const t = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`;
	return Date.parse(t);
}

function deepEqual(a, b) {
	if (a === b) return true;
	if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
	if (Array.isArray(a) !== Array.isArray(b)) return false;
	if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
	const ka = Object.keys(a);
	const kb = Object.keys(b);
	return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

const missing = (v) => v === undefined || v === null;

// Each scalar predicate is applied to the value, and for arrays also to each element (MongoDB).
function anyOf(value, pred) {
	if (pred(value)) return true;
	return Array.isArray(value) && value.some(pred);
}

function ordered(a, b) {
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
	return NaN;
}

// Build the predicate of one field's condition. `coerce` converts operands for typed fields (dates).
function fieldPredicate(field, cond, getter, coerce) {
	const eqOperand = (x) => coerce(x);
	const isOpObject = cond !== null && typeof cond === 'object' && !Array.isArray(cond) &&
		Object.keys(cond).some((k) => k.startsWith('$'));
	if (!isOpObject) {
		const want = eqOperand(cond);
		return (item) => {
			const v = getter(item);
			if (want === null) return missing(v);
			return anyOf(v, (x) => deepEqual(x, want));
		};
	}
	const preds = [];
	for (const [op, arg] of Object.entries(cond)) {
		if (!op.startsWith('$')) bad(`field "${field}" mixes operators and plain keys`);
		if (!COMPARE_OPS.has(op)) bad(`unknown operator ${op} on field "${field}"`);
		switch (op) {
		case '$eq':
		case '$ne': {
			const want = eqOperand(arg);
			const eq = (item) => {
				const v = getter(item);
				if (want === null) return missing(v);
				return anyOf(v, (x) => deepEqual(x, want));
			};
			preds.push(op === '$eq' ? eq : (item) => !eq(item));
			break;
		}
		case '$gt':
		case '$gte':
		case '$lt':
		case '$lte': {
			const want = eqOperand(arg);
			const ok = {$gt: (d) => d > 0, $gte: (d) => d >= 0, $lt: (d) => d < 0, $lte: (d) => d <= 0}[op];
			preds.push((item) => anyOf(getter(item), (x) => ok(ordered(x, want))));
			break;
		}
		case '$in':
		case '$nin': {
			if (!Array.isArray(arg)) bad(`${op} on field "${field}" needs an array`);
			const wants = arg.map(eqOperand);
			// Scalar operands (the clients' {"name": {"$in": [...]}} batches) are answered from a Set, one
			// probe per value as an index would, not one comparison per operand: for scalars deepEqual is ===
			// (NaN never matches, so it stays out of the Set's SameValueZero).
			const scalar = (w) => w !== null && typeof w !== 'object' && w === w;
			const set = wants.every(scalar) ? new Set(wants) : null;
			const hit = set ? (item) => anyOf(getter(item), (x) => set.has(x)) : (item) => {
				const v = getter(item);
				return wants.some((w) => (w === null ? missing(v) : anyOf(v, (x) => deepEqual(x, w))));
			};
			preds.push(op === '$in' ? hit : (item) => !hit(item));
			break;
		}
		case '$exists': {
			if (typeof arg !== 'boolean') bad(`$exists on field "${field}" needs true or false`);
			preds.push((item) => missing(getter(item)) !== arg);
			break;
		}
		case '$regex': {
			if (typeof arg !== 'string') bad(`$regex on field "${field}" needs a string`);
			const flags = cond.$options ?? '';
			if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags)) bad(`bad $options ${JSON.stringify(flags)}`);
			let re;
			try {
				re = new RegExp(arg, flags);
			} catch (e) {
				bad(`bad $regex on field "${field}": ${e.message}`);
			}
			preds.push((item) => anyOf(getter(item), (x) => typeof x === 'string' && re.test(x)));
			break;
		}
		case '$options':
			if (!Object.hasOwn(cond, '$regex')) bad(`$options without $regex on field "${field}"`);
			break;
		default: break;
		}
	}
	return (item) => preds.every((p) => p(item));
}

function compileNode(node, fieldOf) {
	if (node === null || typeof node !== 'object' || Array.isArray(node)) bad('a condition must be an object');
	const preds = [];
	for (const [key, cond] of Object.entries(node)) {
		if (key === '$and' || key === '$or' || key === '$nor') {
			if (!Array.isArray(cond) || cond.length === 0) bad(`${key} needs a non-empty array`);
			const subs = cond.map((c) => compileNode(c, fieldOf));
			if (key === '$and') preds.push((item) => subs.every((p) => p(item)));
			else if (key === '$or') preds.push((item) => subs.some((p) => p(item)));
			else preds.push((item) => !subs.some((p) => p(item)));
			continue;
		}
		if (key.startsWith('$')) bad(`unknown operator ${key}`);
		const f = fieldOf(key);
		if (!f) bad(`unknown field "${key}"`);
		const coerce = f.type === 'time' ?
			(x) => (typeof x === 'string' ? parseTime(x) : x) :
			(x) => x;
		preds.push(fieldPredicate(key, cond, f.get, coerce));
	}
	return (item) => preds.every((p) => p(item));
}

// filters: JSONString/object; fieldOf(name) → {get(item), type?: 'time'} or null (unknown field).
// Returns a predicate; throws FilterError on bad input.
export function compileFilter(filters, fieldOf) {
	const f = parseFilters(filters);
	if (Object.keys(f).length === 0) return () => true;
	return compileNode(f, fieldOf);
}

// Total order over sort values: missing values always last, then numbers, strings, booleans,
// anything else by its JSON text. NaN sorts after every other number.
function rank(v) {
	if (typeof v === 'number') return Number.isNaN(v) ? 1 : 0;
	if (typeof v === 'string') return 2;
	if (typeof v === 'boolean') return 3;
	return 4;
}

function compareValues(a, b) {
	const ra = rank(a);
	const rb = rank(b);
	if (ra !== rb) return ra - rb;
	if (ra === 0) return a - b;
	if (ra === 2) return a < b ? -1 : a > b ? 1 : 0;
	if (ra === 3) return Number(a) - Number(b);
	if (ra === 4) {
		const sa = JSON.stringify(a);
		const sb = JSON.stringify(b);
		return sa < sb ? -1 : sa > sb ? 1 : 0;
	}
	return 0;
}

// order: "+key" / "-key" / "key" (ascending); keyOf(name) → getter or null (unknown key → error).
// opts.defaultOrder when order is empty; opts.tie(item) → string for stable tie-breaking.
// Ties and the direction: "-k" is the exact reverse of "+k" except that missing values stay last.
export function compileOrder(order, keyOf, {defaultOrder, tie} = {}) {
	let o = order === undefined || order === null || order === '' ? defaultOrder : order;
	if (typeof o !== 'string') throw new FilterError(`invalid order ${JSON.stringify(order)}`);
	let dir = 1;
	if (o.startsWith('-')) {
		dir = -1;
		o = o.slice(1);
	} else if (o.startsWith('+')) {
		o = o.slice(1);
	}
	const get = keyOf(o);
	if (!get) throw new FilterError(`invalid order: unknown key "${o}"`);
	return (a, b) => {
		const va = get(a);
		const vb = get(b);
		const ma = missing(va);
		const mb = missing(vb);
		if (ma !== mb) return ma ? 1 : -1;
		let c = ma ? 0 : compareValues(va, vb);
		if (c === 0 && tie) {
			const ta = tie(a);
			const tb = tie(b);
			c = ta < tb ? -1 : ta > tb ? 1 : 0;
		}
		return c * dir;
	};
}

// Look a dotted path up in a plain object. Keys may themselves contain dots, so at each level the
// longest key that matches a prefix of the remaining path wins.
export function lookupPath(obj, segs) {
	if (segs.length === 0) return obj;
	if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
	for (let n = segs.length; n >= 1; n--) {
		const k = segs.slice(0, n).join('.');
		if (Object.hasOwn(obj, k)) {
			const r = lookupPath(obj[k], segs.slice(n));
			if (r !== undefined) return r;
		}
	}
	return undefined;
}

// `config.<key>[.<path>]` against the wrapped config object ({key: {desc, value}}): the value is
// unwrapped unless the path names the wrapper's own "value"/"desc" member (config.lr.value).
export function lookupConfig(wrapped, segs) {
	if (wrapped === null || typeof wrapped !== 'object') return undefined;
	for (let n = segs.length; n >= 1; n--) {
		const k = segs.slice(0, n).join('.');
		if (!Object.hasOwn(wrapped, k)) continue;
		const w = wrapped[k];
		const rest = segs.slice(n);
		const isWrapped = w !== null && typeof w === 'object' && !Array.isArray(w) && Object.hasOwn(w, 'value');
		let r;
		if (!isWrapped) r = lookupPath(w, rest);
		else if (rest.length && (rest[0] === 'value' || rest[0] === 'desc')) r = lookupPath(w, rest);
		else r = lookupPath(w.value, rest);
		if (r !== undefined) return r;
	}
	return undefined;
}

// Run fields. `store` supplies the parsed config/summary caches.
const RUN_FIELDS = {
	name: (r) => r.name,
	displayName: (r) => r.displayName,
	display_name: (r) => r.displayName,
	state: (r) => r.state,
	tags: (r) => r.tags,
	group: (r) => r.group,
	jobType: (r) => r.jobType,
	job_type: (r) => r.jobType,
	host: (r) => r.host,
	username: (r) => r.username,
	sweep: (r) => r.sweepName,
	sweepName: (r) => r.sweepName,
	notes: (r) => r.notes,
	description: (r) => r.description,
	commit: (r) => r.commit,
	duration: (r) => (r.heartbeatAtMs - r.createdAtMs) / 1000,
};
const RUN_TIME_FIELDS = {
	createdAt: (r) => r.createdAtMs,
	created_at: (r) => r.createdAtMs,
	heartbeatAt: (r) => r.heartbeatAtMs,
	heartbeat_at: (r) => r.heartbeatAtMs,
	updatedAt: (r) => r.updatedAtMs,
	updated_at: (r) => r.updatedAtMs,
};

function runFieldOf(store, name) {
	if (Object.hasOwn(RUN_FIELDS, name)) return {get: RUN_FIELDS[name]};
	if (Object.hasOwn(RUN_TIME_FIELDS, name)) return {get: RUN_TIME_FIELDS[name], type: 'time'};
	const dot = name.indexOf('.');
	if (dot < 0) return null;
	const head = name.slice(0, dot);
	const segs = name.slice(dot + 1).split('.');
	if (head === 'config') return {get: (r) => lookupConfig(store.runConfigPlain(r), segs)};
	if (head === 'summary_metrics' || head === 'summaryMetrics') {
		return {get: (r) => lookupPath(store.runSummaryPlain(r), segs)};
	}
	return null;
}

export function runFilter(filters, store) {
	return compileFilter(filters, (name) => runFieldOf(store, name));
}

const RUN_ORDER_ALIASES = {createdAt: 'created_at', heartbeatAt: 'heartbeat_at', updatedAt: 'updated_at', displayName: 'display_name'};

// Order keys: created_at, heartbeat_at, updated_at, name, display_name, state, summary_metrics.<k>,
// config.<k>.value (or config.<k>); default +created_at; ties broken by run name (the run ID).
export function runComparator(order, store) {
	return compileOrder(order, (key) => {
		const k = RUN_ORDER_ALIASES[key] ?? key;
		const f = runFieldOf(store, k);
		return f ? f.get : null;
	}, {defaultOrder: '+created_at', tie: (r) => r.name});
}

// Filter and sort runs in one go (the list is copied, never sorted in place).
export function selectRuns(runs, {filters, order}, store) {
	const pred = runFilter(filters, store);
	const cmp = runComparator(order, store);
	return runs.filter(pred).sort(cmp);
}
