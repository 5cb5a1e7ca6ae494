/*
 * TAP output for unit tests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static int npass, nfail;

int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", npass + nfail + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (cond)
		npass++;
	else {
		nfail++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name)
{
	int cond = (got == NULL && want == NULL) ||
	    (got && want && strcmp(got, want) == 0);

	tap_ok(cond, file, line, "%s", name);
	if (!cond)
		printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return cond;
}

int
tap_is_int(int64_t got, int64_t want, const char *file, int line,
    const char *name)
{
	int cond = got == want;

	tap_ok(cond, file, line, "%s", name);
	if (!cond)
		printf("#   got: %lld\n#   expected: %lld\n", (long long)got,
		    (long long)want);
	return cond;
}

int
tap_done(void)
{
	printf("1..%d\n", npass + nfail);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}

const char *
tap_tmpdir(void)
{
	static char dir[256];

	if (dir[0] == '\0') {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/accord-unit-XXXXXX",
		    base ? base : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			exit(99);
		}
	}
	return dir;
}
