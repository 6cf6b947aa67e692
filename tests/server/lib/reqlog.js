// reqlog.js: the JSONL request log (`--request-log FILE`), one line per API request, written
// synchronously before the response's last byte is sent, so a client that has its answer can read the
// line at once. Line fields (always present, null when they do not apply):
//   t          request arrival, epoch seconds with millisecond precision (as nginx's $msec)
//   kind       "graphql" | "files" | "artifacts" | "admin" | "other" (unknown routes)
//   op         GraphQL operation name (from the body, else the document's only operation's name)
//   query      GraphQL document text
//   variables  GraphQL variables object
//   status     HTTP status sent
//   bytes      response body bytes sent (after gzip; for a cut-off response, the bytes actually sent)
//   ms         milliseconds from arrival to the response (includes --latency-ms and stalls)
//   path       request path for non-GraphQL requests
//   fault      name of the injected fault, if any
//   error      first GraphQL error message of the response, if any
// Storage (nginx) accesses are logged by nginx itself to FILE.storage.jsonl (see nginx.js).

import fs from 'node:fs';

export class RequestLog {
	constructor(file) {
		this.fd = file ? fs.openSync(file, 'a') : null;
	}

	// entry: {t0 (ms epoch), kind, op, query, variables, status, bytes, path, fault, error}
	write(entry) {
		if (this.fd === null)
			return;
		const now = Date.now();
		const line = {
			t: entry.t0 / 1000,
			kind: entry.kind,
			op: entry.op ?? null,
			query: entry.query ?? null,
			variables: entry.variables ?? null,
			status: entry.status,
			bytes: entry.bytes,
			ms: now - entry.t0,
			path: entry.path ?? null,
			fault: entry.fault ?? null,
			error: entry.error ?? null,
		};
		fs.writeSync(this.fd, JSON.stringify(line) + '\n');
	}

	close() {
		if (this.fd !== null)
			fs.closeSync(this.fd);
		this.fd = null;
	}
}
