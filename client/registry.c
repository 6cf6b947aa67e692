/* registry.c — organizations of an entity, resolving an organization name
 * to its org entity, and registries (doc/api-notes.md, "Registries and
 * organizations"): the
 * wandb-registry-* projects of the org entity, their portfolio collections
 * and linked versions, read through the ordinary project routes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_api.h"
#include "wb_log.h"
#include "wb_registry.h"

#define REGISTRY_PREFIX_LEN (sizeof(WB_REGISTRY_PREFIX) - 1)

void wb_org_free(struct wb_org *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->org_entity);
	free(o);
}

/* An org from {name orgEntity{name}} (orgEntity absent on old servers). */
static int org_from_node(const cJSON *node, struct wb_org **out)
{
	struct wb_org *o = calloc(1, sizeof(*o));
	int rc = o ? 0 : -ENOMEM;

	*out = NULL;
	if (!rc)
		rc = api_need_str(node, "name", &o->name);
	if (!rc)
		rc = api_dup_str(wb_json_get(node, "orgEntity"), "name",
				 &o->org_entity);
	if (rc) {
		wb_org_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* Deliver one org unless an earlier one had the same name. */
static int org_deliver(const cJSON *node, const cJSON *seen_list, wb_org_cb cb,
		       void *ud, struct wb_error *err)
{
	const char *name = wb_json_get_str(node, "name");
	const cJSON *prev;
	struct wb_org *o;
	int rc;

	cJSON_ArrayForEach (prev, seen_list) {
		if (prev == node)
			break;
		if (name && wb_json_get_str(prev, "name") &&
		    strcmp(name, wb_json_get_str(prev, "name")) == 0)
			return 0;
	}
	rc = org_from_node(node, &o);
	if (rc)
		return api_item_error(err, rc, "organization");
	return cb(ud, o);
}

int wb_orgs_of_entity(struct wb_client *c, const char *entity, wb_org_cb cb,
		      void *ud, struct wb_error *err)
{
	const cJSON *ent, *org, *orgs, *node;
	cJSON *data;
	int rc;

	rc = api_gql(c, "FetchOrgInfoFromEntity",
		     api_vars("entity", entity, NULL), &data, err);
	if (rc == -EINVAL) {
		/* No Organization.orgEntity on this server: names only. */
		wb_log(WB_LOG_INFO, "org entities not supported (%s)",
		       err ? err->msg : "");
		rc = api_gql(c, "EntityOrganizations",
			     api_vars("entity", entity, NULL), &data, err);
	}
	if (rc)
		return rc;
	ent = wb_json_get(data, "entity");
	if (!cJSON_IsObject(ent)) {
		cJSON_Delete(data);
		return wb_error_set(err, -ENOENT, 0,
				    "no entity %s (absent or "
				    "not visible)",
				    entity);
	}
	/* A team entity has one organization; a user entity has the
	 * organizations of its user. */
	org = wb_json_get(ent, "organization");
	if (cJSON_IsObject(org))
		rc = org_deliver(org, NULL, cb, ud, err);
	orgs = rc ? NULL
		  : wb_json_get(wb_json_get(ent, "user"), "organizations");
	cJSON_ArrayForEach (node, orgs) {
		if (cJSON_IsObject(org) && wb_json_get_str(org, "name") &&
		    wb_json_get_str(node, "name") &&
		    !strcmp(wb_json_get_str(org, "name"),
			    wb_json_get_str(node, "name")))
			continue;
		rc = org_deliver(node, orgs, cb, ud, err);
		if (rc)
			break;
	}
	cJSON_Delete(data);
	return rc;
}

int wb_org_resolve(struct wb_client *c, const char *org, struct wb_org **out,
		   struct wb_error *err)
{
	const cJSON *node;
	cJSON *data = NULL;
	int rc;

	*out = NULL;
	/* A display name first (organization(name:) wants that) ... */
	rc = api_gql(c, "FetchOrganization", api_vars("org", org, NULL), &data,
		     err);
	if (rc && rc != -EINVAL)
		return rc;
	node = wb_json_get(data, "organization");
	if (!rc && cJSON_IsObject(node) &&
	    wb_json_get_str(wb_json_get(node, "orgEntity"), "name")) {
		rc = org_from_node(node, out);
		cJSON_Delete(data);
		return rc ? api_item_error(err, rc, org) : 0;
	}
	cJSON_Delete(data);
	/* ... else the name of the org entity itself (also the way on
	 * servers without Organization.orgEntity). */
	rc = api_gql(c, "OrgEntity", api_vars("entity", org, NULL), &data, err);
	if (rc)
		return rc;
	node = wb_json_get(data, "entity");
	if (!cJSON_IsObject(node)) {
		cJSON_Delete(data);
		return wb_error_set(err, -ENOENT, 0,
				    "no organization %s "
				    "(absent or not visible)",
				    org);
	}
	*out = calloc(1, sizeof(**out));
	rc = *out ? 0 : -ENOMEM;
	if (!rc)
		rc = api_need_str(node, "name", &(*out)->org_entity);
	if (!rc)
		rc = api_dup_str(wb_json_get(node, "organization"), "name",
				 &(*out)->name);
	cJSON_Delete(data);
	if (rc) {
		wb_org_free(*out);
		*out = NULL;
		return api_item_error(err, rc, org);
	}
	return 0;
}

/* ---- registries ------------------------------------------------------- */

void wb_registry_free(struct wb_registry *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->project);
	free(r->org_entity);
	free(r->id);
	free(r->description);
	free(r->access);
	free(r->created_at);
	free(r->updated_at);
	free(r);
}

static int is_registry_project(const char *name)
{
	return strncmp(name, WB_REGISTRY_PREFIX, REGISTRY_PREFIX_LEN) == 0 &&
		name[REGISTRY_PREFIX_LEN] != '\0';
}

struct registries_ctx {
	wb_registry_cb cb;
	void *ud;
};

/* A registry from a project of the org entity (others are skipped). The
 * project's fields move over, so nothing is copied twice. */
static int registry_from_project(void *ud, struct wb_project *p)
{
	struct registries_ctx *x = ud;
	struct wb_registry *r;

	if (!is_registry_project(p->name)) {
		wb_project_free(p);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->name = strdup(p->name + REGISTRY_PREFIX_LEN))) {
		free(r);
		wb_project_free(p);
		return -ENOMEM;
	}
	r->project = p->name;
	r->org_entity = p->entity;
	r->id = p->id;
	r->description = p->description;
	r->access = p->access;
	r->created_at = p->created_at;
	r->updated_at = p->updated_at;
	p->name = p->entity = p->id = p->description = p->access = NULL;
	p->created_at = p->updated_at = NULL;
	wb_project_free(p);
	return x->cb(x->ud, r);
}

