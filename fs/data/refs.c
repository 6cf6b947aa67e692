/* refs.c — what an entry's bytes are (wfs_data_int.h, wfs_res): a stored
 * blob named by its MD5, an http(s) URL fetched with a plain GET, or, for
 * a wandb-artifact:// reference, whatever its target entry is. Target
 * versions (artifact + manifest) are kept for the last TARGETS_MAX target
 * ids, so a directory of references into one dataset costs one lookup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"
#include "wfs_data_int.h"

#define TARGETS_MAX 8
#define REF_SCHEME "wandb-artifact://"

struct target {
	struct wfs_obj obj;
	char *key; /* the hex artifact id of the reference */
	struct wb_artifact *a;
	struct wb_manifest *m;
};

struct wfs_targets {
	pthread_mutex_t mu;
	struct target *v[TARGETS_MAX]; /* most recent last; each holds a ref */
	size_t n;
};

static void target_free(struct wfs_obj *o)
{
	struct target *t = (struct target *)(void *)o;

	wb_artifact_free(t->a);
	wb_manifest_free(t->m);
	free(t->key);
	free(t);
}

int wfs_targets_new(struct wfs_targets **out)
{
	struct wfs_targets *t = calloc(1, sizeof(*t));

	*out = t;
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	return 0;
}

void wfs_targets_free(struct wfs_targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		wfs_obj_unref(&t->v[i]->obj);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* A reference to the cached target with this key, or NULL. */
static struct target *target_find(struct wfs_targets *t, const char *key,
				  size_t keylen)
{
	struct target *found = NULL;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->n && !found; i++)
		if (strlen(t->v[i]->key) == keylen &&
		    !memcmp(t->v[i]->key, key, keylen))
			found = wfs_obj_ref(&t->v[i]->obj);
	pthread_mutex_unlock(&t->mu);
	return found;
}

static void target_keep(struct wfs_targets *t, struct target *tg)
{
	pthread_mutex_lock(&t->mu);
	if (t->n == TARGETS_MAX) {
		wfs_obj_unref(&t->v[0]->obj);
		memmove(t->v, t->v + 1, --t->n * sizeof(*t->v));
	}
	t->v[t->n++] = wfs_obj_ref(&tg->obj);
	pthread_mutex_unlock(&t->mu);
}

/* The target version of reference e (a new reference in *out). */
static int target_get(struct wfs_data *d, const struct wb_manifest_entry *e,
		      struct target **out)
{
	const char *hex = e->ref + strlen(REF_SCHEME);
	const char *slash = strchr(hex, '/');
	const struct wb_manifest_entry *te;
	struct wb_error err = { 0 };
	struct target *t;
	int rc;

	*out = NULL;
	if (!slash) {
		wb_log(WB_LOG_WARN, "%s: malformed reference %.200s", e->path,
		       e->ref);
		return -EIO;
	}
	*out = target_find(d->targets, hex, (size_t)(slash - hex));
	if (*out)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->key = strndup(hex, (size_t)(slash - hex)))) {
		free(t);
		return -ENOMEM;
	}
	wfs_obj_init(&t->obj, sizeof(*t), target_free);
	rc = wb_artifact_resolve_ref(d->api, e, &t->a, &t->m, &te, &err);
	if (rc) {
		wb_log(WB_LOG_WARN, "%s: cannot follow %.200s: %s", e->path,
		       e->ref, err.msg);
		wfs_obj_unref(&t->obj);
		return rc == -ETIMEDOUT || rc == -ENOMEM ? rc : -EIO;
	}
	target_keep(d->targets, t);
	*out = t;
	return 0;
}

static int is_http(const char *ref)
{
	return !strncmp(ref, "http://", 7) || !strncmp(ref, "https://", 8);
}

/* Fill r for a concrete entry e (stored or http) of a/m; r->owner is
 * already set. */
static int res_fill(struct wfs_res *r, const struct wb_artifact *a,
		    const struct wb_manifest *m,
		    const struct wb_manifest_entry *e)
{
	r->a = a;
	r->m = m;
	r->e = e;
	r->size = e->size;
	r->http = e->ref != NULL;
	if (e->size < 0) {
		wb_log(WB_LOG_WARN, "%s: the manifest gives no size", e->path);
		return -EIO;
	}
	if (r->http) {
		size_t n = strlen(e->ref) + 5;

		r->key = malloc(n);
		if (!r->key)
			return -ENOMEM;
		snprintf(r->key, n, "url:%s", e->ref);
		return 0;
	}
	if (wb_md5_b64_to_hex(e->digest, r->md5)) {
		wb_log(WB_LOG_WARN, "%s: digest %.64s is not a base64 MD5",
		       e->path, e->digest);
		return -EIO;
	}
	r->key = malloc(64);
	if (!r->key)
		return -ENOMEM;
	snprintf(r->key, 64, "md5:%s:%lld", r->md5, (long long)e->size);
	return 0;
}

int wfs_res_get(struct wfs_data *d, const struct wfs_data_src *src,
		struct wfs_res *r)
{
	const struct wb_manifest_entry *e = src->entry;
	struct target *t;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!e->ref || is_http(e->ref)) {
		r->owner = wfs_obj_ref(src->owner);
		rc = res_fill(r, src->artifact, src->manifest, e);
	} else if (!strncmp(e->ref, REF_SCHEME, strlen(REF_SCHEME))) {
		const struct wb_manifest_entry *te;

		rc = target_get(d, e, &t);
		if (rc)
			return rc;
		r->owner = &t->obj;
		te = wb_manifest_find(
			t->m, strchr(e->ref + strlen(REF_SCHEME), '/') + 1);
		/* The uploader collapses chains: a target is concrete. */
		if (!te || (te->ref && !is_http(te->ref))) {
			wb_log(WB_LOG_WARN, "%s: %.200s leads %s", e->path,
			       e->ref, te ? "to another reference" : "nowhere");
			rc = -EIO;
		} else {
			rc = res_fill(r, t->a, t->m, te);
		}
	} else {
		return -EOPNOTSUPP;
	}
	if (rc)
		wfs_res_clear(r);
	return rc;
}

void wfs_res_clear(struct wfs_res *r)
{
	wfs_obj_unref(r->owner);
	free(r->key);
	memset(r, 0, sizeof(*r));
}
