/*
 * Growable byte buffers with an optional size cap.  The contents are
 * always NUL-terminated.  A buffer with limit 0 grows until memory runs
 * out (which is fatal, see xalloc); with a limit, an append that would
 * pass it fails and sets `over`.
 */
#ifndef ACCORD_BUF_H
#define ACCORD_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *ptr;		/* NUL-terminated; never NULL after buf_init */
	size_t len, cap;
	size_t limit;		/* 0: no cap */
	int over;		/* an append was refused by the cap */
};

#define BUF_INIT { NULL, 0, 0, 0, 0 }

void buf_init(struct buf *b, size_t limit);
/* Append; returns 0, or -1 (and sets over) when the cap would be passed. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* ptr, never NULL ("" for an empty buffer). */
const char *buf_cstr(struct buf *b);
void buf_reset(struct buf *b);
/* Hand the string to the caller (free() it); the buffer is left empty. */
char *buf_detach(struct buf *b);
void buf_release(struct buf *b);

#endif
