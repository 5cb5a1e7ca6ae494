/*
 * Diagnostics.  Every fallible function returns 0 or -1 and fills a
 * struct diag: one message, plus the file:line:column of the input at
 * fault when there is one.  A caller adds context with diag_prefix(); it
 * never overwrites the message of a lower layer.
 */
#ifndef ACCORD_DIAG_H
#define ACCORD_DIAG_H

#include <stdio.h>

#define DIAG_MSG_MAX 1024

struct diag {
	char msg[DIAG_MSG_MAX];
	char file[512];		/* "" when no input file is at fault */
	int line, column;	/* 1-based; 0 when unknown */
};

/* Set the message; returns -1 so that "return diag_set(err, ...)" reads well. */
int diag_set(struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, pointing at a place in an input file. */
int diag_setat(struct diag *d, const char *file, int line, int column,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prepend "context: " to the message already set.  Returns -1. */
int diag_prefix(struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void diag_clear(struct diag *d);
/* "file:line:column: message" or "message"; no newline. */
void diag_format(const struct diag *d, char *out, size_t outsz);
/* "accord: file:line:column: message\n" to f. */
void diag_print(const struct diag *d, FILE *f);

#endif
