/* wb_error.h — how the client reports failures.
 *
 * Every client function returns 0 on success or a negative errno, and fills
 * an optional struct wb_error with the same code and one human-readable line.
 * Messages never contain the API key. Mapping:
 *   401/403 from the API -> -EACCES, null object / 404 -> -ENOENT,
 *   deadline or attempt timeout -> -ETIMEDOUT, retries exhausted on 429/5xx or
 *   connection errors -> -EIO (or -EAGAIN for 429), GraphQL `errors` -> -EIO
 *   (-EINVAL when the server rejected the document itself), bodies larger
 *   than their bound -> -EFBIG, malformed JSON -> -EBADMSG, OOM -> -ENOMEM.
 */
#ifndef WB_ERROR_H
#define WB_ERROR_H

#define WB_ERRMSG_MAX 512

struct wb_error {
	int code;        /* negative errno; 0 = no error */
	int http_status; /* last HTTP status seen, 0 if none */
	char msg[WB_ERRMSG_MAX];
};

/* Fill *err (may be NULL) and return code, so callers can write
 * `return wb_error_set(err, -ENOENT, 0, "no project %s", name);`. */
int wb_error_set(struct wb_error *err, int code, int http_status,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reset to "no error". */
void wb_error_clear(struct wb_error *err);

#endif
