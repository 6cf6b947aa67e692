// auth.js: W&B API authentication: HTTP basic auth with user name `api` and the API key as password.
// The key is only compared, never stored beyond the store's own user table and never logged.

// The API key carried by an `Authorization: Basic base64(api:KEY)` header, or null when the header is
// absent, not basic auth, not for user `api`, or has an empty key.
export function apiKeyFromHeader(header) {
	if (typeof header !== 'string')
		return null;
	const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
	if (!m)
		return null;
	const decoded = Buffer.from(m[1], 'base64').toString('utf8');
	const colon = decoded.indexOf(':');
	if (colon < 0 || decoded.slice(0, colon) !== 'api')
		return null;
	const key = decoded.slice(colon + 1);
	return key.length ? key : null;
}

// The user record the request authenticates as (store.authenticate decides which keys exist), or null.
export async function authenticate(store, req) {
	const key = apiKeyFromHeader(req.headers.authorization);
	if (key === null)
		return null;
	return (await store.authenticate(key)) || null;
}
