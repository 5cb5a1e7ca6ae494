/*
 * Allocation (out of memory is fatal, here and only here), time, globs,
 * logging and small string helpers shared by every floor.
 */
#ifndef ACCORD_UTIL_H
#define ACCORD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag.h"

/* --- xalloc.c: these never return NULL --- */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow *p (nmemb elements of size) so that index `need` fits. */
void *xgrow(void *p, size_t size, size_t need, size_t *alloc);
char *xstrdup(const char *s);		/* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void strv_free(char **v, size_t n);	/* frees each and the array */

/* --- timeutil.c: times are int64 seconds since the epoch, UTC --- */
/* RFC 3339: "2026-12-01T09:00:00Z", offsets "+02:00", fraction ignored.
 * Also accepts a bare date "2026-12-01" as midnight UTC. */
int time_parse(int64_t *out, const char *s);
/* Duration "90m" "12h" "7d" "2w" "30s" into seconds; -1 on bad input. */
int duration_parse(int64_t *out, const char *s);
/* "2026-12-01T09:00:00Z" into out (at least 21 bytes). */
char *time_format(char *out, size_t outsz, int64_t t);
#define TIME_STR_MAX 32
int64_t time_now(void);
/* Seconds as "7d", "12h", "90m", "45s" (largest exact unit). */
char *duration_format(char *out, size_t outsz, int64_t secs);

/* --- match.c (util): globs --- */
/* Shell-style glob ('*', '?', '[...]') over the whole string. */
int glob_match(const char *pattern, const char *s);
int glob_match_ci(const char *pattern, const char *s);	/* ASCII case-insensitive */
int has_glob(const char *s);

/* --- log.c --- */
extern int log_verbosity;	/* 0 default, 1 -v, 2 -vv */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* -v */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* -vv */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* always, stderr */

/* --- str.c --- */
int str_eq_ci(const char *a, const char *b);
/* Part of an email before '@' (whole string when none), newly allocated. */
char *email_local(const char *email);

#endif
