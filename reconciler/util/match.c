/*
 * Shell-style globs over whole strings: '*', '?', '[abc]', '[!a-z]'.
 * Iterative with single backtracking point, so no pattern is exponential.
 */
#include <ctype.h>
#include <string.h>

#include "util.h"

static int
fold(int c, int ci)
{
	return ci ? tolower((unsigned char)c) : (unsigned char)c;
}

/* Match one bracket expression at *pp against c; advances *pp past it.
 * Returns 1 match, 0 no match, -1 malformed (treated as literal '['). */
static int
bracket(const char **pp, int c, int ci)
{
	const char *p = *pp + 1;
	int neg = 0, ok = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	if (*p == ']') {
		ok |= fold(']', ci) == c;
		p++;
	}
	while (*p && *p != ']') {
		if (p[1] == '-' && p[2] && p[2] != ']') {
			int lo = fold(p[0], ci), hi = fold(p[2], ci);
			ok |= c >= lo && c <= hi;
			p += 3;
		} else
			ok |= fold(*p++, ci) == c;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return ok != neg;
}

static int
glob(const char *p, const char *s, int ci)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		int c = fold(*s, ci);
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return 1;
			star = p;
			resume = s;
			continue;
		}
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			const char *q = p;
			int r = bracket(&q, c, ci);
			if (r == 1) {
				p = q;
				s++;
				continue;
			}
			if (r == -1 && c == '[') {
				p++;
				s++;
				continue;
			}
		} else if (*p && fold(*p, ci) == c) {
			p++;
			s++;
			continue;
		}
		if (star == NULL)
			return 0;
		p = star;
		s = ++resume;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
glob_match(const char *pattern, const char *s)
{
	return glob(pattern, s, 0);
}

int
glob_match_ci(const char *pattern, const char *s)
{
	return glob(pattern, s, 1);
}

int
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}
