// extjson.js: the "extended JSON" W&B files and API strings use (bare NaN, Infinity, -Infinity tokens,
// integers beyond 2^53) and Python-compatible number/JSON printing.
//
// Two parse modes:
//   parseExt(text)            plain JS values (numbers as Number; look keys up with Object.hasOwn) for
//                             filters, ordering and JSON-typed GraphQL fields;
//   parseExt(text, {raw: true}) a lossless tree: numbers stay RawNumber (their source text), objects are
//                             Maps (key order kept, integer-like keys not hoisted), for re-printing with
//                             stringifyRaw() byte-faithfully apart from whitespace.
// pyFloatRepr() prints a double exactly like Python's repr(), which is what the SDK's json.dumps writes.

export class RawNumber {
	constructor(text) { this.text = text; }
}

class ExtJsonError extends Error {}

// Recursive-descent parser over the whole text; `pos` is the only state.
function makeParser(text, raw) {
	let pos = 0;
	const fail = (what) => {
		throw new ExtJsonError(`invalid JSON at offset ${pos}: ${what}`);
	};
	const ws = () => {
		for (;;) {
			const c = text.charCodeAt(pos);
			if (c === 32 || c === 9 || c === 10 || c === 13) pos++;
			else return;
		}
	};
	const lit = (word, value) => {
		if (text.startsWith(word, pos)) {
			pos += word.length;
			return value;
		}
		return fail(`unexpected token near ${JSON.stringify(text.slice(pos, pos + 12))}`);
	};
	const num = () => {
		const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(text.slice(pos, pos + 400));
		if (!m) return fail('bad number');
		pos += m[0].length;
		return raw ? new RawNumber(m[0]) : Number(m[0]);
	};
	const str = () => {
		// Find the closing quote; let JSON.parse decode the escapes of that slice.
		let i = pos + 1;
		for (;;) {
			const c = text.charCodeAt(i);
			if (Number.isNaN(c)) return fail('unterminated string');
			if (c === 92) i += 2;
			else if (c === 34) break;
			else i++;
		}
		const s = JSON.parse(text.slice(pos, i + 1));
		pos = i + 1;
		return s;
	};
	const value = () => {
		ws();
		const c = text[pos];
		if (c === '{') {
			pos++;
			const obj = raw ? new Map() : Object.create(null);
			ws();
			if (text[pos] === '}') {
				pos++;
				return obj;
			}
			for (;;) {
				ws();
				if (text[pos] !== '"') fail('expected a key');
				const k = str();
				ws();
				if (text[pos] !== ':') fail('expected ":"');
				pos++;
				const v = value();
				if (raw) obj.set(k, v);
				else obj[k] = v;
				ws();
				if (text[pos] === ',') { pos++; continue; }
				if (text[pos] === '}') { pos++; return obj; }
				fail('expected "," or "}"');
			}
		}
		if (c === '[') {
			pos++;
			const arr = [];
			ws();
			if (text[pos] === ']') {
				pos++;
				return arr;
			}
			for (;;) {
				arr.push(value());
				ws();
				if (text[pos] === ',') { pos++; continue; }
				if (text[pos] === ']') { pos++; return arr; }
				fail('expected "," or "]"');
			}
		}
		if (c === '"') return str();
		if (c === 't') return lit('true', true);
		if (c === 'f') return lit('false', false);
		if (c === 'n') return lit('null', null);
		if (c === 'N') return lit('NaN', raw ? new RawNumber('NaN') : NaN);
		if (c === 'I') return lit('Infinity', raw ? new RawNumber('Infinity') : Infinity);
		if (c === '-' && text.startsWith('-Infinity', pos)) {
			return lit('-Infinity', raw ? new RawNumber('-Infinity') : -Infinity);
		}
		return num();
	};
	return () => {
		const v = value();
		ws();
		if (pos !== text.length) fail('trailing characters');
		return v;
	};
}

// Parse extended JSON. Throws an Error naming the offset on malformed input.
export function parseExt(text, {raw = false} = {}) {
	if (!raw) {
		// Fast path: most rows are plain JSON; fall back to the tolerant parser only when needed.
		try {
			return JSON.parse(text);
		} catch {
			/* extended tokens or an error: the slow parser decides */
		}
	}
	return makeParser(text, raw)();
}

// Python repr() of a float: shortest round-trip digits, exponent form when exp < -4 or >= 16,
// a ".0" on integral values, NaN/Infinity as Python's json module writes them.
export function pyFloatRepr(x) {
	if (Number.isNaN(x)) return 'NaN';
	if (x === Infinity) return 'Infinity';
	if (x === -Infinity) return '-Infinity';
	if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
	const ax = Math.abs(x);
	if (ax >= 1e-4 && ax < 1e16) {
		// JS prints this range in fixed notation with the same shortest digits as Python.
		const t = String(x);
		return Number.isInteger(x) ? `${t}.0` : t;
	}
	const [mant, expStr] = x.toExponential().split('e');
	const exp = parseInt(expStr, 10);
	const neg = mant[0] === '-';
	const digits = mant.replace('-', '').replace('.', '');
	let s;
	if (exp < -4 || exp >= 16) {
		const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
		const e = String(Math.abs(exp)).padStart(2, '0');
		s = `${m}e${exp < 0 ? '-' : '+'}${e}`;
	} else if (exp < 0) {
		s = `0.${'0'.repeat(-exp - 1)}${digits}`;
	} else if (digits.length <= exp + 1) {
		s = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
	} else {
		s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
	}
	return neg ? `-${s}` : s;
}

// Print a value tree as Python's json.dumps does (", " and ": " separators, non-ASCII kept).
// Accepts Maps, plain objects, arrays, RawNumber, bigint, number, strings, booleans and null.
// Integral numbers print as ints unless `floats` is set, where every JS number is a Python float
// (trees that keep their ints as BigInt use that, so 1.0 stays "1.0").
export function stringifyRaw(v, {floats = false} = {}) {
	const walk = (x) => {
		if (x === null || x === undefined) return 'null';
		if (x instanceof RawNumber) return x.text;
		switch (typeof x) {
		case 'string': return JSON.stringify(x);
		case 'boolean': return x ? 'true' : 'false';
		case 'bigint': return x.toString();
		case 'number':
			return !floats && Number.isInteger(x) && !Object.is(x, -0) ? String(x) : pyFloatRepr(x);
		default: break;
		}
		if (Array.isArray(x)) return `[${x.map(walk).join(', ')}]`;
		const entries = x instanceof Map ? [...x] : Object.keys(x).map((k) => [k, x[k]]);
		return `{${entries.map(([k, y]) => `${JSON.stringify(String(k))}: ${walk(y)}`).join(', ')}}`;
	};
	return walk(v);
}
