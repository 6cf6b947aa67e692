/* runs.c — runs of a project: the paged listing (wb_runs_list), the batched
 * parallel fetch by name (wb_runs_fetch) and one run (wb_run_get), all with
 * optional heavy fields, and a run as JSON (wb_run_json). Listing order and
 * batching: doc/api-notes.md, "Pagination" and "Runs and batching". */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_api.h"
#include "wb_strmap.h"

#define RUNS_PER_PAGE_LIGHT 1000
#define RUNS_PER_PAGE_HEAVY 50
/* Runs per request in wb_runs_fetch(), sent in parallel. With heavy
 * fields this is the SDK's default runs page (per_page=50); larger
 * batches make one response slow to produce on big configs. Measured on the
 * test server with 100 ms latency, 400 runs with all heavy fields: batches
 * of 10 / 25 / 50 / 100 took 0.90 / 0.56 / 0.38 / 0.36 s, and spreading the
 * names evenly over the parallel slots gained nothing over 50. */
#define FETCH_BATCH_HEAVY 50
#define FETCH_BATCH_LIGHT 200
#define DEFAULT_ORDER \
	"+created_at" /* oldest first: stable while runs are added */

/* The heavy fields: mask bit, GraphQL field, the Runs/Run variable that
 * switches it on, and where its JSON text lands in struct wb_run. */
static const struct {
	unsigned bit;
	const char *field;
	const char *var;
	size_t offset;
} run_heavy[] = {
	{ WB_RUN_CONFIG, "config", "withConfig",
	  offsetof(struct wb_run, config) },
	{ WB_RUN_SUMMARY, "summaryMetrics", "withSummary",
	  offsetof(struct wb_run, summary) },
	{ WB_RUN_SYSTEM_METRICS, "systemMetrics", "withSystemMetrics",
	  offsetof(struct wb_run, system_metrics) },
	{ WB_RUN_HISTORY_KEYS, "historyKeys", "withHistoryKeys",
	  offsetof(struct wb_run, history_keys) },
};
static const size_t n_run_heavy = sizeof(run_heavy) / sizeof(run_heavy[0]);

/* The string members of a run node and where their copies live. */
static const struct {
	const char *key;
	size_t offset;
} run_strs[] = {
	{ "id", offsetof(struct wb_run, id) },
	{ "name", offsetof(struct wb_run, name) },
	{ "displayName", offsetof(struct wb_run, display_name) },
	{ "state", offsetof(struct wb_run, state) },
	{ "group", offsetof(struct wb_run, group) },
	{ "jobType", offsetof(struct wb_run, job_type) },
	{ "sweepName", offsetof(struct wb_run, sweep_name) },
	{ "commit", offsetof(struct wb_run, commit) },
	{ "host", offsetof(struct wb_run, host) },
	{ "description", offsetof(struct wb_run, description) },
	{ "notes", offsetof(struct wb_run, notes) },
	{ "createdAt", offsetof(struct wb_run, created_at) },
	{ "heartbeatAt", offsetof(struct wb_run, heartbeat_at) },
	{ "updatedAt", offsetof(struct wb_run, updated_at) },
};
static const size_t n_run_strs = sizeof(run_strs) / sizeof(run_strs[0]);

static char **run_slot(struct wb_run *r, size_t offset)
{
	return (char **)((char *)r + offset);
}

void wb_run_free(struct wb_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < n_run_strs; i++)
		free(*run_slot(r, run_strs[i].offset));
	for (size_t i = 0; i < n_run_heavy; i++)
		free(*run_slot(r, run_heavy[i].offset));
	free(r->user_name);
	free(r->user_username);
	free(r->web_url);
	for (size_t i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r);
}

/* ---- one run from a GraphQL node -------------------------------------- */

/* A heavy field as text: JSONString fields arrive as a string holding the
 * server's JSON, kept verbatim; historyKeys arrives as JSON and is printed
 * compactly (numbers exact); null becomes "{}". */
static int heavy_text(const cJSON *node, const char *key, char **out)
{
	const cJSON *v = wb_json_get(node, key);

	if (cJSON_IsString(v))
		*out = strdup(v->valuestring);
	else if (!v || cJSON_IsNull(v))
		*out = strdup("{}");
	else
		*out = wb_json_print(v, WB_JSON_COMPACT, NULL);
	return *out ? 0 : -ENOMEM;
}

static int fill_tags(struct wb_run *r, const cJSON *tags)
{
	const cJSON *t;
	int n = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;

	if (n <= 0)
		return 0;
	r->tags = calloc((size_t)n, sizeof(*r->tags));
	if (!r->tags)
		return -ENOMEM;
	cJSON_ArrayForEach (t, tags) {
		if (!cJSON_IsString(t))
			continue;
		r->tags[r->n_tags] = strdup(t->valuestring);
		if (!r->tags[r->n_tags])
			return -ENOMEM;
		r->n_tags++;
	}
	return 0;
}

