/* node_entity.c — an entity (user, team or organization): one directory
 * per project of the entity (every page of the listing), in name order. */
#include <errno.h>
#include <string.h>

#include "wfs_fetch.h"
#include "wfs_node.h"

static int entity_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
			 const struct wfs_node_type **type)
{
	struct wfs_project_rec *rec;
	int rc;

	/* Characters W&B forbids in project names. */
	if (strpbrk(name, "\\#?%:"))
		return -ENOENT;
	rc = wfs_fetch_project(fs->fetch, dir->name, name, &rec, NULL);
	if (rc)
		return rc;
	wfs_obj_unref(&rec->obj);
	*type = &wfs_type_project;
	return 0;
}

static int entity_list(struct wfs *fs, struct wfs_node *dir,
		       struct wfs_dirents *out)
{
	struct wfs_names *names;
	int rc;

	rc = wfs_fetch_projects(fs->fetch, dir->name, &names);
	for (size_t i = 0; !rc && i < names->n; i++)
		rc = wfs_dirents_add(out, names->v[i], &wfs_type_project);
	if (names)
		wfs_obj_unref(&names->obj);
	return rc;
}

static int entity_stat(struct wfs *fs, struct wfs_node *dir,
		       struct wfs_stat *st)
{
	int rc = wfs_fetch_entity(fs->fetch, dir->name);

	wfs_stat_mount_time(fs, st);
	return rc;
}

const struct wfs_node_type wfs_type_entity = {
	.name = "entity",
	.is_dir = 1,
	.lookup = entity_lookup,
	.list = entity_list,
	.stat = entity_stat,
};
