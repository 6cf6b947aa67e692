// paginate.js: Relay cursor pagination over in-memory arrays, shared by every connection resolver
// (runs, projects, files, log lines, sweeps, artifacts...).
//
// Cursors are opaque base64 strings naming an item by a key (its id or name by default, so a cursor
// stays valid when items before it change order); an unknown or malformed cursor is a GraphQL error.
// ctx.pageCap is the server-side maximum page size: asking for more (or not saying) yields at most
// pageCap items with hasNextPage true, like a real server that caps `first`.

export const DEFAULT_PAGE_CAP = 1000;

export function encodeCursor(key) {
	return Buffer.from(`cursor:${key}`, 'utf8').toString('base64');
}

// Returns the key inside a cursor, or throws when it is not one of ours.
export function decodeCursor(cursor) {
	const s = Buffer.from(String(cursor), 'base64').toString('utf8');
	if (!s.startsWith('cursor:')) throw new Error(`invalid cursor ${JSON.stringify(cursor)}`);
	return s.slice('cursor:'.length);
}

function checkCount(name, n) {
	if (n === undefined || n === null) return null;
	if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
	return n;
}

// items: the full ordered list; args: {first, after, last, before}; ctx: {pageCap};
// opts.key(item, index) → the string a cursor names (default: item.id, else the index);
// opts.node(item) → the edge node (default: the item itself).
// Returns {edges: [{node, cursor}], pageInfo, totalCount}.
export function paginate(items, args = {}, ctx = {}, opts = {}) {
	const cap = ctx.pageCap > 0 ? ctx.pageCap : DEFAULT_PAGE_CAP;
	const keyOf = opts.key ?? ((item, i) => (item && item.id !== undefined ? String(item.id) : String(i)));
	const toNode = opts.node ?? ((item) => item);
	const indexOf = (cursor) => {
		const key = decodeCursor(cursor);
		const i = items.findIndex((item, j) => keyOf(item, j) === key);
		if (i < 0) throw new Error(`cursor ${JSON.stringify(cursor)} does not name an item of this list`);
		return i;
	};
	let start = 0;
	let end = items.length;
	if (args.after !== undefined && args.after !== null && args.after !== '') start = indexOf(args.after) + 1;
	if (args.before !== undefined && args.before !== null && args.before !== '') end = Math.min(end, indexOf(args.before));
	if (end < start) end = start;
	const first = checkCount('first', args.first);
	const last = checkCount('last', args.last);
	if (first !== null) end = Math.min(end, start + Math.min(first, cap));
	if (last !== null) start = Math.max(start, end - Math.min(last, cap));
	if (first === null && last === null) end = Math.min(end, start + cap);
	const edges = [];
	for (let i = start; i < end; i++) edges.push({node: toNode(items[i]), cursor: encodeCursor(keyOf(items[i], i))});
	return {
		edges,
		pageInfo: {
			startCursor: edges.length ? edges[0].cursor : null,
			endCursor: edges.length ? edges[edges.length - 1].cursor : null,
			hasNextPage: end < items.length,
			hasPreviousPage: start > 0,
		},
		totalCount: items.length,
	};
}
