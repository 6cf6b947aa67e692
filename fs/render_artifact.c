/* render_artifact.c — an artifact version's record (wfs_artifacts.h): the
 * client's version plus its rendered <name>:v<N>.json, the file that shows
 * what the version directory's xattrs show, as one JSON object. Keys, in
 * order: name, entity, project, collection, type, version, aliases, id,
 * digest, size, fileCount, state, createdAt, updatedAt, description,
 * metadata (the dict itself, not its text), producedBy ({entity, project,
 * run} or null), source ({entity, project, collection, version}: the
 * sequence that logged it, which differs for registry links), url.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_json.h"
#include "wb_log.h"
#include "wfs_artifacts.h"

static void version_free(struct wfs_obj *o)
{
	struct wfs_art_version *v = (struct wfs_art_version *)o;

	wfs_obj_unref(v->json ? &v->json->obj : NULL);
	wb_artifact_free(v->a);
	free(v->url);
	free(v);
}

/* The metadata dict; text that is not JSON is shown as that text. */
static cJSON *metadata_item(const struct wb_artifact *a)
{
	struct wb_error err = { 0 };
	cJSON *t = wb_json_parse(a->metadata, strlen(a->metadata), &err);

	if (t)
		return t;
	wb_log(WB_LOG_WARN, "%s/%s/%s:%s: metadata is not JSON (%s)", a->entity,
	       a->project, a->collection, a->version, err.msg);
	return cJSON_CreateString(a->metadata);
}

/* producedBy: {entity, project, run}, or null. */
static cJSON *producer_item(const struct wb_artifact *a, int *rc)
{
	struct wb_jb by;

	*rc = 0;
	if (!a->producer_run)
		return cJSON_CreateNull();
	by = wb_jb_new();
	wb_jb_str(&by, "entity", a->producer_entity);
	wb_jb_str(&by, "project", a->producer_project);
	wb_jb_str(&by, "run", a->producer_run);
	return wb_jb_done(&by, rc);
}

/* source: the sequence that logged the version. */
static cJSON *source_item(const struct wb_artifact *a, int *rc)
{
	struct wb_jb src = wb_jb_new();
	char ver[32];

	snprintf(ver, sizeof(ver), "v%lld", (long long)a->source_version);
	wb_jb_str(&src, "entity", a->source_entity);
	wb_jb_str(&src, "project", a->source_project);
	wb_jb_str(&src, "collection", a->source_collection);
	wb_jb_str(&src, "version", a->source_version >= 0 ? ver : NULL);
	return wb_jb_done(&src, rc);
}

/* The whole object, or NULL (OOM): never one with a key missing. */
static cJSON *version_tree(const struct wb_artifact *a, const char *url)
{
	struct wb_jb o = wb_jb_new();
	char name[1024];
	cJSON *item;
	int rc;

	snprintf(name, sizeof(name), "%s:%s", a->collection, a->version);
	wb_jb_str(&o, "name", name);
	wb_jb_str(&o, "entity", a->entity);
	wb_jb_str(&o, "project", a->project);
	wb_jb_str(&o, "collection", a->collection);
	wb_jb_str(&o, "type", a->type);
	wb_jb_str(&o, "version", a->version);
	wb_jb_strv(&o, "aliases", a->aliases, a->n_aliases);
	wb_jb_str(&o, "id", a->id);
	wb_jb_str(&o, "digest", a->digest);
	wb_jb_int(&o, "size", a->size);
	wb_jb_int(&o, "fileCount", a->file_count);
	wb_jb_str(&o, "state", a->state);
	wb_jb_str(&o, "createdAt", a->created_at);
	wb_jb_str(&o, "updatedAt", a->updated_at);
	wb_jb_str(&o, "description", a->description);
	wb_jb_item(&o, "metadata", metadata_item(a), 0);
	item = producer_item(a, &rc);
	wb_jb_item(&o, "producedBy", item, rc);
	item = source_item(a, &rc);
	wb_jb_item(&o, "source", item, rc);
	wb_jb_str(&o, "url", url);
	return wb_jb_done(&o, &rc);
}

struct wfs_art_version *wfs_render_art_version(struct wb_artifact *a, char *url)
{
	struct wfs_art_version *v = calloc(1, sizeof(*v));
	cJSON *tree;

	if (!v) {
		wb_artifact_free(a);
		free(url);
		return NULL;
	}
	wfs_obj_init(&v->obj, sizeof(*v), version_free);
	v->a = a;
	v->url = url;
	v->ctime = wfs_time_parse(a->created_at, 0);
	tree = version_tree(a, url);
	v->json = tree ? wfs_blob_json(tree, v->ctime, NULL) : NULL;
	cJSON_Delete(tree);
	if (!v->json) {
		wfs_obj_unref(&v->obj);
		return NULL;
	}
	/* The client record is about the size of what it renders to. */
	v->obj.bytes += 2 * v->json->obj.bytes;
	return v;
}
