/* fetch_artifacts.c — the fills of the artifact metadata plane
 * (wfs_artifacts.h): types, collections, a collection's versions and
 * aliases, single versions, manifests (checked and bounded), a run's
 * logged/used versions, and the organization, registries and registry
 * collections of registry/. Single-flight and storing go through
 * wfs_fill.h.
 *
 * Cache keys: "AT/ENT/PROJ" types, "AC/ENT/PROJ/TYPE" collections of a
 * type, "AV/ENT/PROJ/COLL" a collection, "av/ENT/PROJ/COLL/N" version vN,
 * "am/ID" the manifest of artifact ID, "RA/ENT/PROJ/RUN/l|u" a run's
 * logged|used versions, "RO" the organization, "RG" its registries,
 * "RC/REG" a registry's collections. Names never contain '/' (the
 * kernel's are path components, the server's are filtered).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"
#include "wb_registry.h"
#include "wfs_art_tree.h"
#include "wfs_artifacts.h"
#include "wfs_fetch.h"
#include "wfs_fill.h"

/* Versions per page of a collection listing (each carries the version's
 * metadata, which may be large). */
#define VERSIONS_PER_PAGE 100

/* Peak bytes per entry while a manifest is fetched and parsed (its text,
 * the JSON tree, the entries; measured: about 630 for short paths). A
 * version whose fileCount says this exceeds what the cache gives one value
 * is refused before its manifest is downloaded, so --cache-max-bytes also
 * bounds that peak. */
#define MANIFEST_ENTRY_COST 640

void wfs_art_where_clear(struct wfs_art_where *w)
{
	free(w->entity);
	free(w->project);
	free(w->type);
	free(w->org);
	memset(w, 0, sizeof(*w));
}

/* A collection name that can be a path component "<name>:<alias>": also
 * no ':' (the first ':' of a name starts its alias). */
static int coll_name_usable(const char *name)
{
	return wfs_name_usable(name) && !strchr(name, ':');
}

/* ---- plain name listings ------------------------------------------------ */

struct names_ctx {
	struct wfs_names *names;
	int (*usable)(const char *name);
	int rc;
};

static int names_add(struct names_ctx *x, const char *name)
{
	if (name && x->usable(name) && wfs_names_add(x->names, name))
		x->rc = -ENOMEM;
	return x->rc;
}

static int type_cb(void *ud, struct wb_artifact_type *t)
{
	int rc = names_add(ud, t->name);

	wb_artifact_type_free(t);
	return rc;
}

static int coll_cb(void *ud, struct wb_artifact_collection *col)
{
	int rc = names_add(ud, col->name);

	wb_artifact_collection_free(col);
	return rc;
}

static int registry_cb(void *ud, struct wb_registry *r)
{
	int rc = names_add(ud, r->name);

	wb_registry_free(r);
	return rc;
}

/* The end of a names fill: log, cache a confirmed absence, else sort and
 * store. */
static int names_done(struct wfs *fs, const char *key, struct names_ctx *x,
		      int rc, const struct wb_error *err, const char *what,
		      double t0, struct wfs_obj **out)
{
	wfs_fill_logged(fs, what, x->names->n, t0, rc);
	if (!rc)
		rc = x->rc;
	if (rc) {
		wfs_obj_unref(&x->names->obj);
		if (rc == -ENOENT) {
			wfs_cache_put_absent(fs->cache, key);
			return rc;
		}
		return wfs_fetch_errno(rc, err, what);
	}
	wfs_names_sort(x->names);
	wfs_fill_store(fs, key, &x->names->obj, WFS_CLASS_LISTING);
	*out = &x->names->obj;
	return 0;
}

/* Which names listing a fill makes. */
enum names_kind {
	N_TYPES,
	N_COLLECTIONS,
	N_REGISTRIES,
	N_REGISTRY_COLLS
};

struct names_arg {
	enum names_kind kind;
	const char *ent, *proj, *name; /* name: type or registry */
};

