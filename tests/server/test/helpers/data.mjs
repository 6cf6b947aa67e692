// A small data directory for the front tests: one modern-layout run with a binary file to download,
// and two small artifacts (storage layouts V2 and V1).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {tempDir} from './server.mjs';

// Deterministic pseudo-random bytes (md5 chain), so a wrong byte anywhere is caught.
function bytes(n, seed) {
	const out = Buffer.alloc(n);
	let block = Buffer.from(seed);
	for (let off = 0; off < n; off += 16) {
		block = crypto.createHash('md5').update(block).digest();
		block.copy(out, off, 0, Math.min(16, n - off));
	}
	return out;
}

export function makeDataDir() {
	const root = tempDir('wbsrv-data-');
	const dir = path.join(root, 'data');
	const runRef = {entity: 'e', project: 'p', name: 'abc123'};
	const files = path.join(dir, 'e', 'p', 'run-20240101_120000-abc123', 'files');
	fs.mkdirSync(path.join(files, 'media'), {recursive: true});
	const runFileBytes = bytes(96 * 1024 + 7, 'front-test');
	fs.writeFileSync(path.join(files, 'media', 'blob.bin'), runFileBytes);
	fs.writeFileSync(path.join(files, 'config.yaml'), 'wandb_version: 1\n\nlr:\n  desc: null\n  value: 0.001\n');
	fs.writeFileSync(path.join(files, 'wandb-summary.json'), '{"loss": 0.5, "_step": 3}');
	fs.writeFileSync(path.join(files, 'wandb-metadata.json'), '{"host": "h", "startedAt": "2024-01-01T12:00:00.000000"}');
	// Two artifacts in entity e, project p: one per storage layout.
	fs.writeFileSync(path.join(dir, 'server.json'), JSON.stringify({artifacts: [
		{entity: 'e', project: 'p', type: 'dataset', name: 'ds2', versions: [
			{layout: 'V2', files: {'a.txt': 'hello', 'sub/b.bin': {size: 3000, seed: 's1'}}}]},
		{entity: 'e', project: 'p', type: 'dataset', name: 'ds1', versions: [
			{layout: 'V1', files: {'old.txt': 'old v1 text'}}]},
	]}));
	return {
		root, dir, runRef, runFileBytes, viewerName: 'tester', artifacts: ['ds2', 'ds1'],
		runFileUrl: (server, name = 'media/blob.bin') => `${server.baseUrl}/files/e/p/abc123/${name}`,
	};
}
