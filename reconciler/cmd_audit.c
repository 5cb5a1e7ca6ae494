/*
 * audit [filters] [--format table|json|csv] and audit verify: read the
 * append-only audit log (§8).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "run.h"
#include "state.h"
#include "util.h"

enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

struct out {
	enum fmt fmt;
	json_t *rows;
	long n;
};

static const char *
col(const struct audit_row *r, int i, char *num, size_t numsz)
{
	switch (i) {
	case 0: snprintf(num, numsz, "%lld", (long long)r->seq); return num;
	case 1: return r->at;
	case 2: snprintf(num, numsz, "%lld", (long long)r->run); return num;
	case 3: return r->action;
	case 4: return r->platform;
	case 5: return r->account;
	case 6: return r->person;
	case 7: return r->target;
	case 8: return r->privilege;
	case 9: return r->request;
	case 10: return r->commit_sha;
	case 11: return r->approvers;
	case 12: return r->expires_at;
	case 13: return r->reason;
	case 14: return r->detail;
	case 15: return r->prev_hash;
	case 16: return r->hash;
	}
	return NULL;
}

static int
emit(void *arg, const struct audit_row *r)
{
	struct out *o = arg;
	char num[32];
	int i;

	o->n++;
	switch (o->fmt) {
	case FMT_JSON: {
		json_t *row = json_object();
		for (i = 0; audit_columns[i]; i++) {
			const char *v = col(r, i, num, sizeof(num));
			if (i == 0 || i == 2)
				json_object_set_new(row, audit_columns[i],
				    json_integer(i == 0 ? r->seq : r->run));
			else
				json_object_set_new(row, audit_columns[i],
				    v ? json_string(v) : json_null());
		}
		json_array_append_new(o->rows, row);
		break;
	}
	case FMT_CSV:
		for (i = 0; audit_columns[i]; i++) {
			if (i)
				putchar(',');
			csv_field(col(r, i, num, sizeof(num)));
		}
		putchar('\n');
		break;
	case FMT_TABLE:
		printf("%6lld  %-20s  %-13s  %-10s  %-16s  %-28s  %-9s  %-9s  %s\n",
		    (long long)r->seq, r->at, r->action,
		    r->platform ? r->platform : "-",
		    r->account ? r->account : "-", r->target ? r->target : "-",
		    r->privilege ? r->privilege : "-",
		    r->reason ? r->reason : "-",
		    r->request ? r->request : r->action[0] == 'r' &&
		    strncmp(r->action, "run_", 4) == 0 && r->detail ?
		    r->detail : "-");
		break;
	}
	return 0;
}

static int
verify(struct state *st, int json)
{
	struct diag err;
	int64_t rows = 0, bad = 0;
	int rc = audit_verify(st, &rows, &bad, &err);

	if (json) {
		json_t *doc = json_pack("{s:b,s:I}", "intact", rc == 0, "rows",
		    (json_int_t)rows);
		char *txt;
		if (rc == 1)
			json_object_set_new(doc, "bad_seq", json_integer(bad));
		if (rc != 0)
			json_object_set_new(doc, "error", json_string(err.msg));
		txt = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(txt);
		free(txt);
		json_decref(doc);
	}
	if (rc == 0) {
		if (!json)
			printf("audit log intact: %lld rows\n", (long long)rows);
		return EXIT_OK;
	}
	if (rc == 1)
		fprintf(stderr, "accord: audit log broken at row %lld: %s\n",
		    (long long)bad, err.msg);
	else
		diag_print(&err, stderr);
	return EXIT_ERROR;
}

int
cmd_audit(const struct opts *o, int argc, char **argv)
{
	const char *usage = "audit [--person P] [--platform P] [--target T] "
	    "[--since T] [--until T] [--action A] [--format table|json|csv]\n"
	    "       accord audit verify";
	struct audit_filter f;
	struct out out;
	struct state *st = NULL;
	struct diag err;
	int i, rc = EXIT_ERROR, do_verify = 0;

	memset(&f, 0, sizeof(f));
	memset(&out, 0, sizeof(out));
	out.fmt = o->json ? FMT_JSON : FMT_TABLE;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "verify") == 0 && i == 1) {
			do_verify = 1;
			continue;
		}
		if (v == NULL)
			goto usage;
		i++;
		if (strcmp(a, "--person") == 0)
			f.person = v;
		else if (strcmp(a, "--platform") == 0)
			f.platform = v;
		else if (strcmp(a, "--target") == 0)
			f.target = v;
		else if (strcmp(a, "--action") == 0)
			f.action = v;
		else if (strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) {
			if (time_parse(a[2] == 's' ? &f.since : &f.until, v) == -1) {
				fprintf(stderr, "accord: %s: '%s' is not an RFC 3339 "
				    "time\n", a, v);
				return EXIT_USAGE;
			}
		} else if (strcmp(a, "--format") == 0) {
			if (strcmp(v, "table") == 0)
				out.fmt = FMT_TABLE;
			else if (strcmp(v, "json") == 0)
				out.fmt = FMT_JSON;
			else if (strcmp(v, "csv") == 0)
				out.fmt = FMT_CSV;
			else
				goto usage;
		} else
			goto usage;
	}
	if (access(o->state, F_OK) != 0) {
		fprintf(stderr, "accord: no state database at %s (run accord "
		    "apply first)\n", o->state);
		return EXIT_NOSTATE;
	}
	if (state_open(&st, o->state, &err) == -1) {
		diag_print(&err, stderr);
		return EXIT_ERROR;
	}
	if (do_verify) {
		rc = verify(st, o->json);
		goto out;
	}
	if (out.fmt == FMT_JSON)
		out.rows = json_array();
	if (out.fmt == FMT_CSV)
		for (i = 0; audit_columns[i]; i++)
			printf("%s%s", i ? "," : "", audit_columns[i]);
	if (out.fmt == FMT_CSV)
		putchar('\n');
	if (out.fmt == FMT_TABLE)
		printf("%6s  %-20s  %-13s  %-10s  %-16s  %-28s  %-9s  %-9s  %s\n",
		    "seq", "at", "action", "platform", "account", "target",
		    "privilege", "reason", "request");
	if (audit_query(st, &f, emit, &out, &err) == -1) {
		diag_print(&err, stderr);
		goto out;
	}
	if (out.fmt == FMT_JSON) {
		json_t *doc = json_object();
		char *txt;
		json_object_set(doc, "rows", out.rows);
		txt = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(txt);
		free(txt);
		json_decref(doc);
	}
	rc = EXIT_OK;
	goto out;
usage:
	fprintf(stderr, "usage: accord %s\n", usage);
	rc = EXIT_USAGE;
out:
	json_decref(out.rows);
	state_close(st);
	return rc;
}