static int fill_names(struct wfs *fs, const char *key, const void *arg,
		      struct wfs_obj **out)
{
	const struct names_arg *a = arg;
	struct names_ctx x = { .usable = wfs_name_usable };
	struct wb_error err = { 0 };
	struct wfs_art_org *org = NULL;
	struct wb_org o = { 0 };
	char what[WFS_KEY_MAX];
	double t0;
	int rc = 0;

	if (a->kind == N_REGISTRIES || a->kind == N_REGISTRY_COLLS) {
		rc = wfs_fetch_art_org(fs, &org);
		if (rc)
			return rc;
		o.name = org->name;
		o.org_entity = org->org_entity;
	}
	x.names = wfs_names_new();
	if (!x.names) {
		wfs_obj_unref(org ? &org->obj : NULL);
		return -ENOMEM;
	}
	t0 = wfs_fill_now_ms(fs);
	switch (a->kind) {
	case N_TYPES:
		snprintf(what, sizeof(what), "ArtifactTypes %s/%s", a->ent,
			 a->proj);
		rc = wb_artifact_types_list(fs->client, a->ent, a->proj, 0,
					    type_cb, &x, &err);
		break;
	case N_COLLECTIONS:
		snprintf(what, sizeof(what), "ArtifactCollections %s/%s %s",
			 a->ent, a->proj, a->name);
		x.usable = coll_name_usable;
		rc = wb_artifact_collections_list(fs->client, a->ent, a->proj,
						  a->name, 0, coll_cb, &x,
						  &err);
		break;
	case N_REGISTRIES:
		snprintf(what, sizeof(what), "Registries of %s", o.name);
		rc = wb_registries_list(fs->client, &o, registry_cb, &x, &err);
		break;
	case N_REGISTRY_COLLS:
		snprintf(what, sizeof(what), "RegistryCollections %s/%s",
			 o.name, a->name);
		x.usable = coll_name_usable;
		rc = wb_registry_collections_list(fs->client, &o, a->name, 0,
						  coll_cb, &x, &err);
		break;
	}
	wfs_obj_unref(org ? &org->obj : NULL);
	return names_done(fs, key, &x, rc, &err, what, t0, out);
}

static int names_get(struct wfs *fs, const char *key, const struct names_arg *a,
		     struct wfs_names **out)
{
	return wfs_fill_cached(fs, key, fill_names, a, (struct wfs_obj **)out);
}

int wfs_fetch_art_types(struct wfs *fs, const char *ent, const char *proj,
			struct wfs_names **out)
{
	struct names_arg a = { N_TYPES, ent, proj, NULL };
	char key[WFS_KEY_MAX];

	snprintf(key, sizeof(key), "AT/%s/%s", ent, proj);
	return names_get(fs, key, &a, out);
}

int wfs_fetch_art_collections(struct wfs *fs, const char *ent, const char *proj,
			      const char *type, struct wfs_names **out)
{
	struct names_arg a = { N_COLLECTIONS, ent, proj, type };
	char key[WFS_KEY_MAX], tkey[WFS_KEY_MAX];
	int rc;

	snprintf(key, sizeof(key), "AC/%s/%s/%s", ent, proj, type);
	snprintf(tkey, sizeof(tkey), "AT/%s/%s", ent, proj);
	rc = wfs_fill_lacks(fs, tkey, type);
	return rc ? rc : names_get(fs, key, &a, out);
}

int wfs_fetch_registries(struct wfs *fs, struct wfs_names **out)
{
	struct names_arg a = { N_REGISTRIES, NULL, NULL, NULL };

	return names_get(fs, "RG", &a, out);
}

int wfs_fetch_registry_colls(struct wfs *fs, const char *registry,
			     struct wfs_names **out)
{
	struct names_arg a = { N_REGISTRY_COLLS, NULL, NULL, registry };
	char key[WFS_KEY_MAX];
	int rc;

	snprintf(key, sizeof(key), "RC/%s", registry);
	rc = wfs_fill_lacks(fs, "RG", registry);
	return rc ? rc : names_get(fs, key, &a, out);
}

