/* ops.c — the FUSE low-level handlers (wfs_ops.h). Thin: find the node,
 * ask its type (wfs_node.h), reply exactly once. Every write-type operation
 * answers EROFS (the mount is also read-only, so the kernel usually answers
 * first). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "wb_log.h"
#include "wfs_node.h"
#include "wfs_ops.h"

/* Kernel FUSE knobs (peers.md §3): enough background requests for many
 * parallel readers, congestion at 3/4 of it. */
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
		FUSE_CAP_READDIRPLUS,      /* ls -l: one listing, no lookups */
		FUSE_CAP_READDIRPLUS_AUTO,
		FUSE_CAP_PARALLEL_DIROPS,  /* lookups in one dir run at once */
		FUSE_CAP_AUTO_INVAL_DATA,  /* new mtime/size drops old pages */
	};

	(void)userdata;
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
	rc = wfs_node_attr(fs, fs->nodes, child, &e.attr, &timeout);
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
	rc = wfs_node_attr(fs, fs->nodes, NODE(req, ino), &st, &timeout);
	if (rc)
		return (void)fuse_reply_err(req, -rc);
	fuse_reply_attr(req, &st, timeout);
}

/* ---- open handles -------------------------------------------------------- */

/* An open directory (a snapshot of its entries, so offsets stay valid),
 * an open whole-blob file (the content it was opened with) or an open
 * streamed file (its type's reader). */
struct wfs_handle {
	struct wfs_handle *prev, *next;  /* fs->handles, under handles_mu */
	struct wfs_dirents ents;
	struct wfs_blob *blob;
	const struct wfs_node_type *type; /* streamed: whose reader fh is */
	void *fh;
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
	wfs_obj_unref(h->blob ? &h->blob->obj : NULL);
	if (h->fh)
		h->type->release(h->fh);
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
			if (plus && wfs_node_child(fs->nodes, dir, name,
						   d->type, &child) == 0) {
				if (wfs_node_attr(fs, fs->nodes, child, &e.attr,
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
	struct wfs_node *node = NODE(req, ino);
	struct wfs_handle *h;
	int keep, direct, rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		return (void)fuse_reply_err(req, EROFS);
	if (node->type->is_dir)
		return (void)fuse_reply_err(req, EISDIR);
	if (node->type->readlink)
		return (void)fuse_reply_err(req, ELOOP);
	h = handle_new(fs);
	if (!h)
		return (void)fuse_reply_err(req, ENOMEM);
	direct = 0;
	if (node->type->open) {
		h->type = node->type;
		rc = wfs_node_open_stream(fs, fs->nodes, node, &h->fh, &keep);
	} else {
		rc = wfs_node_open(fs, fs->nodes, node, &h->blob, &keep,
				   &direct);
	}
	if (rc) {
		handle_free(fs, h);
		return (void)fuse_reply_err(req, -rc);
	}
	fi->fh = (uintptr_t)h;
	fi->keep_cache = keep;
	fi->direct_io = direct;
	fi->noflush = 1;
	if (fuse_reply_open(req, fi))
		handle_free(fs, h);
}

/* A streamed file: the type's reader fills a buffer of the kernel's size
 * (bounded by max_read). */
static void read_stream(fuse_req_t req, struct wfs_handle *h, size_t size,
			off_t off)
{
	char *buf = malloc(size ? size : 1);
	size_t got = 0;
	int rc;

	if (!buf)
		return (void)fuse_reply_err(req, ENOMEM);
	rc = h->type->read(h->fh, buf, size, off, &got);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	const struct wfs_blob *blob = HANDLE(fi)->blob;

	(void)ino;
	if (HANDLE(fi)->fh)
		return read_stream(req, HANDLE(fi), size, off);
	if (off < 0 || (size_t)off >= blob->len)
		return (void)fuse_reply_buf(req, NULL, 0);
	if (size > blob->len - (size_t)off)
		size = blob->len - (size_t)off;
	fuse_reply_buf(req, blob->data + off, size);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(FS(req), HANDLE(fi));
	fuse_reply_err(req, 0);
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
	    strncmp(name, WFS_XATTR_LINK_PREFIX,
		    strlen(WFS_XATTR_LINK_PREFIX)))
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

/* ---- everything that would write ----------------------------------------- */

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EROFS);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EROFS);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EROFS);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EROFS);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EROFS);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	(void)ino, (void)name, (void)value, (void)size, (void)flags;
	fuse_reply_err(req, EROFS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	fuse_reply_err(req, EROFS);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	(void)ino, (void)mode, (void)offset, (void)length, (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
			       off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	(void)ino_in, (void)off_in, (void)fi_in, (void)ino_out, (void)off_out,
		(void)fi_out, (void)len, (void)flags;
	fuse_reply_err(req, EROFS);
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
	.readlink = op_readlink,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.statfs = op_statfs,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.write = op_write,
	.create = op_create,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
};
