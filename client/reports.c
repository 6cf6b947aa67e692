/* reports.c — the reports of a project (its views of type "runs") and
 * their web URLs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_sweeps.h"

#define REPORTS_PER_PAGE 50 /* the SDK's page */

void wb_report_free(struct wb_report *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->name);
	free(r->display_name);
	free(r->description);
	free(r->user);
	free(r->spec);
	free(r->created_at);
	free(r->updated_at);
	free(r->web_url);
	free(r);
}

/* Python's \w for the bytes of UTF-8 text: ASCII letters, digits and '_',
 * and every non-ASCII byte (an approximation: letters outside ASCII). */
static int is_word_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || ch == '_' || ch >= 0x80;
}

/* The web URL's last segment, as the SDK builds it: "{slug}--{id without
 * '='}" where slug = the title with runs of non-word characters turned into
 * one '-', stripped of '-' at both ends. */
static char *report_segment(const char *title, const char *id)
{
	size_t n = strlen(title), m = strlen(id);
	char *out = malloc(n + m + 3), *o = out;
	int dash = 0;

	if (!out)
		return NULL;
	for (const char *p = title; *p; p++) {
		if (is_word_byte((unsigned char)*p)) {
			if (dash && o > out)
				*o++ = '-';
			dash = 0;
			*o++ = *p;
		} else {
			dash = 1;
		}
	}
	*o++ = '-';
	*o++ = '-';
	for (const char *p = id; *p; p++)
		if (*p != '=')
			*o++ = *p;
	*o = '\0';
	return out;
}

struct reports_ctx {
	struct wb_client *c;
	const char *entity, *project;
	wb_report_cb cb;
	void *ud;
	char what[512];
};

static int report_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct reports_ctx *x = ud;
	const cJSON *node = wb_json_get(edge, "node");
	struct wb_report *r = calloc(1, sizeof(*r));
	char *seg = NULL;
	int rc = r ? 0 : -ENOMEM;

	if (!rc)
		rc = api_need_str(node, "id", &r->id);
	if (!rc)
		rc = api_dup_str(node, "name", &r->name);
	if (!rc)
		rc = api_dup_str(node, "displayName", &r->display_name);
	if (!rc)
		rc = api_dup_str(node, "description", &r->description);
	if (!rc)
		rc = api_dup_str(wb_json_get(node, "user"), "username",
				 &r->user);
	if (!rc)
		rc = api_json_text(node, "spec", &r->spec);
	if (!rc)
		rc = api_dup_str(node, "createdAt", &r->created_at);
	if (!rc)
		rc = api_dup_str(node, "updatedAt", &r->updated_at);
	if (!rc &&
	    !(seg = report_segment(r->display_name ? r->display_name : "",
				   r->id)))
		rc = -ENOMEM;
	if (!rc &&
	    !(r->web_url = wb_client_web_url(x->c, x->entity, x->project,
					     "reports", seg, NULL)))
		rc = -ENOMEM;
	free(seg);
	if (rc) {
		wb_report_free(r);
		return api_item_error(err, rc, x->what);
	}
	return x->cb(x->ud, r);
}

/* A project whose allViews is null simply has no reports. */
static const cJSON *locate_views(const cJSON *data, const char **missing)
{
	return api_connection(api_path(data, missing, "project", NULL),
			      "allViews", missing);
}

int wb_reports_list(struct wb_client *c, const char *entity,
		    const char *project, int per_page, wb_report_cb cb,
		    void *ud, struct wb_error *err)
{
	struct reports_ctx x = { c, entity, project, cb, ud, "" };
	struct api_pager p = {
		.op = "ProjectViews",
		.cursor_var = "reportCursor",
		.size_var = "reportLimit",
		.per_page = per_page > 0 ? per_page : REPORTS_PER_PAGE,
		.what = x.what,
		.locate = locate_views,
		.edge = report_edge,
		.ud = &x,
	};

	snprintf(x.what, sizeof(x.what), "%s/%s", entity, project);
	return api_pages(c, &p,
			 api_vars("entity", entity, "project", project,
				  "viewType", "runs", NULL),
			 err);
}