/* ---- versions ----------------------------------------------------------- */

static void version_key(char *key, const struct wfs_art_where *w,
			const char *coll, int64_t index)
{
	snprintf(key, WFS_KEY_MAX, "av/%s/%s/%s/%lld", w->entity, w->project,
		 coll, (long long)index);
}

/* "v<digits>" to its index; -1 when s is not a version name. */
static int64_t version_index(const char *s)
{
	int64_t v = 0;

	if (!s || s[0] != 'v' || !s[1] || (s[1] == '0' && s[2]))
		return -1;
	for (s++; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* The version record of a (taken), stored under its address unless a
 * record is cached there already (versions never change: the first one
 * stays). Returns the cached record (new reference) or NULL on OOM. */
static struct wfs_art_version *version_store(struct wfs *fs,
					     const struct wfs_art_where *w,
					     const char *coll, int64_t index,
					     struct wb_artifact *a)
{
	struct wfs_art_version *v = NULL;
	char key[WFS_KEY_MAX];
	char *url;

	version_key(key, w, coll, index);
	if (wfs_cache_get(fs->cache, key, 0, (struct wfs_obj **)&v) ==
	    WFS_FRESH) {
		wb_artifact_free(a);
		return v;
	}
	url = wb_artifact_web_url(fs->client, a, w->org);
	if (!url) {
		wb_artifact_free(a);
		return NULL;
	}
	v = wfs_render_art_version(a, url);
	if (v)
		wfs_fill_store(fs, key, &v->obj, WFS_CLASS_IMMUTABLE);
	return v;
}

struct version_arg {
	const struct wfs_art_where *w;
	const char *coll;
	int64_t index;
};

static int fill_version(struct wfs *fs, const char *key, const void *arg,
			struct wfs_obj **out)
{
	const struct version_arg *va = arg;
	struct wb_artifact *a = NULL;
	struct wb_error err = { 0 };
	struct wfs_art_version *v;
	char what[2 * WFS_KEY_MAX], name[WFS_KEY_MAX];
	double t0 = wfs_fill_now_ms(fs);
	int rc;

	snprintf(name, sizeof(name), "%s:v%lld", va->coll,
		 (long long)va->index);
	snprintf(what, sizeof(what), "Artifact %s/%s/%s", va->w->entity,
		 va->w->project, name);
	rc = wb_artifact_get(fs->client, va->w->entity, va->w->project, name,
			     &a, &err);
	wfs_fill_logged(fs, what, rc ? 0 : 1, t0, rc);
	if (!rc && version_index(a->version) != va->index) {
		/* Not the version asked for: nothing to show under it. */
		wb_artifact_free(a);
		rc = -ENOENT;
	}
	if (rc == -ENOENT) {
		wfs_cache_put_absent(fs->cache, key);
		return rc;
	}
	if (rc)
		return wfs_fetch_errno(rc, &err, what);
	v = version_store(fs, va->w, va->coll, va->index, a);
	if (!v)
		return -ENOMEM;
	*out = &v->obj;
	return 0;
}

/* 1 when a fresh collection record exists and lacks version index. */
static int coll_lacks(struct wfs *fs, const struct wfs_art_where *w,
		      const char *coll, int64_t index)
{
	struct wfs_art_coll *c;
	char key[WFS_KEY_MAX];
	int lacks = 0;

	snprintf(key, sizeof(key), "AV/%s/%s/%s", w->entity, w->project, coll);
	if (wfs_cache_get(fs->cache, key, 0, (struct wfs_obj **)&c) ==
	    WFS_FRESH) {
		lacks = 1;
		for (size_t i = 0; lacks && i < c->n_versions; i++)
			lacks = c->versions[i] != index;
		wfs_obj_unref(&c->obj);
	}
	return lacks;
}

int wfs_fetch_art_version(struct wfs *fs, const struct wfs_art_where *w,
			  const char *coll, int64_t index,
			  struct wfs_art_version **out)
{
	struct version_arg va = { w, coll, index };
	char key[WFS_KEY_MAX];

	*out = NULL;
	/* A fresh collection record is authoritative (no request). */
	if (coll_lacks(fs, w, coll, index))
		return -ENOENT;
	version_key(key, w, coll, index);
	return wfs_fill_cached(fs, key, fill_version, &va,
			       (struct wfs_obj **)out);
}

/* ---- collections -------------------------------------------------------- */

static void coll_free(struct wfs_obj *o)
{
	struct wfs_art_coll *c = (struct wfs_art_coll *)o;

	for (size_t i = 0; i < c->n_aliases; i++)
		free(c->aliases[i].name);
	free(c->aliases);
	free(c->versions);
	free(c);
}

struct coll_ctx {
	struct wfs *fs;
	const struct version_arg *id;
	struct wfs_art_coll *c;
	size_t cap_v, cap_a;
	int rc;
};

/* An alias name that can follow "<collection>:" without clashing with a
 * version's directory or JSON file ("v3", "v3.json"). */
static int alias_usable(const char *alias)
{
	const char *dot = strrchr(alias, '.');
	char head[32];

	if (!wfs_name_usable(alias) || strchr(alias, ':') ||
	    version_index(alias) >= 0)
		return 0;
	if (!dot || strcmp(dot, ".json") ||
	    (size_t)(dot - alias) >= sizeof(head))
		return 1;
	memcpy(head, alias, (size_t)(dot - alias));
	head[dot - alias] = '\0';
	return version_index(head) < 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, (*cap ? *cap * 2 : 16) * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

static int coll_add(struct coll_ctx *x, struct wb_artifact *a)
{
	struct wfs_art_coll *c = x->c;
	int64_t index = version_index(a->version);
	struct wfs_art_version *v;

	if (index < 0) {
		wb_log(WB_LOG_WARN, "%s/%s/%s: skipping version \"%s\"",
		       x->id->w->entity, x->id->w->project, x->id->coll,
		       a->version);
		return 0;
	}
	if (grow((void **)&c->versions, &x->cap_v, c->n_versions,
		 sizeof(*c->versions)))
		return -ENOMEM;
	c->versions[c->n_versions++] = index;
	for (size_t i = 0; i < a->n_aliases; i++) {
		if (!alias_usable(a->aliases[i]))
			continue;
		if (grow((void **)&c->aliases, &x->cap_a, c->n_aliases,
			 sizeof(*c->aliases)))
			return -ENOMEM;
		c->aliases[c->n_aliases].version = index;
		if (!(c->aliases[c->n_aliases].name = strdup(a->aliases[i])))
			return -ENOMEM;
		c->n_aliases++;
	}
	v = version_store(x->fs, x->id->w, x->id->coll, index, a);
	if (!v)
		return -ENOMEM;
	if (v->ctime > c->mtime)
		c->mtime = v->ctime;
	wfs_obj_unref(&v->obj);
	return 0;
}

static int coll_cb_version(void *ud, struct wb_artifact *a)
{
	struct coll_ctx *x = ud;

	x->rc = coll_add(x, a);
	return x->rc;
}

static int cmp_index(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_alias(const void *a, const void *b)
{
	return strcmp(((const struct wfs_art_alias *)a)->name,
		      ((const struct wfs_art_alias *)b)->name);
}

const struct wfs_art_alias *wfs_art_coll_alias(const struct wfs_art_coll *c,
					       const char *name)
{
	struct wfs_art_alias key = { (char *)name, 0 };

	return c->n_aliases ? bsearch(&key, c->aliases, c->n_aliases,
				      sizeof(key), cmp_alias)
			    : NULL;
}

static int fill_coll(struct wfs *fs, const char *key, const void *arg,
		     struct wfs_obj **out)
{
	const struct version_arg *id = arg;
	struct coll_ctx x = { .fs = fs, .id = id };
	struct wb_error err = { 0 };
	char what[WFS_KEY_MAX];
	double t0 = wfs_fill_now_ms(fs);
	int rc;

	x.c = calloc(1, sizeof(*x.c));
	if (!x.c)
		return -ENOMEM;
	wfs_obj_init(&x.c->obj, sizeof(*x.c), coll_free);
	snprintf(what, sizeof(what), "Versions %s/%s/%s", id->w->entity,
		 id->w->project, id->coll);
	rc = wb_artifact_memberships_list(fs->client, id->w->entity,
					  id->w->project, id->coll,
					  VERSIONS_PER_PAGE, coll_cb_version,
					  &x, &err);
	wfs_fill_logged(fs, what, x.c->n_versions, t0, rc);
	if (!rc)
		rc = x.rc;
	if (!rc && x.c->n_versions > 1)
		qsort(x.c->versions, x.c->n_versions, sizeof(int64_t),
		      cmp_index);
	if (!rc && x.c->n_aliases > 1)
		qsort(x.c->aliases, x.c->n_aliases, sizeof(*x.c->aliases),
		      cmp_alias);
	if (rc) {
		wfs_obj_unref(&x.c->obj);
		if (rc == -ENOENT) {
			wfs_cache_put_absent(fs->cache, key);
			return rc;
		}
		return wfs_fetch_errno(rc, &err, what);
	}
	x.c->obj.bytes += x.c->n_versions * sizeof(int64_t) +
		x.c->n_aliases * (sizeof(*x.c->aliases) + 32);
	wfs_fill_store(fs, key, &x.c->obj, WFS_CLASS_ALIAS);
	*out = &x.c->obj;
	return 0;
}

int wfs_fetch_art_coll(struct wfs *fs, const struct wfs_art_where *w,
		       const char *coll, struct wfs_art_coll **out)
{
	struct version_arg id = { w, coll, -1 };
	char key[WFS_KEY_MAX];

	snprintf(key, sizeof(key), "AV/%s/%s/%s", w->entity, w->project, coll);
	return wfs_fill_cached(fs, key, fill_coll, &id, (struct wfs_obj **)out);
}

/* ---- manifests ---------------------------------------------------------- */

static void manifest_free(struct wfs_obj *o)
{
	struct wfs_art_manifest *m = (struct wfs_art_manifest *)o;

	wb_manifest_free(m->m);
	free(m);
}

/* Whether a fetch error says something about the manifest itself (kept,
 * so it is not fetched again) rather than about the way to it. */
static int manifest_verdict(int rc)
{
	return rc == -EINVAL || rc == -EBADMSG || rc == -EOPNOTSUPP ||
		rc == -EFBIG;
}

static int fill_manifest(struct wfs *fs, const char *key, const void *arg,
			 struct wfs_obj **out)
{
	const struct wb_artifact *a = ((const struct wfs_art_version *)arg)->a;
	size_t bound = wfs_cache_max_value(fs->cache);
	struct wfs_art_manifest *rec;
	struct wb_error err = { 0 };
	struct wb_manifest *m = NULL;
	const char *bad = NULL, *why = NULL;
	char what[WFS_KEY_MAX];
	double t0;
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s:%s", a->entity, a->project,
		 a->collection, a->version);
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	wfs_obj_init(&rec->obj, sizeof(*rec), manifest_free);
	if (a->file_count > 0 &&
	    (uint64_t)a->file_count > bound / MANIFEST_ENTRY_COST) {
		wb_log(WB_LOG_ERROR,
		       "%s: %lld files need more memory than "
		       "--cache-max-bytes gives one manifest (%zu MiB): "
		       "raise it to read this version",
		       what, (long long)a->file_count, bound >> 20);
		rc = -EFBIG;
		goto verdict;
	}
	t0 = wfs_fill_now_ms(fs);
	rc = wb_manifest_fetch(fs->client, a->id, &m, &err);
	wfs_fill_logged(fs, "Manifest", m ? m->n_entries : 0, t0, rc);
	if (rc) {
		if (!manifest_verdict(rc)) {
			wfs_obj_unref(&rec->obj);
			return wfs_fetch_errno(rc, &err, what);
		}
		wb_log(WB_LOG_ERROR, "%s: refusing its manifest: %s", what,
		       err.msg);
		rc = rc == -EFBIG ? -EFBIG : -EIO;
		goto verdict;
	}
	rc = wfs_art_tree_check(m, &bad, &why);
	if (rc) {
		wb_log(WB_LOG_ERROR,
		       "%s: refusing its manifest: entry "
		       "\"%.200s\" %s",
		       what, bad, why);
		wb_manifest_free(m);
		goto verdict;
	}
	rec->obj.bytes += wfs_art_manifest_bytes(m);
	if (rec->obj.bytes > bound) {
		wb_log(WB_LOG_ERROR,
		       "%s: its manifest takes %zu MiB, more "
		       "than --cache-max-bytes gives one (%zu MiB): raise "
		       "it to read this version",
		       what, rec->obj.bytes >> 20, bound >> 20);
		wb_manifest_free(m);
		rec->obj.bytes = sizeof(*rec);
		rc = -EFBIG;
		goto verdict;
	}
	rec->m = m;
verdict:
	rec->err = rc;
	wfs_fill_store(fs, key, &rec->obj, WFS_CLASS_IMMUTABLE);
	*out = &rec->obj;
	return 0;
}

int wfs_fetch_art_manifest(struct wfs *fs, const struct wfs_art_version *v,
			   struct wfs_art_manifest **out)
{
	char key[WFS_KEY_MAX];
	int rc;

	snprintf(key, sizeof(key), "am/%s", v->a->id);
	rc = wfs_fill_cached(fs, key, fill_manifest, v, (struct wfs_obj **)out);
	if (!rc && (*out)->err) {
		rc = (*out)->err;
		wfs_obj_unref(&(*out)->obj);
		*out = NULL;
	}
	return rc;
}

/* ---- a run's artifacts -------------------------------------------------- */

static void run_arts_free(struct wfs_obj *o)
{
	struct wfs_run_arts *r = (struct wfs_run_arts *)o;

	for (size_t i = 0; r->names && i < r->names->n; i++)
		free(r->targets[i]);
	free(r->targets);
	wfs_obj_unref(r->names ? &r->names->obj : NULL);
	free(r);
}

struct run_link {
	char *name, *target;
};

struct run_arts_ctx {
	struct wfs *fs;
	const char *ent, *proj;
	struct run_link *v;
	size_t n, cap;
	int rc;
};

/* The symlink target, relative to <ent>/<proj>/runs/<id>/artifacts/<dir>/,
 * of version a in its own project's artifacts/ tree: up to the project,
 * the entity or the root, whichever a shares with the run. */
static char *run_link_target(const struct run_arts_ctx *x,
			     const struct wb_artifact *a)
{
	int same_ent = strcmp(a->entity, x->ent) == 0;
	int same_proj = same_ent && strcmp(a->project, x->proj) == 0;
	char *t = NULL;
	int rc;

	if (same_proj)
		rc = asprintf(&t, "../../../../artifacts/%s/%s:%s", a->type,
			      a->collection, a->version);
	else if (same_ent)
		rc = asprintf(&t, "../../../../../%s/artifacts/%s/%s:%s",
			      a->project, a->type, a->collection, a->version);
	else
		rc = asprintf(&t, "../../../../../../%s/%s/artifacts/%s/%s:%s",
			      a->entity, a->project, a->type, a->collection,
			      a->version);
	return rc < 0 ? NULL : t;
}

static int run_arts_add(struct run_arts_ctx *x, struct wb_artifact *a)
{
	struct wfs_art_where w = { a->entity, a->project, a->type, NULL };
	int64_t index = version_index(a->version);
	struct wfs_art_version *v;
	struct run_link l = { 0 };

	if (index < 0 || !a->type || !wfs_name_usable(a->type) ||
	    !coll_name_usable(a->collection) || !wfs_name_usable(a->entity) ||
	    !wfs_name_usable(a->project)) {
		wb_artifact_free(a);
		return 0;
	}
	if (asprintf(&l.name, "%s:%s", a->collection, a->version) < 0)
		l.name = NULL;
	l.target = run_link_target(x, a);
	if (!l.name || !l.target ||
	    grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v))) {
		free(l.name);
		free(l.target);
		wb_artifact_free(a);
		return -ENOMEM;
	}
	x->v[x->n++] = l;
	v = version_store(x->fs, &w, a->collection, index, a);
	wfs_obj_unref(v ? &v->obj : NULL);
	return v ? 0 : -ENOMEM;
}

static int run_arts_cb(void *ud, struct wb_artifact *a)
{
	struct run_arts_ctx *x = ud;

	x->rc = run_arts_add(x, a);
	return x->rc;
}

static int cmp_link(const void *a, const void *b)
{
	return strcmp(((const struct run_link *)a)->name,
		      ((const struct run_link *)b)->name);
}

/* The record from the collected links (sorted by name, a name seen twice
 * kept once); frees the links' strings it does not keep. */
static struct wfs_run_arts *run_arts_build(struct run_arts_ctx *x)
{
	struct wfs_run_arts *r = calloc(1, sizeof(*r));
	size_t bytes = sizeof(*r);
	int rc = 0;

	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), cmp_link);
	if (r) {
		wfs_obj_init(&r->obj, sizeof(*r), run_arts_free);
		r->names = wfs_names_new();
		r->targets = calloc(x->n ? x->n : 1, sizeof(*r->targets));
	}
	if (!r || !r->names || !r->targets)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < x->n; i++) {
		size_t at = r->names->n;

		if (i && strcmp(x->v[i].name, x->v[i - 1].name) == 0)
			continue;
		rc = wfs_names_add(r->names, x->v[i].name);
		if (!rc) {
			r->targets[at] = x->v[i].target;
			x->v[i].target = NULL;
			bytes += 2 * strlen(r->targets[at]) + 64;
		}
	}
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].name);
		free(x->v[i].target);
	}
	if (rc) {
		wfs_obj_unref(r ? &r->obj : NULL);
		return NULL;
	}
	r->obj.bytes = bytes;
	return r;
}

