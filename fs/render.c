/* render.c — client results to served bytes (wfs_render.h): blobs, name
 * listings, project records (project.json, wb_project_json) and run records
 * (config.json via wb_config_unwrap, summary.json as the server sent it,
 * metadata.json from the light fields, wb_run_json). */
#include <errno.h>
#include <stdatomic.h>
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
	l->obj.bytes += len + 1 + sizeof(char *) +
			2 * sizeof(struct wb_strmap_slot);
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

	wfs_obj_unref(r->metadata ? &r->metadata->obj : NULL);
	wfs_obj_unref(r->config ? &r->config->obj : NULL);
	wfs_obj_unref(r->summary ? &r->summary->obj : NULL);
	free(r);
}

/* Render one heavy field into *blob, or leave it NULL with *err set. */
static int render_heavy(const char *what, const struct wb_run *r,
			const char *text, int unwrap, time_t mtime,
			const struct wfs_blob *prev, struct wfs_blob **blob,
			int *err)
{
	struct wb_error e = { 0 };
	cJSON *tree = NULL;

	*blob = NULL;
	*err = 0;
	if (unwrap) {
		*err = wb_config_unwrap(text, text ? strlen(text) : 0, &tree,
					&e);
	} else {
		tree = text && *text ? wb_json_parse(text, strlen(text), &e)
				     : cJSON_CreateObject();
		if (!tree)
			*err = e.code ? e.code : -ENOMEM;
	}
	if (*err) {
		if (*err == -ENOMEM)
			return -ENOMEM;
		wb_log(WB_LOG_WARN, "run %s: cannot read its %s: %s", r->name,
		       what, e.msg);
		return 0;
	}
	*blob = wfs_blob_json(tree, mtime, prev);
	cJSON_Delete(tree);
	return *blob ? 0 : -ENOMEM;
}

int wfs_render_run(const struct wb_run *r, const char *entity,
		   const char *project, const struct wfs_run_rec *prev,
		   struct wfs_run_rec **out)
{
	struct wfs_run_rec *rec = calloc(1, sizeof(*rec));
	unsigned want = WB_RUN_CONFIG | WB_RUN_SUMMARY;
	cJSON *meta;
	int rc = 0;

	*out = NULL;
	if (!rec)
		return -ENOMEM;
	wfs_obj_init(&rec->obj, sizeof(*rec), run_free);
	rec->cls = wfs_class_for_run_state(r->state);
	rec->ctime = wfs_time_parse(r->created_at, 0);
	rec->mtime = wfs_time_parse(r->heartbeat_at, rec->ctime);
	/* metadata.json: the light fields, named as the SDK names them. */
	rc = wb_run_json(r, entity, project, 0, &meta);
	if (!rc) {
		rec->metadata = wfs_blob_json(meta, rec->mtime,
					      prev ? prev->metadata : NULL);
		cJSON_Delete(meta);
		if (!rec->metadata)
			rc = -ENOMEM;
	}
	if (!rc && (r->heavy & want) == want) {
		rec->heavy = 1;
		rc = render_heavy("config", r, r->config, 1, rec->mtime,
				  prev ? prev->config : NULL, &rec->config,
				  &rec->config_err);
		if (!rc)
			rc = render_heavy("summary", r, r->summary, 0,
					  rec->mtime,
					  prev ? prev->summary : NULL,
					  &rec->summary, &rec->summary_err);
	}
	if (rc) {
		wfs_obj_unref(&rec->obj);
		return rc;
	}
	rec->obj.bytes += rec->metadata->obj.bytes +
			  (rec->config ? rec->config->obj.bytes : 0) +
			  (rec->summary ? rec->summary->obj.bytes : 0);
	*out = rec;
	return 0;
}
