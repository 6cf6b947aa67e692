/* wb_sweeps.h — sweeps and reports of a project. Conventions as in
 * wb_api.h.
 */
#ifndef WB_SWEEPS_H
#define WB_SWEEPS_H

#include <stdint.h>
#include "wb_api.h"
#include "wb_client.h"

/* ---- sweeps ----------------------------------------------------------- */

struct wb_sweep {
	char *id;           /* opaque storage id */
	char *name;         /* the sweep ID: the path component */
	char *display_name; /* or NULL */
	char *method;       /* grid, random, bayes, ... (or NULL) */
	char *state;        /* or NULL */
	char *description;  /* or NULL */
	char *config;       /* the YAML text verbatim ("" when null) */
	int has_best_loss;
	double best_loss;           /* valid when has_best_loss */
	int64_t run_count;          /* -1 unknown */
	int64_t run_count_expected; /* -1 = null (unbounded) */
	char *created_at;
	char *updated_at; /* or NULL */
	char *web_url;    /* {app}/{entity}/{project}/sweeps/{name} */
};

typedef int (*wb_sweep_cb)(void *ud, struct wb_sweep *s);

/* -ENOENT when the project or the sweep is null. */
int wb_sweep_get(struct wb_client *c, const char *entity, const char *project,
		 const char *name, struct wb_sweep **out, struct wb_error *err);

/* Every sweep of a project (per_page 0 = 50). */
int wb_sweeps_list(struct wb_client *c, const char *entity, const char *project,
		   int per_page, wb_sweep_cb cb, void *ud,
		   struct wb_error *err);
void wb_sweep_free(struct wb_sweep *s);

/* Runs of a sweep: wb_runs_list() with {"$and": [{"sweep": "<name>"}]}.
 * q->filters must be NULL (the sweep filter replaces it); q may be NULL. */
int wb_sweep_runs(struct wb_client *c, const char *entity, const char *project,
		  const char *sweep, const struct wb_runs_query *q,
		  wb_run_cb cb, void *ud, struct wb_error *err);

/* ---- reports ---------------------------------------------------------- */

struct wb_report {
	char *id;
	char *name;         /* internal name */
	char *display_name; /* the title, or NULL */
	char *description;  /* or NULL */
	char *user;         /* author's username, or NULL */
	char *spec;         /* JSON text ("{}" when null) */
	char *created_at;
	char *updated_at; /* or NULL */
	char *web_url;    /* {app}/{entity}/{project}/reports/{slug}--{id} */
};

typedef int (*wb_report_cb)(void *ud, struct wb_report *r);

/* Every report (views of type "runs") of a project (per_page 0 = 50). */
int wb_reports_list(struct wb_client *c, const char *entity,
		    const char *project, int per_page, wb_report_cb cb,
		    void *ud, struct wb_error *err);
void wb_report_free(struct wb_report *r);

#endif