static int run_from_node(struct wb_client *c, const cJSON *node,
			 const char *entity, const char *project,
			 unsigned heavy, struct wb_run **out)
{
	const cJSON *user = wb_json_get(node, "user");
	struct wb_run *r = calloc(1, sizeof(*r));
	int rc = r ? 0 : -ENOMEM;

	*out = NULL;
	for (size_t i = 0; !rc && i < n_run_strs; i++)
		rc = api_dup_str(node, run_strs[i].key,
				 run_slot(r, run_strs[i].offset));
	if (!rc)
		rc = api_dup_str(user, "name", &r->user_name);
	if (!rc)
		rc = api_dup_str(user, "username", &r->user_username);
	if (!rc)
		rc = fill_tags(r, wb_json_get(node, "tags"));
	if (!rc && !r->name)
		rc = -EBADMSG;
	for (size_t i = 0; !rc && i < n_run_heavy; i++)
		if (heavy & run_heavy[i].bit)
			rc = heavy_text(node, run_heavy[i].field,
					run_slot(r, run_heavy[i].offset));
	if (!rc) {
		r->heavy = heavy & WB_RUN_HEAVY_ALL;
		r->history_line_count = api_int64(node, "historyLineCount");
		r->project_id = api_int64(node, "projectId");
		r->web_url = wb_client_web_url(c, entity, project, "runs",
					       r->name, NULL);
		if (!r->web_url)
			rc = -ENOMEM;
	}
	if (rc) {
		if (r)
			wb_run_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- a run as JSON ----------------------------------------------------- */

int wb_run_json(const struct wb_run *r, const char *entity, const char *project,
		unsigned heavy, cJSON **out)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "id", r->name);
	wb_jb_str(&b, "name", r->name);
	wb_jb_str(&b, "displayName", r->display_name);
	wb_jb_str(&b, "state", r->state);
	wb_jb_str(&b, "entity", entity);
	wb_jb_str(&b, "project", project);
	wb_jb_str(&b, "url", r->web_url);
	wb_jb_strv(&b, "tags", r->tags, r->n_tags);
	wb_jb_str(&b, "group", r->group);
	wb_jb_str(&b, "jobType", r->job_type);
	wb_jb_str(&b, "notes", r->notes ? r->notes : r->description);
	wb_jb_str(&b, "host", r->host);
	if (r->user_name || r->user_username) {
		struct wb_jb user = wb_jb_new();
		int user_rc = 0;
		cJSON *item;

		wb_jb_str(&user, "name", r->user_name);
		wb_jb_str(&user, "username", r->user_username);
		item = wb_jb_done(&user, &user_rc);
		wb_jb_item(&b, "user", item, user_rc);
	} else {
		wb_jb_str(&b, "user", NULL);
	}
	wb_jb_str(&b, "createdAt", r->created_at);
	wb_jb_str(&b, "heartbeatAt", r->heartbeat_at);
	wb_jb_str(&b, "updatedAt", r->updated_at);
	wb_jb_str(&b, "sweep", r->sweep_name);
	wb_jb_str(&b, "commit", r->commit);
	wb_jb_int(&b, "historyLineCount", r->history_line_count);
	wb_jb_int(&b, "projectId", r->project_id);
	wb_jb_str(&b, "storageId", r->id);
	for (size_t i = 0; i < n_run_heavy; i++)
		if (heavy & r->heavy & run_heavy[i].bit)
			wb_jb_json(&b, run_heavy[i].field,
				   *(char *const *)((const char *)r +
						    run_heavy[i].offset));
	*out = wb_jb_done(&b, &rc);
	return rc;
}

/* ---- names already delivered (dedupe across pages) -------------------- */

/* A set of names in a wb_strmap: each key is its own value, a copy the set
 * owns (the runs themselves go to the callback). 1 when name was added, 0
 * when it was already there, -ENOMEM. */
static int name_set_add(struct wb_strmap *s, const char *name)
{
	char *copy;

	if (wb_strmap_get(s, name))
		return 0;
	copy = strdup(name);
	if (!copy || wb_strmap_put(s, copy, copy, NULL)) {
		free(copy);
		return -ENOMEM;
	}
	return 1;
}

static void name_set_clear(struct wb_strmap *s)
{
	size_t pos = 0;
	char *name;

	while ((name = wb_strmap_next(s, &pos)))
		free(name);
	wb_strmap_clear(s);
}

/* ---- the paged Runs query --------------------------------------------- */

