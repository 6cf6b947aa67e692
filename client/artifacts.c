/* artifacts.c — artifact types, collections, versions, the versions a run
 * logged or used, web links, per-file download URLs, wandb-artifact://
 * reference resolution and reading an entry's bytes (doc/api-notes.md,
 * "Artifacts" and "References"). Manifests: manifest.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_artifacts.h"
#include "wb_log.h"
#include "wb_registry.h"

#define TYPES_PER_PAGE 50
#define COLLECTIONS_PER_PAGE 50
#define VERSIONS_PER_PAGE 50
#define RUN_ARTIFACTS_PER_PAGE 100
#define FILE_URLS_PER_PAGE 5000 /* WANDB_ARTIFACT_FETCH_FILE_URL_BATCH_SIZE */
#define REF_HOPS_MAX 4 /* chains are collapsed at upload: 1 hop suffices */

static const char artifact_ref_scheme[] = "wandb-artifact://";

/* ---- types ------------------------------------------------------------ */

void wb_artifact_type_free(struct wb_artifact_type *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->description);
	free(t->created_at);
	free(t);
}

struct list_ctx {
	union {
		wb_artifact_type_cb type;
		wb_artifact_collection_cb col;
		wb_artifact_cb art;
	} cb;
	void *ud;
	const char *what;
	const cJSON *coll; /* versions: this page's collection node */
};

static int type_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct list_ctx *l = ud;
	const cJSON *node = wb_json_get(edge, "node");
	struct wb_artifact_type *t = calloc(1, sizeof(*t));
	int rc = t ? 0 : -ENOMEM;

	if (!rc)
		rc = api_dup_str(node, "id", &t->id);
	if (!rc)
		rc = api_need_str(node, "name", &t->name);
	if (!rc)
		rc = api_dup_str(node, "description", &t->description);
	if (!rc)
		rc = api_dup_str(node, "createdAt", &t->created_at);
	if (rc) {
		wb_artifact_type_free(t);
		return api_item_error(err, rc, l->what);
	}
	return l->cb.type(l->ud, t);
}

static const cJSON *locate_types(const cJSON *data, const char **missing)
{
	return api_path(data, missing, "project", "artifactTypes", NULL);
}

/* Run one listing of `op`; vars are consumed. */
static int list_run(struct wb_client *c, const char *op, cJSON *vars,
		    int per_page,
		    const cJSON *(*locate)(const cJSON *, const char **),
		    int (*edge)(void *, const cJSON *, struct wb_error *),
		    int (*page)(void *, const cJSON *, struct wb_error *),
		    struct list_ctx *l, struct wb_error *err)
{
	struct api_pager p = {
		.op = op,
		.cursor_var = "cursor",
		.size_var = "perPage",
		.per_page = per_page,
		.what = l->what,
		.locate = locate,
		.edge = edge,
		.page = page,
		.ud = l,
	};

	return api_pages(c, &p, vars, err);
}

int wb_artifact_types_list(struct wb_client *c, const char *entity,
			   const char *project, int per_page,
			   wb_artifact_type_cb cb, void *ud,
			   struct wb_error *err)
{
	char what[512];
	struct list_ctx l = { .cb.type = cb, .ud = ud, .what = what };

	snprintf(what, sizeof(what), "%s/%s", entity, project);
	return list_run(c, "ProjectArtifactTypes",
			api_vars("entity", entity, "project", project, NULL),
			per_page > 0 ? per_page : TYPES_PER_PAGE, locate_types,
			type_edge, NULL, &l, err);
}

/* ---- collections ------------------------------------------------------ */

void wb_artifact_collection_free(struct wb_artifact_collection *col)
{
	if (!col)
		return;
	free(col->id);
	free(col->name);
	free(col->type);
	free(col->entity);
	free(col->project);
	free(col->description);
	free(col->created_at);
	free(col->updated_at);
	free(col);
}

/* Entity and project names of a {project {name entity {name}}} owner. */
static int owner_names(const cJSON *owner, char **entity, char **project)
{
	const cJSON *proj = wb_json_get(owner, "project");
	int rc = api_need_str(proj, "name", project);

	if (!rc)
		rc = api_need_str(wb_json_get(proj, "entity"), "name", entity);
	return rc;
}

