/* reader.c — the data plane's front (wfs_data.h): the mount's data plane,
 * open files and their reads, and the source behind every prefetcher
 * object.
 *
 * An open file is served, in this order, from: bytes already in memory or
 * on their way (another open file of the same content, a read-ahead), the
 * disk cache (a complete object: plain pread, no request), or storage
 * through the prefetcher. Storage bytes come through a client of our own
 * without the API key (pre-signed URLs and http(s) references need none);
 * only the authenticated fallback URLs on the API host go through the API
 * client, which keeps the key to that host. What storage sends feeds the
 * disk cache (feed.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_log.h"
#include "wfs_data_int.h"

/* Storage connections beyond the workers: redirects, URL refreshes. */
#define STORAGE_EXTRA 8
#define DISK_PIECE ((size_t)256 << 10)

/* An open file finds its bytes at its first read, not at open: a file
 * the page cache still holds is opened and closed without one, and then
 * costs no lookup and starts no read-ahead. */
struct wfs_data_file {
	struct wfs_data *d;
	int64_t size;
	pthread_mutex_t mu;
	int started;    /* a read came: bytes located (mu) */
	int fd;         /* the disk cache's copy, or -1 */
	struct dobj *o; /* storage / memory, or NULL */
	struct wfs_pf_reader *r;
	struct wfs_res res;        /* kept until o is made (disk first) */
	struct wfs_data_src *hint; /* next files, read ahead once a read
					comes (each holds an owner ref) */
	size_t n_hint;
	atomic_int logged;
};

/* ---- the source of an object ------------------------------------------- */

struct sink_ctx {
	wfs_pf_put_fn put;
	void *pud;
	int64_t n;
};

static int sink_write(void *ud, const void *data, size_t len)
{
	struct sink_ctx *s = ud;

	if (s->put(s->pud, data, len))
		return 1;
	s->n += (int64_t)len;
	return 0;
}

struct refresh_ctx {
	struct dobj *o;
	const char *url;
};

static int refresh_url(void *ud, char **url, struct wb_error *err)
{
	struct refresh_ctx *rc = ud;
	const struct wfs_res *r = &rc->o->res;

	return wfs_urls_refresh(rc->o->d->urls, r->a, r->m, r->e, rc->url, url,
				err);
}

/* The disk cache holds the object (it appeared after the read-ahead or
 * open that made o): serve from there. 0 = delivered, 1 = not there. */
static int fetch_disk(struct dobj *o, int64_t off, size_t len,
		      wfs_pf_put_fn put, void *pud)
{
	struct wfs_data *d = o->d;
	char *buf;
	int fd;

	pthread_mutex_lock(&o->src_mu);
	if (!o->disk_checked) {
		o->disk_checked = 1;
		if (d->disk && !o->res.http &&
		    !wfs_diskcache_lookup(d->disk, o->res.md5, o->res.size,
					  &o->disk_fd))
			atomic_fetch_add(&d->disk_hits, 1);
	}
	fd = o->disk_bad ? -1 : o->disk_fd;
	pthread_mutex_unlock(&o->src_mu);
	if (fd < 0)
		return 1;
	buf = malloc(DISK_PIECE);
	if (!buf)
		return -ENOMEM;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < DISK_PIECE ? len - done : DISK_PIECE;
		ssize_t got = pread(fd, buf, n, off + (int64_t)done);

		if (got <= 0) {
			/* Evicted under us (NFS: ESTALE): storage from now
			 * on; what was handed over already fails this
			 * chunk (the next read fetches it again). The fd
			 * stays open until release: others may be in a
			 * pread on it. */
			free(buf);
			pthread_mutex_lock(&o->src_mu);
			o->disk_bad = 1;
			pthread_mutex_unlock(&o->src_mu);
			return done == 0 ? 1 : -EIO;
		}
		if (put(pud, buf, (size_t)got)) {
			free(buf);
			return -ECANCELED;
		}
		done += (size_t)got;
	}
	free(buf);
	return 0;
}

