/* node_artifact_tree.c — inside a version directory: exactly the files of
 * its manifest, nested by path (wfs_art_tree.h), and nothing else.
 *  - stored entries, http(s):// and wandb-artifact:// references are
 *    streamed files: size from the manifest (a wandb-artifact:// one's from
 *    its target), bytes from the data plane (data/wfs_data.h);
 *  - s3://, gs://, azure:// and file:// references (and any other scheme)
 *    are symlinks whose target is the reference URI (file://: its local
 *    path, so it reads when the file is there);
 *  - subdirectories are directories too.
 * Everything here is immutable. Extended attributes: the version's
 * metadata on the version directory (names in doc/wandbfs.1), an entry's
 * digest, size and reference on its file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/wfs_data.h"
#include "wb_json.h"
#include "wfs_art_tree.h"
#include "wfs_node_art.h"

/* Files of a directory handed to the data plane as "next" on each open. */
#define HINT_MAX WFS_DATA_HINT_MAX

/* ---- the version a node belongs to -------------------------------------- */

/* The version directory a node is in (or is). */
static const struct wfs_node *version_node(const struct wfs_node *n)
{
	while (n->type != &wfs_type_art_version)
		n = n->parent;
	return n;
}

int wfs_art_at(struct wfs *fs, const struct wfs_node *node, int manifest,
	       struct wfs_art_at *at)
{
	const struct wfs_node *n;
	size_t len = 0, at_end;
	int rc;

	memset(at, 0, sizeof(*at));
	for (n = node; n->type != &wfs_type_art_version; n = n->parent)
		len += strlen(n->name) + 1;
	at->path = malloc(len ? len : 1);
	if (!at->path)
		return -ENOMEM;
	at->path[len ? len - 1 : 0] = '\0';
	at_end = len ? len - 1 : 0;
	for (n = node; n->type != &wfs_type_art_version; n = n->parent) {
		size_t nlen = strlen(n->name);

		at_end -= nlen;
		memcpy(at->path + at_end, n->name, nlen);
		if (at_end)
			at->path[--at_end] = '/';
	}
	rc = wfs_art_version_of(fs, version_node(node), &at->v);
	if (!rc && manifest)
		rc = wfs_fetch_art_manifest(fs, at->v, &at->m);
	if (rc)
		wfs_art_at_clear(at);
	return rc;
}

void wfs_art_at_clear(struct wfs_art_at *at)
{
	wfs_obj_unref(at->v ? &at->v->obj : NULL);
	wfs_obj_unref(at->m ? &at->m->obj : NULL);
	free(at->path);
	memset(at, 0, sizeof(*at));
}

/* The entry of a file node (with at filled, manifest included). */
static int entry_at(struct wfs *fs, const struct wfs_node *file,
		    struct wfs_art_at *at, const struct wb_manifest_entry **e)
{
	int rc = wfs_art_at(fs, file, 1, at);

	if (rc)
		return rc;
	*e = wb_manifest_find(at->m->m, at->path);
	if (!*e) {
		wfs_art_at_clear(at);
		return -ENOENT;
	}
	return 0;
}

static int has_scheme(const char *ref, const char *scheme)
{
	return strncmp(ref, scheme, strlen(scheme)) == 0;
}

/* Whether an entry is shown as a symlink: a reference whose bytes wandbfs
 * does not fetch. */
static int entry_is_link(const struct wb_manifest_entry *e)
{
	return e->ref && !has_scheme(e->ref, "http://") &&
		!has_scheme(e->ref, "https://") &&
		!has_scheme(e->ref, "wandb-artifact://");
}

/* ---- directories: the version and its subdirectories -------------------- */

