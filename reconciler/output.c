/*
 * Output of plan and apply: a readable plan grouped by platform on
 * stdout, or one JSON document with the stable field names of §5.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util.h"

static void
output_json(const struct plan *p, const struct snapshot *s,
    const struct diag *errs, size_t nerrs, int applied, const char *refused)
{
	json_t *doc = json_object(), *a;
	size_t i;

	json_object_set_new(doc, "commit", json_string(s->commit));
	json_object_set_new(doc, "now", jtime(s->now));
	a = json_array();
	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->changes[i];
		json_t *o;
		if (c->action != CH_GRANT && c->action != CH_REVOKE)
			continue;
		o = json_object();
		json_object_set_new(o, "action",
		    json_string(change_action_names[c->action]));
		json_object_set_new(o, "platform", jstr(c->platform));
		json_object_set_new(o, "account", jstr(c->account));
		json_object_set_new(o, "person", jstr(c->person));
		json_object_set_new(o, "target", jstr(c->target));
		json_object_set_new(o, "privilege", jstr(c->privilege));
		json_object_set_new(o, "reason",
		    json_string(change_reason_names[c->reason]));
		json_object_set_new(o, "request", jstr(c->request));
		json_object_set_new(o, "approvers", japprovers(c->approvers));
		json_object_set_new(o, "expires_at", jtime(c->expires_at));
		if (applied) {
			json_object_set_new(o, "outcome", json_string(c->done ?
			    "done" : "failed"));
			json_object_set_new(o, "error", jstr(c->error));
		} else if (c->error)
			json_object_set_new(o, "error", json_string(c->error));
		json_array_append_new(a, o);
	}
	json_object_set_new(doc, "changes", a);
	a = json_array();
	for (i = 0; i < nerrs; i++)
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:s}", "file",
		    errs[i].file, "line", errs[i].line, "column", errs[i].column,
		    "message", errs[i].msg));
	json_object_set_new(doc, "errors", a);
	a = json_array();
	for (i = 0; i < p->nskipped; i++)
		json_array_append_new(a, json_pack("{s:s,s:s}", "platform",
		    p->skipped[i].platform, "error", p->skipped[i].error));
	json_object_set_new(doc, "skipped", a);
	a = json_array();
	for (i = 0; i < p->ndrift; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}",
		    "platform", p->drift[i].platform, "account",
		    p->drift[i].account, "target", p->drift[i].target,
		    "privilege", p->drift[i].privilege));
	json_object_set_new(doc, "drift", a);
	a = json_array();
	for (i = 0; i < p->npending; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s}",
		    "request", p->pending[i].request, "platform",
		    p->pending[i].platform, "target", p->pending[i].target,
		    "privilege", p->pending[i].privilege, "needed",
		    p->pending[i].needed, "why", p->pending[i].why));
	json_object_set_new(doc, "pending", a);
	json_object_set_new(doc, "refused", jstr(refused));
	json_print(doc);
}


static void
human_change(const struct change *c, int applied)
{
	char exp[TIME_STR_MAX];
	int grant = c->action == CH_GRANT;

	printf("  %c %-6s %s on %s %s %s", grant ? '+' : '-',
	    change_action_names[c->action], c->privilege, c->target,
	    grant ? "to" : "from", c->account ? c->account : "(no account)");
	if (c->person && (c->account == NULL || strcmp(c->person, c->account)))
		printf(" (%s)", c->person);
	printf("  [%s]", change_reason_names[c->reason]);
	if (applied)
		printf(" %s", c->done ? "done" : "FAILED");
	putchar('\n');
	if (c->request) {
		printf("           request %s", c->request);
		if (c->approvers && *c->approvers) {
			const char *a;
			printf(", approved by ");
			for (a = c->approvers; *a; a++)
				if (*a == ',')
					fputs(", ", stdout);
				else
					putchar(*a);
		}
		if (c->expires_at)
			printf(", expires %s", time_format(exp, sizeof(exp),
			    c->expires_at));
		putchar('\n');
	}
	if (c->error)
		printf("           error: %s\n", c->error);
}

void
output_plan(const struct plan *p, const struct snapshot *s,
    const struct diag *errs, size_t nerrs, int applied, const char *refused,
    int json)
{
	char now[TIME_STR_MAX], line[DIAG_MSG_MAX + 600];
	size_t i, j, ng = 0, nr = 0, nf = 0, gd = 0, rd = 0, shown;

	if (json) {
		output_json(p, s, errs, nerrs, applied, refused);
		return;
	}
	printf("accord %s at %.12s (%s), %s\n", applied ? "apply" : "plan",
	    s->commit, s->ref, time_format(now, sizeof(now), s->now));
	for (i = 0; i < s->cfg.nplatforms; i++) {
		const char *name = s->cfg.platforms[i].name;
		shown = 0;
		for (j = 0; j < p->n; j++) {
			const struct change *c = &p->changes[j];
			if ((c->action != CH_GRANT && c->action != CH_REVOKE) ||
			    strcmp(c->platform, name))
				continue;
			if (!shown++)
				printf("\n%s (%s)\n", name, s->cfg.platforms[i].type);
			human_change(c, applied);
			if (c->action == CH_GRANT) {
				ng++;
				gd += c->done;
			} else {
				nr++;
				rd += c->done;
			}
			if (c->failed || (!applied && c->error))
				nf++;
		}
		for (j = 0; j < p->ndrift; j++) {
			if (strcmp(p->drift[j].platform, name))
				continue;
			if (!shown++)
				printf("\n%s (%s)\n", name, s->cfg.platforms[i].type);
			printf("  ! drift  %s on %s held by %s (drift: report; "
			    "not revoked)\n", p->drift[j].privilege,
			    p->drift[j].target, p->drift[j].account);
		}
	}
	if (p->npending) {
		printf("\npending approval:\n");
		for (i = 0; i < p->npending; i++)
			printf("  %s: %s %s on %s: %s\n", p->pending[i].request,
			    p->pending[i].platform, p->pending[i].privilege,
			    p->pending[i].target, p->pending[i].why);
	}
	if (nerrs) {
		printf("\nerrors (these requests grant nothing new and keep "
		    "what they had):\n");
		for (i = 0; i < nerrs; i++) {
			diag_format(&errs[i], line, sizeof(line));
			printf("  %s\n", line);
		}
	}
	if (p->nskipped) {
		printf("\nskipped platforms (nothing granted or revoked there):\n");
		for (i = 0; i < p->nskipped; i++)
			printf("  %s: %s\n", p->skipped[i].platform,
			    p->skipped[i].error);
	}
	if (refused)
		printf("\nRefused: %zu revocations exceed %s; nothing applied.\n",
		    nr, refused);
	else if (applied)
		printf("\nApplied: %zu granted, %zu revoked, %zu failed.\n",
		    gd, rd, nf);
	else if (ng + nr == 0)
		printf("\nNo changes. Platforms match the approved requests.\n");
	else
		printf("\nPlan: %zu to grant, %zu to revoke.\n", ng, nr);
}