static int obj_fetch(void *ud, int64_t off, size_t len, wfs_pf_put_fn put,
		     void *pud)
{
	struct dobj *o = ud;
	struct wfs_data *d = o->d;
	const struct wfs_res *r = &o->res;
	struct sink_ctx sc = { put, pud, 0 };
	struct wb_http_sink sink = { sink_write, NULL, &sc };
	struct refresh_ctx rctx = { o, NULL };
	struct wb_download_src src = { .label = r->e->path };
	struct wb_client *client = d->storage;
	struct wb_error err = { 0 };
	char *url = NULL;
	int rc = fetch_disk(o, off, len, put, pud);

	if (rc <= 0)
		return rc;
	if (r->http) {
		src.url = r->e->ref; /* a plain GET: no refresh, no auth */
	} else {
		rc = wfs_urls_get(d->urls, r->a, r->m, r->e, &url, &err);
		if (rc)
			goto out;
		src.url = rctx.url = url;
		src.refresh = refresh_url;
		src.refresh_ud = &rctx;
		if (wfs_urls_on_api(d->urls, url))
			client = d->api;
	}
	atomic_fetch_add(&d->requests, 1);
	rc = wb_download_stream(client, &src, off, off + (int64_t)len - 1,
				&sink, &err);
	atomic_fetch_add(&d->bytes, (uint64_t)sc.n);
out:
	free(url);
	if (rc && rc != -ECANCELED && !atomic_exchange(&o->logged, 1))
		wb_log(WB_LOG_WARN, "%s: reading bytes %lld-%lld: %s",
		       r->e->path, (long long)off,
		       (long long)(off + (int64_t)len - 1), err.msg);
	return rc;
}

static void obj_landed(void *ud, int64_t off, const void *data, size_t len)
{
	struct dobj *o = ud;
	int from_disk;

	pthread_mutex_lock(&o->src_mu);
	from_disk = o->disk_fd >= 0 && !o->disk_bad;
	pthread_mutex_unlock(&o->src_mu);
	/* Only what came from storage, only stored blobs (SDK layout). */
	if (o->d->feed && !o->res.http && !from_disk)
		wfs_feed_land(o->d->feed, &o->feed, o->res.md5, o->res.size,
			      off, data, len);
}

static void obj_release(void *ud)
{
	struct dobj *o = ud;

	wfs_feed_obj_end(&o->feed);
	if (o->disk_fd >= 0)
		close(o->disk_fd);
	pthread_mutex_destroy(&o->src_mu);
	wfs_res_clear(&o->res);
	free(o);
}

static const struct wfs_pf_source obj_source = {
	obj_fetch,
	obj_landed,
	obj_release,
};

/* ---- objects ------------------------------------------------------------ */

int wfs_dobj_get(struct wfs_data *d, struct wfs_res *r, int ra,
		 struct dobj **out)
{
	struct dobj *o = wb_strmap_get(&d->objs, r->key);
	int rc;

