/*
 * Small output helpers shared by the commands: JSON values with null for
 * absent strings and times, the document printer, and RFC 4180 CSV
 * fields.  Kept apart from output.c so that the answers binary links
 * them without the plan.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util.h"

json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
jtime(int64_t t)
{
	char buf[TIME_STR_MAX];

	return t ? json_string(time_format(buf, sizeof(buf), t)) : json_null();
}

json_t *
japprovers(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv, *q;

	while (p && *p) {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		json_array_append_new(a, json_stringn(p, (size_t)(q - p)));
		p = *q ? q + 1 : q;
	}
	return a;
}

void
json_print(json_t *doc)
{
	char *txt = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	puts(txt);
	free(txt);
	json_decref(doc);
}

void
csv_field(const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}
