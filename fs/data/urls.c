/* urls.c — entry -> download URL (wfs_urls.h): per-version URL tables
 * filled in batches from the file-URL route, staleness after a 401/403,
 * the constructed authenticated fallback, and the memory bound. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_log.h"
#include "wfs_data_int.h"

/* Versions with at most this many stored entries get every URL at once
 * (pages of 5000); bigger ones in batches of URLS_BATCH by name. */
#define URLS_FULL_MAX 20000
#define URLS_BATCH 1000
#define URLS_BEHIND 64
/* Pre-signed URLs are good for at least this long after we got them. */
#define URL_TTL 900.0
#define URLS_MEM_MAX ((size_t)64 << 20)

struct uent {
	char *path; /* the map key */
	char *url;
	double at; /* when it was fetched */
};

struct uver {
	char *id;             /* artifact id: the key in urls->vers */
	struct wb_strmap map; /* path -> struct uent */
	size_t bytes;
	double stale_before; /* URLs fetched before this are expired */
	int no_route;        /* the server has no file-URL route */
	int loading;         /* a batch is being fetched */
	struct wfs_link lru; /* in urls->lru, least recent first */
};

struct wfs_urls {
	struct wb_client *api;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct wb_strmap vers; /* id -> struct uver */
	struct wfs_link lru;
	size_t bytes;
	uint64_t batches, refreshes;
};

int wfs_urls_new(struct wb_client *api, struct wfs_urls **out)
{
	struct wfs_urls *u = calloc(1, sizeof(*u));

	*out = NULL;
	if (!u)
		return -ENOMEM;
	u->api = api;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	wb_strmap_init(&u->vers);
	wfs_list_init(&u->lru);
	*out = u;
	return 0;
}

static void ver_clear(struct wfs_urls *u, struct uver *v)
{
	size_t pos = 0;
	struct uent *e;

	while ((e = wb_strmap_next(&v->map, &pos))) {
		free(e->path);
		free(e->url);
		free(e);
	}
	wb_strmap_clear(&v->map);
	u->bytes -= v->bytes;
	v->bytes = 0;
}

static void ver_free(struct wfs_urls *u, struct uver *v)
{
	ver_clear(u, v);
	free(v->id);
	free(v);
}

void wfs_urls_free(struct wfs_urls *u)
{
	if (!u)
		return;
	while (!wfs_list_empty(&u->lru)) {
		struct uver *v = WFS_LIST_ENTRY(u->lru.next, struct uver, lru);

		wfs_list_del(&v->lru);
		ver_free(u, v);
	}
	wb_strmap_clear(&u->vers);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	free(u);
}

static struct uver *ver_get(struct wfs_urls *u, const char *id)
{
	struct uver *v = wb_strmap_get(&u->vers, id);

	if (v) {
		wfs_list_del(&v->lru);
		wfs_list_add_tail(&u->lru, &v->lru);
		return v;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->id = strdup(id))) {
		free(v);
		return NULL;
	}
	wb_strmap_init(&v->map);
	wfs_list_init(&v->lru);
	if (wb_strmap_put(&u->vers, v->id, v, NULL)) {
		free(v->id);
		free(v);
		return NULL;
	}
	wfs_list_add_tail(&u->lru, &v->lru);
	return v;
}

/* Drop the URLs of least recently used versions beyond the bound (never
 * those of keep, nor of a version being loaded). */
static void mem_trim(struct wfs_urls *u, struct uver *keep)
{
	struct wfs_link *l = u->lru.next;

	while (l != &u->lru && u->bytes > URLS_MEM_MAX) {
		struct uver *v = WFS_LIST_ENTRY(l, struct uver, lru);

		l = l->next;
		if (v != keep && !v->loading) {
			wfs_list_del(&v->lru);
			wb_strmap_del(&u->vers, v->id);
			ver_free(u, v);
		}
	}
}

