/* projects.c — entities and projects: wb_entity_get(), wb_projects_list()
 * (every page of `models`, the legacy root field for an entity's projects),
 * wb_project_get(), and a project as JSON (wb_project_json). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_api.h"

#define PROJECTS_PER_PAGE 200 /* the SDK's Api.projects() default */

void wb_entity_free(struct wb_entity *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->name);
	free(e);
}

int wb_entity_get(struct wb_client *c, const char *name, struct wb_entity **out,
		  struct wb_error *err)
{
	const cJSON *ent;
	struct wb_entity *e;
	cJSON *data;
	int rc;

	*out = NULL;
	rc = api_gql(c, "Entity", api_vars("name", name, NULL), &data, err);
	if (rc)
		return rc;
	ent = wb_json_get(data, "entity");
	if (!cJSON_IsObject(ent)) {
		cJSON_Delete(data);
		return wb_error_set(err, -ENOENT, 0,
				    "no entity %s (absent or not visible)",
				    name);
	}
	e = calloc(1, sizeof(*e));
	rc = e ? 0 : -ENOMEM;
	if (!rc)
		rc = api_dup_str(ent, "id", &e->id);
	if (!rc)
		rc = api_dup_str(ent, "name", &e->name);
	if (!rc && !e->name)
		e->name = strdup(name);
	if (!rc && !e->name)
		rc = -ENOMEM;
	if (e)
		e->is_team = api_bool(ent, "isTeam") == 1;
	cJSON_Delete(data);
	if (rc) {
		wb_entity_free(e);
		return wb_error_set(err, rc, 0, "out of memory");
	}
	*out = e;
	return 0;
}

void wb_project_free(struct wb_project *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->name);
	free(p->entity);
	free(p->description);
	free(p->created_at);
	free(p->updated_at);
	free(p->access);
	free(p->web_url);
	free(p);
}

/* A project from a Project/Projects node. The server's names win over the
 * requested ones: it may answer in a different case. */
static int project_from_node(struct wb_client *c, const cJSON *node,
			     const char *entity, struct wb_project **out)
{
	struct wb_project *p = calloc(1, sizeof(*p));
	int rc = p ? 0 : -ENOMEM;

	*out = NULL;
	if (!rc)
		rc = api_dup_str(node, "id", &p->id);
	if (!rc)
		rc = api_dup_str(node, "name", &p->name);
	if (!rc)
		rc = api_dup_str(node, "entityName", &p->entity);
	if (!rc)
		rc = api_dup_str(node, "description", &p->description);
	if (!rc)
		rc = api_dup_str(node, "createdAt", &p->created_at);
	if (!rc)
		rc = api_dup_str(node, "updatedAt", &p->updated_at);
	if (!rc)
		rc = api_dup_str(node, "access", &p->access);
	if (!rc && !p->entity && !(p->entity = strdup(entity)))
		rc = -ENOMEM;
	if (!rc && !p->name)
		rc = -EBADMSG;
	if (!rc) {
		p->run_count = api_int64(node, "runCount");
		p->read_only = api_bool(node, "readOnly");
		p->web_url = wb_client_web_url(c, p->entity, p->name,
					       "workspace", NULL);
		if (!p->web_url)
			rc = -ENOMEM;
	}
	if (rc) {
		wb_project_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int wb_project_json(const struct wb_project *p, cJSON **out)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;

	wb_jb_str(&b, "name", p->name);
	wb_jb_str(&b, "entity", p->entity);
	wb_jb_str(&b, "id", p->id);
	wb_jb_str(&b, "description", p->description);
	wb_jb_str(&b, "access", p->access);
	wb_jb_str(&b, "createdAt", p->created_at);
	wb_jb_str(&b, "updatedAt", p->updated_at);
	wb_jb_int(&b, "runCount", p->run_count);
	wb_jb_bool(&b, "readOnly", p->read_only);
	wb_jb_str(&b, "url", p->web_url);
	*out = wb_jb_done(&b, &rc);
	return rc;
}

struct projects_ctx {
	struct wb_client *c;
	const char *entity;
	wb_project_cb cb;
	void *ud;
};

static int project_edge(void *ud, const cJSON *edge, struct wb_error *err)
{
	struct projects_ctx *x = ud;
	struct wb_project *p;
	int rc = project_from_node(x->c, wb_json_get(edge, "node"), x->entity,
				   &p);

	if (rc)
		return api_item_error(err, rc, x->entity);
	return x->cb(x->ud, p);
}

/* `models`, the projects of an entity, is null for an unknown entity. */
static const cJSON *locate_models(const cJSON *data, const char **missing)
{
	const cJSON *models = wb_json_get(data, "models");

	if (cJSON_IsObject(models))
		return models;
	*missing = "entity";
	return NULL;
}

int wb_projects_list(struct wb_client *c, const char *entity, int per_page,
		     wb_project_cb cb, void *ud, struct wb_error *err)
{
	struct projects_ctx x = { c, entity, cb, ud };
	struct api_pager p = {
		.op = "Projects",
		.cursor_var = "cursor",
		.size_var = "perPage",
		.per_page = per_page > 0 ? per_page : PROJECTS_PER_PAGE,
		.what = entity,
		.locate = locate_models,
		.edge = project_edge,
		.ud = &x,
	};

	return api_pages(c, &p, api_vars("entity", entity, NULL), err);
}

int wb_project_get(struct wb_client *c, const char *entity, const char *name,
		   struct wb_project **out, struct wb_error *err)
{
	const cJSON *node;
	cJSON *data;
	int rc;

	*out = NULL;
	rc = api_gql(c, "Project",
		     api_vars("entity", entity, "name", name, NULL), &data,
		     err);
	if (rc)
		return rc;
	node = wb_json_get(data, "project");
	if (!cJSON_IsObject(node))
		rc = wb_error_set(err, -ENOENT, 0,
				  "no project %s/%s (absent or not visible)",
				  entity, name);
	else if ((rc = project_from_node(c, node, entity, out)))
		rc = api_item_error(err, rc, entity);
	cJSON_Delete(data);
	return rc;
}