struct runs_req {
	const char *entity, *project;
	const char *filters; /* JSON text or NULL */
	const char *order;
	int per_page;
	unsigned heavy;
	int64_t limit; /* 0 = all */
};

/* Variables of Runs (or of Run, with `name` for the run). */
static cJSON *runs_vars(const char *entity, const char *project,
			const char *name, const char *order,
			const char *filters, unsigned heavy)
{
	cJSON *vars = api_vars("entity", entity, "project", project, "name",
			       name, "order", order, "filters", filters, NULL);

	for (size_t i = 0; i < n_run_heavy; i++)
		vars = api_vars_bool(vars, run_heavy[i].var,
				     (heavy & run_heavy[i].bit) != 0);
	return vars;
}

/* One listing's state: the names delivered so far (dedupe across pages)
 * and their count (for the limit). */
struct runs_ctx {
	struct wb_client *c;
	const struct runs_req *q;
	wb_run_cb cb;
	void *ud;
	struct wb_strmap seen;
	int64_t taken;
	char what[512];
};

static int run_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct runs_ctx *x = ud;
	struct wb_run *r;
	int rc = run_from_node(x->c, wb_json_get(edge, "node"), x->q->entity,
			       x->q->project, x->q->heavy, &r);

	if (rc)
		return api_item_error(err, rc, x->what);
	rc = name_set_add(&x->seen, r->name);
	if (rc <= 0) {
		/* 0: seen on an earlier page (the order moved under us) */
		wb_run_free(r);
		return rc ? wb_error_set(err, rc, 0, "out of memory") : 0;
	}
	rc = x->cb(x->ud, r);
	if (!rc)
		x->taken++;
	return rc;
}

/* A project whose runs connection is null has no runs to list. */
static const cJSON *locate_runs(const cJSON *data, const char **missing)
{
	return api_connection(api_path(data, missing, "project", NULL), "runs",
			      missing);
}

/* Every page of a Runs query, deduplicated by name. A non-zero *stop (may
 * be NULL) ends it between pages: a parallel sibling failed. */
static int runs_pages(struct wb_client *c, const struct runs_req *q,
		      wb_run_cb cb, void *ud, const atomic_int *stop,
		      struct wb_error *err)
{
	struct runs_ctx x = { .c = c, .q = q, .cb = cb, .ud = ud };
	struct api_pager p = {
		.op = "Runs",
		.cursor_var = "cursor",
		.size_var = "perPage",
		.per_page = q->per_page,
		.limit = q->limit,
		.taken = &x.taken,
		.stop = stop,
		.what = x.what,
		.locate = locate_runs,
		.edge = run_edge,
		.ud = &x,
	};
	int rc;

	snprintf(x.what, sizeof(x.what), "%s/%s", q->entity, q->project);
	rc = api_pages(c, &p,
		       runs_vars(q->entity, q->project, NULL, q->order,
				 q->filters, q->heavy),
		       err);
	name_set_clear(&x.seen);
	return rc;
}

int wb_runs_list(struct wb_client *c, const char *entity, const char *project,
		 const struct wb_runs_query *q, wb_run_cb cb, void *ud,
		 struct wb_error *err)
{
	struct runs_req req = { .entity = entity,
				.project = project,
				.order = DEFAULT_ORDER };

	if (q) {
		req.filters = q->filters;
		if (q->order)
			req.order = q->order;
		req.per_page = q->per_page;
		req.heavy = q->heavy & WB_RUN_HEAVY_ALL;
		req.limit = q->limit;
	}
	if (req.per_page <= 0)
		req.per_page = req.heavy ? RUNS_PER_PAGE_HEAVY
					 : RUNS_PER_PAGE_LIGHT;
	return runs_pages(c, &req, cb, ud, NULL, err);
}

/* ---- batched fetch by name -------------------------------------------- */

struct fetch {
	struct wb_client *c;
	const char *entity, *project;
	const char *const *names; /* deduplicated */
	size_t n_names, batch;
	unsigned heavy;
	wb_run_cb cb;
	void *ud;
	atomic_int rc;       /* the first failure, the callback's or a
				  batch's; once set, every batch stops */
	struct wb_error err; /* its message, written only by the batch
				  whose failure was recorded */
};

/* Record rc as the fetch's failure unless one is recorded already; 1 when
 * this call recorded it. */
static int fetch_fail(struct fetch *f, int rc)
{
	int none = 0;

	return atomic_compare_exchange_strong(&f->rc, &none, rc);
}

/* The callback side of a batch. The worker threads call it at the same
 * time and no lock is held around cb, so the caller's work on each run
 * (rendering, storing) goes on in parallel; after a failure nothing more
 * is delivered. */
