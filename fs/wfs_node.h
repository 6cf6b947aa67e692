/* wfs_node.h — the node model: what a file or directory of the tree is.
 *
 * A node type is a small table of functions (lookup a child, list children,
 * stat, give a file's content, read it at an offset, give a link's target,
 * list its extended attributes). Every directory level of the tree is one
 * type in its own node_*.c file; adding a part of the tree (run files,
 * history, artifacts) is adding a type and naming it in its parent's
 * lookup/list, nothing else. Four kinds, told apart by the table:
 *  - directories (is_dir): lookup, list, stat;
 *  - whole-blob files (content): small rendered files (JSON), size = blob;
 *  - streamed files (open/read/release): large immutable bytes read at an
 *    offset (artifact entries); size and times from stat;
 *  - symlinks (readlink): the target, with times and lifetime; the size is
 *    the target's length.
 * Any kind may have extended attributes (xattrs).
 *
 * Nodes are the kernel's inodes: the FUSE node id is the node's address
 * (the root is FUSE_ROOT_ID). A node lives while the kernel holds lookups on
 * it (balanced by forget) or has children that live. The same path maps to
 * the same node while it lives; st_ino is a hash of the path, so it is
 * stable for the whole mount even across forget and re-lookup. Nodes carry
 * identity only: all data lives in the cache (wfs_cache.h) and is reached
 * through wfs_fetch.h.
 *
 * Files are read without open handles (the kernel skips open and release):
 * read asks the file's type for its current content (a streamed file reads
 * through its node's reader, wfs_node_stream). The kernel keeps a
 * file's pages until its attributes expire, which is never later than the
 * cache's freshness of the bytes; it then asks again, and a changed
 * content shows as a changed size or mtime, which makes the kernel drop
 * the old pages.
 */
#ifndef WFS_NODE_H
#define WFS_NODE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include "wfs.h"
#include "wfs_render.h"
#include "wb_strmap.h"

struct wfs_node;
struct wfs_node_type;

/* What a directory, streamed file or symlink type reports about itself
 * (mode, links and inode are filled in generically). */
struct wfs_stat {
	time_t mtime, ctime;
	double ttl;   /* seconds the kernel may keep it: what is left of the
			 data's freshness in the cache */
	int64_t size; /* streamed files and symlinks: bytes (else unused) */
};

struct wfs_dirent {
	char *name;
	const struct wfs_node_type *type;
};

struct wfs_dirents {
	size_t n, cap;
	struct wfs_dirent *v;
};

int wfs_dirents_add(struct wfs_dirents *d, const char *name,
		    const struct wfs_node_type *type);
void wfs_dirents_free(struct wfs_dirents *d);

/* Extended attributes of a node, in the order added (listxattr order). */
struct wfs_xattr {
	char *name;  /* full name, e.g. "user.wandb.digest" */
	char *value; /* not NUL-terminated in the reply: len bytes */
	size_t len;
};

struct wfs_xattrs {
	size_t n, cap;
	struct wfs_xattr *v;
};

/* Add name = value (a copy of len bytes); 0 or -ENOMEM. */
int wfs_xattrs_add(struct wfs_xattrs *x, const char *name, const char *value,
		   size_t len);
/* The same for a string (NULL: nothing added) and a number. */
int wfs_xattrs_add_str(struct wfs_xattrs *x, const char *name,
		       const char *value);
int wfs_xattrs_add_int(struct wfs_xattrs *x, const char *name, int64_t value);
void wfs_xattrs_free(struct wfs_xattrs *x);

struct wfs_node_type {
	const char *name; /* for logs */
	int is_dir;
	/* Directories. lookup: the type of child `name`, -ENOENT when it
	 * does not exist (confirmed), other negative errno on failure. */
	int (*lookup)(struct wfs *fs, struct wfs_node *dir, const char *name,
		      const struct wfs_node_type **type);
	int (*list)(struct wfs *fs, struct wfs_node *dir,
		    struct wfs_dirents *out);
	int (*stat)(struct wfs *fs, struct wfs_node *node,
		    struct wfs_stat *out); /* directories, streamed files */
	/* Whole-blob files: the current content (new reference) and how many
	 * seconds it stays fresh (as wfs_stat.ttl). */
	int (*content)(struct wfs *fs, struct wfs_node *file,
		       struct wfs_blob **blob, double *ttl);
	/* Streamed files: open a reader (*fh), read up to len bytes at off
	 * (*got < len only at the end of the file; never short otherwise),
	 * release it. Files have no open (the kernel skips it), so a node
	 * opens its reader at its first read and releases it when the node
	 * goes (wfs_node_stream); the reader must take concurrent reads. The
	 * kernel keeps their pages across opens and never uses direct I/O on
	 * them, so mmap works. */
	int (*open)(struct wfs *fs, struct wfs_node *file, void **fh);
	int (*read)(void *fh, char *buf, size_t len, off_t off, size_t *got);
	void (*release)(void *fh);
	/* Symlinks: the target (malloc'd into *target) and its times and
	 * lifetime in *st (no stat function). */
	int (*readlink)(struct wfs *fs, struct wfs_node *link, char **target,
			struct wfs_stat *st);
	/* Optional, any kind: add the node's extended attributes to out.
	 * Only names under WFS_XATTR_PREFIX (symlinks: WFS_XATTR_LINK_PREFIX)
	 * are asked for; others are absent without a call. */
	int (*xattrs)(struct wfs *fs, struct wfs_node *node,
		      struct wfs_xattrs *out);
};