	*out = NULL;
	if (o) {
		if (ra)
			return -EEXIST;
		if (o->in_ra)
			wfs_ra_taken(d, o);
		else
			o->refs++;
		*out = o;
		return 0;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->d = d;
	o->disk_fd = -1;
	o->refs = 1;
	o->in_ra = ra;
	wfs_list_init(&o->ra);
	atomic_init(&o->logged, 0);
	pthread_mutex_init(&o->src_mu, NULL);
	wfs_feed_obj_init(&o->feed);
	rc = wfs_pf_obj_new(d->pf, r->size, &obj_source, o, &o->pf);
	if (rc) {
		wfs_feed_obj_end(&o->feed);
		pthread_mutex_destroy(&o->src_mu);
		free(o);
		return rc;
	}
	o->res = *r; /* takes the owner reference and the key */
	memset(r, 0, sizeof(*r));
	rc = wb_strmap_put(&d->objs, o->res.key, o, NULL);
	if (rc) {
		/* The prefetcher object's release frees o. */
		wfs_pf_obj_unref(o->pf);
		return rc;
	}
	*out = o;
	return 0;
}

void wfs_dobj_put(struct wfs_data *d, struct dobj *o)
{
	if (--o->refs)
		return;
	wb_strmap_del(&d->objs, o->res.key);
	wfs_pf_obj_unref(o->pf);
}

/* ---- the mount's data plane ---------------------------------------------- */

int wfs_data_new(struct wb_client *client, const struct wfs_data_opts *o,
		 struct wfs_data **out)
{
	struct wfs_pf_opts po = { 0 };
	struct wb_http_opts h = { .max_retries = -1 };
	struct wb_error err = { 0 };
	struct wfs_data *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->o = *o;
	if (!d->o.mem_budget)
		d->o.mem_budget = WFS_DATA_MEM_DEFAULT;
	if (!d->o.max_streams)
		d->o.max_streams = WFS_DATA_STREAMS_DEFAULT;
	if (!d->o.window_max)
		d->o.window_max = WFS_DATA_WINDOW_MAX_DEFAULT;
	d->o.cache_dir = NULL; /* not kept: the disk cache copies it */
	d->api = client;
	pthread_mutex_init(&d->mu, NULL);
	wb_strmap_init(&d->objs);
	wfs_list_init(&d->ra);
	atomic_init(&d->requests, 0);
	atomic_init(&d->bytes, 0);
	atomic_init(&d->disk_hits, 0);
	/* Storage needs no key: a pool without one, sized for the workers. */
	h.base_url = wb_client_base_url(client);
	h.max_inflight = (int)d->o.max_streams + STORAGE_EXTRA;
	h.deadline_ms = o->timeout_ms;
	h.attempt_timeout_ms = o->timeout_ms;
	po.mem_budget = d->o.mem_budget;
	po.workers = d->o.max_streams;
	po.window_max = d->o.window_max;
	rc = wb_client_new(NULL, &h, &d->storage, &err);
	if (rc)
		wb_log(WB_LOG_ERROR, "data plane: %s", err.msg);
	if (!rc)
		rc = wfs_urls_new(client, &d->urls);
	if (!rc)
		rc = wfs_targets_new(&d->targets);
	if (!rc)
		rc = wfs_pf_new(&po, &d->pf);
	if (!rc && o->cache_dir) {
		rc = wfs_diskcache_open(o->cache_dir, o->cache_max_disk,
					&d->disk);
		if (rc) {
			wb_log(WB_LOG_WARN,
			       "disk cache %s: %s; reading "
			       "without it",
			       o->cache_dir, strerror(-rc));
			rc = 0;
		} else {
			rc = wfs_feed_new(d->disk, &d->feed);
		}
	}
	if (rc) {
		wfs_data_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void wfs_data_free(struct wfs_data *d)
{
	struct wfs_data_stats st;

	if (!d)
		return;
	if (d->pf) {
		wfs_ra_drop_all(d);
		wfs_data_get_stats(d, &st);
		wb_log(WB_LOG_INFO,
		       "data plane: %llu storage requests, %llu "
		       "bytes, %llu disk cache hits, %llu URL batches, %llu "
		       "URL refreshes, peak buffers %zu bytes",
		       (unsigned long long)st.storage_requests,
		       (unsigned long long)st.storage_bytes,
		       (unsigned long long)st.disk_hits,
		       (unsigned long long)st.url_batches,
		       (unsigned long long)st.url_refreshes, st.mem_peak);
	}
	/* Joins the workers: every object's release has run after this. */
	wfs_pf_free(d->pf);
	wfs_feed_free(d->feed);
	wfs_diskcache_close(d->disk);
	wfs_targets_free(d->targets);
	wfs_urls_free(d->urls);
	wb_client_free(d->storage);
	wb_strmap_clear(&d->objs);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void wfs_data_get_stats(struct wfs_data *d, struct wfs_data_stats *out)
{
	struct wfs_pf_stats ps;
	struct wfs_urls_stats us;

	wfs_pf_get_stats(d->pf, &ps);
	wfs_urls_get_stats(d->urls, &us);
	out->storage_requests = atomic_load(&d->requests);
	out->storage_bytes = atomic_load(&d->bytes);
	out->disk_hits = atomic_load(&d->disk_hits);
	out->url_batches = us.batches;
	out->url_refreshes = us.refreshes;
	out->mem_used = ps.mem_used;
	out->mem_peak = ps.mem_peak;
}

int wfs_data_size(struct wfs_data *d, const struct wfs_data_src *src,
		  int64_t *size)
{
	struct wfs_res r;
	int rc;

	*size = 0;
	if (!src->entry->ref) {
		if (src->entry->size < 0)
			return -EIO;
		*size = src->entry->size;
		return 0;
	}
	rc = wfs_res_get(d, src, &r);
	if (!rc)
		*size = r.size;
	wfs_res_clear(&r);
	return rc;
}

/* ---- open files --------------------------------------------------------- */

/* Serve f from memory / storage (lock f->mu held); looked: the disk
 * cache was just asked (or its copy failed), no need to ask again. */
static int file_attach(struct wfs_data_file *f, int looked)
{
	struct wfs_data *d = f->d;
	int rc;

	pthread_mutex_lock(&d->mu);
	rc = wfs_dobj_get(d, &f->res, 0, &f->o);
	pthread_mutex_unlock(&d->mu);
	if (!rc) {
		pthread_mutex_lock(&f->o->src_mu);
		if (looked)
			f->o->disk_checked = 1;
		pthread_mutex_unlock(&f->o->src_mu);
		rc = wfs_pf_reader_new(f->o->pf, &f->r);
		if (rc) {
			pthread_mutex_lock(&d->mu);
			wfs_dobj_put(d, f->o);
			pthread_mutex_unlock(&d->mu);
			f->o = NULL;
		}
	}
	/* On failure f->res stays: it names the file, and a later read may
	 * try again. */
	if (!rc)
		wfs_res_clear(&f->res);
	return rc;
}

int wfs_data_open(struct wfs_data *d, const struct wfs_data_src *src,
		  struct wfs_data_file **out)
{
	struct wfs_data_file *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->d = d;
	f->fd = -1;
	atomic_init(&f->logged, 0);
	pthread_mutex_init(&f->mu, NULL);
	rc = wfs_res_get(d, src, &f->res);
	if (rc) {
		pthread_mutex_destroy(&f->mu);
		free(f);
		return rc;
	}
	f->size = f->res.size;
	*out = f;
	return 0;
}

/* Locate f's bytes (f->mu held): the same content in memory or on its way,
 * else the disk cache, else storage. */
static int file_start(struct wfs_data_file *f)
{
	struct wfs_data *d = f->d;
	int shared, look, rc;

	pthread_mutex_lock(&d->mu);
	shared = wb_strmap_get(&d->objs, f->res.key) != NULL;
	pthread_mutex_unlock(&d->mu);
	look = !shared && d->disk && !f->res.http;
	if (look &&
	    !wfs_diskcache_lookup(d->disk, f->res.md5, f->size, &f->fd)) {
		atomic_fetch_add(&d->disk_hits, 1);
		rc = 0;
	} else {
		rc = file_attach(f, look);
	}
	f->started = !rc;
	return rc;
}

static void hint_free(struct wfs_data_src *hint, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wfs_obj_unref(hint[i].owner);
	free(hint);
}

/* Start the read-ahead f was told about, once (no lock held). */
static void hint_run(struct wfs_data_file *f)
{
	struct wfs_data_src *hint;
	size_t n;

	pthread_mutex_lock(&f->mu);
	hint = f->hint;
	n = f->n_hint;
	f->hint = NULL;
	f->n_hint = 0;
	pthread_mutex_unlock(&f->mu);
	if (hint) {
		wfs_ra_hint(f->d, hint, n);
		hint_free(hint, n);
	}
}

void wfs_data_hint_next(struct wfs_data_file *f,
			const struct wfs_data_src *const *next, size_t n)
{
	struct wfs_data_src *hint;
	int now;

	if (n > WFS_DATA_HINT_MAX)
		n = WFS_DATA_HINT_MAX;
	hint = n ? malloc(n * sizeof(*hint)) : NULL;
	if (!hint)
		return; /* read-ahead is an optimisation */
	for (size_t i = 0; i < n; i++) {
		hint[i] = *next[i];
		wfs_obj_ref(hint[i].owner);
	}
	pthread_mutex_lock(&f->mu);
	hint_free(f->hint, f->n_hint);
	f->hint = hint;
	f->n_hint = n;
	/* An empty file gets no read: its hint must not wait for one. */
	now = f->started || f->size == 0;
	pthread_mutex_unlock(&f->mu);
	if (now)
		hint_run(f);
}

/* What the kernel gets for a failed read, logged once per file. */
static int read_errno(struct wfs_data_file *f, int rc)
{
	if (!atomic_exchange(&f->logged, 1))
		wb_log(WB_LOG_WARN, "read of %s failed: %s",
		       f->o ? f->o->res.e->path : f->res.e->path,
		       strerror(-rc));
	return rc == -ETIMEDOUT || rc == -ENOMEM ? rc : -EIO;
}

int wfs_data_read(struct wfs_data_file *f, char *buf, size_t len, off_t off,
		  size_t *got)
{
	struct wfs_pf_reader *r;
	size_t done = 0;
	int rc;

	*got = 0;
	if (off < 0)
		return -EINVAL;
	if (off >= f->size || len == 0)
		return 0;
	if ((int64_t)len > f->size - off)
		len = (size_t)(f->size - off);
	pthread_mutex_lock(&f->mu);
	rc = f->started ? 0 : file_start(f);
	r = f->r;
	pthread_mutex_unlock(&f->mu);
	if (rc)
		return read_errno(f, rc);
	hint_run(f);
	while (!r && done < len) {
		ssize_t n =
			pread(f->fd, buf + done, len - done, off + (off_t)done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		/* Evicted (NFS: ESTALE) or cut short: storage has it. */
		wb_log(WB_LOG_INFO,
		       "disk cache copy unreadable (%s); reading "
		       "from storage",
		       n < 0 ? strerror(errno) : "short");
		pthread_mutex_lock(&f->mu);
		rc = f->r ? 0 : file_attach(f, 1);
		r = f->r;
		pthread_mutex_unlock(&f->mu);
		if (rc)
			return read_errno(f, rc);
	}
	if (r) {
		rc = wfs_pf_read(r, buf + done, len - done,
				 (int64_t)(off + (off_t)done), got);
		if (rc)
			return read_errno(f, rc);
		done += *got;
	}
	*got = done;
	return 0;
}

void wfs_data_close(struct wfs_data_file *f)
{
	if (!f)
		return;
	wfs_pf_reader_free(f->r);
	if (f->o) {
		pthread_mutex_lock(&f->d->mu);
		wfs_dobj_put(f->d, f->o);
		pthread_mutex_unlock(&f->d->mu);
	}
	if (f->fd >= 0)
		close(f->fd);
	wfs_res_clear(&f->res);
	hint_free(f->hint, f->n_hint);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
