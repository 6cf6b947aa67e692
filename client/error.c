/* error.c — struct wb_error: the code + one message every client call
 * reports (wb_error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wb_error.h"

int wb_error_set(struct wb_error *err, int code, int http_status,
		 const char *fmt, ...)
{
	char tmp[WB_ERRMSG_MAX];
	va_list ap;

	if (!err)
		return code;
	/* Format into a temporary first: callers often prefix the previous
	 * message ("ctx: %s", err->msg), and the buffers must not overlap. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(err->msg, tmp, sizeof(err->msg));
	err->code = code;
	err->http_status = http_status;
	return code;
}

void wb_error_clear(struct wb_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->http_status = 0;
	err->msg[0] = '\0';
}
