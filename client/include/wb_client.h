/* wb_client.h — the client handle: settings + HTTP pool + GraphQL.
 *
 * One wb_client is shared by all threads of a process. It owns the HTTP
 * pool and knows the base/app URLs. Typed W&B calls live in wb_api.h and the
 * other wb_*.h headers; they all take a struct wb_client *.
 */
#ifndef WB_CLIENT_H
#define WB_CLIENT_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "wb_error.h"
#include "wb_http.h"
#include "wb_settings.h"

struct wb_client;

/* Create a client from resolved settings and HTTP options (http->base_url
 * and http->api_key are taken from settings when NULL). Copies what it needs. */
int wb_client_new(const struct wb_settings *settings,
		  const struct wb_http_opts *http, struct wb_client **out,
		  struct wb_error *err);
void wb_client_free(struct wb_client *c);

const char *wb_client_base_url(const struct wb_client *c);
const char *wb_client_app_url(const struct wb_client *c);
struct wb_http *wb_client_http(struct wb_client *c);

/* Web UI link: the app URL, then each segment of the NULL-terminated list
 * percent-encoded as Python's quote(s, safe="") (so '/' becomes %2F), e.g.
 * wb_client_web_url(c, ent, proj, "runs", id, NULL). Caller frees; NULL on
 * OOM. */
char *wb_client_web_url(const struct wb_client *c, ...)
	__attribute__((sentinel));

/* How many requests the client sends at once (--max-requests). */
int wb_client_max_inflight(const struct wb_client *c);

/* Run job(ud, i) for i in [0, n) on up to max_inflight threads (the caller's
 * among them); returns the first non-zero job result (all jobs still run) or
 * 0. Jobs run at the same time, with no client lock held. Used for batched
 * fetches that should go out in parallel. */
int wb_client_parallel(struct wb_client *c, size_t n,
		       int (*job)(void *ud, size_t i), void *ud);

/* Execute the GraphQL operation `op` (its name in client/queries/) with
 * `vars` (a JSON object; ownership passes to the callee; NULL = {}).
 * On success *data receives the `data` object (caller cJSON_Delete()s it).
 * A response with `errors` fails (-EIO, or -EINVAL for validation errors, the
 * message joined as the SDK does) and partial data is discarded. */
int wb_gql(struct wb_client *c, const char *op, cJSON *vars, cJSON **data,
	   struct wb_error *err);

#endif
