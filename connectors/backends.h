/*
 * The descriptors of the built-in backends, private to the connectors
 * floor: registry.c lists them, each backend's file defines its own.
 */
#ifndef ACCORD_CONNECTORS_BACKENDS_H
#define ACCORD_CONNECTORS_BACKENDS_H

#include "connector.h"

extern const struct connector_desc connector_postgres;
extern const struct connector_desc connector_snowflake;
extern const struct connector_desc connector_scim;
extern const struct connector_desc connector_databricks;

#endif