static int tree_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
		       const struct wfs_node_type **type)
{
	const struct wb_manifest_entry *e;
	struct wfs_art_at at;
	int rc = wfs_art_at(fs, dir, 1, &at);

	if (rc)
		return rc;
	switch (wfs_art_tree_lookup(at.m->m, at.path, name, &e)) {
	case WFS_ART_DIR:
		*type = &wfs_type_art_dir;
		break;
	case WFS_ART_FILE:
		*type = entry_is_link(e) ? &wfs_type_art_ref
					 : &wfs_type_art_file;
		break;
	default:
		rc = -ENOENT;
		break;
	}
	wfs_art_at_clear(&at);
	return rc;
}

static int list_cb(void *ud, const char *name,
		   const struct wb_manifest_entry *e)
{
	const struct wfs_node_type *type = !e ? &wfs_type_art_dir
		: entry_is_link(e)            ? &wfs_type_art_ref
					      : &wfs_type_art_file;

	return wfs_dirents_add(ud, name, type);
}

static int tree_list(struct wfs *fs, struct wfs_node *dir,
		     struct wfs_dirents *out)
{
	struct wfs_art_at at;
	int rc = wfs_art_at(fs, dir, 1, &at);

	if (rc)
		return rc;
	rc = wfs_art_tree_list(at.m->m, at.path, list_cb, out);
	wfs_art_at_clear(&at);
	return rc;
}

/* Times of everything in a version: its creation. */
static int tree_stat(struct wfs *fs, struct wfs_node *node, struct wfs_stat *st)
{
	struct wfs_art_version *v;
	int rc = wfs_art_version_of(fs, version_node(node), &v);

	if (rc)
		return rc;
	st->mtime = st->ctime = v->ctime;
	st->ttl = wfs_cache_ttl(fs->cache, WFS_CLASS_IMMUTABLE);
	wfs_obj_unref(&v->obj);
	return 0;
}

/* Attributes from a table of names and values; a NULL value is left out. */
struct xattr_row {
	const char *name, *value;
};

static int add_rows(struct wfs_xattrs *out, const char *ns,
		    const struct xattr_row *rows, size_t n)
{
	char full[64];
	int rc = 0;

	for (size_t i = 0; !rc && i < n; i++) {
		snprintf(full, sizeof(full), "%s%s", ns, rows[i].name);
		rc = wfs_xattrs_add_str(out, full, rows[i].value);
	}
	return rc;
}

/* "a,b,c" of n strings (malloc'd; NULL on OOM). */
static char *join_commas(char *const *v, size_t n)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	p = s = calloc(1, len);
	for (size_t i = 0; s && i < n; i++)
		p = stpcpy(stpcpy(p, i ? "," : ""), v[i]);
	return s;
}

/* The version's metadata, as its JSON file has it. */
static int version_xattrs(struct wfs *fs, struct wfs_node *dir,
			  struct wfs_xattrs *out)
{
	struct wfs_art_version *v;
	const struct wb_artifact *a;
	char size[24], count[24], *aliases, *by = NULL;
	int rc = wfs_art_version_of(fs, dir, &v);

	if (rc)
		return rc;
	a = v->a;
	snprintf(size, sizeof(size), "%lld", (long long)a->size);
	snprintf(count, sizeof(count), "%lld", (long long)a->file_count);
	aliases = join_commas(a->aliases, a->n_aliases);
	if (a->producer_run &&
	    asprintf(&by, "%s/%s/%s", a->producer_entity, a->producer_project,
		     a->producer_run) < 0)
		by = NULL;
	if (!aliases || (a->producer_run && !by)) {
		rc = -ENOMEM;
	} else {
		const struct xattr_row rows[] = {
			{ "id", a->id },
			{ "type", a->type },
			{ "digest", a->digest },
			{ "size", a->size >= 0 ? size : NULL },
			{ "fileCount", a->file_count >= 0 ? count : NULL },
			{ "state", a->state },
			{ "createdAt", a->created_at },
			{ "description", a->description },
			{ "metadata", a->metadata },
			{ "aliases", aliases },
			{ "producedBy", by },
			{ "url", v->url },
		};

		rc = add_rows(out, WFS_XATTR_PREFIX, rows,
			      sizeof(rows) / sizeof(rows[0]));
	}
	free(aliases);
	free(by);
	wfs_obj_unref(&v->obj);
	return rc;
}

