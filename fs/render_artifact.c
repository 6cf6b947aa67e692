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
	wb_log(WB_LOG_WARN, "%s/%s/%s:%s: metadata is not JSON (%s)",
	       a->entity, a->project, a->collection, a->version, err.msg);
	return cJSON_CreateString(a->metadata);
}

static cJSON *version_tree(const struct wb_artifact *a, const char *url)
{
	cJSON *o = cJSON_CreateObject(), *by, *src;
	char name[1024], ver[32];

	if (!o)
		return NULL;
	snprintf(name, sizeof(name), "%s:%s", a->collection, a->version);
	wfs_json_add_str(o, "name", name);
	wfs_json_add_str(o, "entity", a->entity);
	wfs_json_add_str(o, "project", a->project);
	wfs_json_add_str(o, "collection", a->collection);
	wfs_json_add_str(o, "type", a->type);
	wfs_json_add_str(o, "version", a->version);
	wfs_json_add_strs(o, "aliases", a->aliases, a->n_aliases);
	wfs_json_add_str(o, "id", a->id);
	wfs_json_add_str(o, "digest", a->digest);
	wfs_json_add_int(o, "size", a->size, a->size >= 0);
	wfs_json_add_int(o, "fileCount", a->file_count, a->file_count >= 0);
	wfs_json_add_str(o, "state", a->state);
	wfs_json_add_str(o, "createdAt", a->created_at);
	wfs_json_add_str(o, "updatedAt", a->updated_at);
	wfs_json_add_str(o, "description", a->description);
	cJSON_AddItemToObject(o, "metadata", metadata_item(a));
	if (a->producer_run) {
		by = cJSON_AddObjectToObject(o, "producedBy");
		wfs_json_add_str(by, "entity", a->producer_entity);
		wfs_json_add_str(by, "project", a->producer_project);
		wfs_json_add_str(by, "run", a->producer_run);
	} else {
		cJSON_AddNullToObject(o, "producedBy");
	}
	src = cJSON_AddObjectToObject(o, "source");
	wfs_json_add_str(src, "entity", a->source_entity);
	wfs_json_add_str(src, "project", a->source_project);
	wfs_json_add_str(src, "collection", a->source_collection);
	snprintf(ver, sizeof(ver), "v%lld", (long long)a->source_version);
	wfs_json_add_str(src, "version", a->source_version >= 0 ? ver : NULL);
	wfs_json_add_str(o, "url", url);
	return o;
}

struct wfs_art_version *wfs_render_art_version(struct wb_artifact *a,
					       char *url)
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
