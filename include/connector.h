/*
 * Connectors: one per platform type.  A backend is a descriptor (type
 * name, capabilities, the config keys and target kinds it accepts) plus a
 * versioned table of operations.  Connectors see accounts and grants,
 * never requests or policies.  Every backend struct embeds struct
 * connector first.
 */
#ifndef ACCORD_CONNECTOR_H
#define ACCORD_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "diag.h"
#include "grant.h"
#include "yml.h"

#define CONNECTOR_OPS_VERSION 2

/* What the reconciler hands a connector: its settings and scope. */
struct connector_cfg {
	const char *name;	/* platform name in accord.yaml */
	const char *type;
	const char *config_path;	/* for marks in diagnostics */
	const struct yml_node *node;	/* the platform's mapping */
	char *const *managed;	/* "kind:glob" */
	size_t nmanaged;
	char *const *targets;	/* targets named by requests, for kinds that
				 * cannot be enumerated; may be empty */
	size_t ntargets;
};

struct connector;

/* One change handed to apply_batch; the connector fills ok, detail, err. */
struct change_item {
	int revoke;		/* 0: grant, 1: revoke */
	struct pgrant g;	/* borrowed strings */
	int ok;
	struct buf detail;	/* raw answer, initialised by the caller */
	struct diag err;	/* when !ok */
};

struct connector_ops {
	int version;		/* CONNECTOR_OPS_VERSION */
	/* Allocate and connect.  Secrets are read here, from env or files. */
	int (*open)(struct connector **out, const struct connector_cfg *cfg,
	    struct diag *err);
	/* Identities, and current grants on managed targets.  All or
	 * nothing: on -1 the platform is skipped whole (§6). */
	int (*ingest)(struct connector *c, struct ingest *out, struct diag *err);
	/* Grant/revoke one.  Idempotent: already granted / already absent
	 * is success.  `detail` receives the platform's raw answer. */
	int (*grant)(struct connector *c, const struct pgrant *g,
	    struct buf *detail, struct diag *err);
	int (*revoke)(struct connector *c, const struct pgrant *g,
	    struct buf *detail, struct diag *err);
	void (*close)(struct connector *c);
	/*
	 * Version 2, optional (NULL: the reconciler calls grant and revoke
	 * one change at a time).  Apply all of a run's changes on this
	 * platform at once, so that a platform whose API changes many
	 * members per call (a SCIM PATCH per group) makes one call per
	 * object.  Each item gets its own outcome.  Intents for every item
	 * are committed before this is called.
	 */
	int (*apply_batch)(struct connector *c, struct change_item *items,
	    size_t n);
};

#define CAP_ENUMERATE_TARGETS 0x1	/* managed globs are expanded by ingest */
#define CAP_PARALLEL_INGEST   0x2

struct connector_desc {
	const char *type;
	unsigned caps;
	const char *const *own_keys;	/* NULL-terminated */
	const char *const *target_kinds;	/* NULL-terminated */
	/* Check a target's name for this platform; optional. */
	int (*check_target)(const char *target, char *why, size_t whysz);
	const struct connector_ops *ops;
};

struct connector {
	const struct connector_desc *desc;
	char *name;
};

/* registry.c */
extern const struct connector_desc *const connector_registry[];
extern const size_t connector_registry_len;
const struct connector_desc *connector_find(const char *type);

/* Helpers for backends: read a secret named by `key` ("dsn_env" -> the
 * environment variable it names; "*_file" -> a file that must not be
 * readable by group or others).  *out is a new string. */
int connector_secret(const struct connector_cfg *cfg, const char *key,
    char **out, struct diag *err);
/* Default privilege for a target kind ("member" for role/group/team). */
const char *connector_default_privilege(const char *target);

#endif
