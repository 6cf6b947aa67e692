/* runfiles.c — run files: the RunFiles listing, the exact existence check
 * (doc/api-notes.md, "Run files"), and streaming a file's bytes; plus the
 * download helper of wb_download.h (byte ranges to a sink, resumption after
 * a cut, one URL refresh on 401/403), which artifact reads share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_log.h"
#include "wb_runfiles.h"

#define FILES_PER_PAGE 1000
/* "bytes=start-" cannot be expressed in wb_http_req (end -1 = no range);
 * an end past any real size is clamped by storage (RFC 9110 §14.1.2). */
#define OPEN_RANGE_END ((int64_t)1 << 62)
/* Resumptions of one download after cuts mid-body; each must have made
 * progress, so this only bounds a storage that keeps cutting. */
#define MAX_RESUMES 64

/* ---- downloads -------------------------------------------------------- */

/* Counts what reaches the destination sink, so a transfer cut mid-body
 * can resume from the first missing byte. The transport gets no restart
 * function: a cut transfer fails at once, and we resume with a Range. */
struct count_sink {
	const struct wb_http_sink *inner;
	int64_t n;
};

static int count_write(void *ud, const void *data, size_t len)
{
	struct count_sink *cs = ud;
	int rc = cs->inner->write(cs->inner->ud, data, len);

	if (!rc)
		cs->n += (int64_t)len;
	return rc;
}

/* One GET of url; rc as wb_http_perform, *status the final status. The
 * transport checks Content-Range, emulates a range over a 200 that ignored
 * it, and never passes error bodies to the sink. */
static int fetch_once(struct wb_client *c, const char *url, const char *label,
		      int64_t start, int64_t end, struct count_sink *cs,
		      long *status, struct wb_error *err)
{
	struct wb_http_sink sink = { count_write, NULL, cs };
	struct wb_http_req req = {
		.method = "GET",
		.url = url,
		.range_start = start,
		.range_end = end,
		.follow_redirects = 1,
		.sink = &sink,
		.label = label,
	};
	struct wb_http_resp resp = { 0 };
	int rc;

	rc = wb_http_perform(wb_client_http(c), &req, &resp, err);
	*status = resp.status;
	wb_http_resp_clear(&resp);
	return rc;
}

int wb_download_stream(struct wb_client *c, const struct wb_download_src *src,
		       int64_t start, int64_t end,
		       const struct wb_http_sink *sink, struct wb_error *err)
{
	const char *label = src->label ? src->label : "download";
	struct count_sink cs = { sink, 0 };
	int refreshed = 0, resumes = 0, rc;
	const char *url = src->url;
	char *fresh = NULL;
	int64_t done = 0;
	long status = 0;

	if (start < 0 || (end >= 0 && end < start))
		return wb_error_set(err, -EINVAL, 0, "%s: bad byte range",
				    label);
	if (!url) {
		if (!src->refresh)
			return wb_error_set(err, -EINVAL, 0,
					    "%s: no download URL", label);
		rc = src->refresh(src->refresh_ud, &fresh, err);
		if (rc)
			return rc;
		url = fresh;
	}
	for (;;) {
		int64_t from = start + done;

		cs.n = 0;
		/* end -1 with nothing to skip: a plain GET without Range. */
		rc = fetch_once(c, url, label, from,
				end >= 0           ? end
					: from > 0 ? OPEN_RANGE_END
						   : -1,
				&cs, &status, err);
		done += cs.n;
		if (rc && status == 416) {
			/* The range starts at or past the end of the file. */
			wb_error_clear(err);
			rc = 0;
		}
		if (!rc)
			break;
		if (cs.n > 0 && rc != -ECANCELED && resumes < MAX_RESUMES) {
			/* Cut mid-body after some progress: continue from the
			 * first missing byte rather than start again. */
			resumes++;
			wb_log(WB_LOG_INFO,
			       "%s: resuming at byte %lld after: "
			       "%s",
			       label, (long long)(start + done),
			       err ? err->msg : "");
			continue;
		}
		if ((status != 401 && status != 403) || refreshed ||
		    !src->refresh)
			break;
		/* An expired pre-signed URL: one fresh URL, one more try. */
		wb_log(WB_LOG_INFO,
		       "%s: HTTP %ld from storage, fetching a "
		       "fresh URL",
		       label, status);
		refreshed = 1;
		free(fresh);
		fresh = NULL;
		rc = src->refresh(src->refresh_ud, &fresh, err);
		if (rc)
			break;
		url = fresh;
	}
	free(fresh);
	return rc;
}

/* ---- listing ---------------------------------------------------------- */

void wb_run_file_free(struct wb_run_file *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->md5);
	free(f->mimetype);
	free(f->updated_at);
	free(f->url);
	free(f->direct_url);
	free(f);
}

static int file_from_node(const cJSON *node, struct wb_run_file **out)
{
	struct wb_run_file *f = calloc(1, sizeof(*f));
	int rc = f ? 0 : -ENOMEM;

	*out = NULL;
	if (!rc)
		rc = api_need_str(node, "name", &f->name);
	if (!rc)
		rc = api_dup_str(node, "md5", &f->md5);
	if (!rc)
		rc = api_dup_str(node, "mimetype", &f->mimetype);
	if (!rc)
		rc = api_dup_str(node, "updatedAt", &f->updated_at);
	if (!rc)
		rc = api_dup_str(node, "url", &f->url);
	if (!rc)
		rc = api_dup_str(node, "directUrl", &f->direct_url);
	if (rc) {
		wb_run_file_free(f);
		return rc;
	}
	f->size = api_int64(node, "sizeBytes");
	*out = f;
	return 0;
}

