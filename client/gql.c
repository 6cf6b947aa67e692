/* gql.c — wb_gql(): one GraphQL operation from client/queries/ over
 * wb_http, and the meaning of the response: errors in a 200 fail the call,
 * validation errors are -EINVAL (doc/api-notes.md, "Requests and
 * responses"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_client.h"
#include "wb_json.h"
#include "wb_log.h"
#include "wb_queries.h"

/* Bound for a raw (non-JSON) error body quoted in a message. */
#define RAW_BODY_QUOTE 160

/* Messages by which a server says it rejected the document itself (an
 * unknown field or argument on an older server, a bad variable): the call
 * can never succeed as written, so it is -EINVAL rather than -EIO. */
static const char *const validation_marks[] = {
	"Cannot query field",
	"Unknown argument",
	"Unknown type",
	"Unknown directive",
	"Unknown fragment",
	"Unknown operation named",
	"is not defined by type",
	"must have a selection of subfields",
	"must not have a selection since type",
	"is required, but it was not provided",
	"got invalid value",
	"Syntax Error",
};

static int is_validation_message(const char *m)
{
	for (size_t i = 0;
	     i < sizeof(validation_marks) / sizeof(validation_marks[0]); i++)
		if (strstr(m, validation_marks[i]))
			return 1;
	return 0;
}

/* Append src to dst[*at..cap), always NUL-terminated, truncating. */
static void append(char *dst, size_t cap, size_t *at, const char *src)
{
	size_t n = strlen(src);

	if (*at + 1 >= cap)
		return;
	if (n > cap - 1 - *at)
		n = cap - 1 - *at;
	memcpy(dst + *at, src, n);
	*at += n;
	dst[*at] = '\0';
}

/* Join errors[].message as the SDK does: "m" for one, "[m1; m2]" for
 * several. Returns the number of messages; *validation is set when any of
 * them is a document-validation error. */
static int join_errors(const cJSON *errors, char *out, size_t cap,
		       int *validation)
{
	const cJSON *e;
	size_t at = 0;
	int n = cJSON_GetArraySize(errors), i = 0;

	out[0] = '\0';
	if (n > 1)
		append(out, cap, &at, "[");
	cJSON_ArrayForEach (e, errors) {
		const char *m = cJSON_IsString(e)
			? e->valuestring
			: wb_json_get_str(e, "message");
		const cJSON *ext = wb_json_get(e, "extensions");
		const char *code = wb_json_get_str(ext, "code");

		if (!m)
			m = "(error without message)";
		if (is_validation_message(m) ||
		    (code && strcmp(code, "GRAPHQL_VALIDATION_FAILED") == 0))
			*validation = 1;
		if (i++)
			append(out, cap, &at, "; ");
		append(out, cap, &at, m);
	}
	if (n > 1)
		append(out, cap, &at, "]");
	return n;
}

/* What a non-2xx body says: errors[].message, {"error": "..."} or
 * {"error": {"message": ...}}, else the start of the raw body. */
static void body_message(const char *body, size_t len, char *out, size_t cap)
{
	cJSON *doc = body && len ? wb_json_parse(body, len, NULL) : NULL;
	const cJSON *errors = doc ? wb_json_get(doc, "errors") : NULL;
	const cJSON *error = doc ? wb_json_get(doc, "error") : NULL;
	int validation; /* unused here: for non-2xx the status decides */

	out[0] = '\0';
	if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
		join_errors(errors, out, cap, &validation);
	} else if (cJSON_IsString(error)) {
		snprintf(out, cap, "%s", error->valuestring);
	} else if (wb_json_get_str(error, "message")) {
		snprintf(out, cap, "%s", wb_json_get_str(error, "message"));
	} else if (!doc && body && len) {
		size_t n = len < RAW_BODY_QUOTE ? len : RAW_BODY_QUOTE;
		size_t j = 0;

		if (n >= cap)
			n = cap - 1;
		/* One line of printable text: bodies may be HTML. */
		for (size_t k = 0; k < n; k++) {
			unsigned char ch = (unsigned char)body[k];
			out[j++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
		}
		out[j] = '\0';
	}
	cJSON_Delete(doc);
}

