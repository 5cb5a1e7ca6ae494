/*
 * Growable, capped, always NUL-terminated byte buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static char empty[1];

void
buf_init(struct buf *b, size_t limit)
{
	b->ptr = empty;
	b->len = b->cap = 0;
	b->limit = limit;
	b->over = 0;
}

static int
reserve(struct buf *b, size_t extra)
{
	size_t want, ncap;

	if (b->ptr == NULL)
		b->ptr = empty;
	if (extra > SIZE_MAX - b->len - 1)
		goto over;
	want = b->len + extra + 1;
	if (b->limit && want - 1 > b->limit)
		goto over;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (b->cap == 0) {
		b->ptr = xmalloc(ncap);
		b->ptr[0] = '\0';
	} else
		b->ptr = xrealloc(b->ptr, ncap);
	b->cap = ncap;
	return 0;
over:
	b->over = 1;
	return -1;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (reserve(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_putc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	char probe[1];
	int n;

	va_copy(cp, ap);
	n = vsnprintf(probe, sizeof(probe), fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (reserve(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
buf_cstr(struct buf *b)
{
	if (b->ptr == NULL)
		b->ptr = empty;
	return b->ptr;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->over = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

char *
buf_detach(struct buf *b)
{
	char *s = b->cap ? b->ptr : xstrdup("");

	b->ptr = empty;
	b->len = b->cap = 0;
	b->over = 0;
	return s;
}

void
buf_release(struct buf *b)
{
	if (b->cap)
		free(b->ptr);
	b->ptr = empty;
	b->len = b->cap = 0;
	b->over = 0;
}
