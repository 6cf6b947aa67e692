/* node_artifacts.c — the directories of collections and what they hold:
 *   <project>/artifacts/              one directory per artifact type
 *   artifacts/<type>/ and registry/<registry>/   for each collection:
 *     <name>:v<N>/        a version directory (node_artifact_tree.c),
 *                         in version order
 *     <name>:v<N>.json    the version's metadata (read-only JSON)
 *     <name>:<alias>      a symlink to <name>:v<N> for every other alias
 * A version never changes (its directory and JSON file are cached without
 * expiry); a collection's versions and aliases move, so they and the alias
 * symlinks live for the short ALIAS lifetime.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_registry.h"
#include "wfs_fetch.h"
#include "wfs_node_art.h"

/* ---- where a directory of collections keeps its versions ---------------- */

int wfs_art_where_of(struct wfs *fs, const struct wfs_node *dir,
		     struct wfs_art_where *w)
{
	struct wfs_art_org *org;
	int rc;

	memset(w, 0, sizeof(*w));
	if (dir->type == &wfs_type_art_type) {
		w->entity = strdup(wfs_node_up(dir, 3)->name);
		w->project = strdup(wfs_node_up(dir, 2)->name);
		w->type = strdup(dir->name);
		rc = w->entity && w->project && w->type ? 0 : -ENOMEM;
	} else {
		rc = wfs_fetch_art_org(fs, &org);
		if (rc)
			return rc;
		w->entity = strdup(org->org_entity);
		w->org = strdup(org->name);
		if (asprintf(&w->project, "%s%s", WB_REGISTRY_PREFIX,
			     dir->name) < 0)
			w->project = NULL;
		wfs_obj_unref(&org->obj);
		rc = w->entity && w->org && w->project ? 0 : -ENOMEM;
	}
	if (rc)
		wfs_art_where_clear(w);
	return rc;
}

/* The collections of a directory of collections. */
static int colls_of(struct wfs *fs, const struct wfs_node *dir,
		    const struct wfs_art_where *w, struct wfs_names **out)
{
	if (dir->type == &wfs_type_art_type)
		return wfs_fetch_art_collections(fs, w->entity, w->project,
						 w->type, out);
	return wfs_fetch_registry_colls(fs, dir->name, out);
}

/* ---- names: <coll>:v<N>, <coll>:v<N>.json, <coll>:<alias> ------------ */

enum name_kind {
	NAME_VERSION,
	NAME_JSON,
	NAME_ALIAS
};

struct parsed {
	char *coll;       /* malloc'd */
	const char *rest; /* after the first ':' */
	enum name_kind kind;
	int64_t index; /* NAME_VERSION, NAME_JSON */
};

