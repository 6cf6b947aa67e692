/* ops.c — the FUSE low-level handlers (wfs_ops.h). Thin: find the node,
 * ask its type (wfs_node.h), reply exactly once.
 *
 * What the kernel does without us: the mount is read-only (`ro`), so it
 * answers EROFS itself to every write, create, mkdir, unlink, rename,
 * link, symlink, mknod, setattr and xattr change, and no handler exists for
 * them. Files are stateless: open answers ENOSYS, which tells the kernel to
 * skip open and release for every file from then on (and to keep each
 * file's pages across opens); flush has no handler, so the kernel stops
 * sending it after the first ENOSYS. What keeps the kept pages correct:
 * attribute timeouts never outlive the cache's freshness, and changed bytes
 * always come with a changed size or mtime (wfs_node_attr), which makes the
 * kernel drop the pages (FUSE_CAP_AUTO_INVAL_DATA). Nothing is pushed to
 * the kernel from here (no notify_inval), so no handler can deadlock on a
 * page the kernel holds locked for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "wfs_node.h"
#include "wfs_ops.h"

/* Kernel FUSE knobs: enough background requests for many parallel readers
 * (the kernel's default of 12 throttles readahead), congestion at 3/4. */
#define MAX_BACKGROUND 64
#define CONGESTION_THRESHOLD 48

_Static_assert(sizeof(fuse_ino_t) >= sizeof(uintptr_t),
	       "node addresses must fit in a FUSE node id");