struct run_arts_arg {
	const char *ent, *proj, *run;
	int used;
};

static int fill_run_arts(struct wfs *fs, const char *key, const void *arg,
			 struct wfs_obj **out)
{
	const struct run_arts_arg *ra = arg;
	struct run_arts_ctx x = { .fs = fs, .ent = ra->ent, .proj = ra->proj };
	struct wb_error err = { 0 };
	struct wfs_run_arts *r;
	char what[WFS_KEY_MAX];
	double t0 = wfs_fill_now_ms(fs);
	int rc;

	snprintf(what, sizeof(what), "RunArtifacts %s/%s/%s %s", ra->ent,
		 ra->proj, ra->run, ra->used ? "used" : "logged");
	rc = wb_run_artifacts_list(fs->client, ra->ent, ra->proj, ra->run,
				   ra->used ? WB_RUN_USED : WB_RUN_LOGGED, 0,
				   run_arts_cb, &x, &err);
	wfs_fill_logged(fs, what, x.n, t0, rc);
	if (!rc)
		rc = x.rc;
	r = run_arts_build(&x);
	free(x.v);
	if (!rc && !r)
		rc = -ENOMEM;
	if (rc) {
		wfs_obj_unref(r ? &r->obj : NULL);
		if (rc == -ENOENT) {
			wfs_cache_put_absent(fs->cache, key);
			return rc;
		}
		return wfs_fetch_errno(rc, &err, what);
	}
	wfs_fill_store(fs, key, &r->obj, WFS_CLASS_LISTING);
	*out = &r->obj;
	return 0;
}

