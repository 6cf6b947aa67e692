/* wb_settings.h — where credentials and the base URL come from, exactly as
 * the W&B SDK finds them:
 *   base URL: explicit > WANDB_BASE_URL > [default] base_url in
 *             $WANDB_CONFIG_DIR/settings (else ~/.config/wandb/settings)
 *             > https://api.wandb.ai; trailing '/' stripped.
 *   API key:  explicit > WANDB_API_KEY > netrc ($NETRC, ~/.netrc, ~/_netrc)
 *             entry whose machine is the base URL's host[:port].
 *   app URL:  WANDB_APP_URL, else derived from the base URL.
 * The key is held in memory only and wiped by wb_settings_clear().
 */
#ifndef WB_SETTINGS_H
#define WB_SETTINGS_H

#include "wb_error.h"

struct wb_settings {
	char *base_url;     /* never ends in '/' */
	char *app_url;      /* for web links */
	char *api_key;      /* NULL when none was found */
	char *entity;       /* WANDB_ENTITY / settings entity, or NULL */
	char *organization; /* WANDB_ORGANIZATION / settings, or NULL */
};

/* Resolve settings. base_url_override / api_key_override may be NULL.
 * Returns 0 (api_key may still be NULL: the caller decides whether that is
 * fatal) or a negative errno for a malformed base URL or OOM. */
int wb_settings_resolve(const char *base_url_override,
			const char *api_key_override, struct wb_settings *out,
			struct wb_error *err);

/* Free all members, wiping the key first. Safe on a zeroed struct. */
void wb_settings_clear(struct wb_settings *s);

/* Look up machine in a netrc file; returns a malloc'd password or NULL
 * (absent file, no entry, empty password, parse error). Exposed for tests. */
char *wb_netrc_password(const char *path, const char *machine);

/* host[:port] of an http(s) URL as a malloc'd string, or NULL. */
char *wb_url_netloc(const char *url);

/* App (web UI) URL for a base URL, malloc'd: api.wandb.test -> app.wandb.test,
 * api.wandb.X -> wandb.X, api.HOST -> app.HOST, anything else unchanged. */
char *wb_app_url_for(const char *base_url);

#endif