/* "v<digits>" (no leading zero) of len bytes to its index, else -1. */
static int64_t vn(const char *s, size_t len)
{
	int64_t v = 0;

	if (len < 2 || s[0] != 'v' || (s[1] == '0' && len > 2))
		return -1;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parse_name(const char *name, struct parsed *p)
{
	const char *colon = strchr(name, ':');
	size_t len;

	memset(p, 0, sizeof(*p));
	if (!colon || colon == name || !colon[1])
		return -ENOENT;
	p->rest = colon + 1;
	len = strlen(p->rest);
	p->index = vn(p->rest, len);
	p->kind = NAME_VERSION;
	if (p->index < 0 && len > 5 &&
	    strcmp(p->rest + len - 5, ".json") == 0) {
		p->index = vn(p->rest, len - 5);
		p->kind = NAME_JSON;
	}
	if (p->index < 0)
		p->kind = NAME_ALIAS;
	p->coll = strndup(name, (size_t)(colon - name));
	return p->coll ? 0 : -ENOMEM;
}

/* The version index of a version directory or JSON file node's name. */
static int64_t node_index(const struct wfs_node *node, char **coll)
{
	struct parsed p;

	*coll = NULL;
	if (parse_name(node->name, &p))
		return -1;
	*coll = p.coll;
	return p.kind == NAME_ALIAS ? -1 : p.index;
}

int wfs_art_version_of(struct wfs *fs, const struct wfs_node *node,
		       struct wfs_art_version **out)
{
	struct wfs_art_where w;
	char *coll;
	int64_t index = node_index(node, &coll);
	int rc;

	*out = NULL;
	if (index < 0) {
		free(coll);
		return coll ? -EIO : -ENOMEM;
	}
	rc = wfs_art_where_of(fs, node->parent, &w);
	if (!rc)
		rc = wfs_fetch_art_version(fs, &w, coll, index, out);
	wfs_art_where_clear(&w);
	free(coll);
	return rc;
}

/* ---- the directory of collections --------------------------------------- */

static int colls_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
			const struct wfs_node_type **type)
{
	struct wfs_art_version *v = NULL;
	struct wfs_art_coll *c = NULL;
	struct wfs_names *colls = NULL;
	struct wfs_art_where w;
	struct parsed p;
	int rc;

	rc = parse_name(name, &p);
	if (rc)
		return rc;
	rc = wfs_art_where_of(fs, dir, &w);
	if (!rc)
		rc = colls_of(fs, dir, &w, &colls);
	if (!rc && wfs_names_find(colls, p.coll) < 0)
		rc = -ENOENT;
	if (!rc && p.kind != NAME_ALIAS) {
		rc = wfs_fetch_art_version(fs, &w, p.coll, p.index, &v);
		*type = p.kind == NAME_VERSION ? &wfs_type_art_version
					       : &wfs_type_art_json;
	} else if (!rc) {
		rc = wfs_fetch_art_coll(fs, &w, p.coll, &c);
		if (!rc && !wfs_art_coll_alias(c, p.rest))
			rc = -ENOENT;
		*type = &wfs_type_art_alias;
	}
	wfs_obj_unref(v ? &v->obj : NULL);
	wfs_obj_unref(c ? &c->obj : NULL);
	wfs_obj_unref(colls ? &colls->obj : NULL);
	wfs_art_where_clear(&w);
	free(p.coll);
	return rc;
}

/* The collections of one listing, fetched in parallel. */
struct colls_job {
	struct wfs *fs;
	const struct wfs_art_where *w;
	const struct wfs_names *names;
	struct wfs_art_coll **colls;
};

static int colls_job(void *ud, size_t i)
{
	struct colls_job *j = ud;

	return wfs_fetch_art_coll(j->fs, j->w, j->names->v[i], &j->colls[i]);
}

/* Add "<name>:<rest>" unless it is longer than a name can be. */
static int add_entry(struct wfs_dirents *out, const char *name,
		     const char *rest, const struct wfs_node_type *type)
{
	char buf[NAME_MAX + 1];

	if ((size_t)snprintf(buf, sizeof(buf), "%s:%s", name, rest) >=
	    sizeof(buf))
		return 0;
	return wfs_dirents_add(out, buf, type);
}

static int add_coll(struct wfs_dirents *out, const char *name,
		    const struct wfs_art_coll *c)
{
	char v[32];
	int rc = 0;

	for (size_t i = 0; !rc && i < c->n_versions; i++) {
		snprintf(v, sizeof(v), "v%lld", (long long)c->versions[i]);
		rc = add_entry(out, name, v, &wfs_type_art_version);
		snprintf(v, sizeof(v), "v%lld.json", (long long)c->versions[i]);
		if (!rc)
			rc = add_entry(out, name, v, &wfs_type_art_json);
	}
	for (size_t i = 0; !rc && i < c->n_aliases; i++)
		rc = add_entry(out, name, c->aliases[i].name,
			       &wfs_type_art_alias);
	return rc;
}

static int colls_list(struct wfs *fs, struct wfs_node *dir,
		      struct wfs_dirents *out)
{
	struct colls_job j = { .fs = fs };
	struct wfs_names *names = NULL;
	struct wfs_art_where w;
	int rc;

	rc = wfs_art_where_of(fs, dir, &w);
	if (!rc)
		rc = colls_of(fs, dir, &w, &names);
	if (!rc && names->n) {
		j.w = &w;
		j.names = names;
		j.colls = calloc(names->n, sizeof(*j.colls));
		rc = j.colls ? wb_client_parallel(fs->client, names->n,
						  colls_job, &j)
			     : -ENOMEM;
		for (size_t i = 0; !rc && i < names->n; i++)
			rc = add_coll(out, names->v[i], j.colls[i]);
		for (size_t i = 0; j.colls && i < names->n; i++)
			wfs_obj_unref(j.colls[i] ? &j.colls[i]->obj : NULL);
		free(j.colls);
	}
	wfs_obj_unref(names ? &names->obj : NULL);
	wfs_art_where_clear(&w);
	return rc;
}

