/* render.c — client results to served bytes (wfs_render.h): blobs, name
 * listings, project records (project.json), light run records (metadata.json
 * from the light fields) and a run's heavy files (config.json via
 * wb_config_unwrap, summary.json as the server sent it). */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "wb_json.h"
#include "wb_log.h"
#include "wfs_render.h"
#include "wb_strmap.h"

/* Longest name we accept from the server as a directory entry (NAME_MAX). */
#define NAME_BYTES_MAX 255

static atomic_uint_fast64_t blob_versions = 1;

/* ---- blobs --------------------------------------------------------------- */

static void blob_free(struct wfs_obj *o)
{
	free(o);
}

struct wfs_blob *wfs_blob_new(const char *data, size_t len, time_t mtime)
{
	struct wfs_blob *b = malloc(sizeof(*b) + len + 1);

	if (!b)
		return NULL;
	wfs_obj_init(&b->obj, sizeof(*b) + len + 1, blob_free);
	b->version = atomic_fetch_add(&blob_versions, 1);
	b->mtime = mtime;
	b->len = len;
	memcpy(b->data, data, len);
	b->data[len] = '\0';
	return b;
}

struct wfs_blob *wfs_blob_json(const cJSON *tree, time_t mtime,
			       const struct wfs_blob *prev)
{
	struct wfs_blob *b;
	size_t len = 0;
	char *text = wb_json_print(tree, WB_JSON_PRETTY, &len);

	if (!text)
		return NULL;
	if (prev && prev->len == len + 1 && prev->data[len] == '\n' &&
	    memcmp(prev->data, text, len) == 0) {
		free(text);
		return wfs_obj_ref((struct wfs_obj *)&prev->obj);
	}
	b = malloc(sizeof(*b) + len + 2);
	if (b) {
		wfs_obj_init(&b->obj, sizeof(*b) + len + 2, blob_free);
		b->version = atomic_fetch_add(&blob_versions, 1);
		/* Bytes changed but the server's clock did not move (an edit
		 * without a heartbeat): a newer mtime tells the kernel to drop
		 * its cached pages (FUSE_CAP_AUTO_INVAL_DATA). */
		if (prev && mtime <= prev->mtime)
			mtime = time(NULL) > prev->mtime ? time(NULL)
							 : prev->mtime + 1;
		b->mtime = mtime;
		b->len = len + 1;
		memcpy(b->data, text, len);
		b->data[len] = '\n';
		b->data[len + 1] = '\0';
	}
	free(text);
	return b;
}

/* ---- time ---------------------------------------------------------------- */

time_t wfs_time_parse(const char *iso, time_t dflt)
{
	struct tm tm = { 0 };
	const char *p;
	time_t t;

	if (!iso)
		return dflt;
	p = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return dflt;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return dflt;
	if ((*p == '+' || *p == '-') && strlen(p) >= 6 && p[3] == ':') {
		int hh = atoi(p + 1), mm = atoi(p + 4);
		long off = (long)hh * 3600 + (long)mm * 60;

		t -= *p == '+' ? off : -off;
	} else if (*p && strcmp(p, "Z") != 0) {
		return dflt;
	}
	return t;
}

/* ---- names --------------------------------------------------------------- */

static void names_free(struct wfs_obj *o)
{
	struct wfs_names *l = (struct wfs_names *)o;

	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	wb_strmap_clear(l->index);
	free(l->index);
	free(l);
}

struct wfs_names *wfs_names_new(void)
{
	struct wfs_names *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->index = calloc(1, sizeof(struct wb_strmap));
	if (!l->index) {
		free(l);
		return NULL;
	}
	wb_strmap_init(l->index);
	wfs_obj_init(&l->obj, sizeof(*l), names_free);
	return l;
}

