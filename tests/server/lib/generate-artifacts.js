// generate-artifacts.js: deterministic synthetic artifact content for tests and benchmarks.
//
// Two parts:
//  - content: the bytes of a generated file are a pure function of a seed string (the AES-128-CTR key
//    stream of sha256("wandbfs-gen:" + seed)), so equal seeds give equal bytes and digests on every run.
//    Small contents are made in memory; big ones are streamed in 4 MiB chunks to a temp file while
//    their MD5 is computed, so a multi-GiB file never sits in memory.
//  - expansion: a `generate` entry of kind "artifact" in server.json becomes an ordinary artifact
//    config ({entity, project, type, name, versions: [{files: {path: {size, seed}}}]}) that
//    artifacts.js loads like any hand-written one.
//
// The generate entry:
//   {"kind": "artifact", "entity", "project", "type", "name", "versions": N (default 1),
//    "files": N (default 10), "fileSize": B (default 1024), "bigFile": B (optional: one more file,
//    big.bin, identical in every version), "shared": F (default 0.5: the fraction of files a version
//    keeps unchanged from the one before), "layout": "V2" | "V1", "region", "seed": S (default 1)}
// File i lives at data/<i div 1000, 3 digits>/item-<i, 6 digits>.bin. In version v > 0, file i keeps
// its content when a seeded draw for (v, i) falls below `shared`; otherwise it gets new content.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// Contents up to this size are generated in memory; bigger ones are streamed to disk.
export const IN_MEMORY_MAX = 8 << 20;
const CHUNK = 4 << 20;

// The key stream from byte `offset` on: CTR mode lets it start anywhere (the IV is the big-endian
// number of the 16-byte block).
function keystream(seed, offset = 0) {
	const key = crypto.createHash('sha256').update(`wandbfs-gen:${seed}`).digest().subarray(0, 16);
	const iv = Buffer.alloc(16);
	iv.writeBigUInt64BE(BigInt(Math.floor(offset / 16)), 8);
	const cipher = crypto.createCipheriv('aes-128-ctr', key, iv);
	cipher.update(Buffer.alloc(offset % 16));
	return (n) => cipher.update(Buffer.alloc(n));
}

// `length` bytes of a generated content from `offset` (at most IN_MEMORY_MAX), e.g. to check a
// range read of a multi-GiB file without generating all of it.
export function generatedRange(seed, offset, length) {
	if (length > IN_MEMORY_MAX)
		throw new Error(`generatedRange: ${length} bytes is too big to hold in memory`);
	return keystream(String(seed), offset)(length);
}

// The whole content of a generated file (only for sizes up to IN_MEMORY_MAX).
export function generatedBytes(seed, size) {
	return generatedRange(seed, 0, size);
}

// Streams the content of a generated file into `file` (created or truncated). Returns its hex MD5.
export async function writeGeneratedFile(file, seed, size) {
	const next = keystream(String(seed));
	const md5 = crypto.createHash('md5');
	const fh = await fs.promises.open(file, 'w', 0o644);
	try {
		for (let left = size; left > 0;) {
			const chunk = next(Math.min(CHUNK, left));
			md5.update(chunk);
			await fh.write(chunk, 0, chunk.length);
			left -= chunk.length;
		}
	} finally {
		await fh.close();
	}
	return md5.digest('hex');
}

// A uniform draw in [0, 1) for a (seed, version, file) triple.
function draw(seed, v, i) {
	return crypto.createHash('sha256').update(`wandbfs-share:${seed}:${v}:${i}`).digest().readUInt32BE(0) / 2 ** 32;
}

function count(entry, key, fallback, min) {
	const v = entry[key] ?? fallback;
	if (!Number.isSafeInteger(v) || v < min)
		throw new Error(`generate artifact ${entry.name}: "${key}" must be an integer >= ${min}`);
	return v;
}

export function generatedPath(i) {
	return `data/${String(Math.floor(i / 1000)).padStart(3, '0')}/item-${String(i).padStart(6, '0')}.bin`;
}

// A generate entry → an artifact config entry (see artifacts.js). Throws on a malformed entry.
export function expandGeneratedArtifact(entry) {
	for (const k of ['entity', 'project', 'type', 'name']) {
		if (typeof entry[k] !== 'string' || !entry[k])
			throw new Error(`generate artifact: "${k}" must be a non-empty string`);
	}
	const nVersions = count(entry, 'versions', 1, 1);
	const nFiles = count(entry, 'files', 10, 0);
	const fileSize = count(entry, 'fileSize', 1024, 0);
	const bigFile = entry.bigFile === undefined ? null : count(entry, 'bigFile', 0, 0);
	const shared = entry.shared ?? 0.5;
	if (typeof shared !== 'number' || !(shared >= 0 && shared <= 1))
		throw new Error(`generate artifact ${entry.name}: "shared" must be a number in [0, 1]`);
	const seed = String(entry.seed ?? 1);
	const base = `${seed}/${entry.entity}/${entry.project}/${entry.name}`;
	// generation[i] = the version whose content file i currently has.
	const generation = new Array(nFiles).fill(0);
	const versions = [];
	for (let v = 0; v < nVersions; v++) {
		const files = {};
		for (let i = 0; i < nFiles; i++) {
			if (v > 0 && draw(seed, v, i) >= shared)
				generation[i] = v;
			files[generatedPath(i)] = {size: fileSize, seed: `${base}/f${i}/g${generation[i]}`};
		}
		if (bigFile !== null)
			files['big.bin'] = {size: bigFile, seed: `${base}/big`};
		versions.push({
			files,
			layout: entry.layout ?? 'V2',
			...(entry.region ? {region: entry.region} : {}),
			metadata: {generator: 'wandbfs', seed, version: v, files: nFiles + (bigFile !== null ? 1 : 0)},
		});
	}
	return {entity: entry.entity, project: entry.project, type: entry.type, name: entry.name,
		description: entry.description ?? `generated: ${nFiles} files of ${fileSize} bytes`, versions};
}

// Writes a generated content into the blob directory `dir` as <dir>/<hexmd5> (through a temp file,
// since the name is known only at the end). Returns the hex MD5. Used for contents > IN_MEMORY_MAX.
export async function writeGeneratedBlob(dir, seed, size) {
	fs.mkdirSync(dir, {recursive: true});
	const tmp = path.join(dir, `.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
	try {
		const hex = await writeGeneratedFile(tmp, seed, size);
		const dest = path.join(dir, hex);
		if (fs.existsSync(dest))
			fs.rmSync(tmp);
		else
			fs.renameSync(tmp, dest);
		return hex;
	} catch (e) {
		fs.rmSync(tmp, {force: true});
		throw e;
	}
}
