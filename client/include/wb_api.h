/* wb_api.h — typed W&B calls for identity, entities, projects and runs.
 *
 * Every function returns 0 or a negative errno (err filled). A W&B object that
 * the server reports as null (absent or not visible) is -ENOENT.
 * Structs returned through `**out` are owned by the caller and released with
 * the matching *_free(). Listing callbacks receive ownership of each item
 * (they must free it, or keep it); a callback returning non-zero stops the
 * listing, and that value is returned. The client never holds a lock of its
 * own while it calls a callback.
 * Other areas: wb_runfiles.h (run files, downloads), wb_history.h (history,
 * events, console logs), wb_artifacts.h, wb_registry.h, wb_sweeps.h.
 */
#ifndef WB_API_H
#define WB_API_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "wb_client.h"

/* ---- viewer ---------------------------------------------------------- */

struct wb_viewer {
	char *id;
	char *username;
	char *entity; /* default entity */
	char *email;  /* may be NULL */
	char **teams; /* team entity names */
	size_t n_teams;
	char **orgs;         /* organization display names (none when the server
			     predates Organization.orgEntity) */
	char **org_entities; /* org entity names, parallel to orgs; an entry
				is NULL when the server sent none */
	size_t n_orgs;
};

/* viewer null (key not recognised) -> -EACCES. */
int wb_viewer_get(struct wb_client *c, struct wb_viewer **out,
		  struct wb_error *err);
void wb_viewer_free(struct wb_viewer *v);

/* ---- entities -------------------------------------------------------- */

struct wb_entity {
	char *id;
	char *name;
	int is_team;
};

int wb_entity_get(struct wb_client *c, const char *name, struct wb_entity **out,
		  struct wb_error *err);
void wb_entity_free(struct wb_entity *e);

/* ---- projects -------------------------------------------------------- */

struct wb_project {
	char *id;
	char *name;
	char *entity;
	char *description; /* may be NULL */
	char *created_at;  /* ISO-8601 as the server sent it */
	char *updated_at;  /* may be NULL */
	char *access;      /* may be NULL */
	int64_t run_count; /* -1 when not fetched */
	int read_only;     /* -1 when unknown */
	char *web_url;     /* {app}/{entity}/{project}/workspace */
};

/* A project as a JSON object with the SDK's names, in this order: name
 * entity id description access createdAt updatedAt runCount readOnly url
 * (the web URL, the SDK's Project.url); unknown values are null. Both the
 * filesystem's project.json and wandbfs-query print it. 0 or -ENOMEM;
 * caller cJSON_Delete()s *out. */
int wb_project_json(const struct wb_project *p, cJSON **out);

typedef int (*wb_project_cb)(void *ud, struct wb_project *p);

/* All projects of an entity, every page (per_page 0 = default 200). */
int wb_projects_list(struct wb_client *c, const char *entity, int per_page,
		     wb_project_cb cb, void *ud, struct wb_error *err);
int wb_project_get(struct wb_client *c, const char *entity, const char *name,
		   struct wb_project **out, struct wb_error *err);
void wb_project_free(struct wb_project *p);

/* ---- runs ------------------------------------------------------------ */

/* Heavy fields, requested with a bit mask. */
enum {
	WB_RUN_CONFIG = 1u << 0,
	WB_RUN_SUMMARY = 1u << 1,
	WB_RUN_SYSTEM_METRICS = 1u << 2,
	WB_RUN_HISTORY_KEYS = 1u << 3,
	WB_RUN_HEAVY_ALL = 0xfu,
};

struct wb_run {
	/* light fields (always present in a listing) */
	char *id;   /* opaque storage id */
	char *name; /* the run ID: the path component */
	char *display_name;
	char *state; /* running, finished, crashed, failed, ... */
	char *group;
	char *job_type;
	char *notes;
	char *description;
	char *commit;
	char *host;
	char *sweep_name;
	char *created_at;
	char *heartbeat_at;
	char *updated_at;
	char *user_name;
	char *user_username;
	char **tags;
	size_t n_tags;
	int64_t history_line_count; /* -1 when unknown */
	int64_t project_id;         /* -1 when unknown */
	char *web_url;              /* {app}/{entity}/{project}/runs/{name} */
	/* heavy fields: the server's JSON text verbatim, NULL unless requested
	 * (a requested field the server sent as null becomes "{}"). */
	unsigned heavy; /* which heavy fields were fetched (WB_RUN_*) */
	char *config;   /* wrapped: {"lr": {"value": 0.1}, "_wandb": ...} */
	char *summary;  /* summaryMetrics */
	char *system_metrics;
	char *history_keys;
};

struct wb_runs_query {
	const char *filters; /* MongoDB-style JSON text, NULL = {} */
	const char *order;   /* e.g. "+created_at" (the default when NULL) */
	int per_page;        /* 0 = default (1000 light, 50 with heavy) */
	unsigned heavy;      /* heavy fields to select in the listing */
	int64_t limit;       /* stop after this many runs; 0 = all */
};

typedef int (*wb_run_cb)(void *ud, struct wb_run *r);

/* A run of entity/project as a JSON object with the SDK's names, in this
 * order: id (the run ID, as the SDK's Run.id) name displayName state entity
 * project url (the web URL) tags group jobType notes (else description)
 * host user ({name, username}, or null) createdAt heartbeatAt updatedAt
 * sweep (the sweep's ID) commit historyLineCount projectId storageId (the
 * opaque id); then those of the heavy fields in `heavy` that r carries,
 * parsed, under their GraphQL names (config as stored, wrapped;
 * summaryMetrics; systemMetrics; historyKeys). Both the filesystem's
 * metadata.json and wandbfs-query print it. 0, -ENOMEM, or -EBADMSG when a
 * heavy field is not JSON; caller cJSON_Delete()s *out. */
int wb_run_json(const struct wb_run *r, const char *entity, const char *project,
		unsigned heavy, cJSON **out);

/* List runs of a project, every page, deduplicated by name. -ENOENT when the
 * project is null. */
int wb_runs_list(struct wb_client *c, const char *entity, const char *project,
		 const struct wb_runs_query *q, wb_run_cb cb, void *ud,
		 struct wb_error *err);

/* Fetch light + the requested heavy fields for the named runs in as few
 * requests as possible (batches by name, sent in parallel). Runs that do not
 * exist are simply not reported. cb may be called from several threads at
 * once (each batch's worker delivers its own runs): it must be thread-safe.
 * After the first failure (cb's non-zero result or a failed batch) no more
 * runs are delivered, and that failure is returned. */
int wb_runs_fetch(struct wb_client *c, const char *entity, const char *project,
		  const char *const *names, size_t n_names, unsigned heavy,
		  wb_run_cb cb, void *ud, struct wb_error *err);

/* One run with the requested heavy fields; -ENOENT when project or run is
 * null. */
int wb_run_get(struct wb_client *c, const char *entity, const char *project,
	       const char *name, unsigned heavy, struct wb_run **out,
	       struct wb_error *err);
void wb_run_free(struct wb_run *r);

/* run.config as wandb.Api gives it: parse the wrapped config text, unwrap
 * {"value": v} -> v, drop `_wandb` and `wandb_version`.
 * NULL/empty text gives {}. Caller cJSON_Delete()s *out. */
int wb_config_unwrap(const char *raw, size_t len, cJSON **out,
		     struct wb_error *err);

#endif
