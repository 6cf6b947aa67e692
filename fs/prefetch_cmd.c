/* prefetch_cmd.c — `wandbfs prefetch [-j N] [-q] PATH...`: warms the caches
 * of a mounted wandbfs for the subtrees PATH, e.g. before a training job.
 *
 * It only reads every regular file through the mount, with a bounded
 * number of parallel readers: that is what fills the mount's disk cache
 * and the kernel's page cache, so no channel to the mount process is
 * needed and the same mount logic (prefetcher, disk cache, URL refresh)
 * serves it. Symlinks (aliases, references) are not followed inside a
 * subtree, so nothing is read twice and no cycle is possible; a PATH that
 * is itself a symlink is resolved.
 *
 * Two passes: the first only stats (sizes for the progress bar and its
 * ETA; versions are immutable, so the mount answers from its caches),
 * the second streams paths through a bounded queue to the readers, so
 * memory does not grow with the size of the tree.
 *
 * Output: a progress bar on stderr when it is a terminal (bytes and files,
 * rate, ETA), then one summary line on stdout; each failing file on
 * stderr. Exit 0 when every file was read whole, else 1 (2: usage).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wfs_prefetch_cmd.h"

#define JOBS_DEFAULT 8
#define JOBS_MAX 64
#define QUEUE_LEN 256 /* paths waiting for a reader */
#define READ_BUF (1 << 20)
#define TICK_NS 200000000L /* progress redraw period */
#define MOUNT_FSTYPE "fuse.wandbfs"

struct job {
	char *path;
	int64_t size;
};

struct prefetch {
	/* totals from the first pass */
	uint64_t files_total, bytes_total;
	/* progress of the second */
	atomic_uint_fast64_t files_done, bytes_done, failed;

	pthread_mutex_t mu; /* the queue and `done` */
	pthread_cond_t not_empty, not_full;
	struct job queue[QUEUE_LEN];
	size_t head, count;
	int done; /* the walk has ended */

	pthread_mutex_t out_mu; /* lines on stderr vs the bar */
	int tty;                /* draw the bar */
	int counting;           /* first pass: failures not reported yet */
	struct timespec start;
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
		(double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 1536 -> "1.50 KiB" */
static void human(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
}

/* A failure: its own line on stderr (clearing the bar first). */
static void report(struct prefetch *p, const char *path, const char *why)
{
	pthread_mutex_lock(&p->out_mu);
	fprintf(stderr, "%swandbfs prefetch: %s: %s\n",
		p->tty ? "\r\033[K" : "", path, why);
	pthread_mutex_unlock(&p->out_mu);
}

static void fail(struct prefetch *p, const char *path, const char *why)
{
	if (p->counting) /* the reading pass meets it again */
		return;
	atomic_fetch_add(&p->failed, 1);
	report(p, path, why);
}

/* ---- is PATH inside a wandbfs mount? ----------------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Whether mount point mp contains path (both absolute, canonical). */
static size_t covers(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (strcmp(mp, "/") == 0)
		return 1;
	return strncmp(mp, path, n) == 0 && (path[n] == '/' || !path[n]) ? n
									 : 0;
}

/* 0 when the innermost mount holding `real` is a wandbfs; -ENOTSUP when
 * it is another filesystem; -errno when mountinfo is unreadable. */
static int check_mount(const char *real)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0, best = 0;
	int is_ours = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *mp = NULL, *tok, *sep;
		size_t n;
		int i = 0;

		/* id parent dev root MOUNTPOINT opts [tags] - FSTYPE ... */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && i < 4;
		     tok = strtok_r(NULL, " ", &save))
			i++;
		mp = tok;
		if (!mp)
			continue;
		unescape(mp);
		n = covers(mp, real);
		if (n && n >= best) {
			char *fstype = strtok_r(sep + 3, " ", &save);

			best = n;
			is_ours = fstype && strcmp(fstype, MOUNT_FSTYPE) == 0;
		}
	}
	free(line);
	fclose(f);
	return is_ours ? 0 : -ENOTSUP;
}

/* ---- the walk ---------------------------------------------------------- */

typedef void (*visit_fn)(struct prefetch *p, const char *path,
			 const struct stat *st);

/* Every regular file under path (a buffer of PATH_MAX holding len bytes),
 * without following symlinks or leaving the filesystem `dev`. */
static void walk_dir(struct prefetch *p, char *path, size_t len, dev_t dev,
		     visit_fn visit)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		fail(p, path, strerror(errno));
		return;
	}
	errno = 0;
	while ((e = readdir(d))) {
		size_t nlen = strlen(e->d_name);
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (len + 1 + nlen >= PATH_MAX) {
			path[len] = '\0';
			fail(p, path, "path too long below it");
			continue;
		}
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, nlen + 1);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			fail(p, path, strerror(errno));
		else if (S_ISDIR(st.st_mode) && st.st_dev == dev)
			walk_dir(p, path, len + 1 + nlen, dev, visit);
		else if (S_ISREG(st.st_mode))
			visit(p, path, &st);
		path[len] = '\0';
		errno = 0;
	}
	if (errno)
		fail(p, path, strerror(errno));
	closedir(d);
}

