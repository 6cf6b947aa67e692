/* manifest.c — artifact manifests: parsing with entry path validation,
 * lookup, fetching through FetchArtifactManifest, and the pure storage-URL
 * rules (base64 MD5 -> hex, V1/V2 URLs). Formats: doc/api-notes.md,
 * "Manifests" and "Storage URL layouts". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_artifacts.h"
#include "wb_json.h"

/* Bound for a manifest body kept in memory (hundreds of thousands of
 * entries fit well below it). */
#define MANIFEST_MAX_BYTES (256u << 20)

/* ---- paths ------------------------------------------------------------ */

static int is_sep(char ch)
{
	return ch == '/' || ch == '\\';
}

int wb_manifest_path_check(const char *path)
{
	const char *p, *comp;

	if (!path || !*path)
		return -EINVAL;
	/* Anchors: POSIX root, Windows root or UNC share, and a drive as
	 * ntpath.splitdrive sees it (any character followed by ':'). */
	if (is_sep(path[0]) || path[1] == ':')
		return -EINVAL;
	for (p = path; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f)
			return -EINVAL;
	}
	/* Components split on both separators: "", "." and ".." would each
	 * alias another path or escape the artifact. */
	comp = path;
	for (p = path;; p++) {
		if (*p && !is_sep(*p))
			continue;
		size_t n = (size_t)(p - comp);

		if (n == 0 || (n == 1 && comp[0] == '.') ||
		    (n == 2 && comp[0] == '.' && comp[1] == '.'))
			return -EINVAL;
		if (!*p)
			break;
		comp = p + 1;
	}
	return 0;
}

/* cJSON ends a string at an escaped NUL ("\u0000"), which would silently
 * shorten a key; such a manifest is refused before parsing. A backslash is
 * an escape only when preceded by an even number of backslashes. */
static int has_escaped_nul(const char *text, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		size_t k = i;

		if (text[i] != '\\' || text[i + 1] != 'u' ||
		    strncmp(text + i + 2, "0000", 4) != 0)
			continue;
		while (k > 0 && text[k - 1] == '\\')
			k--;
		if ((i - k) % 2 == 0)
			return 1;
	}
	return 0;
}

/* ---- parsing ---------------------------------------------------------- */

static void entry_clear(struct wb_manifest_entry *e)
{
	free(e->path);
	free(e->digest);
	free(e->birth_artifact_id);
	free(e->ref);
	free(e->extra);
}

void wb_manifest_free(struct wb_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_entries; i++)
		entry_clear(&m->entries[i]);
	free(m->entries);
	free(m->storage_policy);
	free(m->region);
	free(m);
}

