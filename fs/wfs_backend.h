/* wfs_backend.h — what the filesystem asks of the W&B API, as a table of
 * functions.
 *
 * The fetcher (wfs_fetch.h) reaches the server only through this table.
 * wfs_backend_client() fills it with the client library's calls; the unit
 * tests fill it with a fake that answers from memory, so the fetch core
 * runs without HTTP. Every function follows the client's conventions
 * (wb_api.h): 0 or a negative errno with err filled, -ENOENT for an object
 * the server reports as null, structs handed over to the caller (released
 * with the client's *_free), listing callbacks owning each item.
 */
#ifndef WFS_BACKEND_H
#define WFS_BACKEND_H

#include <stddef.h>

#include "wb_api.h"

struct wfs_backend {
	void *ud; /* first argument of every call */
	int (*viewer)(void *ud, struct wb_viewer **out, struct wb_error *err);
	int (*entity)(void *ud, const char *name, struct wb_entity **out,
		      struct wb_error *err);
	/* Every project of an entity. */
	int (*projects)(void *ud, const char *entity, wb_project_cb cb,
			void *cb_ud, struct wb_error *err);
	/* One project, with the fields a listing leaves out (runCount). */
	int (*project)(void *ud, const char *entity, const char *name,
		       struct wb_project **out, struct wb_error *err);
	/* Every run of a project, light fields only, in the server's order. */
	int (*runs)(void *ud, const char *entity, const char *project,
		    wb_run_cb cb, void *cb_ud, struct wb_error *err);
	/* The named runs with the heavy fields in `heavy` (WB_RUN_* bits);
	 * runs that do not exist are not reported. cb may be called from
	 * several threads at once, and never under a lock of the backend. */
	int (*runs_fetch)(void *ud, const char *entity, const char *project,
			  const char *const *names, size_t n, unsigned heavy,
			  wb_run_cb cb, void *cb_ud, struct wb_error *err);
	/* Runs one request carries: with heavy fields, and light only. A
	 * group of the fetcher never exceeds these, so it costs one request. */
	size_t batch_heavy, batch_light;
	/* Requests the backend sends at once. */
	unsigned max_inflight;
};

/* The table backed by the client library. */
void wfs_backend_client(struct wfs_backend *b, struct wb_client *c);

#endif
