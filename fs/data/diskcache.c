/* diskcache.c — the disk cache of artifact bytes in the wandb SDK's layout
 * (the contract and the safety argument are in wfs_diskcache.h).
 *
 * Owns: the object paths, temp files and their atomic publication, the MD5
 * check of what is published, the size bound and LRU eviction, and the
 * lazy removal of our stale temp files.
 *
 * Accounting: the total size of the objects is not kept anywhere on disk
 * (the SDK and other mounts change it without telling us). A scan of obj/
 * measures it; between scans each commit adds its size to the estimate; a
 * new scan runs when the estimate passes the bound or the last scan is
 * older than SCAN_MAX_AGE, so objects other processes added are counted
 * within minutes. A scan evicts down to LOW_WATER of the bound, so commits
 * do not rescan each time. Memory is bounded: a scan keeps only the oldest
 * EVICT_BATCH candidates (a heap) and runs again if that was not enough.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "wb_log.h"
#include "wfs_diskcache.h"
#include "wfs_md5.h"

#define DIR_MODE 0700
#define FILE_MODE 0600
#define TMP_PREFIX "wandbfs-"
#define TMP_SUFFIX ".part"
#define TMP_STALE_SECS (6 * 3600) /* a temp untouched this long is dead */
#define SWEEP_EVERY_SECS 3600     /* stale-temp sweeps, at most */
#define SCAN_MAX_AGE_SECS 600     /* re-measure the total at least this often */
#define TOUCH_GRANULARITY_SECS 60 /* a hit moves atime only if older */
#define LOW_WATER(max) ((max) / 10 * 9)
#define EVICT_BATCH 8192 /* candidates kept per eviction scan */
#define EVICT_ROUNDS 8
#define HASH_BUF (1 << 20)               /* commit reads the file back */
#define BIG_OBJECT ((int64_t)64 << 20)   /* checked for room up front */
#define FREE_MARGIN ((uint64_t)64 << 20) /* left free on the filesystem */

struct wfs_diskcache {
	char obj[PATH_MAX]; /* DIR/artifacts/obj */
	char tmp[PATH_MAX]; /* DIR/artifacts/tmp */
	uint64_t max;
	char host[65]; /* temp names: unique across NFS clients */
	atomic_uint seq;

	pthread_mutex_t mu; /* the fields below */
	uint64_t total;     /* estimate of obj/'s bytes */
	time_t scanned;     /* 0 = never */
	time_t swept;
	int evicting; /* one thread scans at a time */
};

struct wfs_diskcache_writer {
	struct wfs_diskcache *c;
	int fd;
	int64_t size;
	uint8_t want[WFS_MD5_LEN];
	char final[PATH_MAX];
	char tmp[PATH_MAX];
	atomic_int err; /* first write error */
};

