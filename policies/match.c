/*
 * Who and what a pattern covers: people (email globs and "group:NAME"),
 * managed targets and protected accounts.  Email comparisons ignore case
 * because mail systems do; target and account globs keep it, because
 * platforms such as PostgreSQL tell "Sales" from "sales".
 */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "util.h"

int
config_person_matches(const struct config *cfg, char *const *patterns,
    size_t n, const char *who)
{
	const struct group *g;
	size_t i, j;

	if (who == NULL || *who == '\0')
		return 0;
	for (i = 0; i < n; i++) {
		if (strncmp(patterns[i], "group:", 6) != 0) {
			if (glob_match_ci(patterns[i], who))
				return 1;
			continue;
		}
		/* An unknown group matches nobody rather than failing the
		 * whole evaluation; validate reports it separately. */
		if ((g = config_group(cfg, patterns[i] + 6)) == NULL)
			continue;
		for (j = 0; j < g->n; j++)
			if (glob_match_ci(g->members[j], who))
				return 1;
	}
	return 0;
}

int
config_is_managed(const struct platform_cfg *p, const char *target)
{
	size_t i;

	for (i = 0; p && target && i < p->nmanaged; i++)
		if (glob_match(p->managed[i], target))
			return 1;
	return 0;
}

/* The part after a "kind:" prefix (§13 writes non-person grantees as
 * "role:X"), or NULL when the account has no such prefix. */
static const char *
after_kind(const char *account)
{
	const char *p = account;

	while (islower((unsigned char)*p) || *p == '-')
		p++;
	return p > account && *p == ':' ? p + 1 : NULL;
}

int
config_is_protected(const struct platform_cfg *p, const char *account)
{
	const char *bare;
	size_t i;

	if (p == NULL || account == NULL)
		return 0;
	bare = after_kind(account);
	for (i = 0; i < p->nprotected; i++)
		if (glob_match(p->protected_accounts[i], account) ||
		    (bare && glob_match(p->protected_accounts[i], bare)))
			return 1;
	return 0;
}