static int is_portfolio(const cJSON *coll)
{
	const char *t = wb_json_get_str(coll, "__typename");

	return t && strcmp(t, "ArtifactPortfolio") == 0;
}

static int collection_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct list_ctx *l = ud;
	const cJSON *node = wb_json_get(edge, "node");
	struct wb_artifact_collection *col = calloc(1, sizeof(*col));
	int rc = col ? 0 : -ENOMEM;

	if (!rc)
		rc = api_dup_str(node, "id", &col->id);
	if (!rc)
		rc = api_need_str(node, "name", &col->name);
	if (!rc)
		rc = api_dup_str(wb_json_get(node, "defaultArtifactType"),
				 "name", &col->type);
	if (!rc)
		rc = owner_names(node, &col->entity, &col->project);
	if (!rc)
		rc = api_dup_str(node, "description", &col->description);
	if (!rc)
		rc = api_dup_str(node, "createdAt", &col->created_at);
	if (!rc)
		rc = api_dup_str(node, "updatedAt", &col->updated_at);
	if (rc) {
		wb_artifact_collection_free(col);
		return api_item_error(err, rc, l->what);
	}
	col->is_portfolio = is_portfolio(node);
	return l->cb.col(l->ud, col);
}

static const cJSON *locate_type_collections(const cJSON *data,
					    const char **missing)
{
	return api_path(data, missing, "project", "artifactType",
			"artifactCollections", NULL);
}

static const cJSON *locate_project_collections(const cJSON *data,
					       const char **missing)
{
	return api_path(data, missing, "project", "artifactCollections", NULL);
}

int wb_artifact_collections_list(struct wb_client *c, const char *entity,
				 const char *project, const char *type,
				 int per_page, wb_artifact_collection_cb cb,
				 void *ud, struct wb_error *err)
{
	char what[512];
	struct list_ctx l = { .cb.col = cb, .ud = ud, .what = what };

	snprintf(what, sizeof(what), "%s/%s%s%s", entity, project,
		 type ? " type " : "", type ? type : "");
	return list_run(
		c,
		type ? "ArtifactTypeCollections" : "ProjectArtifactCollections",
		api_vars("entity", entity, "project", project, "type", type,
			 NULL),
		per_page > 0 ? per_page : COLLECTIONS_PER_PAGE,
		type ? locate_type_collections : locate_project_collections,
		collection_edge, NULL, &l, err);
}

/* ---- versions --------------------------------------------------------- */

void wb_artifact_free(struct wb_artifact *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->entity);
	free(a->project);
	free(a->collection);
	free(a->version);
	for (size_t i = 0; i < a->n_aliases; i++)
		free(a->aliases[i]);
	free(a->aliases);
	free(a->type);
	free(a->source_entity);
	free(a->source_project);
	free(a->source_collection);
	free(a->state);
	free(a->digest);
	free(a->description);
	free(a->metadata);
	free(a->created_at);
	free(a->updated_at);
	free(a->producer_entity);
	free(a->producer_project);
	free(a->producer_run);
	free(a);
}

