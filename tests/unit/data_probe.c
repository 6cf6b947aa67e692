/* data_probe.c — test and benchmark driver of the data plane (fs/data)
 * without FUSE: resolves one artifact version with the client (settings
 * from the environment: WANDB_BASE_URL, WANDB_API_KEY), then reads entries
 * through wfs_data_open/read/close and prints one JSON line per entry
 * {path, size, md5, seconds} and a last line {stats: ...}. Used by
 * tests/integration/test_fs_artifact_reads.py; not installed.
 *
 * usage: data_probe [--cache-dir DIR] [--read BYTES] [--random N]
 *                   [--hint] [--mem BYTES] [--streams N] [--threads N]
 *                   [--no-md5]
 *                   ENTITY/PROJECT/COLLECTION:VERSION [PATH...]
 * No PATH: every entry of the manifest, in manifest order. --hint tells
 * the data plane about the next entries after each open (directory
 * read-ahead); --random N reads N random 4 KiB blocks of each entry
 * instead of all of it (md5 is then of those blocks, in order); --threads
 * reads that many entries at once; --no-md5 only counts bytes (speed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_log.h"
#include "wb_settings.h"
#include "wfs_data.h"
#include "wfs_md5.h"

struct holder {
	struct wfs_obj obj;
	struct wb_artifact *a;
	struct wb_manifest *m;
};

struct probe {
	struct wfs_data *d;
	struct holder *h;
	const struct wb_manifest_entry **entries;
	size_t n;
	size_t read_size;
	unsigned random;
	int hint, no_md5;
	pthread_mutex_t mu;
	size_t next;
	int failed;
};

static void holder_free(struct wfs_obj *o)
{
	struct holder *h = (struct holder *)(void *)o;

	wb_artifact_free(h->a);
	wb_manifest_free(h->m);
	free(h);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void src_of(struct probe *p, size_t i, struct wfs_data_src *src)
{
	*src = (struct wfs_data_src){ &p->h->obj, p->h->a, p->h->m,
				      p->entries[i] };
}

static void hint(struct probe *p, size_t i, struct wfs_data_file *f)
{
	struct wfs_data_src srcs[64];
	const struct wfs_data_src *ptrs[64];
	size_t k = 0;

	for (size_t j = i + 1; j < p->n && k < 64; j++, k++) {
		src_of(p, j, &srcs[k]);
		ptrs[k] = &srcs[k];
	}
	wfs_data_hint_next(f, ptrs, k);
}

/* Read entry i; prints its line. 0 or a negative errno. */
static int read_one(struct probe *p, size_t i)
{
	const struct wb_manifest_entry *e = p->entries[i];
	struct wfs_data_src src;
	struct wfs_data_file *f;
	struct wfs_md5 md5;
	uint8_t dg[WFS_MD5_LEN];
	char *buf = malloc(p->read_size);
	int64_t size = 0, total = 0;
	unsigned seed = (unsigned)i + 1;
	double t0 = now();
	int rc;

	if (!buf)
		return -ENOMEM;
	src_of(p, i, &src);
	rc = wfs_data_size(p->d, &src, &size);
	if (!rc)
		rc = wfs_data_open(p->d, &src, &f);
	if (!rc && p->hint)
		hint(p, i, f);
	if (rc) {
		free(buf);
		printf("{\"path\": \"%s\", \"error\": %d}\n", e->path, rc);
		return rc;
	}
	wfs_md5_init(&md5);
	for (unsigned k = 0; !rc && (p->random ? k < p->random : 1); k++) {
		off_t off = total;
		size_t want = p->read_size, got = 0;

		if (p->random) {
			int64_t r = (int64_t)rand_r(&seed) << 20 ^
				rand_r(&seed);

			off = size > 4096 ? (off_t)(r % (size / 4096)) * 4096
					  : 0;
			want = 4096;
		}
		rc = wfs_data_read(f, buf, want, off, &got);
		if (!rc && !p->random && got == 0)
			break;
		if (!rc && got < want && off + (off_t)got != size)
			rc = -EPIPE; /* short before the end: never allowed */
		if (!p->no_md5)
			wfs_md5_update(&md5, buf, got);
		total += (int64_t)got;
	}
	wfs_data_close(f);
	free(buf);
	wfs_md5_final(&md5, dg);
	printf("{\"path\": \"%s\", \"size\": %lld, \"bytes\": %lld, "
	       "\"seconds\": %.6f, \"rc\": %d, \"md5\": \"",
	       e->path, (long long)size, (long long)total, now() - t0, rc);
	for (int k = 0; k < WFS_MD5_LEN; k++)
		printf("%02x", dg[k]);
	printf("\"}\n");
	return rc;
}