const struct wfs_node_type wfs_type_art_version = {
	.name = "artifact version",
	.is_dir = 1,
	.lookup = tree_lookup,
	.list = tree_list,
	.stat = tree_stat,
	.xattrs = version_xattrs,
};

const struct wfs_node_type wfs_type_art_dir = {
	.name = "artifact directory",
	.is_dir = 1,
	.lookup = tree_lookup,
	.list = tree_list,
	.stat = tree_stat,
};

/* ---- an entry's attributes ---------------------------------------------- */

/* digest, size, and for references the URI and what "extra" says about
 * the object (etag, versionID), in namespace ns. */
static int entry_xattrs(struct wfs *fs, struct wfs_node *file, const char *ns,
			struct wfs_xattrs *out)
{
	const struct wb_manifest_entry *e;
	struct wb_error err = { 0 };
	struct wfs_art_at at;
	cJSON *extra = NULL;
	char size[24];
	int rc = entry_at(fs, file, &at, &e);

	if (rc)
		return rc;
	snprintf(size, sizeof(size), "%lld", (long long)e->size);
	if (e->ref && e->extra)
		extra = wb_json_parse(e->extra, strlen(e->extra), &err);
	{
		const struct xattr_row rows[] = {
			{ "digest", e->digest },
			{ "size", e->size >= 0 ? size : NULL },
			{ "ref", e->ref },
			{ "etag", wb_json_get_str(extra, "etag") },
			{ "versionID", wb_json_get_str(extra, "versionID") },
		};

		rc = add_rows(out, ns, rows, sizeof(rows) / sizeof(rows[0]));
	}
	cJSON_Delete(extra);
	wfs_art_at_clear(&at);
	return rc;
}

static int file_xattrs(struct wfs *fs, struct wfs_node *file,
		       struct wfs_xattrs *out)
{
	return entry_xattrs(fs, file, WFS_XATTR_PREFIX, out);
}

static int ref_xattrs(struct wfs *fs, struct wfs_node *link,
		      struct wfs_xattrs *out)
{
	return entry_xattrs(fs, link, WFS_XATTR_LINK_PREFIX, out);
}

/* ---- streamed files ----------------------------------------------------- */

/* What keeps a version's record and manifest alive for the data plane. */
struct src_owner {
	struct wfs_obj obj;
	struct wfs_art_version *v;
	struct wfs_art_manifest *m;
};

static void src_owner_free(struct wfs_obj *o)
{
	struct src_owner *so = (struct src_owner *)o;

	wfs_obj_unref(&so->v->obj);
	wfs_obj_unref(&so->m->obj);
	free(so);
}

/* A data-plane source for entry e of at (a new owner reference in *owner;
 * the caller drops it once the data plane has taken its own). */
static int make_src(struct wfs_art_at *at, const struct wb_manifest_entry *e,
		    struct src_owner **owner, struct wfs_data_src *src)
{
	struct src_owner *so = calloc(1, sizeof(*so));

	if (!so)
		return -ENOMEM;
	wfs_obj_init(&so->obj, sizeof(*so), src_owner_free);
	so->v = wfs_obj_ref(&at->v->obj);
	so->m = wfs_obj_ref(&at->m->obj);
	*owner = so;
	*src = (struct wfs_data_src){ &so->obj, at->v->a, at->m->m, e };
	return 0;
}

/* A file node's version, entry and data-plane source. */
struct file_src {
	struct wfs_art_at at;
	const struct wb_manifest_entry *e;
	struct src_owner *so;
	struct wfs_data_src src;
};

/* Fill fsrc for a file node; release with src_done. */
static int file_src(struct wfs *fs, struct wfs_node *file,
		    struct file_src *fsrc)
{
	int rc = entry_at(fs, file, &fsrc->at, &fsrc->e);