static const struct uent *fresh_ent(const struct uver *v, const char *path,
				    double now)
{
	const struct uent *e = wb_strmap_get(&v->map, path);

	if (!e || e->at <= v->stale_before || now - e->at > URL_TTL)
		return NULL;
	return e;
}

/* ---- batches ------------------------------------------------------------ */

/* What a batch brought, gathered without the lock and merged after. */
struct got {
	struct uent **v;
	size_t n, cap;
	double at;
	int (*want)(const struct got *g, const char *path);
	const struct wb_manifest *m;
};

static int want_listed(const struct got *g, const char *path)
{
	const struct wb_manifest_entry *e = wb_manifest_find(g->m, path);

	/* Keep only what the manifest stores: exact paths, no references. */
	return e && !e->ref;
}

static int got_cb(void *ud, const char *path, const char *url)
{
	struct got *g = ud;
	struct uent *e;

	if (!g->want(g, path))
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 256;
		struct uent **v = realloc(g->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path)) || !(e->url = strdup(url))) {
		if (e)
			free(e->path);
		free(e);
		return -ENOMEM;
	}
	e->at = g->at;
	g->v[g->n++] = e;
	return 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i]->path);
		free(g->v[i]->url);
		free(g->v[i]);
	}
	free(g->v);
}

static size_t ent_bytes(const struct uent *e)
{
	return sizeof(*e) + strlen(e->path) + strlen(e->url) + 2 + 32;
}

/* Merge a batch into v (lock held); entries move out of g. A version
 * walked batch by batch starts over when it holds half the bound. */
static int merge(struct wfs_urls *u, struct uver *v, struct got *g)
{
	if (v->bytes > URLS_MEM_MAX / 2)
		ver_clear(u, v);
	for (size_t i = 0; i < g->n; i++) {
		struct uent *e = g->v[i], *old;

		if (wb_strmap_put(&v->map, e->path, e, (void **)&old))
			return -ENOMEM;
		g->v[i] = NULL;
		if (old) {
			v->bytes -= ent_bytes(old);
			u->bytes -= ent_bytes(old);
			free(old->path);
			free(old->url);
			free(old);
		}
		v->bytes += ent_bytes(e);
		u->bytes += ent_bytes(e);
	}
	g->n = 0;
	mem_trim(u, v);
	return 0;
}

static size_t stored_count(const struct wb_manifest *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_entries; i++)
		n += !m->entries[i].ref;
	return n;
}

/* Fetch the batch that holds e (no lock held): every URL of a small
 * version, else URLS_BATCH stored entries from a little before e on (the
 * files just before it are often being read at the same time). */
static int fetch_batch(struct wfs_urls *u, const struct wb_artifact *a,
		       const struct wb_manifest *m,
		       const struct wb_manifest_entry *e, struct got *g,
		       struct wb_error *err)
{
	const char *names[URLS_BATCH];
	size_t n = 0, i;

	g->at = wfs_data_now();
	g->want = want_listed;
	g->m = m;
	if (stored_count(m) <= URLS_FULL_MAX)
		return wb_artifact_file_urls(u->api, a, 0, got_cb, g, err);
	i = e >= m->entries && e < m->entries + m->n_entries
		? (size_t)(e - m->entries)
		: 0;
	i = i > URLS_BEHIND ? i - URLS_BEHIND : 0;
	for (; i < m->n_entries && n < URLS_BATCH; i++)
		if (!m->entries[i].ref)
			names[n++] = m->entries[i].path;
	return wb_artifact_file_urls_of(u->api, a, names, n, got_cb, g, err);
}

/* ---- lookups ------------------------------------------------------------ */

static int constructed(struct wfs_urls *u, const struct wb_artifact *a,
		       const struct wb_manifest *m,
		       const struct wb_manifest_entry *e, char **url,
		       struct wb_error *err)
{
	int rc = wb_artifact_storage_url(wb_client_base_url(u->api), m->layout,
					 m->region, a->entity, a->project,
					 a->collection, e, url);