static void *worker(void *arg)
{
	struct probe *p = arg;

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		rc = read_one(p, i);
		if (rc) {
			pthread_mutex_lock(&p->mu);
			p->failed = 1;
			pthread_mutex_unlock(&p->mu);
		}
	}
	return NULL;
}

static void log_stderr(void *ud, enum wb_log_level level, const char *line)
{
	(void)ud;
	(void)level;
	fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
	struct wfs_data_opts o = { 0 };
	struct wb_settings s = { 0 };
	struct wb_error err = { 0 };
	struct wb_client *c = NULL;
	struct probe p = { .read_size = 128 << 10 };
	struct wfs_data_stats st;
	unsigned threads = 1;
	char *spec, *slash1, *slash2;
	pthread_t tid[64];
	double t0;
	int i = 1;

	wb_log_set_sink(log_stderr, NULL,
			getenv("WB_PROBE_DEBUG") ? WB_LOG_DEBUG : WB_LOG_WARN);
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--hint"))
			p.hint = 1;
		else if (!strcmp(argv[i], "--no-md5"))
			p.no_md5 = 1;
		else if (i + 1 >= argc)
			break;
		else if (!strcmp(argv[i], "--cache-dir"))
			o.cache_dir = argv[++i];
		else if (!strcmp(argv[i], "--read"))
			p.read_size = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--random"))
			p.random = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--mem"))
			o.mem_budget = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--streams"))
			o.max_streams = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--threads"))
			threads = (unsigned)strtoul(argv[++i], NULL, 0);
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-' || !p.read_size || !threads ||
	    threads > 64) {
		fprintf(stderr,
			"usage: data_probe [--cache-dir DIR] [--read "
			"BYTES] [--random N] [--hint] [--mem BYTES] "
			"[--streams N] "
			"[--threads N] [--no-md5] ENTITY/PROJECT/NAME:VER "
			"[PATH...]\n");
		return 2;
	}
	spec = argv[i++];
	slash1 = strchr(spec, '/');
	slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
	if (!slash2)
		return 2;
	*slash1 = *slash2 = '\0';
	p.h = calloc(1, sizeof(*p.h));
	if (!p.h)
		return 1;
	wfs_obj_init(&p.h->obj, sizeof(*p.h), holder_free);
	if (wb_settings_resolve(NULL, NULL, &s, &err) ||
	    wb_client_new(&s, NULL, &c, &err) ||
	    wb_artifact_get(c, spec, slash1 + 1, slash2 + 1, &p.h->a, &err) ||
	    wb_manifest_fetch(c, p.h->a->id, &p.h->m, &err)) {
		fprintf(stderr, "data_probe: %s\n", err.msg);
		return 1;
	}
	p.n = i < argc ? (size_t)(argc - i) : p.h->m->n_entries;
	p.entries = calloc(p.n ? p.n : 1, sizeof(*p.entries));
	for (size_t k = 0; p.entries && k < p.n; k++) {
		p.entries[k] = i < argc
			? wb_manifest_find(p.h->m, argv[i + (int)k])
			: &p.h->m->entries[k];
		if (!p.entries[k]) {
			fprintf(stderr, "data_probe: no entry %s\n",
				argv[i + (int)k]);
			return 1;
		}
	}
	if (!p.entries || wfs_data_new(c, &o, &p.d))
		return 1;
	pthread_mutex_init(&p.mu, NULL);
	t0 = now();
	for (unsigned k = 0; k < threads; k++)
		pthread_create(&tid[k], NULL, worker, &p);
	for (unsigned k = 0; k < threads; k++)
		pthread_join(tid[k], NULL);
	wfs_data_get_stats(p.d, &st);
	printf("{\"stats\": {\"seconds\": %.6f, \"storage_requests\": %llu, "
	       "\"storage_bytes\": %llu, \"disk_hits\": %llu, "
	       "\"url_batches\": %llu, \"url_refreshes\": %llu, "
	       "\"mem_peak\": %zu}}\n",
	       now() - t0, (unsigned long long)st.storage_requests,
	       (unsigned long long)st.storage_bytes,
	       (unsigned long long)st.disk_hits,
	       (unsigned long long)st.url_batches,
	       (unsigned long long)st.url_refreshes, st.mem_peak);
	wfs_data_free(p.d);
	wfs_obj_unref(&p.h->obj);
	free(p.entries);
	wb_client_free(c);
	wb_settings_clear(&s);
	return p.failed;
}