/* An optional string member: absent or null is fine, another type is not. */
static int opt_str(const cJSON *obj, const char *key, char **out)
{
	const cJSON *v = wb_json_get(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -EBADMSG;
	*out = strdup(v->valuestring);
	return *out ? 0 : -ENOMEM;
}

static int parse_entry(const cJSON *item, struct wb_manifest_entry *e,
		       struct wb_error *err)
{
	const cJSON *size = wb_json_get(item, "size");
	const cJSON *extra = wb_json_get(item, "extra");
	const char *path = item->string;
	int rc;

	if (wb_manifest_path_check(path))
		return wb_error_set(err, -EINVAL, 0,
				    "manifest entry with an unsafe path "
				    "\"%.200s\"",
				    path);
	if (!cJSON_IsObject(item))
		return wb_error_set(err, -EBADMSG, 0,
				    "manifest entry %.200s is not an object",
				    path);
	e->size = -1;
	if (!(e->path = strdup(path)))
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	rc = opt_str(item, "digest", &e->digest);
	if (!rc && !e->digest)
		rc = -EBADMSG;
	if (!rc)
		rc = opt_str(item, "birthArtifactID", &e->birth_artifact_id);
	if (!rc)
		rc = opt_str(item, "ref", &e->ref);
	if (!rc && size && !cJSON_IsNull(size) &&
	    (wb_json_get_int64(size, &e->size) || e->size < 0))
		rc = -EBADMSG;
	if (!rc) {
		if (!extra || cJSON_IsNull(extra))
			e->extra = strdup("{}");
		else if (cJSON_IsObject(extra))
			e->extra = wb_json_print(extra, WB_JSON_COMPACT, NULL);
		else
			rc = -EBADMSG;
		if (!rc && !e->extra)
			rc = -ENOMEM;
	}
	if (rc == -ENOMEM)
		return wb_error_set(err, rc, 0, "out of memory");
	if (rc)
		return wb_error_set(err, rc, 0,
				    "manifest entry %.200s: missing digest or "
				    "a field of the wrong type",
				    path);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct wb_manifest_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static int parse_header(const cJSON *doc, struct wb_manifest *m,
			struct wb_error *err)
{
	const cJSON *cfg = wb_json_get(doc, "storagePolicyConfig");
	const cJSON *layout = wb_json_get(cfg, "storageLayout");
	int64_t version;
	int rc;

	if (wb_json_get_int64(wb_json_get(doc, "version"), &version))
		return wb_error_set(err, -EBADMSG, 0,
				    "manifest without a numeric version");
	if (version != 1)
		return wb_error_set(err, -EOPNOTSUPP, 0,
				    "manifest version %lld is not supported",
				    (long long)version);
	m->version = (int)version;
	if (cfg && !cJSON_IsNull(cfg) && !cJSON_IsObject(cfg))
		return wb_error_set(err, -EBADMSG, 0,
				    "manifest storagePolicyConfig is not an "
				    "object");
	if (!layout || cJSON_IsNull(layout) ||
	    (cJSON_IsString(layout) && !strcmp(layout->valuestring, "V1")))
		m->layout = WB_LAYOUT_V1;
	else if (cJSON_IsString(layout) && !strcmp(layout->valuestring, "V2"))
		m->layout = WB_LAYOUT_V2;
	else
		return wb_error_set(err, -EOPNOTSUPP, 0,
				    "manifest storage layout %.40s is not "
				    "supported",
				    cJSON_IsString(layout) ? layout->valuestring
							   : "(not a string)");
	rc = opt_str(doc, "storagePolicy", &m->storage_policy);
	if (!rc)
		rc = opt_str(cfg, "storageRegion", &m->region);
	if (!rc && (!m->region || !*m->region)) {
		free(m->region);
		m->region = strdup("default");
		if (!m->region)
			rc = -ENOMEM;
	}
	if (rc)
		return wb_error_set(
			err, rc, 0,
			rc == -ENOMEM
				? "out of memory"
				: "manifest storage policy fields are not "
				  "strings");
	return 0;
}

int wb_manifest_parse(const char *text, size_t len, struct wb_manifest **out,
		      struct wb_error *err)
{
	struct wb_manifest *m = NULL;
	const cJSON *contents, *item;
	cJSON *doc;
	size_t n;
	int rc;

	*out = NULL;
	if (has_escaped_nul(text, len))
		return wb_error_set(err, -EINVAL, 0,
				    "manifest contains an escaped NUL "
				    "character");
	doc = wb_json_parse(text, len, err);
	if (!doc)
		return err ? err->code : -EBADMSG;
	contents = wb_json_get(doc, "contents");
	if (!cJSON_IsObject(doc) || !cJSON_IsObject(contents)) {
		rc = wb_error_set(err, -EBADMSG, 0,
				  "manifest without a contents object");
		goto out;
	}
	m = calloc(1, sizeof(*m));
	n = (size_t)cJSON_GetArraySize(contents);
	if (!m || (n && !(m->entries = calloc(n, sizeof(*m->entries))))) {
		rc = wb_error_set(err, -ENOMEM, 0, "out of memory");
		goto out;
	}
	rc = parse_header(doc, m, err);
	if (rc)
		goto out;
	cJSON_ArrayForEach (item, contents) {
		rc = parse_entry(item, &m->entries[m->n_entries], err);
		m->n_entries++; /* a half-filled entry is freed with the rest */
		if (rc)
			goto out;
	}
	if (m->n_entries > 1) /* qsort(NULL, 0) is undefined */
		qsort(m->entries, m->n_entries, sizeof(*m->entries), entry_cmp);
	for (size_t i = 1; i < m->n_entries; i++) {
		if (strcmp(m->entries[i - 1].path, m->entries[i].path) == 0) {
			rc = wb_error_set(err, -EINVAL, 0,
					  "manifest lists path \"%.200s\" "
					  "twice",
					  m->entries[i].path);
			goto out;
		}
	}
	*out = m;
	m = NULL;
out:
	wb_manifest_free(m);
	cJSON_Delete(doc);
	return rc;
}

const struct wb_manifest_entry *wb_manifest_find(const struct wb_manifest *m,
						 const char *path)
{
	struct wb_manifest_entry key = { .path = (char *)path };

	if (!m || !m->n_entries || !path)
		return NULL;
	return bsearch(&key, m->entries, m->n_entries, sizeof(key), entry_cmp);
}

/* ---- fetching --------------------------------------------------------- */

struct manifest_url_ctx {
	struct wb_client *c;
	const char *id;
};

/* FetchArtifactManifest: a fresh pre-signed URL of the manifest file. */
static int manifest_url(void *ud, char **url, struct wb_error *err)
{
	struct manifest_url_ctx *ctx = ud;
	const cJSON *art;
	const char *u;
	cJSON *data;
	int rc;

	*url = NULL;
	rc = api_gql(ctx->c, "FetchArtifactManifest",
		     api_vars("id", ctx->id, NULL), &data, err);
	if (rc)
		return rc;
	art = wb_json_get(data, "artifact");
	u = wb_json_get_str(wb_json_get(wb_json_get(art, "currentManifest"),
					"file"),
			    "directUrl");
	if (!cJSON_IsObject(art))
		rc = wb_error_set(err, -ENOENT, 0, "no artifact with id %s",
				  ctx->id);
	else if (!u || !*u)
		rc = wb_error_set(err, -ENOENT, 0,
				  "artifact %s has no manifest", ctx->id);
	else if (!(*url = strdup(u)))
		rc = wb_error_set(err, -ENOMEM, 0, "out of memory");
	cJSON_Delete(data);
	return rc;
}

struct grow_buf {
	char *data;
	size_t len, cap;
	int fail; /* why the sink stopped the transfer */
};

static int grow_write(void *ud, const void *data, size_t len)
{
	struct grow_buf *b = ud;

	if (len > MANIFEST_MAX_BYTES - b->len)
		return b->fail = -EFBIG;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		char *p;

		while (cap < b->len + len)
			cap *= 2;
		if (cap > MANIFEST_MAX_BYTES)
			cap = MANIFEST_MAX_BYTES;
		p = realloc(b->data, cap);
		if (!p)
			return b->fail = -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int wb_manifest_fetch(struct wb_client *c, const char *artifact_id,
		      struct wb_manifest **out, struct wb_error *err)
{
	struct manifest_url_ctx ctx = { c, artifact_id };
	struct wb_download_src src = {
		.refresh = manifest_url,
		.refresh_ud = &ctx,
		.label = "wandb_manifest.json",
	};
	struct grow_buf buf = { 0 };
	struct wb_http_sink sink = { grow_write, NULL, &buf };
	int rc;

	*out = NULL;
	rc = wb_download_stream(c, &src, 0, -1, &sink, err);
	if (rc == -ECANCELED && buf.fail == -EFBIG)
		rc = wb_error_set(err, -EFBIG, 0,
				  "manifest of artifact %s is larger than "
				  "%u MiB",
				  artifact_id, MANIFEST_MAX_BYTES >> 20);
	else if (rc == -ECANCELED && buf.fail)
		rc = wb_error_set(err, buf.fail, 0, "out of memory");
	if (!rc)
		rc = wb_manifest_parse(buf.data ? buf.data : "", buf.len, out,
				       err);
	free(buf.data);
	return rc;
}

/* ---- storage URLs ----------------------------------------------------- */

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int wb_md5_b64_to_hex(const char *b64, char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[18];
	size_t n = 0, len;
	uint32_t acc = 0;
	int bits = 0;

	if (!b64)
		return -EINVAL;
	len = strlen(b64);
	/* 16 bytes are 22 symbols, written as 24 with "==" padding. */
	if (len == 24 && b64[22] == '=' && b64[23] == '=')
		len = 22;
	if (len != 22)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(b64[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* The 4 leftover bits must be zero in a canonical encoding. */
	if (n != 16 || (acc & ((1u << bits) - 1)))
		return -EINVAL;
	for (size_t i = 0; i < 16; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[32] = '\0';
	return 0;
}

int wb_artifact_storage_url(const char *base_url, enum wb_storage_layout layout,
			    const char *region, const char *entity,
			    const char *project, const char *collection,
			    const struct wb_manifest_entry *e, char **out)
{
	char hex[33];

	*out = NULL;
	if (!base_url || !entity || !e || e->ref ||
	    wb_md5_b64_to_hex(e->digest, hex))
		return -EINVAL;
	if (layout == WB_LAYOUT_V1) {
		const char *segs[] = { "artifacts", entity, hex };

		*out = api_url_join(base_url, segs, 3);
	} else if (layout == WB_LAYOUT_V2 && project && collection && e->path) {
		const char *slash = strrchr(e->path, '/');
		const char *segs[] = {
			"artifactsV2",
			region && *region ? region : "default",
			entity,
			project,
			collection,
			e->birth_artifact_id,
			hex,
			slash ? slash + 1 : e->path, /* the basename */
		};

		*out = api_url_join(base_url, segs, 8);
	} else {
		return -EINVAL;
	}
	return *out ? 0 : -ENOMEM;
}