/* ---- names ------------------------------------------------------------ */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* md5_hex (either case) -> bytes and the lowercase hex the SDK uses. */
static int parse_md5(const char *md5_hex, uint8_t bin[WFS_MD5_LEN],
		     char lower[2 * WFS_MD5_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	if (!md5_hex || strlen(md5_hex) != 2 * WFS_MD5_LEN)
		return -EINVAL;
	for (int i = 0; i < WFS_MD5_LEN; i++) {
		int hi = hexval(md5_hex[2 * i]),
		    lo = hexval(md5_hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		bin[i] = (uint8_t)(hi << 4 | lo);
		lower[2 * i] = digits[hi];
		lower[2 * i + 1] = digits[lo];
	}
	lower[2 * WFS_MD5_LEN] = '\0';
	return 0;
}

/* The final name of an md5 object and its two-hex directory. */
static int md5_paths(const struct wfs_diskcache *c, const char *hex, char *file,
		     char *dir)
{
	int n = snprintf(dir, PATH_MAX, "%s/md5/%.2s", c->obj, hex);

	if (n < 0 || n >= PATH_MAX ||
	    snprintf(file, PATH_MAX, "%s/%s", dir, hex + 2) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Modes exactly 0700 / 0600 whatever the umask: a umask may remove the
 * owner's own bits, and the cache needs them. */
static int mkdir_one(const char *path)
{
	if (mkdir(path, DIR_MODE) == 0)
		return chmod(path, DIR_MODE) ? -errno : 0;
	return errno == EEXIST ? 0 : -errno;
}

/* mkdir -p, mode 0700 for what it creates. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir_one(buf);

		*p = '/';
		if (rc)
			return rc;
	}
	return mkdir_one(buf);
}

int wfs_diskcache_default_dir(char *buf, size_t len)
{
	const char *env = getenv("WANDB_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/wandb", xdg);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.cache/wandb", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- open / close ----------------------------------------------------- */

int wfs_diskcache_open(const char *dir, uint64_t max_bytes,
		       struct wfs_diskcache **out)
{
	struct wfs_diskcache *c;
	char md5dir[PATH_MAX];
	int rc;

	*out = NULL;
	if (!dir || !*dir)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (snprintf(c->obj, sizeof(c->obj), "%s/artifacts/obj", dir) >=
		    PATH_MAX ||
	    snprintf(c->tmp, sizeof(c->tmp), "%s/artifacts/tmp", dir) >=
		    PATH_MAX ||
	    snprintf(md5dir, sizeof(md5dir), "%s/md5", c->obj) >= PATH_MAX)
		rc = -ENAMETOOLONG;
	else
		rc = mkdir_p(md5dir);
	if (!rc)
		rc = mkdir_one(c->tmp);
	if (rc) {
		wb_log(WB_LOG_ERROR, "disk cache %s: %s", dir, strerror(-rc));
		free(c);
		return rc;
	}
	c->max = max_bytes ? max_bytes : WFS_DISKCACHE_MAX_DEFAULT;
	if (gethostname(c->host, sizeof(c->host) - 1))
		strcpy(c->host, "host");
	for (char *p = c->host; *p; p++)
		if (*p == '/')
			*p = '_';
	atomic_init(&c->seq, 0);
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
}

void wfs_diskcache_close(struct wfs_diskcache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* ---- lookup ----------------------------------------------------------- */

int wfs_diskcache_lookup(struct wfs_diskcache *c, const char *md5_hex,
			 int64_t size, int *fd)
{
	char hex[2 * WFS_MD5_LEN + 1], file[PATH_MAX], dir[PATH_MAX];
	uint8_t bin[WFS_MD5_LEN];
	struct timespec now;
	struct stat st;
	int rc, f;

	*fd = -1;
	rc = parse_md5(md5_hex, bin, hex);
	if (!rc)
		rc = md5_paths(c, hex, file, dir);
	if (rc)
		return rc;
	f = open(file, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (fstat(f, &st)) {
		rc = -errno;
		close(f);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != size) {
		close(f);
		return -ENOENT;
	}
	/* LRU: a hit makes the object young again. Coarse, so that reading
	 * many small files does not cost a metadata write (an NFS round
	 * trip) per open; failures (a read-only shared cache) are fine. */
	clock_gettime(CLOCK_REALTIME, &now);
	if (st.st_atim.tv_sec + TOUCH_GRANULARITY_SECS < now.tv_sec) {
		struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

		(void)futimens(f, ts);
	}
	*fd = f;
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

int wfs_diskcache_begin(struct wfs_diskcache *c, const char *md5_hex,
			int64_t size, struct wfs_diskcache_writer **out)
{
	char hex[2 * WFS_MD5_LEN + 1], dir[PATH_MAX];
	struct wfs_diskcache_writer *w;
	struct statvfs vfs;
	int rc;

	*out = NULL;
	if (size < 0)
		return -EINVAL;
	/* An object bigger than the whole bound would evict everything and
	 * then itself; one the filesystem has no room for would fail late. */
	if ((uint64_t)size > c->max)
		return -ENOSPC;
	if (size >= BIG_OBJECT && statvfs(c->tmp, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize <
		    (uint64_t)size + FREE_MARGIN)
		return -ENOSPC;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->c = c;
	w->size = size;
	w->fd = -1;
	rc = parse_md5(md5_hex, w->want, hex);
	if (!rc)
		rc = md5_paths(c, hex, w->final, dir);
	for (int tries = 0; !rc && w->fd < 0; tries++) {
		unsigned seq = atomic_fetch_add(&c->seq, 1);

		if (snprintf(w->tmp, sizeof(w->tmp),
			     "%s/" TMP_PREFIX "%s-%ld-%u-%s" TMP_SUFFIX, c->tmp,
			     c->host, (long)getpid(), seq, hex) >= PATH_MAX) {
			rc = -ENAMETOOLONG;
			break;
		}
		w->fd = open(w->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			     FILE_MODE);
		if (w->fd < 0 && (errno != EEXIST || tries > 100))
			rc = -errno;
	}
	if (!rc && fchmod(w->fd, FILE_MODE))
		rc = -errno;
	if (rc) {
		if (w->fd >= 0) {
			close(w->fd);
			unlink(w->tmp);
		}
		free(w);
		return rc;
	}
	atomic_init(&w->err, 0);
	*out = w;
	return 0;
}

int wfs_diskcache_write(struct wfs_diskcache_writer *w, int64_t off,
			const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	int rc = 0;

	if (off < 0 || (uint64_t)off > (uint64_t)w->size ||
	    len > (uint64_t)(w->size - off))
		return -EINVAL;
	while (done < len) {
		ssize_t n = pwrite(w->fd, p + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (rc) {
		int none = 0;

		atomic_compare_exchange_strong(&w->err, &none, rc);
	}
	return rc;
}

static void writer_free(struct wfs_diskcache_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

void wfs_diskcache_abort(struct wfs_diskcache_writer *w)
{
	if (!w)
		return;
	unlink(w->tmp);
	writer_free(w);
}

/* ---- eviction --------------------------------------------------------- */

struct cand {
	struct timespec atime;
	uint64_t size;
	char rel[96]; /* under obj/: KIND/XX/REST */
};

static int older(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? a->tv_sec < b->tv_sec
				      : a->tv_nsec < b->tv_nsec;
}

/* A max-heap on atime: the root is the youngest of the oldest kept. */
struct heap {
	struct cand *v;
	size_t n;
	uint64_t bytes;
};

static void heap_sift_down(struct heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct cand t;

		if (l < h->n && older(&h->v[m].atime, &h->v[l].atime))
			m = l;
		if (r < h->n && older(&h->v[m].atime, &h->v[r].atime))
			m = r;
		if (m == i)
			return;
		t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
}

static void heap_pop(struct heap *h)
{
	h->bytes -= h->v[0].size;
	h->v[0] = h->v[--h->n];
	heap_sift_down(h, 0);
}

/* Keeps the oldest objects whose sizes add up to `need` (at most
 * EVICT_BATCH of them). */
static void heap_offer(struct heap *h, const struct cand *c, uint64_t need)
{
	size_t i;

	if (h->n == EVICT_BATCH || (h->bytes >= need && h->n)) {
		if (!older(&c->atime, &h->v[0].atime))
			return;
		if (h->n == EVICT_BATCH)
			heap_pop(h);
	}
	i = h->n++;
	h->v[i] = *c;
	h->bytes += c->size;
	while (i) { /* sift up */
		size_t p = (i - 1) / 2;
		struct cand t;

		if (!older(&h->v[p].atime, &h->v[i].atime))
			break;
		t = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = t;
		i = p;
	}
	while (h->n > 1 && h->bytes - h->v[0].size >= need)
		heap_pop(h);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return older(&x->atime, &y->atime)    ? -1
		: older(&y->atime, &x->atime) ? 1
					      : 0;
}

typedef void (*scan_fn)(void *ud, const char *rel, const struct stat *st);

/* Calls fn for every regular file obj/KIND/XX/NAME (the SDK's md5 and
 * etag objects alike). */
static void scan_objects(struct wfs_diskcache *c, scan_fn fn, void *ud)
{
	DIR *kinds = opendir(c->obj);
	struct dirent *k, *x, *f;

	if (!kinds)
		return;
	while ((k = readdir(kinds))) {
		char p1[PATH_MAX];
		DIR *xx;

		if (k->d_name[0] == '.' ||
		    snprintf(p1, sizeof(p1), "%s/%s", c->obj, k->d_name) >=
			    PATH_MAX ||
		    !(xx = opendir(p1)))
			continue;
		while ((x = readdir(xx))) {
			char p2[PATH_MAX];
			DIR *files;

			if (x->d_name[0] == '.' ||
			    snprintf(p2, sizeof(p2), "%s/%s", p1, x->d_name) >=
				    PATH_MAX ||
			    !(files = opendir(p2)))
				continue;
			while ((f = readdir(files))) {
				char rel[sizeof(((struct cand *)0)->rel)];
				struct stat st;

				if (f->d_name[0] == '.' ||
				    fstatat(dirfd(files), f->d_name, &st,
					    AT_SYMLINK_NOFOLLOW) ||
				    !S_ISREG(st.st_mode) ||
				    snprintf(rel, sizeof(rel), "%s/%s/%s",
					     k->d_name, x->d_name,
					     f->d_name) >= (int)sizeof(rel))
					continue;
				fn(ud, rel, &st);
			}
			closedir(files);
		}
		closedir(xx);
	}
	closedir(kinds);
}

struct scan_state {
	uint64_t total;
	uint64_t need; /* bytes to free; 0 = only measure */
	struct heap heap;
};

static void scan_total(void *ud, const char *rel, const struct stat *st)
{
	struct scan_state *s = ud;

	(void)rel;
	s->total += (uint64_t)st->st_size;
}

static void scan_evictable(void *ud, const char *rel, const struct stat *st)
{
	struct scan_state *s = ud;
	struct cand cd = { .atime = st->st_atim,
			   .size = (uint64_t)st->st_size };

	snprintf(cd.rel, sizeof(cd.rel), "%s", rel);
	heap_offer(&s->heap, &cd, s->need);
}

/* Measures obj/ and, when over the bound, unlinks the least recently used
 * objects down to LOW_WATER. Returns the total left. Runs without c->mu
 * (only one thread at a time, see maybe_evict). */
static uint64_t evict(struct wfs_diskcache *c)
{
	struct scan_state s = { 0 };
	uint64_t evicted = 0;
	size_t files = 0;
	int objfd = open(c->obj, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (objfd < 0)
		return 0;
	scan_objects(c, scan_total, &s);
	for (int round = 0; round < EVICT_ROUNDS && s.total > c->max; round++) {
		s.need = s.total - LOW_WATER(c->max);
		s.heap.n = 0;
		s.heap.bytes = 0;
		if (!s.heap.v)
			s.heap.v = malloc(EVICT_BATCH * sizeof(*s.heap.v));
		if (!s.heap.v)
			break;
		scan_objects(c, scan_evictable, &s);
		if (!s.heap.n)
			break;
		qsort(s.heap.v, s.heap.n, sizeof(*s.heap.v), cand_cmp);
		for (size_t i = 0; i < s.heap.n && s.need; i++) {
			uint64_t sz = s.heap.v[i].size;

			/* Unlinked by another process meanwhile: gone too. */
			if (unlinkat(objfd, s.heap.v[i].rel, 0) &&
			    errno != ENOENT)
				continue;
			s.total -= sz < s.total ? sz : s.total;
			s.need -= sz < s.need ? sz : s.need;
			evicted += sz;
			files++;
		}
	}
	free(s.heap.v);
	close(objfd);
	if (files)
		wb_log(WB_LOG_INFO,
		       "disk cache: evicted %zu objects (%llu "
		       "bytes); %llu bytes left",
		       files, (unsigned long long)evicted,
		       (unsigned long long)s.total);
	return s.total;
}

/* Removes our temp files nobody has written for TMP_STALE_SECS (a mount
 * that died mid-download). Only ours: the SDK's temp files are its own. */
static void sweep_tmp(struct wfs_diskcache *c, time_t now)
{
	DIR *d = opendir(c->tmp);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(TMP_SUFFIX);
		struct stat st;

		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) ||
		    len < sl || strcmp(e->d_name + len - sl, TMP_SUFFIX) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || st.st_mtime + TMP_STALE_SECS > now)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* After a commit of `added` bytes: housekeeping when due, by one thread. */
static void maybe_evict(struct wfs_diskcache *c, uint64_t added)
{
	time_t now = time(NULL);
	int scan, sweep;
	uint64_t total;

	pthread_mutex_lock(&c->mu);
	c->total += added;
	scan = !c->evicting &&
		(c->total > c->max || !c->scanned ||
		 now - c->scanned >= SCAN_MAX_AGE_SECS);
	sweep = scan && now - c->swept >= SWEEP_EVERY_SECS;
	if (scan) {
		c->evicting = 1;
		c->scanned = now;
		c->total = 0; /* the commits during the scan are added here */
	}
	if (sweep)
		c->swept = now;
	pthread_mutex_unlock(&c->mu);
	if (!scan)
		return;
	if (sweep)
		sweep_tmp(c, now);
	total = evict(c);
	pthread_mutex_lock(&c->mu);
	c->total += total;
	c->evicting = 0;
	pthread_mutex_unlock(&c->mu);
}

/* ---- commit ----------------------------------------------------------- */

/* The MD5 of the temp file, which must be exactly w->size bytes long
 * (-ESPIPE: a shorter one was not completely written). Done here, in the committing
 * thread, rather than as writes arrive: the writers are the fetchers of
 * the mount, and reading the bytes back from the page cache is cheaper
 * than holding them up. */
static int hash_file(struct wfs_diskcache_writer *w, uint8_t out[WFS_MD5_LEN])
{
	struct wfs_md5 md5;
	struct stat st;
	int64_t off = 0;
	char *buf;

	if (fstat(w->fd, &st))
		return -errno;
	if (st.st_size != w->size)
		return -ESPIPE;
	buf = malloc(HASH_BUF);
	if (!buf)
		return -ENOMEM;
	wfs_md5_init(&md5);
	while (off < w->size) {
		size_t want = w->size - off < HASH_BUF ? (size_t)(w->size - off)
						       : HASH_BUF;
		ssize_t got = pread(w->fd, buf, want, off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			free(buf);
			return got < 0 ? -errno : -EIO;
		}
		wfs_md5_update(&md5, buf, (size_t)got);
		off += got;
	}
	free(buf);
	wfs_md5_final(&md5, out);
	return 0;
}

/* Publishes the verified temp file under its final name. */
static int publish(struct wfs_diskcache_writer *w)
{
	char dir[PATH_MAX];
	size_t dlen = strrchr(w->final, '/') - w->final;
	int rc = 0;

	memcpy(dir, w->final, dlen);
	dir[dlen] = '\0';
	/* Bytes on stable storage before the name: after a crash, or on
	 * another NFS client, the final name never shows a short file. */
	if (fdatasync(w->fd))
		rc = -errno;
	if (close(w->fd) && !rc)
		rc = -errno; /* NFS reports write errors at close */
	w->fd = -1;
	if (rc)
		return rc;
	/* The XX directory may be missing, or removed by a cleanup between
	 * our mkdir and the rename: retry a few times. */
	for (int tries = 0; tries < 3; tries++) {
		rc = mkdir_one(dir);
		if (rc)
			break;
		if (rename(w->tmp, w->final) == 0)
			return 0;
		rc = -errno;
		if (rc != -ENOENT)
			break;
	}
	return rc;
}

int wfs_diskcache_commit(struct wfs_diskcache_writer *w)
{
	struct wfs_diskcache *c = w->c;
	uint8_t got[WFS_MD5_LEN];
	int64_t size = w->size;
	const char *why = NULL;
	int rc = atomic_load(&w->err);

	if (!rc)
		rc = hash_file(w, got);
	if (rc == -ESPIPE) {
		why = "not every byte was written";
		rc = -EIO;
	} else if (!rc && memcmp(got, w->want, sizeof(got))) {
		why = "the MD5 differs from the manifest's";
		rc = -EIO;
	}
	if (!rc)
		rc = publish(w);
	if (rc) {
		wb_log(WB_LOG_WARN, "disk cache: %s: %s; not cached", w->final,
		       why ? why : strerror(-rc));
		wfs_diskcache_abort(w);
		return rc;
	}
	writer_free(w);
	maybe_evict(c, (uint64_t)size);
	return 0;
}