static int type_stat(struct wfs *fs, struct wfs_node *dir, struct wfs_stat *st)
{
	return wfs_project_dir_stat(fs, wfs_node_up(dir, 2), st);
}

const struct wfs_node_type wfs_type_art_type = {
	.name = "artifact type",
	.is_dir = 1,
	.lookup = colls_lookup,
	.list = colls_list,
	.stat = type_stat,
};

static int registry_stat(struct wfs *fs, struct wfs_node *dir,
			 struct wfs_stat *st)
{
	(void)dir;
	return wfs_stat_mount_time(fs, st);
}

const struct wfs_node_type wfs_type_registry = {
	.name = "registry",
	.is_dir = 1,
	.lookup = colls_lookup,
	.list = colls_list,
	.stat = registry_stat,
};

/* ---- <project>/artifacts/ ----------------------------------------------- */

static int artifacts_lookup(struct wfs *fs, struct wfs_node *dir,
			    const char *name, const struct wfs_node_type **type)
{
	struct wfs_names *types;
	int rc = wfs_fetch_art_types(fs, wfs_node_up(dir, 2)->name,
				     wfs_node_up(dir, 1)->name, &types);

	*type = &wfs_type_art_type;
	return wfs_names_lookup(rc, types, name);
}

static int artifacts_list(struct wfs *fs, struct wfs_node *dir,
			  struct wfs_dirents *out)
{
	struct wfs_names *types;
	int rc = wfs_fetch_art_types(fs, wfs_node_up(dir, 2)->name,
				     wfs_node_up(dir, 1)->name, &types);

	return wfs_names_list(rc, types, &wfs_type_art_type, out);
}

static int artifacts_stat(struct wfs *fs, struct wfs_node *dir,
			  struct wfs_stat *st)
{
	return wfs_project_dir_stat(fs, wfs_node_up(dir, 1), st);
}

const struct wfs_node_type wfs_type_artifacts = {
	.name = "artifacts",
	.is_dir = 1,
	.lookup = artifacts_lookup,
	.list = artifacts_list,
	.stat = artifacts_stat,
};

/* ---- <name>:v<N>.json --------------------------------------------------- */

static int json_content(struct wfs *fs, struct wfs_node *file,
			struct wfs_blob **blob, double *ttl)
{
	struct wfs_art_version *v;
	int rc = wfs_art_version_of(fs, file, &v);

	if (rc)
		return rc;
	*blob = wfs_obj_ref(&v->json->obj);
	*ttl = wfs_cache_ttl(fs->cache, WFS_CLASS_IMMUTABLE);
	wfs_obj_unref(&v->obj);
	return 0;
}

const struct wfs_node_type wfs_type_art_json = {
	.name = "version json",
	.content = json_content,
};

/* ---- <name>:<alias> -> <name>:v<N> -------------------------------------- */

/* The target of an alias symlink; its times are the collection's. */
static int alias_readlink(struct wfs *fs, struct wfs_node *link, char **target,
			  struct wfs_stat *st)
{
	const struct wfs_art_alias *al = NULL;
	struct wfs_art_coll *c = NULL;
	struct wfs_art_where w;
	struct parsed p;
	int rc;

	*target = NULL;
	rc = parse_name(link->name, &p);
	if (!rc)
		rc = wfs_art_where_of(fs, link->parent, &w);
	if (rc) {
		free(p.coll);
		return rc;
	}
	rc = wfs_fetch_art_coll(fs, &w, p.coll, &c);
	if (!rc)
		al = wfs_art_coll_alias(c, p.rest);
	if (!rc && !al)
		rc = -ENOENT; /* the alias went away */
	if (!rc &&
	    asprintf(target, "%s:v%lld", p.coll, (long long)al->version) < 0) {
		*target = NULL;
		rc = -ENOMEM;
	}
	if (!rc) {
		st->mtime = c->mtime;
		st->ttl = wfs_cache_ttl(fs->cache, WFS_CLASS_ALIAS);
	}
	wfs_obj_unref(c ? &c->obj : NULL);
	wfs_art_where_clear(&w);
	free(p.coll);
	return rc;
}

const struct wfs_node_type wfs_type_art_alias = {
	.name = "alias",
	.readlink = alias_readlink,
};
