/* test_diskcache.c — fs/data/diskcache.c: the SDK's layout and modes,
 * lookup hit/miss and the size rule, writes in any order and from several
 * threads, atomic publication (nothing under the final name before commit,
 * an MD5 mismatch or a hole refused), abort, LRU eviction with touch on
 * hit, stale temp cleanup, and two processes writing one object while a
 * third keeps looking it up. Each test works in a fresh directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "wfs_diskcache.h"
#include "wfs_md5.h"

struct fixture {
	char dir[64];
	struct wfs_diskcache *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/wfs-diskcache-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	wfs_diskcache_close(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct wfs_diskcache *open_cache(struct fixture *f, uint64_t max)
{
	assert_int_equal(wfs_diskcache_open(f->dir, max, &f->c), 0);
	return f->c;
}

/* Deterministic content: object `seed`, n bytes. */
static char *content(unsigned seed, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)((i * 131 + seed * 7919 + (i >> 10)) & 0xff);
	return p;
}

static void md5_hex(const void *p, size_t n, char out[33])
{
	struct wfs_md5 m;
	uint8_t d[WFS_MD5_LEN];

	wfs_md5_init(&m);
	wfs_md5_update(&m, p, n);
	wfs_md5_final(&m, d);
	for (int i = 0; i < WFS_MD5_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void obj_path(const struct fixture *f, const char *hex, char *out,
		     size_t len)
{
	snprintf(out, len, "%s/artifacts/obj/md5/%.2s/%s", f->dir, hex,
		 hex + 2);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Entries in DIR/artifacts/tmp (our temp files and any others). */
static int tmp_count(const struct fixture *f)
{
	char path[256];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/artifacts/tmp", f->dir);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The whole object through lookup equals want. */
static void assert_cached(struct wfs_diskcache *c, const char *hex,
			  const char *want, size_t n)
{
	char *got = malloc(n + 1);
	int fd;

	assert_non_null(got);
	assert_int_equal(wfs_diskcache_lookup(c, hex, (int64_t)n, &fd), 0);
	assert_int_equal(pread(fd, got, n + 1, 0), (ssize_t)n);
	assert_memory_equal(got, want, n);
	close(fd);
	free(got);
}

/* Write, commit; the object is then present. */
static void put(struct wfs_diskcache *c, const char *data, size_t n,
		char hex[33])
{
	struct wfs_diskcache_writer *w;

	md5_hex(data, n, hex);
	assert_int_equal(wfs_diskcache_begin(c, hex, (int64_t)n, &w), 0);
	assert_int_equal(wfs_diskcache_write(w, 0, data, n), 0);
	assert_int_equal(wfs_diskcache_commit(w), 0);
}

static void miss_then_hit(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	char *data = content(1, 100000), hex[33], upper[33];
	int fd = -1;

	md5_hex(data, 100000, hex);
	assert_int_equal(wfs_diskcache_lookup(c, hex, 100000, &fd), -ENOENT);
	assert_int_equal(fd, -1);
	assert_int_equal(wfs_diskcache_lookup(c, "xyz", 1, &fd), -EINVAL);
	assert_int_equal(wfs_diskcache_lookup(c,
					      "0123456789abcdef0123456789"
					      "abcdeg",
					      1, &fd),
			 -EINVAL);
	put(c, data, 100000, hex);
	assert_cached(c, hex, data, 100000);
	/* Either case; the SDK's hit rule: another size is a miss. */
	for (int i = 0; i < 33; i++)
		upper[i] = (hex[i] >= 'a' && hex[i] <= 'f') ? hex[i] - 32
							    : hex[i];
	assert_cached(c, upper, data, 100000);
	assert_int_equal(wfs_diskcache_lookup(c, hex, 99999, &fd), -ENOENT);
	assert_int_equal(tmp_count(f), 0);
	free(data);
}

/* A file the SDK downloaded (written straight into the layout) is a hit;
 * an object of size 0 works too. */
static void sdk_object_and_empty(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	/* md5("abc"), as the SDK names it */
	const char *hex = "900150983cd24fb0d6963f7d28e17f72";
	char path[256], dir[256], ehex[33];
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/artifacts/obj/md5/90", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	obj_path(f, hex, path, sizeof(path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("abc", fp);
	fclose(fp);
	assert_cached(c, hex, "abc", 3);

	put(c, "", 0, ehex);
	assert_string_equal(ehex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_cached(c, ehex, "", 0);
}

/* Out-of-order writes of uneven pieces; nothing under the final name, and
 * the temp file outside obj/, until commit. */
static void out_of_order_atomic(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	const size_t n = 3 << 20;
	char *data = content(2, n), hex[33], path[256];
	size_t cuts[] = { 0, 1, 65536, 65537, 1 << 20, 2 << 20, 3000000, n };
	int order[] = { 5, 3, 6, 0, 2, 4, 1 };
	struct wfs_diskcache_writer *w;

	md5_hex(data, n, hex);
	obj_path(f, hex, path, sizeof(path));
	assert_int_equal(wfs_diskcache_begin(c, hex, (int64_t)n, &w), 0);
	assert_int_equal(tmp_count(f), 1);
	for (size_t k = 0; k < 7; k++) {
		int i = order[k];

		assert_int_equal(wfs_diskcache_write(w, (int64_t)cuts[i],
						     data + cuts[i],
						     cuts[i + 1] - cuts[i]),
				 0);
		assert_false(exists(path));
	}
	/* Beyond the end is refused. */
	assert_int_equal(wfs_diskcache_write(w, (int64_t)n - 1, "ab", 2),
			 -EINVAL);
	assert_int_equal(wfs_diskcache_commit(w), 0);
	assert_true(exists(path));
	assert_int_equal(tmp_count(f), 0);
	assert_cached(c, hex, data, n);
	free(data);
}

/* Wrong bytes, a hole: refused, nothing published, temp gone. */
static void mismatch_refused(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	const size_t n = 200000;
	char *data = content(3, n), hex[33], path[256];
	struct wfs_diskcache_writer *w;
	int fd;

	md5_hex(data, n, hex);
	obj_path(f, hex, path, sizeof(path));
	data[12345] ^= 1;
	assert_int_equal(wfs_diskcache_begin(c, hex, (int64_t)n, &w), 0);
	assert_int_equal(wfs_diskcache_write(w, 0, data, n), 0);
	assert_int_equal(wfs_diskcache_commit(w), -EIO);
	assert_false(exists(path));
	assert_int_equal(tmp_count(f), 0);

	data[12345] ^= 1;
	assert_int_equal(wfs_diskcache_begin(c, hex, (int64_t)n, &w), 0);
	assert_int_equal(wfs_diskcache_write(w, 0, data, 1000), 0);
	assert_int_equal(wfs_diskcache_write(w, 2000, data + 2000, n - 2000),
			 0);
	assert_int_equal(wfs_diskcache_commit(w), -EIO);
	assert_false(exists(path));
	assert_int_equal(wfs_diskcache_lookup(c, hex, (int64_t)n, &fd),
			 -ENOENT);
	assert_int_equal(tmp_count(f), 0);
	free(data);
}

static void abort_cleans_up(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	char *data = content(4, 5000), hex[33], path[256];
	struct wfs_diskcache_writer *w;

	md5_hex(data, 5000, hex);
	obj_path(f, hex, path, sizeof(path));
	assert_int_equal(wfs_diskcache_begin(c, hex, 5000, &w), 0);
	assert_int_equal(wfs_diskcache_write(w, 0, data, 5000), 0);
	wfs_diskcache_abort(w);
	wfs_diskcache_abort(NULL);
	assert_false(exists(path));
	assert_int_equal(tmp_count(f), 0);
	free(data);
}

/* Parallel range writers (several threads, interleaved pieces). */
struct piece_job {
	struct wfs_diskcache_writer *w;
	const char *data;
	size_t n, piece;
	int first, stride;
};

static void *write_pieces(void *arg)
{
	struct piece_job *j = arg;
	size_t count = (j->n + j->piece - 1) / j->piece;

	/* Backwards for odd threads: the pieces land in no particular order. */
	for (size_t k = 0; k < count; k++) {
		size_t i = j->first % 2 ? count - 1 - k : k;
		size_t off = i * j->piece;
		size_t len = j->n - off < j->piece ? j->n - off : j->piece;

		if ((int)(i % (size_t)j->stride) != j->first)
			continue;
		if (wfs_diskcache_write(j->w, (int64_t)off, j->data + off, len))
			return (void *)1;
	}
	return NULL;
}

static void parallel_writers(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	const size_t n = (8 << 20) + 333;
	char *data = content(5, n), hex[33];
	struct wfs_diskcache_writer *w;
	struct piece_job jobs[4];
	pthread_t t[4];

	md5_hex(data, n, hex);
	assert_int_equal(wfs_diskcache_begin(c, hex, (int64_t)n, &w), 0);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct piece_job){ w, data, n, 65536, i, 4 };
		assert_int_equal(
			pthread_create(&t[i], NULL, write_pieces, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(t[i], &r);
		assert_null(r);
	}
	assert_int_equal(wfs_diskcache_commit(w), 0);
	assert_cached(c, hex, data, n);
	free(data);
}

/* Thousands of one-byte writes, every odd offset first (holes until the
 * end): the whole file is verified at commit. */
static void many_ranges(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	const size_t n = 20000;
	char *data = content(6, n), hex[33];
	struct wfs_diskcache_writer *w;

	md5_hex(data, n, hex);
	assert_int_equal(wfs_diskcache_begin(c, hex, (int64_t)n, &w), 0);
	for (size_t i = 1; i < n; i += 2)
		assert_int_equal(
			wfs_diskcache_write(w, (int64_t)i, data + i, 1), 0);
	for (size_t i = 0; i < n; i += 2)
		assert_int_equal(
			wfs_diskcache_write(w, (int64_t)i, data + i, 1), 0);
	assert_int_equal(wfs_diskcache_commit(w), 0);
	assert_cached(c, hex, data, n);
	free(data);
}

static void modes(void **state)
{
	struct fixture *f = *state;
	const char *sub[] = { "", "/artifacts", "/artifacts/obj",
			      "/artifacts/obj/md5", "/artifacts/tmp" };
	char path[256], hex[33];
	mode_t old = umask(0277); /* even one that takes our own bits */
	struct wfs_diskcache *c;
	struct stat st;

	/* The cache root itself is created (with its parents). */
	strcat(f->dir, "/a/b");
	c = open_cache(f, 0);
	put(c, "some bytes", 10, hex);
	umask(old);
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", f->dir, sub[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	obj_path(f, hex, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	*strrchr(path, '/') = '\0';
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* teardown removes from the fixture's dir: give it back the root. */
	f->dir[strlen(f->dir) - 4] = '\0';
}

static void set_atime(const struct fixture *f, const char *hex, time_t t)
{
	char path[256];
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	obj_path(f, hex, path, sizeof(path));
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Objects of 1000 bytes under a bound of 5000: the sixth commit evicts the
 * least recently used down to 90 % of the bound; a hit counts as use. */
static void eviction_lru(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 5000);
	char hex[7][33], path[256];
	time_t now = time(NULL);
	struct wfs_diskcache_writer *w;
	char *data[7];
	int fd;

	for (int i = 0; i < 5; i++) {
		data[i] = content(10 + i, 1000);
		put(c, data[i], 1000, hex[i]);
		set_atime(f, hex[i], now - 1000 + 10 * i);
	}
	/* Bigger than the whole bound: not cached at all. */
	data[6] = content(16, 5001);
	md5_hex(data[6], 5001, hex[6]);
	assert_int_equal(wfs_diskcache_begin(c, hex[6], 5001, &w), -ENOSPC);

	assert_int_equal(wfs_diskcache_lookup(c, hex[0], 1000, &fd), 0);
	close(fd);
	data[5] = content(15, 1000);
	put(c, data[5], 1000, hex[5]);
	for (int i = 0; i < 6; i++) {
		obj_path(f, hex[i], path, sizeof(path));
		assert_int_equal(exists(path), !(i == 1 || i == 2));
	}
	for (int i = 0; i < 7; i++)
		free(data[i]);
}

/* An open fd keeps reading an object evicted under it. */
static void evicted_while_open(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 2500);
	char *a = content(20, 1000), *b = content(21, 1000);
	char *d = content(22, 1000), hex[3][33], got[1000], path[256];
	int fd;

	put(c, a, 1000, hex[0]);
	set_atime(f, hex[0], time(NULL) - 100000);
	assert_int_equal(wfs_diskcache_lookup(c, hex[0], 1000, &fd), 0);
	set_atime(f, hex[0], time(NULL) - 100000); /* still the oldest */
	put(c, b, 1000, hex[1]);
	put(c, d, 1000, hex[2]);
	obj_path(f, hex[0], path, sizeof(path));
	assert_false(exists(path));
	assert_int_equal(pread(fd, got, sizeof(got), 0), 1000);
	assert_memory_equal(got, a, 1000);
	close(fd);
	free(a);
	free(b);
	free(d);
}

static void make_file(const char *path, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs("partial", fp);
	fclose(fp);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Our temp files older than hours go at the next commit; fresh ones and
 * the SDK's own temp files stay. */
static void stale_temp_cleanup(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	time_t now = time(NULL);
	char stale[256], fresh[256], sdk[256], hex[33];

	snprintf(stale, sizeof(stale),
		 "%s/artifacts/tmp/wandbfs-h-1-2-"
		 "0123.part",
		 f->dir);
	snprintf(fresh, sizeof(fresh),
		 "%s/artifacts/tmp/wandbfs-h-1-3-"
		 "0123.part",
		 f->dir);
	snprintf(sdk, sizeof(sdk), "%s/artifacts/tmp/tmpab12cd", f->dir);
	make_file(stale, now - 7 * 3600);
	make_file(fresh, now - 60);
	make_file(sdk, now - 7 * 3600);
	put(c, "x", 1, hex);
	assert_false(exists(stale));
	assert_true(exists(fresh));
	assert_true(exists(sdk));
}

static void default_dir(void **state)
{
	char buf[256];

	(void)state;
	setenv("HOME", "/home/u", 1);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	setenv("WANDB_CACHE_DIR", "/w", 1);
	assert_int_equal(wfs_diskcache_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/w");
	unsetenv("WANDB_CACHE_DIR");
	assert_int_equal(wfs_diskcache_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/xdg/wandb");
	unsetenv("XDG_CACHE_HOME");
	assert_int_equal(wfs_diskcache_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.cache/wandb");
	assert_int_equal(wfs_diskcache_default_dir(buf, 8), -ENAMETOOLONG);
	unsetenv("HOME");
	assert_int_equal(wfs_diskcache_default_dir(buf, sizeof(buf)), -ENOENT);
}

/* Two processes write the same object at once (each its own cache
 * handle, opposite orders) while a third looks it up in a loop: both
 * commits succeed, and whenever the lookup hits, the bytes are whole. */
static int child_write(const char *dir, const char *data, size_t n,
		       const char *hex, int backwards, int go)
{
	struct wfs_diskcache *c;
	struct wfs_diskcache_writer *w;
	const size_t piece = 100000;
	char b;

	if (read(go, &b, 1) != 1 || wfs_diskcache_open(dir, 0, &c) ||
	    wfs_diskcache_begin(c, hex, (int64_t)n, &w))
		return 1;
	for (size_t k = 0; k * piece < n; k++) {
		size_t count = (n + piece - 1) / piece;
		size_t i = backwards ? count - 1 - k : k;
		size_t len = n - i * piece < piece ? n - i * piece : piece;

		if (wfs_diskcache_write(w, (int64_t)(i * piece),
					data + i * piece, len))
			return 2;
	}
	if (wfs_diskcache_commit(w))
		return 3;
	wfs_diskcache_close(c);
	return 0;
}

static int child_look(const char *dir, const char *data, size_t n,
		      const char *hex, int go)
{
	struct wfs_diskcache *c;
	char *got = malloc(n);
	int hits = 0;
	char b;

	if (!got || read(go, &b, 1) != 1 || wfs_diskcache_open(dir, 0, &c))
		return 1;
	for (time_t end = time(NULL) + 20; hits < 50 && time(NULL) < end;) {
		int fd, rc = wfs_diskcache_lookup(c, hex, (int64_t)n, &fd);

		if (rc == -ENOENT)
			continue;
		if (rc || pread(fd, got, n, 0) != (ssize_t)n ||
		    memcmp(got, data, n))
			return 4;
		close(fd);
		hits++;
	}
	wfs_diskcache_close(c);
	free(got);
	return hits ? 0 : 5;
}

static void two_processes(void **state)
{
	struct fixture *f = *state;
	struct wfs_diskcache *c = open_cache(f, 0);
	const size_t n = 6 << 20;
	char *data = content(30, n), hex[33];
	pid_t pid[3];
	int go[2];

	md5_hex(data, n, hex);
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < 3; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(go[1]);
			_exit(i < 2 ? child_write(f->dir, data, n, hex, i,
						  go[0])
				    : child_look(f->dir, data, n, hex, go[0]));
		}
	}
	close(go[0]);
	assert_int_equal(write(go[1], "gog", 3), 3);
	close(go[1]);
	for (int i = 0; i < 3; i++) {
		int st;

		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_cached(c, hex, data, n);
	assert_int_equal(tmp_count(f), 0);
	free(data);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(miss_then_hit),
		T(sdk_object_and_empty),
		T(out_of_order_atomic),
		T(mismatch_refused),
		T(abort_cleans_up),
		T(parallel_writers),
		T(many_ranges),
		T(modes),
		T(eviction_lru),
		T(evicted_while_open),
		T(stale_temp_cleanup),
		T(two_processes),
		cmocka_unit_test(default_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
