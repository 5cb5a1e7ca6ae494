/*
 * What every backend shares: finding a backend by type, the default
 * privilege of a target kind, and reading secrets.  Secrets come only
 * from an environment variable or an owner-only file named in the
 * platform's settings; their values never reach a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "connector.h"
#include "util.h"

/* A secret file is a key or a token, never anything large. */
#define SECRET_FILE_MAX (64 * 1024)

const struct connector_desc *
connector_find(const char *type)
{
	size_t i;

	if (type == NULL)
		return NULL;
	for (i = 0; i < connector_registry_len; i++)
		if (strcmp(connector_registry[i]->type, type) == 0)
			return connector_registry[i];
	return NULL;
}

const char *
connector_default_privilege(const char *target)
{
	static const char *const kinds[] = { "role", "group", "team" };
	const char *colon;
	size_t i, n;

	if (target == NULL || (colon = strchr(target, ':')) == NULL)
		return NULL;
	n = (size_t)(colon - target);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i]) == n && strncmp(target, kinds[i], n) == 0)
			return "member";
	return NULL;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static int
secret_env(const char *platform, const char *key, const char *var,
    char **out, struct diag *err)
{
	const char *v = getenv(var);

	if (v == NULL)
		return diag_set(err, "platform %s: environment variable %s "
		    "(%s) is not set", platform, var, key);
	if (*v == '\0')
		return diag_set(err, "platform %s: environment variable %s "
		    "(%s) is empty", platform, var, key);
	*out = xstrdup(v);
	return 0;
}

static int
secret_file(const char *platform, const char *key, const char *path,
    char **out, struct diag *err)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd, rc = -1;

	buf_init(&b, SECRET_FILE_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		diag_set(err, "platform %s: cannot open %s (%s): %s", platform,
		    path, key, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		diag_set(err, "platform %s: cannot stat %s (%s): %s", platform,
		    path, key, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_set(err, "platform %s: %s (%s) is not a regular file",
		    platform, path, key);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		diag_set(err, "platform %s: %s (%s) is readable by others; "
		    "chmod 600", platform, path, key);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_set(err, "platform %s: cannot read %s (%s): %s",
			    platform, path, key, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(&b, chunk, (size_t)n) != 0) {
			diag_set(err, "platform %s: %s (%s) is larger than %d "
			    "bytes", platform, path, key, SECRET_FILE_MAX);
			goto out;
		}
	}
	if (memchr(b.ptr, '\0', b.len) != NULL) {
		diag_set(err, "platform %s: %s (%s) contains a NUL byte",
		    platform, path, key);
		goto out;
	}
	/* Editors end files with a newline that is not part of the secret. */
	if (b.len > 0 && b.ptr[b.len - 1] == '\n')
		b.ptr[--b.len] = '\0';
	if (b.len > 0 && b.ptr[b.len - 1] == '\r')
		b.ptr[--b.len] = '\0';
	if (b.len == 0) {
		diag_set(err, "platform %s: %s (%s) is empty", platform, path,
		    key);
		goto out;
	}
	*out = buf_detach(&b);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(chunk, sizeof(chunk));
	if (b.len > 0)
		explicit_bzero(b.ptr, b.len);
	buf_release(&b);
	return rc;
}

int
connector_secret(const struct connector_cfg *cfg, const char *key,
    char **out, struct diag *err)
{
	const char *platform = cfg->name ? cfg->name : "?";
	const struct yml_node *n;
	int is_env, is_file;

	*out = NULL;
	is_env = has_suffix(key, "_env");
	is_file = has_suffix(key, "_file");
	if (!is_env && !is_file)
		return diag_set(err, "platform %s: '%s' does not name a secret "
		    "(keys end in _env or _file)", platform, key);
	n = yml_get(cfg->node, key);
	if (n == NULL || n->kind != YML_SCALAR || yml_is_null(n) ||
	    n->len == 0) {
		const struct yml_node *at = n ? n : cfg->node;

		if (at != NULL && cfg->config_path != NULL)
			return diag_setat(err, cfg->config_path, at->line,
			    at->column, "platform %s: '%s' must name %s",
			    platform, key, is_env ? "an environment variable" :
			    "a file");
		return diag_set(err, "platform %s: '%s' must name %s", platform,
		    key, is_env ? "an environment variable" : "a file");
	}
	if (is_env)
		return secret_env(platform, key, n->str, out, err);
	return secret_file(platform, key, n->str, out, err);
}
