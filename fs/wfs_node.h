/* wfs_node.h — the node model: what a file or directory of the tree is.
 *
 * A node type is a small table of functions (lookup a child, list children,
 * stat a directory, give a file's content). Every directory level of the
 * tree is one type in its own node_*.c file; adding a part of the tree (run
 * files, history, artifacts) is adding a type and naming it in its parent's
 * lookup/list, nothing else.
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
 * read asks the file's type for its current content. The kernel keeps a
 * file's pages until its attributes expire, which is never later than the
 * cache's freshness of the bytes; it then asks again, and a changed
 * content shows as a changed size or mtime, which makes the kernel drop
 * the old pages.
 */
#ifndef WFS_NODE_H
#define WFS_NODE_H

#include <stdint.h>
#include <sys/stat.h>

#include "wfs.h"
#include "wfs_render.h"
#include "wb_strmap.h"

struct wfs_node;
struct wfs_node_type;

/* What a directory type reports about itself (mode, size, links and inode
 * are filled in generically). */
struct wfs_stat {
	time_t mtime, ctime;
	double ttl;  /* seconds the kernel may keep it: what is left of the
			data's freshness in the cache */
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

struct wfs_node_type {
	const char *name;  /* for logs */
	int is_dir;
	/* Directories. lookup: the type of child `name`, -ENOENT when it
	 * does not exist (confirmed), other negative errno on failure. */
	int (*lookup)(struct wfs *fs, struct wfs_node *dir, const char *name,
		      const struct wfs_node_type **type);
	int (*list)(struct wfs *fs, struct wfs_node *dir,
		    struct wfs_dirents *out);
	int (*stat)(struct wfs *fs, struct wfs_node *dir, struct wfs_stat *out);
	/* Files: the current content (new reference) and how many seconds
	 * it stays fresh (as wfs_stat.ttl). */
	int (*content)(struct wfs *fs, struct wfs_node *file,
		       struct wfs_blob **blob, double *ttl);
};

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
	struct wfs_node *parent;  /* holds a reference; NULL for the root */
	char *name;
	uint64_t ino;             /* st_ino */
	uint64_t generation;
	/* Under the node table lock: */
	uint64_t nlookup;         /* the kernel's lookups */
	uint64_t refs;            /* live children */
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
int wfs_node_child(struct wfs_nodes *t, struct wfs_node *dir,
		   const char *name, const struct wfs_node_type *type,
		   struct wfs_node **out);
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

/* ---- the tree (one node_*.c file per type) ------------------------------ */

extern const struct wfs_node_type wfs_type_root;          /* node_root.c */
extern const struct wfs_node_type wfs_type_entity;        /* node_entity.c */
extern const struct wfs_node_type wfs_type_project;       /* node_project.c */
extern const struct wfs_node_type wfs_type_runs;          /* node_runs.c */
extern const struct wfs_node_type wfs_type_run;           /* node_run.c */
extern const struct wfs_node_type wfs_type_project_json;  /* node_json.c */
extern const struct wfs_node_type wfs_type_config_json;
extern const struct wfs_node_type wfs_type_summary_json;
extern const struct wfs_node_type wfs_type_metadata_json;

/* Times of a project directory, shared by the project dir and its runs/
 * dir (node_project.c). */
int wfs_project_dir_stat(struct wfs *fs, const struct wfs_node *project,
			 struct wfs_stat *st);

#endif