static struct wfs *FS(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct wfs_node *NODE(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return wfs_nodes_root(FS(req)->nodes);
	return (struct wfs_node *)(uintptr_t)ino;
}

static fuse_ino_t INO(struct wfs_node *node)
{
	return node->parent ? (fuse_ino_t)(uintptr_t)node : FUSE_ROOT_ID;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	static const unsigned wanted[] = {
		FUSE_CAP_READDIRPLUS, /* ls -l: one listing, no lookups */
		FUSE_CAP_READDIRPLUS_AUTO,
		FUSE_CAP_PARALLEL_DIROPS, /* lookups in one dir run at once */
		FUSE_CAP_AUTO_INVAL_DATA, /* new mtime/size drops old pages */
	};
	struct wfs *fs = userdata;

	fs->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (conn->capable & wanted[i])
			conn->want |= wanted[i];
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->max_background = MAX_BACKGROUND;
	conn->congestion_threshold = CONGESTION_THRESHOLD;
}

/* Reply to a lookup of a confirmed-absent name: a negative entry the
 * kernel keeps for the negative TTL, so repeated probes never reach us. */
static void reply_absent(fuse_req_t req)
{
	struct fuse_entry_param e = { 0 };

	e.entry_timeout = wfs_cache_ttl(FS(req)->cache, WFS_CLASS_NEGATIVE);
	fuse_reply_entry(req, &e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct wfs *fs = FS(req);
	struct wfs_node *dir = NODE(req, parent), *child;
	const struct wfs_node_type *type = NULL;
	struct fuse_entry_param e = { 0 };
	double timeout;
	int rc;

	if (!dir->type->is_dir)
		return (void)fuse_reply_err(req, ENOTDIR);
	rc = dir->type->lookup(fs, dir, name, &type);
	if (rc == -ENOENT)
		return reply_absent(req);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	rc = wfs_node_child(fs->nodes, dir, name, type, &child);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	rc = wfs_node_attr(fs, child, &e.attr, &timeout);
	if (rc) {
		wfs_node_forget(fs->nodes, child, 1);
		if (rc == -ENOENT)
			return reply_absent(req);
		return (void)fuse_reply_err(req, -rc);
	}
	e.ino = INO(child);
	e.generation = child->generation;
	e.attr_timeout = e.entry_timeout = timeout;
	/* A reply the kernel never saw (interrupted) counts no lookup. */
	if (fuse_reply_entry(req, &e))
		wfs_node_forget(fs->nodes, child, 1);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	wfs_node_forget(FS(req)->nodes, NODE(req, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		wfs_node_forget(FS(req)->nodes, NODE(req, forgets[i].ino),
				forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct wfs *fs = FS(req);
	struct stat st;
	double timeout;
	int rc;

	(void)fi;
	rc = wfs_node_attr(fs, NODE(req, ino), &st, &timeout);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	fuse_reply_attr(req, &st, timeout);
}

/* ---- open directories ------------------------------------------------------ */

/* An open directory: a snapshot of its entries, so offsets stay valid
 * while the listing refreshes. */
struct wfs_handle {
	struct wfs_handle *prev, *next; /* fs->handles, under handles_mu */
	struct wfs_dirents ents;
};

static struct wfs_handle *handle_new(struct wfs *fs)
{
	struct wfs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_lock(&fs->handles_mu);
	h->next = fs->handles;
	if (h->next)
		h->next->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->handles_mu);
	return h;
}

static void handle_free(struct wfs *fs, struct wfs_handle *h)
{
	pthread_mutex_lock(&fs->handles_mu);
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&fs->handles_mu);
	wfs_dirents_free(&h->ents);
	free(h);
}

void wfs_ops_release_all(struct wfs *fs)
{
	while (fs->handles)
		handle_free(fs, fs->handles);
}

static struct wfs_handle *HANDLE(struct fuse_file_info *fi)
{
	return (struct wfs_handle *)(uintptr_t)fi->fh;
}

/* ---- directories --------------------------------------------------------- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct wfs_node *dir = NODE(req, ino);
	struct wfs_handle *h;
	int rc;

	if (!dir->type->is_dir)
		return (void)fuse_reply_err(req, ENOTDIR);
	h = handle_new(FS(req));
	if (!h)
		return (void)fuse_reply_err(req, ENOMEM);
	rc = dir->type->list(FS(req), dir, &h->ents);
	if (rc) {
		handle_free(FS(req), h);
		return (void)fuse_reply_err(req, -rc);
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi))
		handle_free(FS(req), h);
}

/* The smallest readdirplus record (fuse_direntplus with a short name):
 * bounds how many entries one reply can carry. */
#define DIRENTPLUS_MIN 152

/* Offsets: 0 ".", 1 "..", 2 + i the i-th entry; each entry's offset is
 * that of the next one. With plus, every entry sent with attributes counts
 * as a lookup; if the reply does not reach the kernel they are undone. */
static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, int plus)
{
	struct wfs *fs = FS(req);
	struct wfs_node *dir = NODE(req, ino);
	struct wfs_handle *h = HANDLE(fi);
	size_t total = h->ents.n + 2, pos = 0, nsent = 0;
	struct wfs_node **sent = NULL;
	char *buf = malloc(size);

	if (plus)
		sent = calloc(size / DIRENTPLUS_MIN + 1, sizeof(*sent));
	if (!buf || (plus && !sent)) {
		free(buf);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	for (size_t i = (size_t)(off < 0 ? 0 : off); i < total; i++) {
		struct fuse_entry_param e = { 0 };
		struct wfs_node *child = NULL;
		const char *name;
		size_t need;

		if (i < 2) {
			name = i == 0 ? "." : "..";
			e.attr.st_ino = i == 1 && dir->parent ? dir->parent->ino
							      : dir->ino;
			e.attr.st_mode = S_IFDIR;
		} else {
			const struct wfs_dirent *d = &h->ents.v[i - 2];
			double timeout;

			name = d->name;
			e.attr.st_mode = wfs_type_mode(d->type);
			if (plus &&
			    wfs_node_child(fs->nodes, dir, name, d->type,
					   &child) == 0) {
				if (wfs_node_attr(fs, child, &e.attr,
						  &timeout) == 0) {
					e.ino = INO(child);
					e.generation = child->generation;
					e.attr_timeout = timeout;
					e.entry_timeout = timeout;
				} else {
					/* No attributes: a plain entry; the
					 * kernel looks it up if it wants. */
					wfs_node_forget(fs->nodes, child, 1);
					child = NULL;
					e.attr.st_mode = wfs_type_mode(d->type);
				}
			}
			if (!e.attr.st_ino)
				e.attr.st_ino = wfs_node_child_ino(dir, name);
		}
		if (plus)
			need = fuse_add_direntry_plus(req, buf + pos,
						      size - pos, name, &e,
						      (off_t)i + 1);
		else
			need = fuse_add_direntry(req, buf + pos, size - pos,
						 name, &e.attr, (off_t)i + 1);
		if (need > size - pos) {
			if (child)
				wfs_node_forget(fs->nodes, child, 1);
			break;
		}
		pos += need;
		if (child)
			sent[nsent++] = child;
	}
	if (fuse_reply_buf(req, buf, pos))
		for (size_t i = 0; i < nsent; i++)
			wfs_node_forget(fs->nodes, sent[i], 1);
	free(sent);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(FS(req), HANDLE(fi));
	fuse_reply_err(req, 0);
}

/* ---- files --------------------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct wfs *fs = FS(req);

	(void)ino;
	if (fs->no_open)
		return (void)fuse_reply_err(req, ENOSYS);
	/* A kernel that must send opens: the same stateless files. */
	fi->keep_cache = 1;
	fi->noflush = 1;
	fuse_reply_open(req, fi);
}

/* A streamed file: its node's reader fills a buffer of the kernel's size
 * (bounded by max_read). */
static void read_stream(fuse_req_t req, struct wfs_node *node, size_t size,
			off_t off)
{
	char *buf;
	size_t got = 0;
	void *fh;
	int rc;

	rc = wfs_node_stream(FS(req), node, &fh);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	buf = malloc(size ? size : 1);
	if (!buf)
		return (void)fuse_reply_err(req, ENOMEM);
	rc = node->type->read(fh, buf, size, off, &got);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

/* Reads carry no handle: the file's current content, which is what the
 * kernel was last told the size of unless it changed within the last
 * instant of its attributes' life. */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct wfs_node *node = NODE(req, ino);
	struct wfs_blob *blob;
	double ttl;
	int rc;

	(void)fi;
	if (node->type->is_dir)
		return (void)fuse_reply_err(req, EISDIR);
	if (node->type->read)
		return read_stream(req, node, size, off);
	rc = node->type->content(FS(req), node, &blob, &ttl);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	if (off < 0 || (size_t)off >= blob->len)
		size = 0;
	else if (size > blob->len - (size_t)off)
		size = blob->len - (size_t)off;
	fuse_reply_buf(req, size ? blob->data + off : NULL, size);
	wfs_obj_unref(&blob->obj);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct wfs_node *node = NODE(req, ino);
	struct wfs_stat st = { 0 };
	char *target = NULL;
	int rc;

	if (!node->type->readlink)
		return (void)fuse_reply_err(req, EINVAL);
	rc = node->type->readlink(FS(req), node, &target, &st);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	fuse_reply_readlink(req, target);
	free(target);
}

/* ---- extended attributes ------------------------------------------------- */

/* The size-probe protocol of getxattr/listxattr: size 0 asks for the
 * length; a buffer too small is ERANGE. */
static void reply_xattr_value(fuse_req_t req, size_t size, const char *value,
			      size_t len)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct wfs_xattrs x = { 0 };
	size_t i;
	int rc;

	/* Names outside our namespaces (security.selinux, ACLs, which ls
	 * probes on every file) are absent without asking the node. */
	if (strncmp(name, WFS_XATTR_PREFIX, strlen(WFS_XATTR_PREFIX)) &&
	    strncmp(name, WFS_XATTR_LINK_PREFIX, strlen(WFS_XATTR_LINK_PREFIX)))
		return (void)fuse_reply_err(req, ENODATA);
	rc = wfs_node_xattrs(FS(req), NODE(req, ino), &x);
	if (rc) {
		wfs_xattrs_free(&x);
		return (void)fuse_reply_err(req, -rc);
	}
	for (i = 0; i < x.n && strcmp(x.v[i].name, name); i++)
		;
	if (i == x.n)
		fuse_reply_err(req, ENODATA);
	else
		reply_xattr_value(req, size, x.v[i].value, x.v[i].len);
	wfs_xattrs_free(&x);
}

/* The names, each NUL-terminated, one after the other. */
static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct wfs_xattrs x = { 0 };
	size_t len = 0, at = 0;
	char *list;
	int rc;

	rc = wfs_node_xattrs(FS(req), NODE(req, ino), &x);
	if (rc) {
		wfs_xattrs_free(&x);
		return (void)fuse_reply_err(req, -rc);
	}
	for (size_t i = 0; i < x.n; i++)
		len += strlen(x.v[i].name) + 1;
	list = malloc(len ? len : 1);
	if (!list) {
		wfs_xattrs_free(&x);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	for (size_t i = 0; i < x.n; i++) {
		size_t n = strlen(x.v[i].name) + 1;

		memcpy(list + at, x.v[i].name, n);
		at += n;
	}
	reply_xattr_value(req, size, list, len);
	free(list);
	wfs_xattrs_free(&x);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { 0 };

	(void)ino;
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = 255;
	sv.f_files = wfs_nodes_count(FS(req)->nodes);
	sv.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops wfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.readlink = op_readlink,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.statfs = op_statfs,
};