static char *request_body(const struct wb_query_doc *doc, cJSON *vars)
{
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;

	if (!body) {
		cJSON_Delete(vars);
		return NULL;
	}
	if (!vars)
		vars = cJSON_CreateObject();
	if (cJSON_AddStringToObject(body, "query", doc->text) && vars &&
	    cJSON_AddItemToObject(body, "variables", vars)) {
		vars = NULL; /* owned by body now */
		if (cJSON_AddStringToObject(body, "operationName", doc->name))
			text = wb_json_print(body, WB_JSON_COMPACT, NULL);
	}
	cJSON_Delete(vars);
	cJSON_Delete(body);
	return text;
}

/* A non-2xx answer: wb_http's message (which names the operation, as the
 * request label) plus what the body says. */
static int http_failure(const struct wb_http_resp *resp, int rc,
			const struct wb_error *herr, const char *op,
			struct wb_error *err)
{
	char detail[WB_ERRMSG_MAX];

	body_message(resp->body, resp->body_len, detail, sizeof(detail));
	/* 400/422 is how servers answer a document they cannot parse or
	 * validate: the request can never succeed as written. */
	if (resp->status == 400 || resp->status == 422)
		rc = -EINVAL;
	/* A 404 from the GraphQL endpoint means a wrong base URL, not an
	 * absent W&B object: ENOENT is reserved for confirmed absences. */
	if (rc == -ENOENT)
		rc = -EIO;
	if (!herr->msg[0])
		return wb_error_set(err, rc, (int)resp->status,
				    "%s: request failed%s%s", op,
				    detail[0] ? ": " : "", detail);
	if (detail[0] && !strstr(herr->msg, detail))
		return wb_error_set(err, rc, (int)resp->status, "%s: %s",
				    herr->msg, detail);
	return wb_error_set(err, rc, (int)resp->status, "%s", herr->msg);
}

int wb_gql(struct wb_client *c, const char *op, cJSON *vars, cJSON **data,
	   struct wb_error *err)
{
	const struct wb_query_doc *doc = wb_query_find(op);
	struct wb_http_resp resp = { 0 };
	struct wb_http_req req = { 0 };
	struct wb_error herr = { 0 };
	cJSON *reply = NULL, *d;
	const cJSON *errors;
	char *url = NULL, *body;
	int rc;

	*data = NULL;
	if (!doc) {
		cJSON_Delete(vars);
		return wb_error_set(err, -EINVAL, 0,
				    "unknown GraphQL operation %s", op);
	}
	body = request_body(doc, vars);
	if (!body || asprintf(&url, "%s/graphql", wb_client_base_url(c)) < 0) {
		free(body);
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	req.method = "POST";
	req.url = url;
	req.body = body;
	req.body_len = strlen(body);
	req.range_end = -1;
	req.label = op;
	rc = wb_http_perform(wb_client_http(c), &req, &resp, &herr);
	free(url);
	free(body);
	if (rc) {
		rc = http_failure(&resp, rc, &herr, op, err);
		goto out;
	}

	reply = wb_json_parse(resp.body, resp.body_len, &herr);
	if (!reply || !cJSON_IsObject(reply)) {
		rc = wb_error_set(err, -EBADMSG, (int)resp.status,
				  "%s: response is not a JSON object%s%s", op,
				  reply ? "" : ": ", reply ? "" : herr.msg);
		goto out;
	}
	errors = wb_json_get(reply, "errors");
	if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
		char msg[WB_ERRMSG_MAX];
		int validation = 0;

		join_errors(errors, msg, sizeof(msg), &validation);
		rc = wb_error_set(err, validation ? -EINVAL : -EIO,
				  (int)resp.status, "%s: %s", op, msg);
		wb_log(WB_LOG_DEBUG, "graphql %s: errors: %s", op, msg);
		goto out;
	}
	d = cJSON_DetachItemFromObjectCaseSensitive(reply, "data");
	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		rc = wb_error_set(err, -EBADMSG, (int)resp.status,
				  "%s: response has no data", op);
		goto out;
	}
	*data = d;
	rc = 0;
out:
	cJSON_Delete(reply);
	wb_http_resp_clear(&resp);
	return rc;
}