static int fetch_deliver(void *ud, struct wb_run *r)
{
	struct fetch *f = ud;
	int rc = atomic_load(&f->rc);

	if (rc) {
		wb_run_free(r);
		return rc;
	}
	rc = f->cb(f->ud, r);
	if (rc)
		fetch_fail(f, rc);
	return rc;
}

/* {"name": {"$in": [names[from..to)]}} as JSON text; NULL on OOM. */
static char *batch_filter(const struct fetch *f, size_t from, size_t to)
{
	cJSON *filter = cJSON_CreateObject();
	cJSON *name = filter ? cJSON_AddObjectToObject(filter, "name") : NULL;
	cJSON *in = name ? cJSON_AddArrayToObject(name, "$in") : NULL;
	char *text = NULL;
	size_t i;

	for (i = from; in && i < to; i++) {
		cJSON *s = cJSON_CreateString(f->names[i]);

		if (!s || !cJSON_AddItemToArray(in, s)) {
			cJSON_Delete(s);
			break;
		}
	}
	if (in && i == to)
		text = wb_json_print(filter, WB_JSON_COMPACT, NULL);
	cJSON_Delete(filter);
	return text;
}

static int fetch_job(void *ud, size_t i)
{
	struct fetch *f = ud;
	size_t from = i * f->batch, to = from + f->batch;
	struct runs_req q = { .entity = f->entity,
			      .project = f->project,
			      .order = DEFAULT_ORDER,
			      .heavy = f->heavy };
	struct wb_error err = { 0 };
	char *filter;
	int rc;

	if (to > f->n_names)
		to = f->n_names;
	if (atomic_load(&f->rc))
		return -ECANCELED;
	filter = batch_filter(f, from, to);
	if (!filter) {
		rc = wb_error_set(&err, -ENOMEM, 0, "out of memory");
	} else {
		q.filters = filter;
		q.per_page = (int)(to - from);
		rc = runs_pages(f->c, &q, fetch_deliver, f, &f->rc, &err);
		free(filter);
	}
	/* A batch stopped by another's failure (-ECANCELED, or that
	 * failure's code) finds it recorded already. */
	if (rc && fetch_fail(f, rc))
		f->err = err;
	return rc;
}

/* The distinct names, in first-seen order (borrowed pointers). */
static int distinct_names(const char *const *names, size_t n, const char ***out,
			  size_t *n_out)
{
	struct wb_strmap seen = { 0 };
	const char **v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;
	int rc = v ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		if (wb_strmap_get(&seen, names[i]))
			continue;
		rc = wb_strmap_put(&seen, names[i], (void *)names[i], NULL);
		v[k++] = names[i];
	}
	wb_strmap_clear(&seen);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = k;
	return 0;
}

int wb_runs_fetch(struct wb_client *c, const char *entity, const char *project,
		  const char *const *names, size_t n_names, unsigned heavy,
		  wb_run_cb cb, void *ud, struct wb_error *err)
{
	struct fetch f = { .c = c,
			   .entity = entity,
			   .project = project,
			   .heavy = heavy & WB_RUN_HEAVY_ALL,
			   .cb = cb,
			   .ud = ud };
	const char **distinct;
	size_t n_batches;
	int rc;

	rc = distinct_names(names, n_names, &distinct, &f.n_names);
	if (rc)
		return wb_error_set(err, rc, 0, "out of memory");
	f.names = distinct;
	f.batch = f.heavy ? FETCH_BATCH_HEAVY : FETCH_BATCH_LIGHT;
	n_batches = (f.n_names + f.batch - 1) / f.batch;
	atomic_init(&f.rc, 0);
	wb_client_parallel(c, n_batches, fetch_job, &f);
	free(distinct);
	if (err && f.err.code)
		*err = f.err;
	return atomic_load(&f.rc);
}

/* ---- one run ---------------------------------------------------------- */

int wb_run_get(struct wb_client *c, const char *entity, const char *project,
	       const char *name, unsigned heavy, struct wb_run **out,
	       struct wb_error *err)
{
	const char *missing = NULL;
	const cJSON *node;
	cJSON *data;
	int rc;

	*out = NULL;
	heavy &= WB_RUN_HEAVY_ALL;
	rc = api_gql(c, "Run",
		     runs_vars(entity, project, name, NULL, NULL, heavy), &data,
		     err);
	if (rc)
		return rc;
	node = api_path(data, &missing, "project", "run", NULL);
	if (!node)
		rc = wb_error_set(err, -ENOENT, 0,
				  "%s/%s/%s: %s not found "
				  "(absent or not visible)",
				  entity, project, name, missing);
	else if ((rc = run_from_node(c, node, entity, project, heavy, out)))
		rc = api_item_error(err, rc, name);
	cJSON_Delete(data);
	return rc;
}