int wfs_fetch_run_arts(struct wfs *fs, const char *ent, const char *proj,
		       const char *run, int used, struct wfs_run_arts **out)
{
	struct run_arts_arg ra = { ent, proj, run, used };
	char key[WFS_KEY_MAX];

	snprintf(key, sizeof(key), "RA/%s/%s/%s/%c", ent, proj, run,
		 used ? 'u' : 'l');
	return wfs_fill_cached(fs, key, fill_run_arts, &ra,
			       (struct wfs_obj **)out);
}

/* ---- the organization of registry/ -------------------------------------- */

static void org_free(struct wfs_obj *o)
{
	struct wfs_art_org *r = (struct wfs_art_org *)o;

	free(r->name);
	free(r->org_entity);
	free(r);
}

/* The organization to show: --registry-org resolved, else the viewer's
 * first (its org entity resolved when the viewer query lacks it). */
static int org_choose(struct wfs *fs, struct wb_org **o, struct wb_error *err)
{
	const char *want = fs->opt.registry_org;
	struct wb_viewer *v = NULL;
	int rc;

	*o = NULL;
	if (!want) {
		rc = wb_viewer_get(fs->client, &v, err);
		if (rc)
			return rc;
		if (!v->n_orgs) {
			wb_viewer_free(v);
			wb_log(WB_LOG_INFO,
			       "registry/: the viewer belongs "
			       "to no organization");
			return -ENOENT;
		}
		if (v->n_orgs > 1)
			wb_log(WB_LOG_INFO,
			       "registry/ shows organization %s "
			       "of %zu (choose with --registry-org)",
			       v->orgs[0], v->n_orgs);
		if (v->org_entities[0]) {
			*o = calloc(1, sizeof(**o));
			if (*o) {
				(*o)->name = strdup(v->orgs[0]);
				(*o)->org_entity = strdup(v->org_entities[0]);
			}
			wb_viewer_free(v);
			if (!*o || !(*o)->name || !(*o)->org_entity) {
				wb_org_free(*o);
				*o = NULL;
				return -ENOMEM;
			}
			return 0;
		}
		want = v->orgs[0];
	}
	rc = wb_org_resolve(fs->client, want, o, err);
	wb_viewer_free(v);
	if (!rc && !(*o)->org_entity) {
		wb_log(WB_LOG_WARN,
		       "registry/: the server names no org "
		       "entity for organization %s",
		       (*o)->name);
		wb_org_free(*o);
		*o = NULL;
		rc = -ENOENT;
	}
	return rc;
}

