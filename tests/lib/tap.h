/*
 * A tiny TAP harness for the unit tests: ok(), is_str(), is_int(), and
 * done() which prints "N passed, N failed" and returns the exit status.
 */
#ifndef ACCORD_TAP_H
#define ACCORD_TAP_H

#include <stdint.h>

int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name);
int tap_is_int(int64_t got, int64_t want, const char *file, int line,
    const char *name);
int tap_done(void);
/* A fresh temporary directory for this test (removed by the runner). */
const char *tap_tmpdir(void);

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, name) tap_is_str((got), (want), __FILE__, __LINE__, (name))
#define is_int(got, want, name) tap_is_int((int64_t)(got), (int64_t)(want), __FILE__, __LINE__, (name))

#endif
