/* config.c — wb_config_unwrap(): run.config as wandb.Api gives it, from the
 * wrapped text the server stores (doc/api-notes.md, "Config unwrapping"). */
#include <errno.h>
#include <string.h>

#include "wb_api.h"
#include "wb_json.h"

static int is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]))
			return 0;
	return 1;
}

/* obj[key] = value, taking ownership of value; key may be value's own
 * ->string. Python builds the dict by assignment, so a repeated key keeps
 * its first position and takes the last value. 0 or -ENOMEM. */
static int put(cJSON *obj, const char *key, cJSON *value)
{
	cJSON *old = wb_json_get(obj, key);
	char *k;

	if (!old) {
		if (cJSON_AddItemToObject(obj, key, value))
			return 0;
		cJSON_Delete(value);
		return -ENOMEM;
	}
	/* Swap the key strings, so no copy (that could fail) is needed and
	 * the old item leaves with value's former key. */
	k = value->string;
	value->string = old->string;
	old->string = k;
	cJSON_ReplaceItemViaPointer(obj, old, value);
	return 0;
}

int wb_config_unwrap(const char *raw, size_t len, cJSON **out,
		     struct wb_error *err)
{
	cJSON *wrapped, *config, *item;

	*out = NULL;
	if (!raw || is_blank(raw, len)) {
		*out = cJSON_CreateObject();
		return *out ? 0
			    : wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	wrapped = wb_json_parse(raw, len, err);
	if (!wrapped)
		return err ? err->code : -EBADMSG;
	if (cJSON_IsNull(wrapped)) { /* json.loads gives None: {} */
		cJSON_Delete(wrapped);
		*out = cJSON_CreateObject();
		return *out ? 0
			    : wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	if (!cJSON_IsObject(wrapped)) {
		cJSON_Delete(wrapped);
		return wb_error_set(err, -EBADMSG, 0,
				    "config is not a JSON object");
	}
	config = cJSON_CreateObject();
	if (!config) {
		cJSON_Delete(wrapped);
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	/* Move each value out of the parsed tree instead of copying it: the
	 * wrapper objects (with `desc` and other siblings) are dropped along
	 * with `wrapped`. */
	while ((item = wrapped->child)) {
		cJSON *value;
		int rc;

		cJSON_DetachItemViaPointer(wrapped, item);
		if (!item->string || strcmp(item->string, "_wandb") == 0 ||
		    strcmp(item->string, "wandb_version") == 0) {
			cJSON_Delete(item);
			continue;
		}
		value = wb_json_get(item, "value")
			? cJSON_DetachItemFromObjectCaseSensitive(item, "value")
			: NULL;
		if (value) {
			rc = put(config, item->string, value);
			cJSON_Delete(item);
		} else {
			rc = put(config, item->string, item);
		}
		if (rc) {
			cJSON_Delete(wrapped);
			cJSON_Delete(config);
			return wb_error_set(err, rc, 0, "out of memory");
		}
	}
	cJSON_Delete(wrapped);
	*out = config;
	return 0;
}
