/*
 * Small string helpers.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int
str_eq_ci(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

char *
email_local(const char *email)
{
	const char *at = strchr(email, '@');

	return at ? xstrndup(email, (size_t)(at - email)) : xstrdup(email);
}
