/* wb_history.h — run history, system-metric events and console output.
 *
 * Rows are delivered as the server's JSON text of one row (a JSON object,
 * extended JSON: may contain NaN/Infinity; parse with wb_json_parse). The
 * text is borrowed for the duration of the callback. A non-zero callback
 * result stops the call and is returned. A null project or run is -ENOENT.
 */
#ifndef WB_HISTORY_H
#define WB_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include "wb_client.h"

typedef int (*wb_row_cb)(void *ud, const char *json, size_t len);

struct wb_history_scan {
	int64_t min_step; /* first step (inclusive); 0 = from the start */
	int64_t max_step; /* end step (exclusive); -1 = to the last step */
	int page;         /* steps per request window; 0 = 1000 */
};

/* Every history row with min_step <= _step < max_step, in step order: the
 * full-scan algorithm (historyKeys.lastStep bounds the scan; windows
 * history(minStep, maxStep, samples); an empty window is not the end).
 * q may be NULL (everything). */
int wb_history_scan(struct wb_client *c, const char *entity,
		    const char *project, const char *run,
		    const struct wb_history_scan *q, wb_row_cb cb, void *ud,
		    struct wb_error *err);

/* historyKeys.lastStep of the run, -1 when it has no history. */
int wb_history_last_step(struct wb_client *c, const char *entity,
			 const char *project, const char *run, int64_t *out,
			 struct wb_error *err);

/* A server-side sample of at most `samples` rows over the whole run
 * (samples <= 0: 500, the SDK's default). Not complete: use the scan. */
int wb_history_sampled(struct wb_client *c, const char *entity,
		       const char *project, const char *run, int samples,
		       wb_row_cb cb, void *ud, struct wb_error *err);

/* System-metric event rows (samples <= 0: 500). */
int wb_events(struct wb_client *c, const char *entity, const char *project,
	      const char *run, int samples, wb_row_cb cb, void *ud,
	      struct wb_error *err);

struct wb_log_line {
	int64_t number;  /* 0-based absolute line number; -1 if unknown */
	char *timestamp; /* UTC without zone, or NULL */
	char *level;     /* "error" for stderr, else "" or NULL */
	char *label;     /* writer label in shared mode, or NULL */
	char *line;      /* the text (never NULL) */
};

typedef int (*wb_log_line_cb)(void *ud, struct wb_log_line *l);

struct wb_log_result {
	int64_t line_count; /* the run's logLineCount, -1 when unknown */
	int complete;       /* 1 when every line up to line_count came back;
			       0 when an old server only gave the tail */
};

/* Every console line in order, paged with useImprovedPagination (per_page
 * 0 = 1000), continuing while the last number + 1 < logLineCount. A server
 * without that argument is read through logLines(last: logLineCount): the
 * newest lines it is willing to return (res->complete says whether that was
 * all of them). res may be NULL. Runs without console output give no lines. */
int wb_log_lines(struct wb_client *c, const char *entity, const char *project,
		 const char *run, int per_page, wb_log_line_cb cb, void *ud,
		 struct wb_log_result *res, struct wb_error *err);
void wb_log_line_free(struct wb_log_line *l);

#endif
