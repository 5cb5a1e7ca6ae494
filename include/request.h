/*
 * Access requests (DESIGN §2.2): one YAML file per request.  Parsing
 * checks every key, type, platform and target kind against the config,
 * and reports path:line:column.  A parsed request can be turned into
 * JSON and back so that the state database caches it by blob id.
 */
#ifndef ACCORD_REQUEST_H
#define ACCORD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"

struct grant_req {
	char *platform;
	char *target;		/* "kind:name" */
	char *privilege;	/* defaults: "member" for role:/group:/team: */
	char *grantee;		/* NULL: the requester; else "role:X" etc. */
	int line, column;	/* of the grant's list item */
};

struct request {
	char *path;		/* "requests/alice/q4.yaml" */
	char blob[41];
	char *requester;	/* email */
	char *reason;
	int64_t duration;	/* seconds; 0 none */
	int64_t expires;	/* epoch; 0 none */
	int64_t starts;		/* epoch; 0 none */
	int break_glass;
	struct grant_req *grants;
	size_t ngrants;
};

int request_parse(struct request *r, const char *path, const char *data,
    size_t len, const struct config *cfg, struct diag *err);
void request_release(struct request *r);

/* Cache form: a compact JSON string (free()), and back. */
char *request_to_json(const struct request *r);
int request_from_json(struct request *r, const char *json, struct diag *err);

#endif
