/*
 * Answers (DESIGN §12): who holds what now, since when and approved by
 * whom, and what existed at a past instant.  Read from what the last run
 * recorded (the grants accord made, the grants and identities ingested,
 * and the audit log); nothing here calls a platform or reads the access
 * repository.  Every query is served by an index (migration 3), so an
 * answer costs milliseconds however long the audit log grows.
 */
#ifndef ACCORD_ANSWERS_H
#define ACCORD_ANSWERS_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "state.h"

/*
 * One GRANT record (§12).  Strings are owned (answers_release) and may be
 * NULL; times are seconds since the epoch, 0 when unknown or none.
 */
struct answer {
	char *platform, *account, *person, *target, *privilege;
	char *request;		/* request path; NULL when held outside accord */
	char *commit_sha;	/* the approval commit */
	char *approvers;	/* comma-separated emails */
	char *rule;		/* "policies/FILE.yaml#N" when recorded */
	char *requester;	/* who asked (also for a grant to a role) */
	char *via;		/* inherited access: the grantee that holds it,
				 * e.g. "role:analyst"; NULL when held directly */
	int64_t approved_at, expires_at, granted_at, last_seen;
	int64_t until;		/* windows: when it ended, 0 still open */
	char *end_reason;	/* windows: the revoke's reason, else NULL */
	int outside;		/* source "outside": not granted by accord */
};

struct answers {
	struct answer *v;
	size_t n, alloc;
};
void answers_release(struct answers *a);

/*
 * Open the state database to answer from it, never creating one: 1 and
 * *out when it exists and a run has recorded something; 0 when there is
 * no state yet (err says which: no file, or no run), *out NULL; -1 on
 * error.
 */
int answers_state_open(struct state **out, const char *path,
    struct diag *err);

/*
 * Access held now by one person (matched case-insensitively): through
 * accord's grants, grants held outside accord by accounts that resolve
 * to the person, and access inherited through the roles and groups those
 * hold (via set; provenance is the membership's).  Sorted by platform,
 * target, privilege.
 */
int answers_access(struct state *s, const char *person, struct answers *out,
    struct diag *err);

/*
 * The grant among `a` that best answers "does this hold platform, target
 * (privilege NULL: any)?" at `now`: one not yet expired before one that
 * is, then the one lasting longest (permanent first), then accord's
 * before one held outside it, then direct before inherited.  Borrowed;
 * NULL when none matches.
 */
const struct answer *answers_best(const struct answers *a,
    const char *platform, const char *target, const char *privilege,
    int64_t now);

/* Every holder of targets matching target_glob (fnmatch syntax) on a
 * platform, direct and inherited through roles and groups. */
int answers_who(struct state *s, const char *platform,
    const char *target_glob, struct answers *out, struct diag *err);

/* Grants accord made that it believes still exist (platform NULL: all),
 * for access reviews. */
int answers_active(struct state *s, const char *platform,
    struct answers *out, struct diag *err);

/* Grants found at the last ingest that accord did not make (drift and
 * unmanaged), platform NULL: all. */
int answers_outside(struct state *s, const char *platform,
    struct answers *out, struct diag *err);

/*
 * Access windows from the audit log: a window runs from a grant row's
 * `at` to the first later revoke row of the same platform, account,
 * target and privilege (until 0 while open).  With at != 0, the windows
 * containing that instant, with access through roles, groups and teams
 * followed (over the overlap of membership and grant); otherwise the
 * direct windows overlapping [since, until) (0: open ends).  person
 * matches case-insensitively; target is a glob; NULL fields do not
 * filter.  Memory holds only the windows returned.
 */
struct window_filter {
	const char *person, *platform, *target;
	int64_t at, since, until;
};
int answers_windows(struct state *s, const struct window_filter *f,
    struct answers *out, struct diag *err);

/*
 * The latest audit row that decided on a person's access to a target
 * (grant, revoke, denied, grant_failed, revoke_failed), privilege NULL
 * for any.  *found is 0 when there is none.  Free with
 * answer_event_release.
 */
struct answer_event {
	char *action, *at, *privilege, *request, *expires_at, *reason;
	char *detail;
};
void answer_event_release(struct answer_event *e);
int answers_last_event(struct state *s, const char *person,
    const char *platform, const char *target, const char *privilege,
    struct answer_event *out, int *found, struct diag *err);

/* Ingested identities, with the person each resolves to. */
struct identity {
	char *platform, *account, *kind, *email, *person;
	int64_t last_seen;
};
struct identities {
	struct identity *v;
	size_t n, alloc;
};
void identities_release(struct identities *ids);
/* platform NULL: all; unmatched: only accounts no person resolves to. */
int answers_identities(struct state *s, const char *platform, int unmatched,
    struct identities *out, struct diag *err);

#endif
