/* log.c — the client's single logging channel: a process-wide sink and
 * level filter (wb_log.h). Lines are bounded and never end in a newline. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wb_log.h"

#define WB_LOG_LINE_MAX 2048

static wb_log_sink log_sink;
static void *log_ud;
static enum wb_log_level log_max = WB_LOG_WARN;

void wb_log_set_sink(wb_log_sink sink, void *ud, enum wb_log_level max_level)
{
	log_sink = sink;
	log_ud = ud;
	log_max = max_level;
}

int wb_log_enabled(enum wb_log_level level)
{
	return log_sink && level <= log_max;
}

void wb_log(enum wb_log_level level, const char *fmt, ...)
{
	char line[WB_LOG_LINE_MAX];
	va_list ap;
	int n;

	if (!wb_log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	n = (int)strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_sink(log_ud, level, line);
}