static int fill_org(struct wfs *fs, const char *key, const void *arg,
		    struct wfs_obj **out)
{
	struct wb_error err = { 0 };
	struct wfs_art_org *rec;
	struct wb_org *o;
	double t0 = wfs_fill_now_ms(fs);
	int rc;

	(void)arg;
	rc = org_choose(fs, &o, &err);
	wfs_fill_logged(fs, "Organization", rc ? 0 : 1, t0, rc);
	if (rc && rc != -ENOENT)
		return wfs_fetch_errno(rc, &err, "organization of registry/");
	rec = calloc(1, sizeof(*rec));
	if (!rec) {
		wb_org_free(o);
		return -ENOMEM;
	}
	wfs_obj_init(&rec->obj, sizeof(*rec) + 64, org_free);
	if (o) {
		rec->name = o->name;
		rec->org_entity = o->org_entity;
		free(o);
	}
	/* Chosen once per mount, none included: what registry/ shows does
	 * not move. */
	wfs_fill_store(fs, key, &rec->obj, WFS_CLASS_IMMUTABLE);
	*out = &rec->obj;
	return 0;
}

int wfs_fetch_art_org(struct wfs *fs, struct wfs_art_org **out)
{
	int rc = wfs_fill_cached(fs, "RO", fill_org, NULL,
				 (struct wfs_obj **)out);

	if (!rc && !(*out)->name) {
		wfs_obj_unref(&(*out)->obj);
		*out = NULL;
		rc = -ENOENT;
	}
	return rc;
}
