/*
 * Ingest snapshots: growable arrays of identities and grants.
 */
#include <stdlib.h>

#include "grant.h"
#include "util.h"

const char *const account_kind_names[] = { "user", "role", "group", "service" };

void
ingest_add_ident(struct ingest *in, const char *name, const char *email,
    const char *login, enum account_kind kind)
{
	struct ident *id;

	in->idents = xgrow(in->idents, sizeof(*in->idents), in->nidents,
	    &in->aidents);
	id = &in->idents[in->nidents++];
	id->name = xstrdup(name);
	id->email = xstrdup(email);
	id->login = xstrdup(login);
	id->kind = kind;
}

void
ingest_add_grant(struct ingest *in, const char *account, const char *target,
    const char *privilege)
{
	struct pgrant *g;

	in->grants = xgrow(in->grants, sizeof(*in->grants), in->ngrants,
	    &in->agrants);
	g = &in->grants[in->ngrants++];
	g->account = xstrdup(account);
	g->target = xstrdup(target);
	g->privilege = xstrdup(privilege);
}

void
ingest_release(struct ingest *in)
{
	size_t i;

	for (i = 0; i < in->nidents; i++) {
		free(in->idents[i].name);
		free(in->idents[i].email);
		free(in->idents[i].login);
	}
	for (i = 0; i < in->ngrants; i++) {
		free(in->grants[i].account);
		free(in->grants[i].target);
		free(in->grants[i].privilege);
	}
	free(in->idents);
	free(in->grants);
	in->idents = NULL;
	in->grants = NULL;
	in->nidents = in->aidents = in->ngrants = in->agrants = 0;
}
