/* history.c — run history (the full scan and sampled history),
 * system-metric events, and console log lines (paged with
 * useImprovedPagination, or the logLines(last:) tail on older servers).
 * doc/api-notes.md, "History scans" and "Pagination". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_history.h"
#include "wb_log.h"

#define HISTORY_PAGE 1000    /* steps per window, as the SDK's scan */
#define DEFAULT_SAMPLES 500  /* the SDK's run.history() default */
#define LOG_PAGE 1000        /* the SDK's console-log page */
#define LOG_TAIL_LINES 10000 /* what we ask of logLines(last:) */

struct run_ref {
	const char *entity, *project, *run;
	char what[512];
};

static void run_ref_init(struct run_ref *r, const char *entity,
			 const char *project, const char *run)
{
	r->entity = entity;
	r->project = project;
	r->run = run;
	snprintf(r->what, sizeof(r->what), "%s/%s/%s", entity, project, run);
}

static cJSON *run_vars(const struct run_ref *r)
{
	return api_vars("entity", r->entity, "project", r->project, "run",
			r->run, NULL);
}

/* Execute op; *run = data.project.run (-ENOENT when either is null). */
static int run_query(struct wb_client *c, const struct run_ref *r,
		     const char *op, cJSON *vars, cJSON **data,
		     const cJSON **run, struct wb_error *err)
{
	const char *missing = "project";
	int rc;

	rc = api_gql(c, op, vars, data, err);
	if (rc)
		return rc;
	*run = api_path(*data, &missing, "project", "run", NULL);
	if (!*run) {
		cJSON_Delete(*data);
		*data = NULL;
		return wb_error_set(err, -ENOENT, 0,
				    "%s: %s not found (absent or not visible)",
				    r->what, missing);
	}
	return 0;
}

/* Deliver every string of a [String] row list. */
static int deliver_rows(const struct run_ref *r, const cJSON *rows,
			const char *field, wb_row_cb cb, void *ud,
			size_t *count, struct wb_error *err)
{
	const cJSON *row;
	int rc;

	if (rows && !cJSON_IsNull(rows) && !cJSON_IsArray(rows))
		return wb_error_set(err, -EBADMSG, 0, "%s: %s is not a list",
				    r->what, field);
	cJSON_ArrayForEach (row, rows) {
		if (!cJSON_IsString(row))
			return wb_error_set(err, -EBADMSG, 0,
					    "%s: a %s row is not a string",
					    r->what, field);
		rc = cb(ud, row->valuestring, strlen(row->valuestring));
		if (rc)
			return rc;
		if (count)
			(*count)++;
	}
	return 0;
}

int wb_history_last_step(struct wb_client *c, const char *entity,
			 const char *project, const char *run, int64_t *out,
			 struct wb_error *err)
{
	struct run_ref r;
	const cJSON *node, *keys;
	cJSON *data, *parsed = NULL;
	int rc;

	*out = -1;
	run_ref_init(&r, entity, project, run);
	rc = run_query(c, &r, "RunHistoryKeys", run_vars(&r), &data, &node,
		       err);
	if (rc)
		return rc;
	keys = wb_json_get(node, "historyKeys");
	/* JSON scalar: an object, though some servers send its text. */
	if (cJSON_IsString(keys))
		keys = parsed = wb_json_parse(keys->valuestring,
					      strlen(keys->valuestring), NULL);
	if (keys && !cJSON_IsNull(keys) && !cJSON_IsObject(keys)) {
		rc = wb_error_set(err, -EBADMSG, 0,
				  "%s: historyKeys is not an object", r.what);
	} else {
		const cJSON *last = wb_json_get(keys, "lastStep");
		int64_t v;

		if (last && !cJSON_IsNull(last)) {
			if (wb_json_get_int64(last, &v) == 0)
				*out = v < 0 ? -1 : v;
			else
				rc = wb_error_set(err, -EBADMSG, 0,
						  "%s: historyKeys.lastStep is "
						  "not an integer",
						  r.what);
		}
	}
	cJSON_Delete(parsed);
	cJSON_Delete(data);
	return rc;
}