static void walk(struct prefetch *p, const char *root, visit_fn visit)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat(root, &st)) {
		fail(p, root, strerror(errno));
		return;
	}
	if (S_ISREG(st.st_mode)) {
		visit(p, root, &st);
		return;
	}
	snprintf(path, sizeof(path), "%s", root);
	walk_dir(p, path, strlen(path), st.st_dev, visit);
}

static void count_file(struct prefetch *p, const char *path,
		       const struct stat *st)
{
	(void)path;
	p->files_total++;
	p->bytes_total += (uint64_t)st->st_size;
}

static void queue_file(struct prefetch *p, const char *path,
		       const struct stat *st)
{
	char *copy = strdup(path);

	if (!copy) {
		fail(p, path, strerror(ENOMEM));
		return;
	}
	pthread_mutex_lock(&p->mu);
	while (p->count == QUEUE_LEN)
		pthread_cond_wait(&p->not_full, &p->mu);
	p->queue[(p->head + p->count) % QUEUE_LEN] =
		(struct job){ copy, st->st_size };
	p->count++;
	pthread_cond_signal(&p->not_empty);
	pthread_mutex_unlock(&p->mu);
}

/* ---- readers ----------------------------------------------------------- */

/* Reads the whole file; a file shorter than its stat size is a failure
 * (the bytes were not all there to be cached). */
static void read_file(struct prefetch *p, const struct job *j, char *buf)
{
	int64_t got = 0;
	ssize_t n;
	int fd = open(j->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fail(p, j->path, strerror(errno));
		return;
	}
	while ((n = read(fd, buf, READ_BUF)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail(p, j->path, strerror(errno));
			close(fd);
			return;
		}
		got += n;
		atomic_fetch_add(&p->bytes_done, (uint64_t)n);
	}
	close(fd);
	if (got < j->size) {
		char why[96];

		snprintf(why, sizeof(why), "short read: %lld of %lld bytes",
			 (long long)got, (long long)j->size);
		fail(p, j->path, why);
		return;
	}
	atomic_fetch_add(&p->files_done, 1);
}

static void *reader(void *arg)
{
	struct prefetch *p = arg;
	char *buf = malloc(READ_BUF);

	for (;;) {
		struct job j;

		pthread_mutex_lock(&p->mu);
		while (!p->count && !p->done)
			pthread_cond_wait(&p->not_empty, &p->mu);
		if (!p->count) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->queue[p->head];
		p->head = (p->head + 1) % QUEUE_LEN;
		p->count--;
		pthread_cond_signal(&p->not_full);
		pthread_mutex_unlock(&p->mu);
		if (buf)
			read_file(p, &j, buf);
		else
			fail(p, j.path, strerror(ENOMEM));
		free(j.path);
	}
	free(buf);
	return NULL;
}

/* ---- progress ---------------------------------------------------------- */

static void draw(struct prefetch *p)
{
	uint64_t bytes = atomic_load(&p->bytes_done);
	uint64_t files = atomic_load(&p->files_done) + atomic_load(&p->failed);
	double secs = seconds_since(&p->start),
	       rate = secs > 0 ? bytes / secs : 0;
	double frac = p->bytes_total ? (double)bytes / p->bytes_total
		: p->files_total     ? (double)files / p->files_total
				     : 1;
	char done_s[16], total_s[16], rate_s[16], eta[48] = "--:--";
	struct winsize ws;
	int cols = 80, width, fill;

	if (frac > 1)
		frac = 1;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		cols = ws.ws_col;
	human((double)bytes, done_s, sizeof(done_s));
	human((double)p->bytes_total, total_s, sizeof(total_s));
	human(rate, rate_s, sizeof(rate_s));
	if (rate > 0 && p->bytes_total > bytes) {
		long left = (long)((p->bytes_total - bytes) / rate);

		snprintf(eta, sizeof(eta), "%ld:%02ld:%02ld", left / 3600,
			 left / 60 % 60, left % 60);
	}
	/* The text takes about 75 columns; the bar gets the rest. */
	width = cols - 78;
	width = width < 10 ? 10 : width > 40 ? 40 : width;
	fill = (int)(frac * width);
	pthread_mutex_lock(&p->out_mu);
	fprintf(stderr,
		"\r\033[K%3d%% [%.*s%*s] %s/%s  %llu/%llu files  "
		"%s/s  ETA %s",
		(int)(frac * 100), fill,
		"########################################", width - fill, "",
		done_s, total_s, (unsigned long long)files,
		(unsigned long long)p->files_total, rate_s, eta);
	fflush(stderr);
	pthread_mutex_unlock(&p->out_mu);
}