static const cJSON *locate_files(const cJSON *data, const char **missing)
{
	const cJSON *run = api_path(data, missing, "project", "run", NULL);
	const cJSON *files = wb_json_get(run, "files");

	if (run && !cJSON_IsObject(files)) {
		*missing = "file list";
		return NULL;
	}
	return run ? files : NULL;
}

struct list_ctx {
	wb_run_file_cb cb;
	void *ud;
	const char *what;
	const char *exact; /* existence check: the wanted name */
	struct wb_run_file *found;
};

static int file_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct list_ctx *l = ud;
	struct wb_run_file *f;
	int rc = file_from_node(wb_json_get(edge, "node"), &f);

	if (rc)
		return api_item_error(err, rc, l->what);
	if (!l->exact)
		return l->cb(l->ud, f);
	/* LIKE compares with the column's collation (possibly case-
	 * insensitive) and a placeholder never uploaded has no updatedAt:
	 * only an exact, real file counts. */
	if (!l->found && strcmp(f->name, l->exact) == 0 && f->updated_at)
		l->found = f;
	else
		wb_run_file_free(f);
	return 0;
}

static int files_query(struct wb_client *c, const char *entity,
		       const char *project, const char *run,
		       const char *pattern, int per_page, struct list_ctx *l,
		       struct wb_error *err)
{
	char what[512];
	struct api_pager p = {
		.op = "RunFiles",
		.cursor_var = "fileCursor",
		.size_var = "fileLimit",
		.per_page = per_page > 0 ? per_page : FILES_PER_PAGE,
		.what = what,
		.locate = locate_files,
		.edge = file_edge,
		.ud = l,
	};

	snprintf(what, sizeof(what), "%s/%s/%s", entity, project, run);
	l->what = what;
	return api_pages(c, &p,
			 api_vars("entity", entity, "project", project, "name",
				  run, "pattern", pattern, NULL),
			 err);
}

int wb_run_files_list(struct wb_client *c, const char *entity,
		      const char *project, const char *run, int per_page,
		      wb_run_file_cb cb, void *ud, struct wb_error *err)
{
	struct list_ctx l = { .cb = cb, .ud = ud };

	return files_query(c, entity, project, run, NULL, per_page, &l, err);
}

/* A LIKE pattern matching exactly `name`: '%', '_' and the escape
 * character '\' itself are escaped with '\' (MySQL's default escape). */
static char *like_exact(const char *name)
{
	char *out = malloc(2 * strlen(name) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *name; name++) {
		if (*name == '%' || *name == '_' || *name == '\\')
			*o++ = '\\';
		*o++ = *name;
	}
	*o = '\0';
	return out;
}

int wb_run_file_lookup(struct wb_client *c, const char *entity,
		       const char *project, const char *run, const char *name,
		       struct wb_run_file **out, struct wb_error *err)
{
	struct list_ctx l = { .exact = name };
	char *pattern = like_exact(name);
	int rc;

	*out = NULL;
	if (!pattern)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	rc = files_query(c, entity, project, run, pattern, 0, &l, err);
	free(pattern);
	if (rc)
		wb_run_file_free(l.found);
	else
		*out = l.found;
	return rc;
}

int wb_run_file_get(struct wb_client *c, const char *entity,
		    const char *project, const char *run, const char *name,
		    struct wb_run_file **out, struct wb_error *err)
{
	int rc = wb_run_file_lookup(c, entity, project, run, name, out, err);

	if (!rc && !*out)
		rc = wb_error_set(err, -ENOENT, 0, "%s/%s/%s: no file %s",
				  entity, project, run, name);
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

struct run_file_ref {
	struct wb_client *c;
	const struct wb_run_file_loc *loc;
};

/* wb_url_refresh_fn for run files: look the file up again. */
static int run_file_refresh(void *ud, char **url, struct wb_error *err)
{
	const struct run_file_ref *r = ud;
	const struct wb_run_file_loc *loc = r->loc;
	struct wb_run_file *f;
	const char *u;
	int rc;

	*url = NULL;
	rc = wb_run_file_get(r->c, loc->entity, loc->project, loc->run,
			     loc->name, &f, err);
	if (rc)
		return rc;
	u = loc->via == WB_VIA_URL ? f->url : f->direct_url;
	if (!u || !*u)
		rc = wb_error_set(err, -ENOENT, 0,
				  "%s/%s/%s: file %s has no "
				  "%s",
				  loc->entity, loc->project, loc->run,
				  loc->name,
				  loc->via == WB_VIA_URL ? "url" : "directUrl");
	else if (!(*url = strdup(u)))
		rc = wb_error_set(err, -ENOMEM, 0, "out of memory");
	wb_run_file_free(f);
	return rc;
}

int wb_run_file_stream(struct wb_client *c, const struct wb_run_file_loc *loc,
		       int64_t start, int64_t end,
		       const struct wb_http_sink *sink, struct wb_error *err)
{
	struct run_file_ref r = { c, loc };
	struct wb_download_src src = {
		.url = loc->url,
		.refresh = run_file_refresh,
		.refresh_ud = &r,
		.label = loc->name,
	};

	return wb_download_stream(c, &src, start, end, sink, err);
}
