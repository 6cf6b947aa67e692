/* gql.c — placeholder until its owner fills it in. */
