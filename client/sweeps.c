/* sweeps.c — one sweep, the sweeps of a project and the runs of a sweep
 * (a Runs listing filtered by sweep ID). The config stays the server's YAML
 * text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_log.h"
#include "wb_sweeps.h"

#define SWEEPS_PER_PAGE 50

void wb_sweep_free(struct wb_sweep *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->name);
	free(s->display_name);
	free(s->method);
	free(s->state);
	free(s->description);
	free(s->config);
	free(s->created_at);
	free(s->updated_at);
	free(s->web_url);
	free(s);
}

static int sweep_from_node(struct wb_client *c, const char *entity,
			   const char *project, const cJSON *node,
			   struct wb_sweep **out)
{
	struct wb_sweep *s = calloc(1, sizeof(*s));
	const cJSON *best = wb_json_get(node, "bestLoss");
	int rc = s ? 0 : -ENOMEM;

	*out = NULL;
	if (!rc)
		rc = api_dup_str(node, "id", &s->id);
	if (!rc)
		rc = api_need_str(node, "name", &s->name);
	if (!rc)
		rc = api_dup_str(node, "displayName", &s->display_name);
	if (!rc)
		rc = api_dup_str(node, "method", &s->method);
	if (!rc)
		rc = api_dup_str(node, "state", &s->state);
	if (!rc)
		rc = api_dup_str(node, "description", &s->description);
	if (!rc &&
	    !(s->config = strdup(wb_json_get_str(node, "config")
					 ? wb_json_get_str(node, "config")
					 : "")))
		rc = -ENOMEM;
	if (!rc)
		rc = api_dup_str(node, "createdAt", &s->created_at);
	if (!rc)
		rc = api_dup_str(node, "updatedAt", &s->updated_at);
	if (!rc) {
		s->has_best_loss = wb_json_is_number(best) &&
			wb_json_get_double(best, &s->best_loss) == 0;
		s->run_count = api_int64(node, "runCount");
		s->run_count_expected = api_int64(node, "runCountExpected");
		s->web_url = wb_client_web_url(c, entity, project, "sweeps",
					       s->name, NULL);
		if (!s->web_url)
			rc = -ENOMEM;
	}
	if (rc) {
		wb_sweep_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int wb_sweep_get(struct wb_client *c, const char *entity, const char *project,
		 const char *name, struct wb_sweep **out, struct wb_error *err)
{
	const char *missing = "project";
	char what[512];
	const cJSON *node;
	cJSON *data;
	int rc;

	*out = NULL;
	snprintf(what, sizeof(what), "%s/%s/%s", entity, project, name);
	rc = api_gql(c, "GetSweep",
		     api_vars("entity", entity, "project", project, "name",
			      name, NULL),
		     &data, err);
	if (rc)
		return rc;
	node = api_path(data, &missing, "project", "sweep", NULL);
	if (!node)
		rc = wb_error_set(err, -ENOENT, 0,
				  "%s: %s not found (absent "
				  "or not visible)",
				  what, missing);
	else if ((rc = sweep_from_node(c, entity, project, node, out)))
		rc = api_item_error(err, rc, what);
	cJSON_Delete(data);
	return rc;
}

struct sweeps_ctx {
	struct wb_client *c;
	const char *entity, *project;
	wb_sweep_cb cb;
	void *ud;
	char what[512];
	size_t delivered;
};

static int sweep_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct sweeps_ctx *x = ud;
	struct wb_sweep *s;
	int rc = sweep_from_node(x->c, x->entity, x->project,
				 wb_json_get(edge, "node"), &s);

	if (rc)
		return api_item_error(err, rc, x->what);
	rc = x->cb(x->ud, s);
	if (!rc)
		x->delivered++;
	return rc;
}

static const cJSON *locate_sweeps(const cJSON *data, const char **missing)
{
	return api_path(data, missing, "project", "sweeps", NULL);
}

int wb_sweeps_list(struct wb_client *c, const char *entity, const char *project,
		   int per_page, wb_sweep_cb cb, void *ud, struct wb_error *err)
{
	struct sweeps_ctx x = { c, entity, project, cb, ud, "", 0 };
	struct api_pager p = {
		.op = "GetSweeps",
		.cursor_var = "cursor",
		.size_var = "perPage",
		.per_page = per_page > 0 ? per_page : SWEEPS_PER_PAGE,
		.what = x.what,
		.locate = locate_sweeps,
		.edge = sweep_edge,
		.ud = &x,
	};
	int rc;

	snprintf(x.what, sizeof(x.what), "%s/%s", entity, project);
	/* $filters is required by GetSweeps; "{}" means all sweeps. */
	rc = api_pages(c, &p,
		       api_vars("entity", entity, "project", project, "filters",
				"{}", NULL),
		       err);
	if (rc == -EINVAL && !x.delivered) {
		/* Servers before sweep filtering reject the argument. */
		wb_log(WB_LOG_INFO, "%s: sweeps(filters:) not supported (%s)",
		       x.what, err ? err->msg : "");
		p.op = "GetSweepsBase";
		rc = api_pages(c, &p,
			       api_vars("entity", entity, "project", project,
					NULL),
			       err);
	}
	return rc;
}

int wb_sweep_runs(struct wb_client *c, const char *entity, const char *project,
		  const char *sweep, const struct wb_runs_query *q,
		  wb_run_cb cb, void *ud, struct wb_error *err)
{
	struct wb_runs_query rq = { 0 };
	cJSON *filter = cJSON_CreateObject(), *and, *term;
	char *text = NULL;
	int rc;

	if (q)
		rq = *q;
	if (rq.filters) {
		cJSON_Delete(filter);
		return wb_error_set(err, -EINVAL, 0,
				    "sweep runs: the filter "
				    "is the sweep's");
	}
	/* Built with cJSON so the sweep id is escaped as JSON. */
	and = filter ? cJSON_AddArrayToObject(filter, "$and") : NULL;
	term = cJSON_CreateObject();
	if (and&&term && cJSON_AddItemToArray(and, term)) {
		if (cJSON_AddStringToObject(term, "sweep", sweep))
			text = wb_json_print(filter, WB_JSON_COMPACT, NULL);
	} else {
		cJSON_Delete(term);
	}
	cJSON_Delete(filter);
	if (!text)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	rq.filters = text;
	rc = wb_runs_list(c, entity, project, &rq, cb, ud, err);
	free(text);
	return rc;
}
