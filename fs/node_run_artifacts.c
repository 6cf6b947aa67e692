/* node_run_artifacts.c — runs/<id>/artifacts/{logged,used}/: one symlink
 * <name>:v<N> per version the run logged (its outputs) or used (its
 * inputs), pointing into the owning project's artifacts/<type>/ tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wfs_artifacts.h"
#include "wfs_node.h"

static const struct wfs_fixed_child arts_children[] = {
	{ "logged", &wfs_type_run_art_list },
	{ "used", &wfs_type_run_art_list },
	{ NULL, NULL },
};

static int arts_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
		       const struct wfs_node_type **type)
{
	(void)fs;
	(void)dir;
	return wfs_fixed_lookup(arts_children, name, type);
}

static int arts_list(struct wfs *fs, struct wfs_node *dir,
		     struct wfs_dirents *out)
{
	(void)fs;
	(void)dir;
	return wfs_fixed_list(arts_children, out);
}

static int arts_stat(struct wfs *fs, struct wfs_node *dir, struct wfs_stat *st)
{
	(void)dir;
	return wfs_stat_mount_time(fs, st);
}

const struct wfs_node_type wfs_type_run_artifacts = {
	.name = "run artifacts",
	.is_dir = 1,
	.lookup = arts_lookup,
	.list = arts_list,
	.stat = arts_stat,
};

/* The record of a logged/ or used/ directory. */
static int list_rec(struct wfs *fs, const struct wfs_node *dir,
		    struct wfs_run_arts **out)
{
	return wfs_fetch_run_arts(fs, wfs_node_up(dir, 5)->name,
				  wfs_node_up(dir, 4)->name,
				  wfs_node_up(dir, 2)->name,
				  strcmp(dir->name, "used") == 0, out);
}

/* The names of a logged/ or used/ directory (a new reference). */
static int list_names(struct wfs *fs, const struct wfs_node *dir,
		      struct wfs_names **names)
{
	struct wfs_run_arts *r;
	int rc = list_rec(fs, dir, &r);

	*names = rc ? NULL : wfs_obj_ref(&r->names->obj);
	wfs_obj_unref(rc ? NULL : &r->obj);
	return rc;
}

static int list_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
		       const struct wfs_node_type **type)
{
	struct wfs_names *names;
	int rc = list_names(fs, dir, &names);

	*type = &wfs_type_run_art_link;
	return wfs_names_lookup(rc, names, name);
}

static int list_list(struct wfs *fs, struct wfs_node *dir,
		     struct wfs_dirents *out)
{
	struct wfs_names *names;
	int rc = list_names(fs, dir, &names);

	return wfs_names_list(rc, names, &wfs_type_run_art_link, out);
}

const struct wfs_node_type wfs_type_run_art_list = {
	.name = "run artifacts list",
	.is_dir = 1,
	.lookup = list_lookup,
	.list = list_list,
	.stat = arts_stat,
};

static int link_readlink(struct wfs *fs, struct wfs_node *link, char **target,
			 struct wfs_stat *st)
{
	struct wfs_run_arts *r;
	long at;
	int rc = list_rec(fs, link->parent, &r);

	*target = NULL;
	if (rc)
		return rc;
	at = wfs_names_find(r->names, link->name);
	if (at < 0)
		rc = -ENOENT;
	else if (!(*target = strdup(r->targets[at])))
		rc = -ENOMEM;
	wfs_obj_unref(&r->obj);
	wfs_stat_mount_time(fs, st);
	return rc;
}

const struct wfs_node_type wfs_type_run_art_link = {
	.name = "run artifact link",
	.readlink = link_readlink,
};