static void *progress(void *arg)
{
	struct prefetch *p = arg;
	struct timespec tick = { 0, TICK_NS };

	for (;;) {
		int done;

		pthread_mutex_lock(&p->mu);
		done = p->done == 2;
		pthread_mutex_unlock(&p->mu);
		if (done)
			break;
		draw(p);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: wandbfs prefetch [-j N] [-q] PATH...\n"
		"Reads every file under each PATH (in a wandbfs mount) so that the mount's\n"
		"disk cache and the page cache hold them, e.g. before a training job.\n"
		"  -j, --jobs=N   files read in parallel (%d, at most %d)\n"
		"  -q, --quiet    no progress bar (one summary line is always printed)\n"
		"  -h, --help\n",
		JOBS_DEFAULT, JOBS_MAX);
}

/* Resolves every PATH and checks it is in a wandbfs mount; prints why
 * not. The resolved paths are malloc'd into real[]. */
static int resolve_paths(int n, char *const paths[], char *real[])
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		int rc;

		real[i] = realpath(paths[i], NULL);
		if (!real[i]) {
			fprintf(stderr, "wandbfs prefetch: %s: %s\n", paths[i],
				strerror(errno));
			bad = 1;
			continue;
		}
		rc = check_mount(real[i]);
		if (rc) {
			fprintf(stderr, "wandbfs prefetch: %s: %s\n", paths[i],
				rc == -ENOTSUP ? "not in a wandbfs mount"
					       : strerror(-rc));
			bad = 1;
		}
	}
	return bad;
}

static void summary(struct prefetch *p)
{
	uint64_t bytes = atomic_load(&p->bytes_done);
	uint64_t files = atomic_load(&p->files_done);
	uint64_t failed = atomic_load(&p->failed);
	double secs = seconds_since(&p->start);
	char size_s[16], rate_s[16];

	human((double)bytes, size_s, sizeof(size_s));
	human(secs > 0 ? bytes / secs : 0, rate_s, sizeof(rate_s));
	if (p->tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	printf("wandbfs prefetch: %llu files, %s in %.1f s (%s/s)",
	       (unsigned long long)files, size_s, secs, rate_s);
	if (failed)
		printf("; %llu failed", (unsigned long long)failed);
	printf("\n");
	fflush(stdout);
}

int wfs_prefetch_cmd(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prefetch p = { 0 };
	pthread_t readers[JOBS_MAX], bar;
	long jobs = JOBS_DEFAULT;
	int quiet = 0, c, n, rc;
	char **real;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			errno = 0;
			jobs = strtol(optarg, &end, 10);
			if (errno || *end || jobs < 1 || jobs > JOBS_MAX) {
				fprintf(stderr,
					"wandbfs prefetch: -j wants "
					"1..%d, not '%s'\n",
					JOBS_MAX, optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	n = argc - optind;
	if (n < 1) {
		usage(stderr);
		return 2;
	}
	real = calloc((size_t)n, sizeof(*real));
	if (!real)
		return 1;
	rc = resolve_paths(n, argv + optind, real);
	if (rc)
		goto out;

	pthread_mutex_init(&p.mu, NULL);
	pthread_mutex_init(&p.out_mu, NULL);
	pthread_cond_init(&p.not_empty, NULL);
	pthread_cond_init(&p.not_full, NULL);
	p.tty = !quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	p.counting = 1;
	for (int i = 0; i < n; i++)
		walk(&p, real[i], count_file);
	p.counting = 0;
	for (long i = 0; i < jobs; i++)
		if (pthread_create(&readers[i], NULL, reader, &p)) {
			jobs = i;
			break;
		}
	if (jobs == 0) {
		fprintf(stderr, "wandbfs prefetch: cannot start readers\n");
		rc = 1;
		goto out;
	}
	if (p.tty && pthread_create(&bar, NULL, progress, &p))
		p.tty = 0;
	for (int i = 0; i < n; i++)
		walk(&p, real[i], queue_file);
	pthread_mutex_lock(&p.mu);
	p.done = 1;
	pthread_cond_broadcast(&p.not_empty);
	pthread_mutex_unlock(&p.mu);
	for (long i = 0; i < jobs; i++)
		pthread_join(readers[i], NULL);
	if (p.tty) {
		pthread_mutex_lock(&p.mu);
		p.done = 2;
		pthread_mutex_unlock(&p.mu);
		pthread_join(bar, NULL);
	}
	summary(&p);
	rc = atomic_load(&p.failed) ? 1 : 0;
out:
	for (int i = 0; i < n; i++)
		free(real[i]);
	free(real);
	return rc;
}