	if (rc)
		return rc;
	rc = fs->data ? make_src(&fsrc->at, fsrc->e, &fsrc->so, &fsrc->src)
		      : -EIO;
	if (rc)
		wfs_art_at_clear(&fsrc->at);
	return rc;
}

static void src_done(struct file_src *fsrc)
{
	wfs_obj_unref(&fsrc->so->obj);
	wfs_art_at_clear(&fsrc->at);
}

static int file_stat(struct wfs *fs, struct wfs_node *file, struct wfs_stat *st)
{
	struct file_src f;
	int rc = file_src(fs, file, &f);

	if (rc)
		return rc;
	rc = wfs_data_size(fs->data, &f.src, &st->size);
	st->mtime = st->ctime = f.at.v->ctime;
	st->ttl = wfs_cache_ttl(fs->cache, WFS_CLASS_IMMUTABLE);
	src_done(&f);
	return rc;
}

/* Tell the data plane which files of the directory come next. */
static void hint_next(struct wfs_data_file *df, struct wfs_art_at *at,
		      const struct wb_manifest_entry *e, struct src_owner *so)
{
	const struct wb_manifest_entry *next[HINT_MAX];
	struct wfs_data_src srcs[HINT_MAX];
	const struct wfs_data_src *ptrs[HINT_MAX];
	size_t n = wfs_art_tree_next(at->m->m, e, next, HINT_MAX), k = 0;

	for (size_t i = 0; i < n; i++) {
		if (entry_is_link(next[i]))
			continue;
		srcs[k] = (struct wfs_data_src){ &so->obj, at->v->a, at->m->m,
						 next[i] };
		ptrs[k] = &srcs[k];
		k++;
	}
	if (k)
		wfs_data_hint_next(df, ptrs, k);
}

static int file_open(struct wfs *fs, struct wfs_node *file, void **fh)
{
	struct wfs_data_file *df = NULL;
	struct file_src f;
	int rc = file_src(fs, file, &f);

	if (rc)
		return rc;
	rc = wfs_data_open(fs->data, &f.src, &df);
	if (!rc)
		hint_next(df, &f.at, f.e, f.so);
	src_done(&f);
	*fh = df;
	return rc;
}

static int file_read(void *fh, char *buf, size_t len, off_t off, size_t *got)
{
	return wfs_data_read(fh, buf, len, off, got);
}

static void file_release(void *fh)
{
	wfs_data_close(fh);
}

const struct wfs_node_type wfs_type_art_file = {
	.name = "artifact file",
	.stat = file_stat,
	.open = file_open,
	.read = file_read,
	.release = file_release,
	.xattrs = file_xattrs,
};

/* ---- references as symlinks --------------------------------------------- */

/* The link target of a reference: the URI, or a file:// URI's local path
 * ("file:///p" and "file://localhost/p" both give "/p"). */
static int ref_target(const struct wb_manifest_entry *e, char **target)
{
	const char *t = e->ref;

	if (has_scheme(t, "file://")) {
		t += strlen("file://");
		if (has_scheme(t, "localhost/"))
			t += strlen("localhost");
		if (*t != '/')
			t = e->ref; /* another host's file: the URI itself */
	}
	*target = strdup(t);
	return *target ? 0 : -ENOMEM;
}

static int ref_readlink(struct wfs *fs, struct wfs_node *link, char **target,
			struct wfs_stat *st)
{
	const struct wb_manifest_entry *e;
	struct wfs_art_at at;
	int rc = entry_at(fs, link, &at, &e);

	if (rc)
		return rc;
	rc = ref_target(e, target);
	st->mtime = st->ctime = at.v->ctime;
	st->ttl = wfs_cache_ttl(fs->cache, WFS_CLASS_IMMUTABLE);
	wfs_art_at_clear(&at);
	return rc;
}

const struct wfs_node_type wfs_type_art_ref = {
	.name = "artifact reference",
	.readlink = ref_readlink,
	.xattrs = ref_xattrs,
};
