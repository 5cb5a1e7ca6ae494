/*
 * accord.yaml: settings, groups, platforms, notification and safety
 * settings (DESIGN §2.1, §10).  The policies floor knows nothing of
 * connectors; the caller passes a table of connector types with the keys
 * each accepts and the target kinds each serves.
 */
#ifndef ACCORD_CONFIG_H
#define ACCORD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "yml.h"

/* What the connector registry tells the loader about one type. */
struct type_info {
	const char *type;
	const char *const *own_keys;	/* NULL-terminated, may be NULL */
	const char *const *target_kinds;	/* NULL-terminated: "role", "table" */
	int (*check_target)(const char *target, char *why, size_t whysz);	/* optional */
};

enum drift_mode { DRIFT_ENFORCE, DRIFT_REPORT };
enum account_match { MATCH_EMAIL, MATCH_EMAIL_LOCAL, MATCH_MAP };
extern const char *const drift_mode_names[];
extern const char *const account_match_names[];

struct account_map {
	char *person;		/* email, compared case-insensitively */
	char *account;
};

struct platform_cfg {
	char *name;
	char *type;
	const struct type_info *ti;
	char **managed;		/* "kind:glob" */
	size_t nmanaged;
	char **protected_accounts;	/* globs over account names */
	size_t nprotected;
	enum drift_mode drift;
	enum account_match match;
	struct account_map *map;
	size_t nmap;
	const struct yml_node *node;	/* the platform's mapping, borrowed from cfg->doc */
	int line, column;
};

struct group {
	char *name;
	char **members;		/* emails or globs */
	size_t n;
};

/*
 * notify: (DESIGN §7, §10, §12).  Environment variable NAMES only: the
 * secrets they hold are read at send time and never stored.  Strings
 * are owned by the config; NULL when absent unless a default is given.
 */
enum notify_event {
	NEV_PENDING, NEV_GRANTED, NEV_EXPIRING, NEV_REVOKED, NEV_COUNT
};
extern const char *const notify_event_names[];	/* "pending", ... */
#define NOTIFY_SLACK 1u		/* route bits in notify_cfg.events[] */
#define NOTIFY_EMAIL 2u

struct notify_slack {
	char *token_env;	/* chat.postMessage; or */
	char *webhook_env;	/* an incoming webhook (the URL is a secret) */
	char *channel;		/* required with token_env */
	char *api_url;		/* NULL: the Slack default */
	char *approve_emoji;	/* default "white_check_mark", no colons */
	char *push_remote;	/* default "origin" */
	char *ca_file;
};

struct notify_email {
	char *smtp_url;		/* smtp://HOST[:PORT] or smtps:// */
	char *from;
	char *username_env;	/* NULL: the from address is the user */
	char *password_env;	/* NULL: no AUTH */
	char *ca_file;
};

struct notify_cfg {
	int enabled;		/* a notify: block with slack or email */
	int have_slack, have_email;
	struct notify_slack slack;
	struct notify_email email;
	char *pull_request_url;	/* {number} {branch} {path}, may be NULL */
	unsigned events[NEV_COUNT];	/* NOTIFY_SLACK | NOTIFY_EMAIL */
};

struct config {
	char blob[41];		/* accord.yaml's blob id, "" when not from git */
	struct yml_doc doc;	/* owned; platform nodes point into it */
	int version;
	char *branch;
	struct group *groups;
	size_t ngroups;
	struct platform_cfg *platforms;
	size_t nplatforms;
	long max_revoke;	/* default 50 */
	const struct yml_node *notify;	/* borrowed, may be NULL */
	struct notify_cfg notify_cfg;	/* parsed notify: (zero when absent) */
};

/* Parse accord.yaml.  On failure nothing needs releasing. */
int config_parse(struct config *cfg, const char *path, const char *data,
    size_t len, const struct type_info *types, size_t ntypes,
    struct diag *err);
void config_release(struct config *cfg);
const struct platform_cfg *config_platform(const struct config *cfg,
    const char *name);
const struct group *config_group(const struct config *cfg, const char *name);

/*
 * Does `who` (an email) match one of `patterns`?  A pattern is an email
 * glob ("*@example.com", compared case-insensitively) or "group:NAME",
 * whose members are in turn emails or globs.
 */
int config_person_matches(const struct config *cfg, char *const *patterns,
    size_t n, const char *who);

/* Is `target` ("kind:name") within one of the platform's managed globs? */
int config_is_managed(const struct platform_cfg *p, const char *target);
/* Is `account` protected (glob over account names)? */
int config_is_protected(const struct platform_cfg *p, const char *account);

#endif