static int need_org_entity(const struct wb_org *org, struct wb_error *err)
{
	if (org && org->org_entity)
		return 0;
	return wb_error_set(err, -EOPNOTSUPP, 0,
			    "organization %s: the "
			    "server does not say which entity owns its "
			    "registries",
			    org && org->name ? org->name : "?");
}

int wb_registries_list(struct wb_client *c, const struct wb_org *org,
		       wb_registry_cb cb, void *ud, struct wb_error *err)
{
	struct registries_ctx x = { cb, ud };
	int rc = need_org_entity(org, err);

	if (rc)
		return rc;
	rc = wb_projects_list(c, org->org_entity, 0, registry_from_project, &x,
			      err);
	if (rc == -ENOMEM)
		rc = wb_error_set(err, rc, 0, "out of memory");
	return rc;
}

/* *project = "wandb-registry-<name>" for a registry given with or without
 * the prefix, once org is known to have an org entity; caller frees. */
static int registry_project(const struct wb_org *org, const char *registry,
			    char **project, struct wb_error *err)
{
	int rc = need_org_entity(org, err);

	*project = NULL;
	if (rc)
		return rc;
	if (is_registry_project(registry))
		*project = strdup(registry);
	else if (asprintf(project, "%s%s", WB_REGISTRY_PREFIX, registry) < 0)
		*project = NULL;
	return *project ? 0 : wb_error_set(err, -ENOMEM, 0, "out of memory");
}

int wb_registry_collections_list(struct wb_client *c, const struct wb_org *org,
				 const char *registry, int per_page,
				 wb_artifact_collection_cb cb, void *ud,
				 struct wb_error *err)
{
	char *project;
	int rc = registry_project(org, registry, &project, err);

	if (!rc)
		rc = wb_artifact_collections_list(c, org->org_entity, project,
						  NULL, per_page, cb, ud, err);
	free(project);
	return rc;
}

int wb_registry_versions_list(struct wb_client *c, const struct wb_org *org,
			      const char *registry, const char *collection,
			      int per_page, wb_artifact_cb cb, void *ud,
			      struct wb_error *err)
{
	char *project;
	int rc = registry_project(org, registry, &project, err);

	if (!rc)
		rc = wb_artifact_memberships_list(c, org->org_entity, project,
						  collection, per_page, cb, ud,
						  err);
	free(project);
	return rc;
}