	if (rc == -ENOMEM)
		return wb_error_set(err, rc, 0, "out of memory");
	if (rc)
		return wb_error_set(err, -EIO, 0,
				    "%s: digest %.64s is not a "
				    "base64 MD5",
				    e->path, e->digest);
	return 0;
}

int wfs_urls_get(struct wfs_urls *u, const struct wb_artifact *a,
		 const struct wb_manifest *m, const struct wb_manifest_entry *e,
		 char **url, struct wb_error *err)
{
	int loaded = 0, rc = 0;
	struct uver *v;

	*url = NULL;
	if (e->ref)
		return wb_error_set(err, -EINVAL, 0, "%s is a reference",
				    e->path);
	pthread_mutex_lock(&u->mu);
	/* Looked up on every turn: while we waited, another batch may have
	 * pushed this version out of memory. */
	while ((v = ver_get(u, a->id))) {
		const struct uent *ent = fresh_ent(v, e->path, wfs_data_now());
		struct got g = { 0 };

		if (ent) {
			*url = strdup(ent->url);
			rc = *url ? 0 : -ENOMEM;
			break;
		}
		if (v->no_route || loaded) {
			/* No route, or the listing lacks the entry. */
			pthread_mutex_unlock(&u->mu);
			return constructed(u, a, m, e, url, err);
		}
		if (v->loading) {
			pthread_cond_wait(&u->cv, &u->mu);
			continue;
		}
		v->loading = 1;
		u->batches++;
		pthread_mutex_unlock(&u->mu);
		rc = fetch_batch(u, a, m, e, &g, err);
		pthread_mutex_lock(&u->mu);
		v->loading = 0;
		pthread_cond_broadcast(&u->cv);
		if (rc == -EINVAL && g.n == 0) {
			wb_log(WB_LOG_INFO,
			       "%s: no file-URL route (%s); using "
			       "the storage layout's server URLs",
			       a->id, err ? err->msg : "");
			wb_error_clear(err);
			v->no_route = 1;
			rc = 0;
		} else if (!rc) {
			rc = merge(u, v, &g);
			loaded = 1;
		}
		got_free(&g);
		if (rc)
			break;
	}
	if (!v)
		rc = -ENOMEM;
	pthread_mutex_unlock(&u->mu);
	if (rc == -ENOMEM)
		wb_error_set(err, rc, 0, "out of memory");
	return rc;
}

int wfs_urls_refresh(struct wfs_urls *u, const struct wb_artifact *a,
		     const struct wb_manifest *m,
		     const struct wb_manifest_entry *e, const char *stale,
		     char **url, struct wb_error *err)
{
	struct uver *v;

	pthread_mutex_lock(&u->mu);
	u->refreshes++;
	v = wb_strmap_get(&u->vers, a->id);
	if (v) {
		const struct uent *ent = wb_strmap_get(&v->map, e->path);

		/* Unless another reader already got a newer URL, every URL
		 * of this version from then on is suspect: they were signed
		 * together. */
		if (!ent || !strcmp(ent->url, stale))
			v->stale_before = wfs_data_now();
	}
	pthread_mutex_unlock(&u->mu);
	return wfs_urls_get(u, a, m, e, url, err);
}

int wfs_urls_on_api(const struct wfs_urls *u, const char *url)
{
	const char *base = wb_client_base_url(u->api);
	size_t n = strlen(base);

	return !strncmp(url, base, n) && (url[n] == '/' || url[n] == '\0');
}

void wfs_urls_get_stats(struct wfs_urls *u, struct wfs_urls_stats *out)
{
	pthread_mutex_lock(&u->mu);
	out->batches = u->batches;
	out->refreshes = u->refreshes;
	out->bytes = u->bytes;
	pthread_mutex_unlock(&u->mu);
}