/* "v" followed by digits only: a version alias, not a name. */
static int is_version_alias(const char *s)
{
	if (s[0] != 'v' || !s[1])
		return 0;
	for (s++; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Aliases from a list of {alias[, artifactCollectionName]}: only those of
 * `collection` (when the list spans collections), without vN ones; the
 * single vN alias, if any, goes to *version. */
static int take_aliases(struct wb_artifact *a, const cJSON *list,
			const char *collection, char **version)
{
	const cJSON *item;
	size_t n = (size_t)cJSON_GetArraySize(list);

	if (n && !(a->aliases = calloc(n, sizeof(*a->aliases))))
		return -ENOMEM;
	cJSON_ArrayForEach (item, list) {
		const char *alias = wb_json_get_str(item, "alias");
		const char *in =
			wb_json_get_str(item, "artifactCollectionName");

		if (!alias || (collection && in && strcmp(in, collection)))
			continue;
		if (is_version_alias(alias)) {
			if (!*version && !(*version = strdup(alias)))
				return -ENOMEM;
			continue;
		}
		if (!(a->aliases[a->n_aliases] = strdup(alias)))
			return -ENOMEM;
		a->n_aliases++;
	}
	return 0;
}

/* How a version was addressed, besides the artifact node itself. */
struct addressed {
	const cJSON *collection; /* {__typename name project{...}} or NULL:
				    the source sequence */
	const char *version;     /* edge.version, or NULL */
	int64_t index;           /* membership versionIndex, or -1 */
	const cJSON *aliases;    /* alias list */
	int aliases_span;        /* list spans collections: filter by name */
};

/* The run of a createdBy union (a user leaves the three NULL). */
static int producer(struct wb_artifact *a, const cJSON *by)
{
	const char *t = wb_json_get_str(by, "__typename");
	int rc;

	if (!t || strcmp(t, "Run"))
		return 0;
	rc = api_need_str(by, "name", &a->producer_run);
	if (!rc)
		rc = owner_names(by, &a->producer_entity, &a->producer_project);
	return rc;
}

static int artifact_build(const cJSON *node, const struct addressed *how,
			  struct wb_artifact **out)
{
	const cJSON *seq = wb_json_get(node, "artifactSequence");
	const cJSON *coll = how->collection ? how->collection : seq;
	struct wb_artifact *a = calloc(1, sizeof(*a));
	char *vn = NULL;
	int rc = a ? 0 : -ENOMEM;

	*out = NULL;
	if (!rc)
		rc = api_need_str(node, "id", &a->id);
	if (!rc)
		rc = api_need_str(coll, "name", &a->collection);
	if (!rc)
		rc = owner_names(coll, &a->entity, &a->project);
	if (!rc)
		rc = api_need_str(seq, "name", &a->source_collection);
	if (!rc)
		rc = owner_names(seq, &a->source_entity, &a->source_project);
	if (!rc)
		rc = api_dup_str(wb_json_get(node, "artifactType"), "name",
				 &a->type);
	if (!rc)
		rc = api_dup_str(node, "state", &a->state);
	if (!rc)
		rc = api_dup_str(node, "digest", &a->digest);
	if (!rc)
		rc = api_dup_str(node, "description", &a->description);
	if (!rc)
		rc = api_json_text(node, "metadata", &a->metadata);
	if (!rc)
		rc = api_dup_str(node, "createdAt", &a->created_at);
	if (!rc)
		rc = api_dup_str(node, "updatedAt", &a->updated_at);
	if (!rc)
		rc = producer(a, wb_json_get(node, "createdBy"));
	if (!rc)
		rc = take_aliases(a, how->aliases,
				  how->aliases_span ? a->collection : NULL,
				  &vn);
	if (rc) {
		free(vn);
		wb_artifact_free(a);
		return rc;
	}
	a->source_version = api_int64(node, "versionIndex");
	a->size = api_int64(node, "size");
	a->file_count = api_int64(node, "fileCount");
	a->is_link = is_portfolio(coll) ||
		strcmp(a->collection, a->source_collection) ||
		strcmp(a->project, a->source_project) ||
		strcmp(a->entity, a->source_entity);
	/* The version in this collection: edge.version, else the single vN
	 * alias, else the membership's (or, through the sequence, the
	 * artifact's own) versionIndex. */
	if (how->version) {
		a->version = strdup(how->version);
	} else if (vn) {
		a->version = vn;
		vn = NULL;
	} else {
		int64_t idx = how->index >= 0 ? how->index : a->source_version;

		if (idx >= 0 &&
		    asprintf(&a->version, "v%lld", (long long)idx) < 0)
			a->version = NULL;
		else if (idx < 0)
			rc = -EBADMSG;
	}
	free(vn);
	if (!rc && !a->version)
		rc = -ENOMEM;
	if (rc) {
		wb_artifact_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* The collection node of a versions page (the connection's parent). */
static int versions_page(void *ud, const cJSON *data, struct wb_error *err)
{
	struct list_ctx *l = ud;

	(void)err;
	l->coll = api_path(data, NULL, "project", "artifactCollection", NULL);
	return 0;
}

/* CollectionArtifacts: edge.version, and the artifact's aliases across
 * all its collections (filtered to this one). */
static int version_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct list_ctx *l = ud;
	const cJSON *node = wb_json_get(edge, "node");
	struct addressed how = {
		.collection = l->coll,
		.version = wb_json_get_str(edge, "version"),
		.index = -1,
		.aliases = wb_json_get(node, "aliases"),
		.aliases_span = 1,
	};
	struct wb_artifact *a;
	int rc = artifact_build(node, &how, &a);

	if (rc)
		return api_item_error(err, rc, l->what);
	return l->cb.art(l->ud, a);
}

/* A membership node: its own versionIndex and aliases. */
static int membership_build(const cJSON *m, const cJSON *coll,
			    struct wb_artifact **out)
{
	struct addressed how = {
		.collection = coll ? coll
				   : wb_json_get(m, "artifactCollection"),
		.index = api_int64(m, "versionIndex"),
		.aliases = wb_json_get(m, "aliases"),
	};
	const cJSON *art = wb_json_get(m, "artifact");

	*out = NULL;
	if (!cJSON_IsObject(art) || !cJSON_IsObject(how.collection))
		return -EBADMSG;
	return artifact_build(art, &how, out);
}

static int membership_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct list_ctx *l = ud;
	struct wb_artifact *a;
	int rc = membership_build(wb_json_get(edge, "node"), l->coll, &a);

	if (rc)
		return api_item_error(err, rc, l->what);
	return l->cb.art(l->ud, a);
}

static const cJSON *locate_versions(const cJSON *data, const char **missing)
{
	return api_path(data, missing, "project", "artifactCollection",
			"artifacts", NULL);
}

static const cJSON *locate_memberships(const cJSON *data, const char **missing)
{
	return api_path(data, missing, "project", "artifactCollection",
			"artifactMemberships", NULL);
}

static int versions_run(struct wb_client *c, const char *op, const char *entity,
			const char *project, const char *collection,
			int per_page,
			const cJSON *(*locate)(const cJSON *, const char **),
			int (*edge)(void *, const cJSON *, struct wb_error *),
			wb_artifact_cb cb, void *ud, struct wb_error *err)
{
	char what[512];
	struct list_ctx l = { .cb.art = cb, .ud = ud, .what = what };

	snprintf(what, sizeof(what), "%s/%s/%s", entity, project, collection);
	return list_run(c, op,
			api_vars("entity", entity, "project", project,
				 "collection", collection, NULL),
			per_page > 0 ? per_page : VERSIONS_PER_PAGE, locate,
			edge, versions_page, &l, err);
}

int wb_artifact_versions_list(struct wb_client *c, const char *entity,
			      const char *project, const char *collection,
			      int per_page, wb_artifact_cb cb, void *ud,
			      struct wb_error *err)
{
	return versions_run(c, "CollectionArtifacts", entity, project,
			    collection, per_page, locate_versions, version_edge,
			    cb, ud, err);
}

int wb_artifact_memberships_list(struct wb_client *c, const char *entity,
				 const char *project, const char *collection,
				 int per_page, wb_artifact_cb cb, void *ud,
				 struct wb_error *err)
{
	return versions_run(c, "CollectionMemberships", entity, project,
			    collection, per_page, locate_memberships,
			    membership_edge, cb, ud, err);
}

static const cJSON *locate_run_logged(const cJSON *data, const char **missing)
{
	return api_path(data, missing, "project", "run", "outputArtifacts",
			NULL);
}

static const cJSON *locate_run_used(const cJSON *data, const char **missing)
{
	return api_path(data, missing, "project", "run", "inputArtifacts",
			NULL);
}

int wb_run_artifacts_list(struct wb_client *c, const char *entity,
			  const char *project, const char *run,
			  enum wb_run_artifacts which, int per_page,
			  wb_artifact_cb cb, void *ud, struct wb_error *err)
{
	char what[512];
	struct list_ctx l = { .cb.art = cb, .ud = ud, .what = what };
	int used = which == WB_RUN_USED;
	cJSON *vars = api_vars_bool(api_vars("entity", entity, "project",
					     project, "run", run, NULL),
				    "logged", !used);

	snprintf(what, sizeof(what), "%s/%s/%s %s artifacts", entity, project,
		 run, used ? "used" : "logged");
	/* No page hook: each version is addressed through its own source
	 * sequence, its aliases filtered to that sequence. */
	return list_run(c, "RunArtifacts", vars,
			per_page > 0 ? per_page : RUN_ARTIFACTS_PER_PAGE,
			used ? locate_run_used : locate_run_logged,
			version_edge, NULL, &l, err);
}

/* ---- web links -------------------------------------------------------- */

char *wb_artifact_web_url(const struct wb_client *c,
			  const struct wb_artifact *a, const char *org)
{
	static const size_t plen = sizeof(WB_REGISTRY_PREFIX) - 1;
	char *page, *sel = NULL, *sel_q = NULL, *ver_q = NULL, *url = NULL;

	if (!org || strncmp(a->project, WB_REGISTRY_PREFIX, plen) ||
	    !a->project[plen])
		return wb_client_web_url(c, a->entity, a->project, "artifacts",
					 a->type ? a->type : "", a->collection,
					 a->version, NULL);
	page = wb_client_web_url(c, "orgs", org, "registry", a->project + plen,
				 NULL);
	if (page &&
	    asprintf(&sel, "%s/%s/%s", a->entity, a->project, a->collection) >=
		    0) {
		sel_q = api_url_quote(sel);
		ver_q = api_url_quote(a->version);
		if (sel_q && ver_q &&
		    asprintf(&url,
			     "%s?selectionPath=%s&view=membership"
			     "&version=%s",
			     page, sel_q, ver_q) < 0)
			url = NULL;
	} else {
		sel = NULL;
	}
	free(page);
	free(sel);
	free(sel_q);
	free(ver_q);
	return url;
}

/* ---- one version ------------------------------------------------------ */

/* Finish a single-object lookup: membership node -> *out. */
static int membership_result(const cJSON *m, const char *what,
			     struct wb_artifact **out, struct wb_error *err)
{
	int rc;

	if (!cJSON_IsObject(m))
		return wb_error_set(err, -ENOENT, 0,
				    "%s: no such artifact "
				    "version",
				    what);
	rc = membership_build(m, NULL, out);
	return rc ? api_item_error(err, rc, what) : 0;
}

int wb_artifact_get(struct wb_client *c, const char *entity,
		    const char *project, const char *name_alias,
		    struct wb_artifact **out, struct wb_error *err)
{
	const char *colon = strchr(name_alias, ':');
	char *collection, what[512], *full = NULL;
	const char *alias = colon ? colon + 1 : "latest";
	const char *missing = "project";
	cJSON *data = NULL;
	int rc;

	*out = NULL;
	snprintf(what, sizeof(what), "%s/%s/%s", entity, project, name_alias);
	collection = colon ? strndup(name_alias, (size_t)(colon - name_alias))
			   : strdup(name_alias);
	if (!collection)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	if (!*collection || !*alias) {
		free(collection);
		return wb_error_set(err, -EINVAL, 0,
				    "%s: expected "
				    "COLLECTION:ALIAS",
				    what);
	}
	/* Always send an explicit alias: a bare name means :latest. */
	if (asprintf(&full, "%s:%s", collection, alias) < 0)
		full = NULL;
	rc = full ? api_gql(c, "ArtifactMembershipByName",
			    api_vars("entity", entity, "project", project,
				     "name", full, NULL),
			    &data, err)
		  : wb_error_set(err, -ENOMEM, 0, "out of memory");
	if (!rc) {
		const cJSON *proj = api_path(data, &missing, "project", NULL);

		rc = proj ? membership_result(
				    wb_json_get(proj,
						"artifactCollectionMembership"),
				    what, out, err)
			  : wb_error_set(err, -ENOENT, 0,
					 "%s: project not "
					 "found (absent or not visible)",
					 what);
	} else if (rc == -EINVAL) {
		/* Before artifactCollectionMembership (server < 0.67): the
		 * base schema's membership of the named collection. */
		wb_log(WB_LOG_INFO,
		       "%s: membership by name not supported "
		       "(%s); asking the collection",
		       what, err ? err->msg : "");
		rc = api_gql(c, "CollectionMembershipByAlias",
			     api_vars("entity", entity, "project", project,
				      "collection", collection, "alias", alias,
				      NULL),
			     &data, err);
		if (!rc) {
			const cJSON *coll = api_path(data, &missing, "project",
						     "artifactCollection",
						     NULL);

			rc = coll ? membership_result(
					    wb_json_get(coll,
							"artifactMembership"),
					    what, out, err)
				  : wb_error_set(err, -ENOENT, 0,
						 "%s: %s not "
						 "found (absent or not "
						 "visible)",
						 what, missing);
		}
	}
	cJSON_Delete(data);
	free(collection);
	free(full);
	return rc;
}

int wb_artifact_get_by_id(struct wb_client *c, const char *id,
			  struct wb_artifact **out, struct wb_error *err)
{
	cJSON *data = NULL;
	const cJSON *node;
	int rc;

	*out = NULL;
	rc = api_gql(c, "ArtifactByID", api_vars("id", id, NULL), &data, err);
	if (rc)
		return rc;
	node = wb_json_get(data, "artifact");
	if (!cJSON_IsObject(node)) {
		rc = wb_error_set(err, -ENOENT, 0, "no artifact with id %s",
				  id);
	} else {
		struct addressed how = {
			.index = -1,
			.aliases = wb_json_get(node, "aliases"),
			.aliases_span = 1,
		};

		rc = artifact_build(node, &how, out);
		if (rc)
			rc = api_item_error(err, rc, id);
	}
	cJSON_Delete(data);
	return rc;
}

/* ---- file URLs -------------------------------------------------------- */

struct urls_ctx {
	wb_file_url_cb cb;
	void *ud;
	const char *what;
	size_t delivered;
};

static int url_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct urls_ctx *u = ud;
	const cJSON *node = wb_json_get(edge, "node");
	const char *name = wb_json_get_str(node, "name");
	const char *url = wb_json_get_str(node, "directUrl");
	int rc;

	if (!name || !url || !*url)
		return wb_error_set(err, -EBADMSG, 0,
				    "%s: file without a "
				    "name or URL",
				    u->what);
	rc = u->cb(u->ud, name, url);
	if (!rc)
		u->delivered++;
	return rc;
}

static const cJSON *locate_membership_files(const cJSON *data,
					    const char **missing)
{
	return api_path(data, missing, "project", "artifactCollection",
			"artifactMembership", "files", NULL);
}

static const cJSON *locate_artifact_files(const cJSON *data,
					  const char **missing)
{
	return api_path(data, missing, "artifact", "files", NULL);
}

/* vars plus, unless names is NULL, $fileNames (a copy of names); vars is
 * consumed, NULL on OOM. */
static cJSON *file_vars(cJSON *vars, const cJSON *names)
{
	if (vars && names &&
	    !cJSON_AddItemToObject(vars, "fileNames",
				   cJSON_Duplicate(names, 1))) {
		cJSON_Delete(vars);
		vars = NULL;
	}
	return vars;
}

/* File URLs of version a: the membership's files, else the
 * base schema's artifact(id).files. names: a JSON array of paths to ask
 * for, or NULL for all. */
static int file_urls(struct wb_client *c, const struct wb_artifact *a,
		     const cJSON *names, int per_page, struct urls_ctx *u,
		     struct wb_error *err)
{
	char what[512];
	struct api_pager p = {
		.op = "ArtifactMembershipFileUrls",
		.cursor_var = "cursor",
		.size_var = "perPage",
		.per_page = per_page,
		.what = what,
		.locate = locate_membership_files,
		.edge = url_edge,
		.ud = u,
	};
	cJSON *vars = api_vars("entity", a->entity, "project", a->project,
			       "collection", a->collection, "alias", a->version,
			       NULL);
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s:%s", a->entity, a->project,
		 a->collection, a->version);
	u->what = what;
	rc = api_pages(c, &p, file_vars(vars, names), err);
	if (rc != -EINVAL || u->delivered)
		return rc;
	wb_log(WB_LOG_INFO,
	       "%s: membership files not supported (%s); "
	       "asking artifact(id).files",
	       what, err ? err->msg : "");
	p.op = "ArtifactFileUrls";
	p.locate = locate_artifact_files;
	return api_pages(c, &p, file_vars(api_vars("id", a->id, NULL), names),
			 err);
}

int wb_artifact_file_urls(struct wb_client *c, const struct wb_artifact *a,
			  int per_page, wb_file_url_cb cb, void *ud,
			  struct wb_error *err)
{
	struct urls_ctx u = { cb, ud, NULL, 0 };

	return file_urls(c, a, NULL,
			 per_page > 0 ? per_page : FILE_URLS_PER_PAGE, &u, err);
}

int wb_artifact_file_urls_of(struct wb_client *c, const struct wb_artifact *a,
			     const char *const *paths, size_t n,
			     wb_file_url_cb cb, void *ud, struct wb_error *err)
{
	struct urls_ctx u = { cb, ud, NULL, 0 };
	cJSON *names;
	int rc;

	if (n == 0)
		return 0;
	if (n > FILE_URLS_PER_PAGE)
		return wb_error_set(err, -EINVAL, 0,
				    "%zu file names in one "
				    "request (at most %d)",
				    n, FILE_URLS_PER_PAGE);
	names = cJSON_CreateArray();
	for (size_t i = 0; names && i < n; i++) {
		cJSON *name = cJSON_CreateString(paths[i]);

		if (!cJSON_AddItemToArray(names, name)) {
			cJSON_Delete(name);
			cJSON_Delete(names);
			names = NULL;
		}
	}
	if (!names)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	rc = file_urls(c, a, names, (int)n, &u, err);
	cJSON_Delete(names);
	return rc;
}

struct one_url {
	const char *path;
	char *url;
};

static int one_url_cb(void *ud, const char *path, const char *url)
{
	struct one_url *o = ud;

	/* Servers may match names loosely: only the exact path counts. */
	if (o->url || strcmp(path, o->path))
		return 0;
	o->url = strdup(url);
	return o->url ? 0 : -ENOMEM;
}

int wb_artifact_file_url(struct wb_client *c, const struct wb_artifact *a,
			 const struct wb_manifest *m, const char *path,
			 char **url, struct wb_error *err)
{
	struct one_url o = { path, NULL };
	struct urls_ctx u = { one_url_cb, &o, NULL, 0 };
	const struct wb_manifest_entry *e = wb_manifest_find(m, path);
	cJSON *names = cJSON_CreateArray();
	int rc;

	*url = NULL;
	if (!names || !cJSON_AddItemToArray(names, cJSON_CreateString(path))) {
		cJSON_Delete(names);
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	rc = file_urls(c, a, names, 1, &u, err);
	cJSON_Delete(names);
	if (rc == -ENOMEM)
		return wb_error_set(err, rc, 0, "out of memory");
	if (!rc && o.url) {
		*url = o.url;
		return 0;
	}
	/* No URL route on this server, or no file listed although the
	 * manifest has it: the URL built from the manifest entry. */
	if ((rc == 0 || rc == -EINVAL) && e && !e->ref) {
		rc = wb_artifact_storage_url(wb_client_base_url(c), m->layout,
					     m->region, a->entity, a->project,
					     a->collection, e, url);
		if (rc == -ENOMEM)
			return wb_error_set(err, rc, 0, "out of memory");
		if (!rc) {
			wb_error_clear(err);
			return 0;
		}
		return wb_error_set(err, rc, 0,
				    "%s: digest of %s is not a "
				    "base64 MD5",
				    a->id, path);
	}
	if (!rc)
		rc = wb_error_set(err, -ENOENT, 0, "%s/%s/%s:%s: no file %s",
				  a->entity, a->project, a->collection,
				  a->version, path);
	return rc;
}

/* ---- references ------------------------------------------------------- */

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The artifact ID (base64 of the decoded bytes) for the n hex digits of
 * "wandb-artifact://<hex>/...". 0, -EINVAL (not hex) or -ENOMEM. */
static int id_from_hex(const char *hex, size_t n, char **id)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t nb = n / 2, o = 0;
	unsigned char *raw;
	char *out;

	*id = NULL;
	if (n == 0 || n % 2)
		return -EINVAL;
	raw = malloc(nb);
	out = malloc(4 * ((nb + 2) / 3) + 1);
	if (!raw || !out) {
		free(raw);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nb; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(raw);
			free(out);
			return -EINVAL;
		}
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	for (size_t i = 0; i < nb; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16;

		if (i + 1 < nb)
			v |= (uint32_t)raw[i + 1] << 8;
		if (i + 2 < nb)
			v |= raw[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < nb ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < nb ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	free(raw);
	*id = out;
	return 0;
}

int wb_artifact_resolve_ref(struct wb_client *c,
			    const struct wb_manifest_entry *e,
			    struct wb_artifact **ta, struct wb_manifest **tm,
			    const struct wb_manifest_entry **te,
			    struct wb_error *err)
{
	const size_t sl = sizeof(artifact_ref_scheme) - 1;
	const char *hex, *slash;
	char *id = NULL;
	int rc;

	*ta = NULL;
	*tm = NULL;
	*te = NULL;
	if (!e->ref)
		return wb_error_set(err, -EINVAL, 0, "%s is not a reference",
				    e->path);
	if (strncmp(e->ref, artifact_ref_scheme, sl) != 0)
		return wb_error_set(err, -EOPNOTSUPP, 0,
				    "%s is a reference to %.200s: reading "
				    "external storage (s3, gs, azure, http) "
				    "is not supported",
				    e->path, e->ref);
	hex = e->ref + sl;
	slash = strchr(hex, '/');
	rc = slash && slash[1] ? id_from_hex(hex, (size_t)(slash - hex), &id)
			       : -EINVAL;
	if (rc == -ENOMEM)
		rc = wb_error_set(err, rc, 0, "out of memory");
	else if (rc)
		rc = wb_error_set(err, rc, 0, "%s: malformed reference %.200s",
				  e->path, e->ref);
	else
		rc = wb_artifact_get_by_id(c, id, ta, err);
	if (!rc)
		rc = wb_manifest_fetch(c, id, tm, err);
	if (!rc && !(*te = wb_manifest_find(*tm, slash + 1)))
		rc = wb_error_set(err, -ENOENT, 0,
				  "%s: the referenced "
				  "artifact %s has no entry %.200s",
				  e->path, id, slash + 1);
	if (rc) {
		wb_artifact_free(*ta);
		wb_manifest_free(*tm);
		*ta = NULL;
		*tm = NULL;
		*te = NULL;
	}
	free(id);
	return rc;
}

/* ---- bytes ------------------------------------------------------------ */

struct entry_ref {
	struct wb_client *c;
	const struct wb_artifact *a;
	const struct wb_manifest *m;
	const char *path;
};

static int entry_refresh(void *ud, char **url, struct wb_error *err)
{
	const struct entry_ref *r = ud;

	return wb_artifact_file_url(r->c, r->a, r->m, r->path, url, err);
}

/* Bytes [start, end] of the entry at path to sink, following
 * wandb-artifact:// references (at most REF_HOPS_MAX of them). */
static int entry_stream(struct wb_client *c, const struct wb_artifact *a,
			const struct wb_manifest *m, const char *path,
			const char *url, int64_t start, int64_t end,
			const struct wb_http_sink *sink, int hops,
			struct wb_error *err)
{
	const struct wb_manifest_entry *e = wb_manifest_find(m, path);
	struct entry_ref r = { c, a, m, path };
	struct wb_download_src src = {
		.url = url,
		.refresh = entry_refresh,
		.refresh_ud = &r,
		.label = path,
	};

	if (!e)
		return wb_error_set(err, -ENOENT, 0,
				    "%s/%s/%s:%s has no file "
				    "%s",
				    a->entity, a->project, a->collection,
				    a->version, path);
	if (e->ref) {
		const struct wb_manifest_entry *te;
		struct wb_artifact *ta;
		struct wb_manifest *tm;
		int rc;

		if (hops >= REF_HOPS_MAX)
			return wb_error_set(err, -ELOOP, 0,
					    "%s: too many "
					    "artifact references",
					    path);
		rc = wb_artifact_resolve_ref(c, e, &ta, &tm, &te, err);
		if (!rc)
			rc = entry_stream(c, ta, tm, te->path, NULL, start, end,
					  sink, hops + 1, err);
		wb_artifact_free(ta);
		wb_manifest_free(tm);
		return rc;
	}
	return wb_download_stream(c, &src, start, end, sink, err);
}

int wb_artifact_file_stream(struct wb_client *c, const struct wb_artifact *a,
			    const struct wb_manifest *m, const char *path,
			    const char *url, int64_t start, int64_t end,
			    const struct wb_http_sink *sink,
			    struct wb_error *err)
{
	return entry_stream(c, a, m, path, url, start, end, sink, 0, err);
}
