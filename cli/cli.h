/* cli.h — what the command files of wandbfs-query share: the command table
 * type, the per-invocation context and small output/argument helpers
 * (implemented in wandbfs_query.c). Core commands (identity, projects, runs,
 * config) live in wandbfs_query.c, the data commands (files, history,
 * artifacts, ...) in cmd_data.c. */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "wb_api.h"
#include "wb_json.h"

/* Exit codes of the program and return values of a command's run(). */
enum {
	WB_CLI_OK = 0,
	WB_CLI_ERROR = 1,
	WB_CLI_USAGE = 2
};

struct wb_cli {
	struct wb_client *client;
	enum wb_json_style style; /* for JSON written to stdout */
	struct wb_error err;      /* what a failing command reports */
};

/* A command. run() gets the command's own argc/argv (argv[0] = the command
 * name, getopt state reset, so getopt_long() works as in main) and returns
 * WB_CLI_OK, WB_CLI_ERROR with cli->err filled, or WB_CLI_USAGE (main then
 * prints the synopsis). */
struct wb_cli_cmd {
	const char *name;
	const char *synopsis; /* arguments and options, for --help */
	const char *help;     /* one short line */
	int (*run)(struct wb_cli *cli, int argc, char **argv);
};

/* The data commands, terminated by an entry with name == NULL. */
extern const struct wb_cli_cmd wb_cli_data_cmds[];

/* Write item to stdout in cli->style, then a newline. WB_CLI_OK, or
 * WB_CLI_ERROR (cli->err filled) when it cannot be printed. */
int wb_cli_print(struct wb_cli *cli, const cJSON *item);

/* Finish a command that prints one JSON value: print item unless rc (or a
 * NULL item, -ENOMEM when rc is 0) says it failed, then free item.
 * WB_CLI_OK or WB_CLI_ERROR. */
int wb_cli_finish(struct wb_cli *cli, cJSON *item, int rc);

/* Turn a client return code into a command result: 0 -> WB_CLI_OK, else
 * copies err into cli->err (when it is not already there) and returns
 * WB_CLI_ERROR. */
int wb_cli_result(struct wb_cli *cli, int rc, const struct wb_error *err);

/* Split "a/b/c" in place into exactly n non-empty parts. 0 or -EINVAL. */
int wb_cli_split_path(char *path, char **parts, int n);

/* Parse a comma list of config, summary, system, historykeys or all into
 * WB_RUN_* bits. 0 or -EINVAL. */
int wb_cli_parse_heavy(const char *list, unsigned *mask);

/* Parse a decimal integer in [min, max]. 0 or -EINVAL. */
int wb_cli_parse_int(const char *s, long long min, long long max,
		     long long *out);

#endif
