/*
 * The one static list of connector backends.  A backend exists when it is
 * listed here; there is no registration at start-up.
 */
#include <stddef.h>

#include "backends.h"
#include "connector.h"

const struct connector_desc *const connector_registry[] = {
	&connector_postgres,
	&connector_snowflake,
	&connector_scim,
	&connector_databricks,
};

const size_t connector_registry_len =
    sizeof(connector_registry) / sizeof(connector_registry[0]);
