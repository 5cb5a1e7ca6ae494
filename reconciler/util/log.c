/*
 * Logging to stderr: warnings always, -v information, -vv debugging.
 * Callers never pass secrets here.
 */
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

int log_verbosity;

static void
emit(const char *tag, const char *fmt, va_list ap)
{
	fprintf(stderr, "accord: %s", tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 1)
		return;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 2)
		return;
	va_start(ap, fmt);
	emit("debug: ", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning: ", fmt, ap);
	va_end(ap);
}
