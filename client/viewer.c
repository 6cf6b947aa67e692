/* viewer.c — who the API key belongs to: wb_viewer_get() (identity, default
 * entity, teams, organizations). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_api.h"
#include "wb_log.h"
#include "wb_settings.h"

void wb_viewer_free(struct wb_viewer *v)
{
	if (!v)
		return;
	free(v->id);
	free(v->username);
	free(v->entity);
	free(v->email);
	for (size_t i = 0; i < v->n_teams; i++)
		free(v->teams[i]);
	free(v->teams);
	for (size_t i = 0; i < v->n_orgs; i++) {
		free(v->orgs[i]);
		free(v->org_entities[i]);
	}
	free(v->orgs);
	free(v->org_entities);
	free(v);
}

static int fill_teams(struct wb_viewer *v, const cJSON *viewer)
{
	const cJSON *edges = api_edges(wb_json_get(viewer, "teams")), *e;
	int n = cJSON_GetArraySize(edges);

	if (n <= 0)
		return 0;
	v->teams = calloc((size_t)n, sizeof(*v->teams));
	if (!v->teams)
		return -ENOMEM;
	cJSON_ArrayForEach (e, edges) {
		int rc = api_dup_str(wb_json_get(e, "node"), "name",
				     &v->teams[v->n_teams]);

		if (rc)
			return rc;
		if (v->teams[v->n_teams])
			v->n_teams++;
	}
	return 0;
}

/* Organizations come from a separate query because Organization.orgEntity
 * is newer than the 2023 schema; a server that rejects the document simply
 * has no organizations to offer (registries need the org entity). */
static int fill_orgs(struct wb_client *c, struct wb_viewer *v,
		     struct wb_error *err)
{
	const cJSON *orgs, *o;
	cJSON *data = NULL;
	int n, rc;

	rc = wb_gql(c, "ViewerOrganizations", NULL, &data, err);
	if (rc == -EINVAL) {
		wb_log(WB_LOG_INFO,
		       "server has no organization query (%s); "
		       "no organizations",
		       err ? err->msg : "rejected");
		wb_error_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	orgs = wb_json_get(wb_json_get(data, "viewer"), "organizations");
	if (!cJSON_IsArray(orgs))
		orgs = NULL;
	n = cJSON_GetArraySize(orgs);
	if (n > 0) {
		v->orgs = calloc((size_t)n, sizeof(*v->orgs));
		v->org_entities = calloc((size_t)n, sizeof(*v->org_entities));
		if (!v->orgs || !v->org_entities)
			rc = -ENOMEM;
	}
	cJSON_ArrayForEach (o, orgs) {
		if (rc)
			break;
		if (!wb_json_get_str(o, "name"))
			continue;
		rc = api_dup_str(o, "name", &v->orgs[v->n_orgs]);
		if (!rc)
			rc = api_dup_str(wb_json_get(o, "orgEntity"), "name",
					 &v->org_entities[v->n_orgs]);
		v->n_orgs++;
	}
	cJSON_Delete(data);
	if (rc)
		return wb_error_set(err, rc, 0, "out of memory");
	return 0;
}

int wb_viewer_get(struct wb_client *c, struct wb_viewer **out,
		  struct wb_error *err)
{
	struct wb_viewer *v;
	const cJSON *viewer;
	cJSON *data = NULL;
	int rc;

	*out = NULL;
	rc = wb_gql(c, "Viewer", NULL, &data, err);
	if (rc)
		return rc;
	viewer = wb_json_get(data, "viewer");
	if (!cJSON_IsObject(viewer)) {
		char *host = wb_url_netloc(wb_client_base_url(c));

		rc = wb_error_set(err, -EACCES, 0,
				  "API key not recognized by %s (viewer is "
				  "null)",
				  host ? host : wb_client_base_url(c));
		free(host);
		cJSON_Delete(data);
		return rc;
	}
	v = calloc(1, sizeof(*v));
	rc = v ? 0 : -ENOMEM;
	if (!rc)
		rc = api_dup_str(viewer, "id", &v->id);
	if (!rc)
		rc = api_dup_str(viewer, "username", &v->username);
	if (!rc)
		rc = api_dup_str(viewer, "entity", &v->entity);
	if (!rc)
		rc = api_dup_str(viewer, "email", &v->email);
	if (!rc)
		rc = fill_teams(v, viewer);
	cJSON_Delete(data);
	if (rc) {
		wb_viewer_free(v);
		return wb_error_set(err, rc, 0, "out of memory");
	}
	rc = fill_orgs(c, v, err);
	if (rc) {
		wb_viewer_free(v);
		return rc;
	}
	*out = v;
	return 0;
}