int wfs_names_add(struct wfs_names *l, const char *name)
{
	size_t len = strlen(name);
	char *copy;

	if (wb_strmap_get(l->index, name))
		return 0;
	if (l->n % 64 == 0) {
		char **v = realloc(l->v, (l->n + 64) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	/* Positions are stored +1 so that a hit is never NULL. */
	if (wb_strmap_put(l->index, copy, (void *)(uintptr_t)(l->n + 1),
			  NULL)) {
		free(copy);
		return -ENOMEM;
	}
	l->v[l->n++] = copy;
	/* Charge the string, the pointer, and roughly two hash slots. */
	l->obj.bytes +=
		len + 1 + sizeof(char *) + 2 * sizeof(struct wb_strmap_slot);
	return 0;
}

long wfs_names_find(const struct wfs_names *l, const char *name)
{
	uintptr_t pos = (uintptr_t)wb_strmap_get(l->index, name);

	return pos ? (long)pos - 1 : -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void wfs_names_sort(struct wfs_names *l)
{
	if (l->n < 2)
		return; /* (and l->v may be NULL) */
	qsort(l->v, l->n, sizeof(*l->v), cmp_names);
	for (size_t i = 0; i < l->n; i++)
		wb_strmap_put(l->index, l->v[i], (void *)(uintptr_t)(i + 1),
			      NULL); /* replaces: cannot fail */
}

int wfs_name_usable(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len > 0 && len <= NAME_BYTES_MAX && !strchr(name, '/') &&
		strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* ---- projects ------------------------------------------------------------ */

static void project_free(struct wfs_obj *o)
{
	struct wfs_project_rec *p = (struct wfs_project_rec *)o;

	wfs_obj_unref(&p->json->obj);
	free(p);
}

struct wfs_project_rec *wfs_render_project(const struct wb_project *p,
					   const struct wfs_project_rec *prev)
{
	struct wfs_project_rec *rec;
	cJSON *o;

	if (wb_project_json(p, &o))
		return NULL;
	rec = calloc(1, sizeof(*rec));
	if (!rec) {
		cJSON_Delete(o);
		return NULL;
	}
	rec->ctime = wfs_time_parse(p->created_at, 0);
	rec->mtime = wfs_time_parse(p->updated_at, rec->ctime);
	rec->json = wfs_blob_json(o, rec->mtime, prev ? prev->json : NULL);
	cJSON_Delete(o);
	if (!rec->json) {
		free(rec);
		return NULL;
	}
	wfs_obj_init(&rec->obj, sizeof(*rec) + rec->json->obj.bytes,
		     project_free);
	return rec;
}

/* ---- runs ---------------------------------------------------------------- */

static void run_free(struct wfs_obj *o)
{
	struct wfs_run_rec *r = (struct wfs_run_rec *)o;
	struct wfs_blob *meta = atomic_load(&r->metadata);

	wfs_obj_unref(meta ? &meta->obj : NULL);
	wfs_obj_unref(r->prev ? &r->prev->obj : NULL);
	wb_run_free(r->run);
	free(r);
}

/* The light fields metadata.json shows that are strings. */
static const size_t light_strs[] = {
	offsetof(struct wb_run, id),
	offsetof(struct wb_run, name),
	offsetof(struct wb_run, display_name),
	offsetof(struct wb_run, state),
	offsetof(struct wb_run, group),
	offsetof(struct wb_run, job_type),
	offsetof(struct wb_run, notes),
	offsetof(struct wb_run, description),
	offsetof(struct wb_run, commit),
	offsetof(struct wb_run, host),
	offsetof(struct wb_run, sweep_name),
	offsetof(struct wb_run, created_at),
	offsetof(struct wb_run, heartbeat_at),
	offsetof(struct wb_run, updated_at),
	offsetof(struct wb_run, user_name),
	offsetof(struct wb_run, user_username),
	offsetof(struct wb_run, web_url),
};

static const char *light_str(const struct wb_run *r, size_t i)
{
	return *(char *const *)((const char *)r + light_strs[i]);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether metadata.json of a and b would be the same bytes. */
static int same_light(const struct wb_run *a, const struct wb_run *b)
{
	size_t n = sizeof(light_strs) / sizeof(light_strs[0]);

	if (a->n_tags != b->n_tags ||
	    a->history_line_count != b->history_line_count ||
	    a->project_id != b->project_id)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!same_str(light_str(a, i), light_str(b, i)))
			return 0;
	for (size_t i = 0; i < a->n_tags; i++)
		if (!same_str(a->tags[i], b->tags[i]))
			return 0;
	return 1;
}

/* Memory a record is charged: its fields, and up front the metadata.json
 * it may render (the values again with their keys and indentation), so
 * the cache's bound holds whether or not it is rendered. */
static size_t light_bytes(const struct wb_run *r)
{
	size_t n = sizeof(light_strs) / sizeof(light_strs[0]), text = 0;

	for (size_t i = 0; i < n; i++)
		text += light_str(r, i) ? strlen(light_str(r, i)) + 1 : 0;
	for (size_t i = 0; i < r->n_tags; i++)
		text += strlen(r->tags[i]) + 1 + sizeof(char *);
	return sizeof(struct wfs_run_rec) + sizeof(*r) + 2 * text + 512;
}

int wfs_render_run(struct wb_run *r, const struct wfs_run_rec *prev,
		   struct wfs_run_rec **out)
{
	struct wfs_run_rec *rec;

	*out = NULL;
	if (prev && same_light(prev->run, r)) {
		wb_run_free(r);
		*out = wfs_obj_ref((struct wfs_obj *)&prev->obj);
		return 0;
	}
	rec = calloc(1, sizeof(*rec));
	if (!rec) {
		wb_run_free(r);
		return -ENOMEM;
	}
	rec->cls = wfs_class_for_run_state(r->state);
	rec->ctime = wfs_time_parse(r->created_at, 0);
	rec->mtime = wfs_time_parse(r->heartbeat_at, rec->ctime);
	rec->run = r;
	atomic_init(&rec->metadata, NULL);
	if (prev) {
		struct wfs_blob *pm =
			atomic_load(&((struct wfs_run_rec *)prev)->metadata);

		rec->prev = pm ? wfs_obj_ref(&pm->obj) : NULL;
	}
	wfs_obj_init(&rec->obj, light_bytes(r), run_free);
	*out = rec;
	return 0;
}

struct wfs_blob *wfs_run_metadata(struct wfs_run_rec *rec, const char *entity,
				  const char *project)
{
	struct wfs_blob *b = atomic_load(&rec->metadata), *none = NULL;
	cJSON *meta;

	if (b)
		return wfs_obj_ref(&b->obj);
	/* The light fields, named as the SDK names them. */
	if (wb_run_json(rec->run, entity, project, 0, &meta))
		return NULL;
	b = wfs_blob_json(meta, rec->mtime, rec->prev);
	cJSON_Delete(meta);
	if (!b)
		return NULL;
	/* Two threads may render at once: the first to publish wins. */
	if (!atomic_compare_exchange_strong(&rec->metadata, &none, b)) {
		wfs_obj_unref(&b->obj);
		b = none;
	}
	return wfs_obj_ref(&b->obj);
}

static void run_file_free(struct wfs_obj *o)
{
	struct wfs_run_file *f = (struct wfs_run_file *)o;

	wfs_obj_unref(f->blob ? &f->blob->obj : NULL);
	free(f);
}

/* The JSON tree of a heavy field, or NULL with *err set (and the reason in
 * e). */
static cJSON *heavy_tree(const struct wb_run *r, unsigned field, int *err,
			 struct wb_error *e)
{
	const char *text = field == WB_RUN_CONFIG ? r->config : r->summary;
	cJSON *tree = NULL;

	if (field == WB_RUN_CONFIG) {
		*err = wb_config_unwrap(text, text ? strlen(text) : 0, &tree,
					e);
	} else {
		tree = text && *text ? wb_json_parse(text, strlen(text), e)
				     : cJSON_CreateObject();
		*err = tree ? 0 : e->code ? e->code : -ENOMEM;
	}
	return *err ? NULL : tree;
}

int wfs_render_run_file(const struct wb_run *r, unsigned field,
			const struct wfs_run_file *prev,
			struct wfs_run_file **out)
{
	struct wfs_run_file *f = calloc(1, sizeof(*f));
	struct wb_error e = { 0 };
	time_t mtime = wfs_time_parse(r->heartbeat_at,
				      wfs_time_parse(r->created_at, 0));
	cJSON *tree;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->cls = wfs_class_for_run_state(r->state);
	tree = heavy_tree(r, field, &f->err, &e);
	if (tree) {
		f->blob = wfs_blob_json(tree, mtime, prev ? prev->blob : NULL);
		cJSON_Delete(tree);
		if (!f->blob)
			f->err = -ENOMEM;
	}
	if (f->err == -ENOMEM) {
		free(f);
		return -ENOMEM;
	}
	if (f->err)
		wb_log(WB_LOG_WARN, "run %s: cannot read its %s: %s", r->name,
		       field == WB_RUN_CONFIG ? "config" : "summary", e.msg);
	wfs_obj_init(&f->obj, sizeof(*f) + (f->blob ? f->blob->obj.bytes : 0),
		     run_file_free);
	*out = f;
	return 0;
}
