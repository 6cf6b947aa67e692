/* wb_queries.h — every GraphQL document the client can send.
 *
 * The documents live in client/queries/<OperationName>.graphql, one operation
 * per file, named as the file; shared selections are fragments in
 * client/queries/fragments/<FragmentName>.graphql. The build embeds each
 * document complete, with the fragments it spreads (queries/embed.py), into
 * a table; tests/ validates every complete document against the schema.
 */
#ifndef WB_QUERIES_H
#define WB_QUERIES_H

#include <stddef.h>

struct wb_query_doc {
	const char *name; /* operation name == file name without .graphql */
	const char *text; /* the document */
};

extern const struct wb_query_doc wb_query_docs[];
extern const size_t wb_query_docs_count;

/* The document for an operation name, or NULL. */
const struct wb_query_doc *wb_query_find(const char *name);

#endif
