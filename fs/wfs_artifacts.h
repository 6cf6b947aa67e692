/* wfs_artifacts.h — the metadata plane of artifacts and registries: the
 * records the artifact node types read, fetched through the cache by
 * fetch_artifacts.c and rendered by render_artifact.c.
 *
 * Lifetimes (classes of wfs_cache.h): a version and its manifest never
 * change once committed (IMMUTABLE: kept until the memory bound evicts
 * them); a collection's version list and its aliases move whenever a
 * version is logged or linked (ALIAS: short); the lists of types,
 * collections, registries and a run's artifacts grow (LISTING); the
 * organization shown under registry/ is chosen once per mount.
 *
 * All fetch functions return 0 with a new reference in *out or a negative
 * errno as wfs_fetch.h describes (-ENOENT only for a confirmed absence).
 */
#ifndef WFS_ARTIFACTS_H
#define WFS_ARTIFACTS_H

#include <time.h>

#include "wb_artifacts.h"
#include "wfs.h"
#include "wfs_render.h"

/* ---- records ------------------------------------------------------------ */

/* One version as addressed through one collection (immutable). */
struct wfs_art_version {
	struct wfs_obj obj;
	struct wb_artifact *a;
	char *url;             /* its web page */
	struct wfs_blob *json; /* <name>:v<N>.json */
	time_t ctime;          /* createdAt: also every file's mtime */
};

/* A collection: its versions in version order and its aliases. */
struct wfs_art_alias {
	char *name;      /* latest, best ... (never vN) */
	int64_t version; /* the version index it names */
};

struct wfs_art_coll {
	struct wfs_obj obj;
	size_t n_versions;
	int64_t *versions; /* version indexes, ascending */
	size_t n_aliases;
	struct wfs_art_alias *aliases; /* sorted by name (bytewise) */
	time_t mtime;                  /* newest version's createdAt */
};

/* The alias `name` of c, or NULL. */
const struct wfs_art_alias *wfs_art_coll_alias(const struct wfs_art_coll *c,
					       const char *name);

/* A version's manifest (immutable), checked to make a safe tree
 * (wfs_art_tree.h); a manifest that cannot be shown is kept as its errno,
 * so it is fetched and logged once. */
struct wfs_art_manifest {
	struct wfs_obj obj;
	struct wb_manifest *m; /* NULL when err */
	int err;
};

/* The versions a run logged or used: "<collection>:v<N>" names (sorted)
 * and, parallel, the symlink target of each (relative, into the owning
 * project's artifacts/ tree). */
struct wfs_run_arts {
	struct wfs_obj obj;
	struct wfs_names *names;
	char **targets;
};

/* The organization registry/ shows (none: both NULL, kept as such). */
struct wfs_art_org {
	struct wfs_obj obj;
	char *name;       /* display name */
	char *org_entity; /* the entity owning its registry projects */
};

/* Where the versions of a directory of collections live: a project's
 * artifacts/<type>/ (type set: every version must be of it) or a registry
 * (entity = its org entity, project = wandb-registry-<name>, org = the
 * organization's display name). Strings are owned. */
struct wfs_art_where {
	char *entity, *project, *type, *org;
};
void wfs_art_where_clear(struct wfs_art_where *w);

/* ---- fetching ------------------------------------------------------------ */

/* Artifact types of a project, collections of one type (sorted names). */
int wfs_fetch_art_types(struct wfs *fs, const char *ent, const char *proj,
			struct wfs_names **out);
int wfs_fetch_art_collections(struct wfs *fs, const char *ent, const char *proj,
			      const char *type, struct wfs_names **out);

/* A collection's versions and aliases (also stores each version). */
int wfs_fetch_art_coll(struct wfs *fs, const struct wfs_art_where *w,
		       const char *coll, struct wfs_art_coll **out);

/* Version v<index> of a collection: from the cache, else one request. */
int wfs_fetch_art_version(struct wfs *fs, const struct wfs_art_where *w,
			  const char *coll, int64_t index,
			  struct wfs_art_version **out);

/* The manifest of a version. -EFBIG when it would take more memory than
 * the cache may give one value; -EIO when it cannot be shown as a safe
 * tree (both logged once, naming the version and why). */
int wfs_fetch_art_manifest(struct wfs *fs, const struct wfs_art_version *v,
			   struct wfs_art_manifest **out);

/* What run <ent>/<proj>/<run> logged (used = 0) or used (used = 1). */
int wfs_fetch_run_arts(struct wfs *fs, const char *ent, const char *proj,
		       const char *run, int used, struct wfs_run_arts **out);

/* The organization of registry/ (--registry-org, else the viewer's first;
 * -ENOENT when the viewer has none), its registries and a registry's
 * collections (sorted names, without the wandb-registry- prefix). */
int wfs_fetch_art_org(struct wfs *fs, struct wfs_art_org **out);
int wfs_fetch_registries(struct wfs *fs, struct wfs_names **out);
int wfs_fetch_registry_colls(struct wfs *fs, const char *registry,
			     struct wfs_names **out);

/* ---- rendering (render_artifact.c) --------------------------------------- */

/* A version record: takes ownership of a and url. NULL on OOM (then both
 * are freed). */
struct wfs_art_version *wfs_render_art_version(struct wb_artifact *a,
					       char *url);

#endif