int wb_history_scan(struct wb_client *c, const char *entity,
		    const char *project, const char *run,
		    const struct wb_history_scan *q, wb_row_cb cb, void *ud,
		    struct wb_error *err)
{
	int64_t min_step = q && q->min_step > 0 ? q->min_step : 0;
	int64_t page = q && q->page > 0 ? q->page : HISTORY_PAGE;
	int64_t last, stop, offset;
	struct run_ref r;
	int rc;

	rc = wb_history_last_step(c, entity, project, run, &last, err);
	if (rc || last < 0)
		return rc;
	run_ref_init(&r, entity, project, run);
	stop = last + 1;
	if (q && q->max_step >= 0 && q->max_step < stop)
		stop = q->max_step;
	/* Steps have gaps: an empty window is normal, only reaching stop
	 * ends the scan. */
	for (offset = min_step; offset < stop; offset += page) {
		int64_t end = offset + page < stop ? offset + page : stop;
		cJSON *vars = run_vars(&r), *data;
		const cJSON *node;

		vars = api_vars_int(vars, "minStep", offset);
		vars = api_vars_int(vars, "maxStep", end);
		vars = api_vars_int(vars, "samples", page);
		rc = run_query(c, &r, "RunHistoryWindow", vars, &data, &node,
			       err);
		if (rc)
			return rc;
		rc = deliver_rows(&r, wb_json_get(node, "history"), "history",
				  cb, ud, NULL, err);
		cJSON_Delete(data);
		if (rc)
			return rc;
	}
	return 0;
}

/* history(samples:) and events(samples:): one request, a list of rows. */
static int sampled_rows(struct wb_client *c, const char *op, const char *field,
			const char *entity, const char *project,
			const char *run, int samples, wb_row_cb cb, void *ud,
			struct wb_error *err)
{
	struct run_ref r;
	const cJSON *node;
	cJSON *data;
	int rc;

	run_ref_init(&r, entity, project, run);
	rc = run_query(c, &r, op,
		       api_vars_int(run_vars(&r), "samples",
				    samples > 0 ? samples : DEFAULT_SAMPLES),
		       &data, &node, err);
	if (rc)
		return rc;
	rc = deliver_rows(&r, wb_json_get(node, field), field, cb, ud, NULL,
			  err);
	cJSON_Delete(data);
	return rc;
}

int wb_history_sampled(struct wb_client *c, const char *entity,
		       const char *project, const char *run, int samples,
		       wb_row_cb cb, void *ud, struct wb_error *err)
{
	return sampled_rows(c, "RunSampledHistory", "history", entity, project,
			    run, samples, cb, ud, err);
}

int wb_events(struct wb_client *c, const char *entity, const char *project,
	      const char *run, int samples, wb_row_cb cb, void *ud,
	      struct wb_error *err)
{
	return sampled_rows(c, "RunEvents", "events", entity, project, run,
			    samples, cb, ud, err);
}

/* ---- console log ------------------------------------------------------ */

void wb_log_line_free(struct wb_log_line *l)
{
	if (!l)
		return;
	free(l->timestamp);
	free(l->level);
	free(l->label);
	free(l->line);
	free(l);
}

static int log_line_from_node(const cJSON *node, struct wb_log_line **out)
{
	struct wb_log_line *l = calloc(1, sizeof(*l));
	int rc = l ? 0 : -ENOMEM;

	*out = NULL;
	if (!rc)
		rc = api_dup_str(node, "timestamp", &l->timestamp);
	if (!rc)
		rc = api_dup_str(node, "level", &l->level);
	if (!rc)
		rc = api_dup_str(node, "label", &l->label);
	if (!rc)
		rc = api_dup_str(node, "line", &l->line);
	if (!rc && !l->line && !(l->line = strdup("")))
		rc = -ENOMEM;
	if (rc) {
		wb_log_line_free(l);
		return rc;
	}
	l->number = api_int64(node, "number");
	*out = l;
	return 0;
}

