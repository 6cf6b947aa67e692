/* backend.c — the backend table (wfs_backend.h) over the client library:
 * each entry is the matching wb_* call with the client as its handle. */
#include "wfs_backend.h"

/* Runs per request the client sends for wb_runs_fetch(): 50 with heavy
 * fields (the SDK's page size; larger pages make one response slow to
 * produce on big configs), 200 light. */
#define CLIENT_BATCH_HEAVY 50
#define CLIENT_BATCH_LIGHT 200

static int viewer(void *ud, struct wb_viewer **out, struct wb_error *err)
{
	return wb_viewer_get(ud, out, err);
}

static int entity(void *ud, const char *name, struct wb_entity **out,
		  struct wb_error *err)
{
	return wb_entity_get(ud, name, out, err);
}

static int projects(void *ud, const char *ent, wb_project_cb cb, void *cb_ud,
		    struct wb_error *err)
{
	return wb_projects_list(ud, ent, 0, cb, cb_ud, err);
}

static int project(void *ud, const char *ent, const char *name,
		   struct wb_project **out, struct wb_error *err)
{
	return wb_project_get(ud, ent, name, out, err);
}

static int runs(void *ud, const char *ent, const char *proj, wb_run_cb cb,
		void *cb_ud, struct wb_error *err)
{
	struct wb_runs_query q = { 0 };

	return wb_runs_list(ud, ent, proj, &q, cb, cb_ud, err);
}

static int runs_fetch(void *ud, const char *ent, const char *proj,
		      const char *const *names, size_t n, unsigned heavy,
		      wb_run_cb cb, void *cb_ud, struct wb_error *err)
{
	return wb_runs_fetch(ud, ent, proj, names, n, heavy, cb, cb_ud, err);
}

void wfs_backend_client(struct wfs_backend *b, struct wb_client *c)
{
	int inflight = wb_client_max_inflight(c);

	*b = (struct wfs_backend){
		.ud = c,
		.viewer = viewer,
		.entity = entity,
		.projects = projects,
		.project = project,
		.runs = runs,
		.runs_fetch = runs_fetch,
		.batch_heavy = CLIENT_BATCH_HEAVY,
		.batch_light = CLIENT_BATCH_LIGHT,
		.max_inflight = inflight > 0 ? (unsigned)inflight : 1,
	};
}
