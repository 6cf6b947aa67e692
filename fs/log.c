/* log.c — the log sink (wfs_log.h): timestamped lines to stderr or a file,
 * or syslog after daemonizing. Installed as the wb_log sink so the client's
 * request lines and the filesystem's own share one channel. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "wb_log.h"
#include "wfs_log.h"

static struct {
	FILE *file; /* the log file, or NULL */
	int use_syslog;
	enum wb_log_level level;
	pthread_mutex_t mu;
} lg = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void sink(void *ud, enum wb_log_level level, const char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	FILE *out;

	(void)ud;
	if (lg.use_syslog && !lg.file) {
		syslog(prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	out = lg.file ? lg.file : stderr;
	pthread_mutex_lock(&lg.mu);
	fprintf(out, "%s.%03ld wandbfs %s: %s\n", stamp, ts.tv_nsec / 1000000L,
		level_names[level], line);
	fflush(out);
	pthread_mutex_unlock(&lg.mu);
}

int wfs_log_start(const char *path, int debug)
{
	lg.level = debug || path ? WB_LOG_DEBUG : WB_LOG_WARN;
	if (path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			      0600);

		if (fd < 0)
			return -errno;
		lg.file = fdopen(fd, "a");
		if (!lg.file) {
			int e = errno;

			close(fd);
			return -e;
		}
	}
	wb_log_set_sink(sink, NULL, lg.level);
	return 0;
}

void wfs_log_daemonized(void)
{
	if (lg.file)
		return;
	openlog("wandbfs", LOG_PID, LOG_DAEMON);
	lg.use_syslog = 1;
}

void wfs_log_stop(void)
{
	wb_log_set_sink(NULL, NULL, WB_LOG_ERROR);
	if (lg.file)
		fclose(lg.file);
	lg.file = NULL;
	if (lg.use_syslog)
		closelog();
	lg.use_syslog = 0;
}