/* One console-log read: the lines delivered so far, the highest line
 * number seen, and how many pages came back. */
struct log_ctx {
	const struct run_ref *r;
	wb_log_line_cb cb;
	void *ud;
	struct wb_log_result *res;
	int64_t last;
	int64_t count;
	int pages;
};

static int log_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct log_ctx *x = ud;
	struct wb_log_line *l;
	int rc = log_line_from_node(wb_json_get(edge, "node"), &l);

	if (rc)
		return api_item_error(err, rc, x->r->what);
	if (l->number > x->last)
		x->last = l->number;
	rc = x->cb(x->ud, l);
	if (!rc)
		x->count++;
	return rc;
}

/* The run's logLineCount, on every page. */
static int log_page(void *ud, const cJSON *data, struct wb_error *err)
{
	struct log_ctx *x = ud;

	(void)err;
	x->pages++;
	x->res->line_count = api_int64(
		api_path(data, NULL, "project", "run", NULL), "logLineCount");
	return 0;
}

/* A page may end early with hasNextPage false: while the line numbers are
 * short of logLineCount and pages are not empty, there is more. */
static int log_more(void *ud, const cJSON *conn)
{
	const struct log_ctx *x = ud;

	return x->res->line_count >= 0 && x->last + 1 < x->res->line_count &&
		cJSON_GetArraySize(api_edges(conn)) > 0;
}

/* A run whose logLines is null has no console output. */
static const cJSON *locate_logs(const cJSON *data, const char **missing)
{
	return api_connection(api_path(data, missing, "project", "run", NULL),
			      "logLines", missing);
}

/* The legacy route: the newest lines in ascending order. */
static int log_tail(struct wb_client *c, struct log_ctx *x,
		    struct wb_error *err)
{
	const cJSON *node, *e;
	cJSON *data;
	int rc;

	rc = run_query(c, x->r, "RunLogTail",
		       api_vars_int(run_vars(x->r), "last", LOG_TAIL_LINES),
		       &data, &node, err);
	if (rc)
		return rc;
	x->res->line_count = api_int64(node, "logLineCount");
	cJSON_ArrayForEach (e, api_edges(wb_json_get(node, "logLines"))) {
		rc = log_edge(x, e, err);
		if (rc)
			break;
	}
	if (!rc)
		x->res->complete = x->res->line_count >= 0 &&
			x->count >= x->res->line_count;
	cJSON_Delete(data);
	return rc;
}

int wb_log_lines(struct wb_client *c, const char *entity, const char *project,
		 const char *run, int per_page, wb_log_line_cb cb, void *ud,
		 struct wb_log_result *res, struct wb_error *err)
{
	struct wb_log_result local;
	struct run_ref r;
	struct log_ctx x = { .r = &r, .cb = cb, .ud = ud, .last = -1 };
	struct api_pager p = {
		.op = "RunLogLines",
		.cursor_var = "after",
		.size_var = "first",
		.per_page = per_page > 0 ? per_page : LOG_PAGE,
		.what = r.what,
		.locate = locate_logs,
		.edge = log_edge,
		.page = log_page,
		.more = log_more,
		.ud = &x,
	};
	int rc;

	x.res = res ? res : &local;
	x.res->line_count = -1;
	x.res->complete = 0;
	run_ref_init(&r, entity, project, run);
	rc = api_pages(c, &p, run_vars(&r), err);
	if (rc == -EINVAL && !x.pages) {
		/* A server before 0.77 rejects useImprovedPagination (or
		 * LogLine.label): read the tail instead. */
		wb_log(WB_LOG_INFO,
		       "%s: paged console log not supported (%s); "
		       "reading the tail",
		       r.what, err ? err->msg : "");
		return log_tail(c, &x, err);
	}
	if (!rc)
		x.res->complete = x.res->line_count < 0 ||
			x.last + 1 >= x.res->line_count;
	return rc;
}
