/*
 * Identities and grants as a platform holds them: the vocabulary shared
 * by connectors (which produce them) and the state layer (which stores
 * them).  Lives on the bottom floor so neither includes the other.
 */
#ifndef ACCORD_GRANT_H
#define ACCORD_GRANT_H

#include <stddef.h>

enum account_kind { ACCT_USER, ACCT_ROLE, ACCT_GROUP, ACCT_SERVICE };
extern const char *const account_kind_names[];

/* An identity on the platform. */
struct ident {
	char *name;		/* the account as grants name it */
	char *email;		/* may be NULL */
	char *login;		/* may be NULL */
	enum account_kind kind;
};

/*
 * A grant as the platform holds it.  `account` is the identifier the
 * platform uses (PostgreSQL role name, Snowflake user name); a grantee
 * that is not a person is written with its kind: "role:X" (§13).
 */
struct pgrant {
	char *account;
	char *target;		/* "kind:name" as accord spells it */
	char *privilege;	/* "member", "SELECT", ... upper-case except member */
};

struct ingest {
	struct ident *idents;
	size_t nidents, aidents;
	struct pgrant *grants;
	size_t ngrants, agrants;
};
void ingest_add_ident(struct ingest *in, const char *name, const char *email,
    const char *login, enum account_kind kind);
void ingest_add_grant(struct ingest *in, const char *account,
    const char *target, const char *privilege);
void ingest_release(struct ingest *in);

#endif