/* The namespaces of the attributes wandbfs serves: user.wandb.* on files
 * and directories; on symlinks, where Linux refuses every user.* name
 * before asking the filesystem, security.wandb.*. */
#define WFS_XATTR_PREFIX "user.wandb."
#define WFS_XATTR_LINK_PREFIX "security.wandb."

/* S_IFDIR, S_IFLNK or S_IFREG: the kind of a type's nodes. */
mode_t wfs_type_mode(const struct wfs_node_type *type);

/* Directory types that list a names record, all children of one type:
 * rc and names are what the fetch returned, and names is released here.
 * lookup: 0 when name is listed, else -ENOENT (or the fetch's error). */
int wfs_names_lookup(int rc, struct wfs_names *names, const char *name);
int wfs_names_list(int rc, struct wfs_names *names,
		   const struct wfs_node_type *type, struct wfs_dirents *out);

/* Directories whose times are the mount's (LISTING class). */
int wfs_stat_mount_time(struct wfs *fs, struct wfs_stat *st);

/* A directory type with a fixed set of children (a run has config.json,
 * summary.json, metadata.json): a NULL-terminated table. */
struct wfs_fixed_child {
	const char *name;
	const struct wfs_node_type *type;
};
int wfs_fixed_lookup(const struct wfs_fixed_child *tab, const char *name,
		     const struct wfs_node_type **type);
int wfs_fixed_list(const struct wfs_fixed_child *tab, struct wfs_dirents *out);

struct wfs_node {
	const struct wfs_node_type *type;
	struct wfs_node *parent; /* holds a reference; NULL for the root */
	char *name;
	uint64_t ino; /* st_ino */
	uint64_t generation;
	_Atomic(void *) stream; /* streamed files: the reader, from the
				     first read until the node goes */
	/* Under the node table lock: */
	uint64_t nlookup; /* the kernel's lookups */
	uint64_t refs;    /* live children */
	struct wb_strmap children;
};

/* Most nodes a mount keeps at once; lookups beyond fail with ENFILE. */
#define WFS_NODES_MAX (1u << 20)

struct wfs_nodes;

struct wfs_nodes *wfs_nodes_new(const struct wfs_node_type *root_type);
void wfs_nodes_free(struct wfs_nodes *t);
struct wfs_node *wfs_nodes_root(struct wfs_nodes *t);
size_t wfs_nodes_count(struct wfs_nodes *t);

/* The child `name` of dir (created with `type` if new), with one more
 * kernel lookup counted. 0, -ENOMEM or -ENFILE. */
int wfs_node_child(struct wfs_nodes *t, struct wfs_node *dir, const char *name,
		   const struct wfs_node_type *type, struct wfs_node **out);
/* The st_ino a child `name` of dir has (or will have). */
uint64_t wfs_node_child_ino(const struct wfs_node *dir, const char *name);

/* Drop n kernel lookups (forget). */
void wfs_node_forget(struct wfs_nodes *t, struct wfs_node *node, uint64_t n);

/* The ancestor `up` levels above node (0 = node itself). */
const struct wfs_node *wfs_node_up(const struct wfs_node *node, int up);

/* Full attributes of a node and the kernel timeout for them. For files
 * this renders/fetches the content to report its exact size; the mtime's
 * nanoseconds carry the content's version, so new bytes always change the
 * mtime the kernel compares. */
int wfs_node_attr(struct wfs *fs, struct wfs_node *node, struct stat *st,
		  double *timeout);

/* The reader of a streamed file (for type->read), opened at its first
 * read and kept until the node goes. */
int wfs_node_stream(struct wfs *fs, struct wfs_node *node, void **fh);

/* The extended attributes of a node (none when its type has no xattrs). */
int wfs_node_xattrs(struct wfs *fs, struct wfs_node *node,
		    struct wfs_xattrs *out);

/* ---- the tree (one node_*.c file per type) ------------------------------ */

extern const struct wfs_node_type wfs_type_root;         /* node_root.c */
extern const struct wfs_node_type wfs_type_entity;       /* node_entity.c */
extern const struct wfs_node_type wfs_type_project;      /* node_project.c */
extern const struct wfs_node_type wfs_type_runs;         /* node_runs.c */
extern const struct wfs_node_type wfs_type_run;          /* node_run.c */
extern const struct wfs_node_type wfs_type_project_json; /* node_json.c */
extern const struct wfs_node_type wfs_type_config_json;
extern const struct wfs_node_type wfs_type_summary_json;
extern const struct wfs_node_type wfs_type_metadata_json;
/* artifacts and registries */
extern const struct wfs_node_type wfs_type_artifacts; /* node_artifacts.c */
extern const struct wfs_node_type wfs_type_art_type;
extern const struct wfs_node_type wfs_type_art_json;
extern const struct wfs_node_type wfs_type_art_alias;
extern const struct wfs_node_type wfs_type_registry;
/* node_artifact_tree.c */
extern const struct wfs_node_type wfs_type_art_version;
extern const struct wfs_node_type wfs_type_art_dir;
extern const struct wfs_node_type wfs_type_art_file;
extern const struct wfs_node_type wfs_type_art_ref;
extern const struct wfs_node_type wfs_type_registries; /* node_registry.c */
/* node_run_artifacts.c */
extern const struct wfs_node_type wfs_type_run_artifacts;
extern const struct wfs_node_type wfs_type_run_art_list;
extern const struct wfs_node_type wfs_type_run_art_link;

/* Times of a project directory, shared by the project dir and its runs/
 * dir (node_project.c). */
int wfs_project_dir_stat(struct wfs *fs, const struct wfs_node *project,
			 struct wfs_stat *st);

#endif
