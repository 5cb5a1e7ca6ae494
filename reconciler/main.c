/*
 * accord: access requests as code, reconciled.  This file holds the
 * command table, the global options and the usage text; each command
 * lives in its own cmd_*.c.
 *
 * It is built twice.  `accord` (ACCORD_LIGHT) links only SQLite, jansson
 * and libcrypto and runs the answers itself: starting a process that
 * maps libgit2, libcurl, libpq and their ~40 dependencies costs ~12 ms,
 * more than a whole answer.  Every other command it hands, with the
 * same arguments, to `accord-core` (this file built with everything),
 * found beside it or in ../libexec/accord/.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

#define SYNOPSIS \
	"usage: accord [-C REPO] [--ref REF] [--state DB] [--now TIME] [--json] [-v] COMMAND\n" \
	"  validate [--base REF] [--format text|github]\n" \
	"                          check config, policies and requests (PR check)\n" \
	"  plan [--detailed-exitcode]\n" \
	"                          what apply would do; changes nothing\n" \
	"  apply [--max-revoke N]  reconcile once\n" \
	"  run --every DURATION [--count N] [--max-revoke N]\n" \
	"                          reconcile on a schedule until stopped\n" \
	"  audit [--person P] [--platform P] [--target T] [--since T] [--until T]\n" \
	"        [--action A] [--format table|json|csv]\n" \
	"  audit verify            check the audit hash chain\n" \
	"  inbox [--reviewer EMAIL]\n" \
	"                          requests on unmerged branches and who may approve\n" \
	"  access PERSON [--format table|json|csv]\n" \
	"                          current access of a person, with provenance\n" \
	"  who PLATFORM TARGET [--format table|json|csv]\n" \
	"                          who has access to a target now (globs allowed)\n" \
	"  check PERSON PLATFORM TARGET [PRIVILEGE]\n" \
	"                          exit 0 yes / 1 no, and why\n" \
	"  explain [--ref-only] FILE\n" \
	"                          one request: decisions, rules, approvers, expiry\n" \
	"  identities [--platform P] [--unmatched] [--format table|json|csv]\n" \
	"                          ingested users, roles and groups\n" \
	"  history PERSON|--target T [--platform P] [--at TIME]\n" \
	"          [--format table|json|csv]\n" \
	"                          access at a past instant, from the audit log\n" \
	"  review [--platform P] [--format table|csv|json]\n" \
	"                          active grants for recertification\n" \
	"  report --html FILE [--days N]\n" \
	"                          a self-contained HTML report\n" \
	"exit: 0 ok, 1 error, 2 changes pending (plan --detailed-exitcode),\n" \
	"      3 partial, 4 locked, 64 usage, 65 no state yet (answers)\n"

struct command {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
};

#ifdef ACCORD_LIGHT
#define CORE(fn) NULL		/* run by accord-core */
#else
#define CORE(fn) fn
#endif

static const struct command commands[] = {
	{ "validate", CORE(cmd_validate) },
	{ "plan", CORE(cmd_plan) },
	{ "apply", CORE(cmd_apply) },
	{ "run", CORE(cmd_run) },
	{ "audit", cmd_audit },
	{ "inbox", CORE(cmd_inbox) },
	{ "access", cmd_access },
	{ "who", cmd_who },
	{ "check", cmd_check },
	{ "explain", CORE(cmd_explain) },
	{ "identities", cmd_identities },	/* --unmatched: core */
	{ "history", cmd_history },
	{ "review", cmd_review },
	{ "report", cmd_report },
};

#ifdef ACCORD_LIGHT
/* Hand the whole command line to accord-core; returns only on failure. */
static int
exec_core(char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *const where[] = { "%s/accord-core",
	    "%s/../libexec/accord/accord-core" };
	size_t i;

	if (n <= 0) {
		fprintf(stderr, "accord: cannot find myself: %s\n",
		    strerror(errno));
		return EXIT_ERROR;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(path, sizeof(path), where[i], self);
		if (access(path, X_OK) == 0) {
			execv(path, argv);
			fprintf(stderr, "accord: cannot run %s: %s\n", path,
			    strerror(errno));
			return EXIT_ERROR;
		}
	}
	fprintf(stderr, "accord: accord-core is missing (looked beside %s and "
	    "in %s/../libexec/accord)\n", self, self);
	return EXIT_ERROR;
}
#endif

/* -v, -vv and --json are global and may also follow the command. */
static int
strip_globals(struct opts *o, int argc, char **argv)
{
	int i, n = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			log_verbosity++;
		else if (strcmp(argv[i], "-vv") == 0)
			log_verbosity += 2;
		else if (strcmp(argv[i], "--json") == 0)
			o->json = 1;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

static int
usage(FILE *f, int rc)
{
	fputs(SYNOPSIS, f);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *env;
	int i;
	size_t c;

	/* libcurl runs with CURLOPT_NOSIGNAL from several threads; a peer
	 * closing a connection must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof(o));
	o.repo = ".";
	o.max_revoke = -1;
	o.state = (env = getenv("ACCORD_STATE")) && *env ? env : "accord.db";
	o.now = time_now();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return usage(stdout, EXIT_OK);
		else if (strcmp(a, "-C") == 0 && more)
			o.repo = argv[++i];
		else if (strcmp(a, "--ref") == 0 && more)
			o.ref = argv[++i];
		else if (strcmp(a, "--state") == 0 && more)
			o.state = argv[++i];
		else if (strcmp(a, "--now") == 0 && more) {
			if (time_parse(&o.now, argv[++i]) == -1) {
				fprintf(stderr, "accord: --now: '%s' is not an RFC "
				    "3339 time such as 2026-12-01T09:00:00Z\n",
				    argv[i]);
				return EXIT_USAGE;
			}
			o.now_fixed = 1;
		} else if (strcmp(a, "--json") == 0)
			o.json = 1;
		else if (strcmp(a, "-v") == 0)
			log_verbosity++;
		else if (strcmp(a, "-vv") == 0)
			log_verbosity += 2;
		else {
			fprintf(stderr, "accord: unknown option '%s'\n", a);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (i >= argc)
		return usage(stderr, EXIT_USAGE);
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
#ifdef ACCORD_LIGHT
		{
			int k, core = commands[c].fn == NULL;
			for (k = i + 1; k < argc && !core; k++)
				core = strcmp(argv[k], "--unmatched") == 0;
			if (core)
				return exec_core(argv);
		}
#endif
		return commands[c].fn(&o, strip_globals(&o, argc - i,
		    argv + i), argv + i);
	}
	fprintf(stderr, "accord: unknown command '%s'\n", argv[i]);
	return usage(stderr, EXIT_USAGE);
}
