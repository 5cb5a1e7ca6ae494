/*
 * One run at a time: an flock(2) on "<db>.lock".  The kernel drops the
 * lock when its holder exits however it exits, so a crash never leaves
 * it stuck, and no pid file has to be judged stale.  The file's contents
 * only tell a waiting process who holds it; the holder writes them after
 * taking the lock, so they never describe a process that lost the race.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

#define HOLDER_MAX 512

struct state_lock {
	int fd;
	char *path;
};

/* What the holder wrote, made printable; "" when it has not yet. */
static void
read_holder(int fd, char *out, size_t outsz)
{
	ssize_t n;
	size_t i;

	n = pread(fd, out, outsz - 1, 0);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	for (i = 0; i < (size_t)n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

static int
write_holder(int fd, const char *command, struct diag *err)
{
	char host[256], when[TIME_STR_MAX], line[HOLDER_MAX];
	ssize_t w;
	int n;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown host");
	host[sizeof(host) - 1] = '\0';
	time_format(when, sizeof(when), time_now());
	n = snprintf(line, sizeof(line), "pid %ld on %s since %s (%s)\n",
	    (long)getpid(), host, when, command ? command : "accord");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)strlen(line);
	if (ftruncate(fd, 0) < 0)
		return diag_set(err, "truncating: %s", strerror(errno));
	w = pwrite(fd, line, (size_t)n, 0);
	if (w != n)
		return diag_set(err, "writing: %s",
		    w < 0 ? strerror(errno) : "short write");
	return 0;
}

int
state_lock(struct state_lock **out, const char *dbpath, const char *command,
    struct diag *err)
{
	char holder[HOLDER_MAX];
	char *path;
	int fd, rc = -1;

	*out = NULL;
	path = xasprintf("%s.lock", dbpath);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		diag_set(err, "lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			read_holder(fd, holder, sizeof(holder));
			diag_set(err, "state database %s is locked by %s",
			    dbpath, holder[0] ? holder :
			    "another process (not yet named in its lock file)");
			rc = 1;
		} else
			diag_set(err, "lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (write_holder(fd, command, err) < 0) {
		diag_prefix(err, "lock %s", path);
		goto out;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->fd = fd;
	(*out)->path = path;
	return 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void
state_unlock(struct state_lock *l)
{
	if (l == NULL)
		return;
	/* Clear the description first: once unlocked it would be untrue. */
	if (ftruncate(l->fd, 0) < 0)
		log_debug("truncating %s: %s", l->path, strerror(errno));
	close(l->fd);
	free(l->path);
	free(l);
}
