/*
 * Diagnostics: one message with an optional file:line:column.  Messages
 * are truncated, never overflowed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

static void
vset(struct diag *d, const char *fmt, va_list ap)
{
	if (vsnprintf(d->msg, sizeof(d->msg), fmt, ap) < 0)
		snprintf(d->msg, sizeof(d->msg), "(unformattable message)");
}

int
diag_set(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return -1;
	d->file[0] = '\0';
	d->line = d->column = 0;
	va_start(ap, fmt);
	vset(d, fmt, ap);
	va_end(ap);
	return -1;
}

int
diag_setat(struct diag *d, const char *file, int line, int column,
    const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return -1;
	snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
	d->line = line;
	d->column = column;
	va_start(ap, fmt);
	vset(d, fmt, ap);
	va_end(ap);
	return -1;
}

int
diag_prefix(struct diag *d, const char *fmt, ...)
{
	char pre[DIAG_MSG_MAX], joined[2 * DIAG_MSG_MAX + 2];
	va_list ap;

	if (d == NULL)
		return -1;
	va_start(ap, fmt);
	if (vsnprintf(pre, sizeof(pre), fmt, ap) < 0)
		pre[0] = '\0';
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s: %s", pre, d->msg);
	memcpy(d->msg, joined, sizeof(d->msg) - 1);
	d->msg[sizeof(d->msg) - 1] = '\0';
	return -1;
}

void
diag_clear(struct diag *d)
{
	if (d == NULL)
		return;
	d->msg[0] = d->file[0] = '\0';
	d->line = d->column = 0;
}

void
diag_format(const struct diag *d, char *out, size_t outsz)
{
	if (d->file[0] && d->line > 0)
		snprintf(out, outsz, "%s:%d:%d: %s", d->file, d->line,
		    d->column, d->msg);
	else if (d->file[0])
		snprintf(out, outsz, "%s: %s", d->file, d->msg);
	else
		snprintf(out, outsz, "%s", d->msg);
}

void
diag_print(const struct diag *d, FILE *f)
{
	char line[DIAG_MSG_MAX + 600];

	diag_format(d, line, sizeof(line));
	fprintf(f, "accord: %s\n", line);
}
