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
