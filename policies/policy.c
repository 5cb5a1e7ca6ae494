/*
 * Policies (DESIGN §2.3) and the evaluation of a request against them and
 * against its approval facts from git (§3).  Matching is deny-first, then
 * first match in file-name and file order, else default deny.  Approval
 * steps are counted as a small bipartite assignment so that one person
 * never satisfies two steps.  Every verdict carries one sentence saying
 * why, naming the deciding rule as policies/FILE.yaml#N.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "policy.h"
#include "util.h"

const char *const grant_status_names[] = {
	"active", "pending", "not_started", "expired", "denied"
};

static const char *const rule_keys[] = {
	"platform", "targets", "privileges", "requesters", "approvers",
	"min_approvals", "require", "default_duration", "max_duration", "deny",
	"self_approval", NULL
};
/* Keys that make no sense beside deny: true; refusing them catches a
 * rule whose author meant the opposite. */
static const char *const allow_only_keys[] = {
	"approvers", "min_approvals", "require", "default_duration",
	"max_duration", "self_approval", NULL
};
static const char *const step_keys[] = { "from", "min", NULL };
static const char *const policy_keys[] = { "rules", NULL };

#define MAX_APPROVALS 1000

static void
rule_clear(struct rule *ru)
{
	size_t i;

	free(ru->file);
	free(ru->platform);
	strv_free(ru->targets, ru->ntargets);
	strv_free(ru->privileges, ru->nprivileges);
	strv_free(ru->requesters, ru->nrequesters);
	for (i = 0; i < ru->nsteps; i++)
		strv_free(ru->steps[i].from, ru->steps[i].nfrom);
	free(ru->steps);
	memset(ru, 0, sizeof(*ru));
}

static int
parse_dur(const struct yml_doc *doc, const struct yml_node *rn,
    const char *key, int64_t *out, struct diag *err)
{
	const char *s = NULL;

	if (yml_str(doc, rn, key, 0, &s, err) == -1)
		return -1;
	if (s && duration_parse(out, s) == -1)
		return yml_error(doc, yml_get(rn, key), err,
		    "bad %s '%s' (use 90m, 12h, 7d, 2w)", key, s);
	return 0;
}

static struct approval_step *
add_step(struct rule *ru)
{
	ru->steps = xrealloc(ru->steps, (ru->nsteps + 1) * sizeof(*ru->steps));
	memset(&ru->steps[ru->nsteps], 0, sizeof(*ru->steps));
	return &ru->steps[ru->nsteps++];
}

static int
parse_require(const struct yml_doc *doc, const struct yml_node *req,
    struct rule *ru, struct diag *err)
{
	struct approval_step *st;
	long min;
	size_t i;

	if (req->kind != YML_SEQ)
		return yml_error(doc, req, err, "'require' must be a list of "
		    "{from: [...], min: N}, not a %s", yml_kind_name(req->kind));
	for (i = 0; i < req->n; i++) {
		const struct yml_node *sn = req->items[i];
		char **from = NULL;
		size_t nfrom = 0;

		min = 1;
		if (yml_check_keys(doc, sn, "require step", step_keys,
		    err) == -1 ||
		    yml_strlist(doc, sn, "from", 1, &from, &nfrom, err) == -1)
			return -1;
		if (nfrom == 0) {
			strv_free(from, nfrom);
			return yml_error(doc, yml_get(sn, "from"), err,
			    "'from' must name at least one approver");
		}
		if (yml_int(doc, sn, "min", 0, 1, MAX_APPROVALS, &min,
		    err) == -1) {
			strv_free(from, nfrom);
			return -1;
		}
		st = add_step(ru);
		st->from = from;
		st->nfrom = nfrom;
		st->min = (int)min;
	}
	return 0;
}

static int
parse_rule(const struct yml_doc *doc, const struct yml_node *rn,
    struct rule *ru, struct diag *err)
{
	const struct yml_node *req;
	const char *platform = "*";
	char **approvers = NULL;
	size_t napprovers = 0, i;
	long min = -1;
	struct approval_step *st;

	ru->line = rn->line;
	ru->column = rn->column;
	if (yml_check_keys(doc, rn, "rule", rule_keys, err) == -1 ||
	    yml_str(doc, rn, "platform", 0, &platform, err) == -1)
		return -1;
	ru->platform = xstrdup(platform);
	if (yml_strlist(doc, rn, "targets", 1, &ru->targets, &ru->ntargets,
	    err) == -1)
		return -1;
	if (ru->ntargets == 0)
		return yml_error(doc, yml_get(rn, "targets"), err,
		    "'targets' must name at least one target glob");
	if (yml_strlist(doc, rn, "privileges", 0, &ru->privileges,
	    &ru->nprivileges, err) == -1 ||
	    yml_strlist(doc, rn, "requesters", 0, &ru->requesters,
	    &ru->nrequesters, err) == -1 ||
	    yml_bool(doc, rn, "deny", &ru->deny, err) == -1)
		return -1;
	if (ru->deny) {
		for (i = 0; allow_only_keys[i]; i++)
			if (yml_get(rn, allow_only_keys[i]))
				return yml_error(doc, yml_get(rn,
				    allow_only_keys[i]), err, "a deny rule "
				    "takes no '%s'", allow_only_keys[i]);
		return 0;
	}

	if (yml_bool(doc, rn, "self_approval", &ru->self_approval, err) == -1 ||
	    parse_dur(doc, rn, "default_duration", &ru->default_duration,
	    err) == -1 ||
	    parse_dur(doc, rn, "max_duration", &ru->max_duration, err) == -1)
		return -1;
	if (ru->max_duration && ru->default_duration > ru->max_duration)
		return yml_error(doc, yml_get(rn, "default_duration"), err,
		    "'default_duration' is longer than 'max_duration'");
	if (yml_int(doc, rn, "min_approvals", 0, 0, MAX_APPROVALS, &min,
	    err) == -1 ||
	    yml_strlist(doc, rn, "approvers", 0, &approvers, &napprovers,
	    err) == -1)
		return -1;
	if (napprovers > 0) {
		st = add_step(ru);
		st->from = approvers;
		st->nfrom = napprovers;
		st->min = min < 0 ? 1 : (int)min;
	} else {
		strv_free(approvers, napprovers);
		if (min > 0)
			return yml_error(doc, yml_get(rn, "min_approvals"), err,
			    "'min_approvals' needs 'approvers'");
	}
	req = yml_get(rn, "require");
	if (req && !yml_is_null(req) && parse_require(doc, req, ru, err) == -1)
		return -1;
	if (ru->nsteps == 0 && min != 0)
		return yml_error(doc, rn, err, "rule needs 'approvers' or "
		    "'require' (or 'min_approvals: 0' for no approval)");
	return 0;
}

int
policy_parse(struct policy_set *ps, const char *path, const char *data,
    size_t len, struct diag *err)
{
	struct yml_doc doc;
	const struct yml_node *rules;
	struct rule *add = NULL;
	size_t i, nadd = 0;
	int rc = -1;

	if (yml_parse(&doc, path, data, len, err) == -1)
		return -1;
	if (doc.root == NULL) {
		diag_setat(err, path, 1, 1, "empty policy file, expected "
		    "'rules:'");
		goto out;
	}
	if (yml_check_keys(&doc, doc.root, "policy", policy_keys, err) == -1)
		goto out;
	if ((rules = yml_get(doc.root, "rules")) == NULL) {
		yml_error(&doc, doc.root, err, "'rules' is required");
		goto out;
	}
	if (yml_is_null(rules)) {
		rc = 0;
		goto out;
	}
	if (rules->kind != YML_SEQ) {
		yml_error(&doc, rules, err, "'rules' must be a list, not a %s",
		    yml_kind_name(rules->kind));
		goto out;
	}
	add = xcalloc(rules->n + 1, sizeof(*add));
	for (i = 0; i < rules->n; i++) {
		nadd++;
		add[i].file = xstrdup(path);
		add[i].index = (int)i + 1;
		if (parse_rule(&doc, rules->items[i], &add[i], err) == -1)
			goto out;
	}
	ps->rules = xrealloc(ps->rules, (ps->nrules + nadd + 1) *
	    sizeof(*ps->rules));
	memcpy(ps->rules + ps->nrules, add, nadd * sizeof(*add));
	ps->nrules += nadd;
	nadd = 0;
	rc = 0;
out:
	for (i = 0; i < nadd; i++)
		rule_clear(&add[i]);
	free(add);
	yml_doc_release(&doc);
	return rc;
}

void
policy_set_release(struct policy_set *ps)
{
	size_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->nrules; i++)
		rule_clear(&ps->rules[i]);
	free(ps->rules);
	ps->rules = NULL;
	ps->nrules = 0;
}

static int
rule_matches(const struct rule *ru, const struct config *cfg,
    const char *platform, const char *target, const char *privilege,
    const char *requester)
{
	size_t i;

	if (!glob_match(ru->platform, platform))
		return 0;
	for (i = 0; i < ru->ntargets; i++)
		if (glob_match(ru->targets[i], target))
			break;
	if (i == ru->ntargets)
		return 0;
	if (ru->nprivileges > 0) {
		for (i = 0; i < ru->nprivileges; i++)
			if (str_eq_ci(ru->privileges[i], privilege))
				break;
		if (i == ru->nprivileges)
			return 0;
	}
	return ru->nrequesters == 0 || config_person_matches(cfg,
	    ru->requesters, ru->nrequesters, requester);
}

const struct rule *
policy_match(const struct policy_set *ps, const struct config *cfg,
    const char *platform, const char *target, const char *privilege,
    const char *requester)
{
	const struct rule *first = NULL;
	size_t i;

	if (platform == NULL || target == NULL)
		return NULL;
	for (i = 0; ps && i < ps->nrules; i++) {
		const struct rule *ru = &ps->rules[i];

		if (!rule_matches(ru, cfg, platform, target, privilege,
		    requester))
			continue;
		if (ru->deny)
			return ru;
		if (first == NULL)
			first = ru;
	}
	return first;
}

/* --- approvals: people × steps, each step taking up to `min` people --- */

struct assign {
	const struct rule *rule;
	size_t npeople;
	unsigned char *can;	/* can[p * nsteps + s] */
	int *step_of;		/* per person: assigned step or -1 */
	int *filled;		/* per step */
	unsigned char *seen;	/* per step, for one augmenting search */
};

/* Find room for person p, moving already-placed people along an
 * alternating path when their step can be filled by someone else. */
static int
augment(struct assign *as, size_t p)
{
	size_t s, q, ns = as->rule->nsteps;

	for (s = 0; s < ns; s++) {
		if (!as->can[p * ns + s] || as->seen[s])
			continue;
		as->seen[s] = 1;
		if (as->filled[s] < as->rule->steps[s].min) {
			as->step_of[p] = (int)s;
			as->filled[s]++;
			return 1;
		}
		for (q = 0; q < as->npeople; q++) {
			if (as->step_of[q] != (int)s || !augment(as, q))
				continue;
			/* q moved elsewhere (and was counted there); p takes
			 * its place, so filled[s] is unchanged. */
			as->step_of[p] = (int)s;
			return 1;
		}
	}
	return 0;
}

/* Missing approvals; when short is non-NULL it receives each step's
 * shortfall (nsteps entries). */
static int
missing(const struct rule *ru, const struct config *cfg,
    const char *requester, char *const *approvers, size_t n, int *shortby)
{
	struct assign as;
	char **people;
	size_t i, j, ns = ru->nsteps;
	int need = 0;

	memset(&as, 0, sizeof(as));
	as.rule = ru;
	people = xcalloc(n + 1, sizeof(*people));
	for (i = 0; i < n; i++) {
		if (approvers[i] == NULL ||
		    (!ru->self_approval && str_eq_ci(approvers[i], requester)))
			continue;
		for (j = 0; j < as.npeople; j++)
			if (str_eq_ci(people[j], approvers[i]))
				break;
		if (j == as.npeople)
			people[as.npeople++] = approvers[i];
	}
	as.can = xcalloc(as.npeople * ns + 1, 1);
	as.step_of = xcalloc(as.npeople + 1, sizeof(int));
	as.filled = xcalloc(ns + 1, sizeof(int));
	as.seen = xcalloc(ns + 1, 1);
	for (i = 0; i < as.npeople; i++) {
		as.step_of[i] = -1;
		for (j = 0; j < ns; j++)
			as.can[i * ns + j] = (unsigned char)config_person_matches(
			    cfg, ru->steps[j].from, ru->steps[j].nfrom, people[i]);
	}
	for (i = 0; i < as.npeople; i++) {
		memset(as.seen, 0, ns + 1);
		augment(&as, i);
	}
	for (j = 0; j < ns; j++) {
		int s = ru->steps[j].min - as.filled[j];

		if (s < 0)
			s = 0;
		if (shortby)
			shortby[j] = s;
		need += s;
	}
	free(people);
	free(as.can);
	free(as.step_of);
	free(as.filled);
	free(as.seen);
	return need;
}

int
policy_missing_approvals(const struct rule *rule, const struct config *cfg,
    const char *requester, char *const *approvers, size_t n)
{
	if (rule == NULL)
		return 0;
	return missing(rule, cfg, requester, approvers, n, NULL);
}

/* --- evaluation --- */

static void
set_why(struct grant_eval *ev, struct buf *b)
{
	snprintf(ev->why, sizeof(ev->why), "%s", buf_cstr(b));
}

/* "needs 2 more approvals: 1 from group:a, 1 from group:b or carol@x" */
static void
describe_missing(struct buf *b, const struct rule *ru, const int *shortby,
    int need, int more)
{
	size_t i, j, nshort = 0;
	int first = 1;

	for (i = 0; i < ru->nsteps; i++)
		nshort += shortby[i] > 0;
	buf_printf(b, "needs %d %sapproval%s", need, more ? "more " : "",
	    need == 1 ? "" : "s");
	buf_puts(b, nshort > 1 ? ":" : "");
	for (i = 0; i < ru->nsteps; i++) {
		if (shortby[i] == 0)
			continue;
		if (nshort > 1)
			buf_printf(b, "%s %d", first ? "" : ",", shortby[i]);
		first = 0;
		buf_puts(b, " from ");
		for (j = 0; j < ru->steps[i].nfrom; j++)
			buf_printf(b, "%s%s", j ? " or " : "",
			    ru->steps[i].from[j]);
	}
}

static int64_t
min_nonzero(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/*
 * The window of an approved grant.  Durations count from the start, not
 * from approval: a request that starts on Dec 1 for 30d means December,
 * whatever day it was merged.
 */
static int64_t
expiry(const struct rule *ru, const struct request *r, int64_t start)
{
	int64_t exp = 0;

	if (r->duration)
		exp = min_nonzero(exp, start + r->duration);
	if (r->expires)
		exp = min_nonzero(exp, r->expires);
	if (!r->duration && !r->expires && ru->default_duration)
		exp = start + ru->default_duration;
	if (ru->max_duration)
		exp = min_nonzero(exp, start + ru->max_duration);
	return exp;
}

static void
eval_one(struct grant_eval *ev, const struct policy_set *ps,
    const struct config *cfg, const struct request *r,
    const struct grant_req *g, const struct approval *a, int64_t now)
{
	const struct rule *ru;
	char tbuf[TIME_STR_MAX];
	int *shortby = NULL;
	int64_t start;
	struct buf b;
	size_t i;
	int self = 0;

	memset(ev, 0, sizeof(*ev));
	buf_init(&b, 0);
	ru = policy_match(ps, cfg, g->platform, g->target, g->privilege,
	    r->requester);
	ev->rule = ru;
	if (ru == NULL || ru->deny) {
		ev->status = GS_DENIED;
		if (ru == NULL)
			buf_printf(&b, "no policy rule allows platform %s "
			    "target %s privilege %s for %s (default deny)",
			    g->platform, g->target, g->privilege, r->requester);
		else
			buf_printf(&b, "denied by %s#%d", ru->file, ru->index);
		goto out;
	}

	buf_printf(&b, "allowed by %s#%d", ru->file, ru->index);
	shortby = xcalloc(ru->nsteps + 1, sizeof(int));
	if (a == NULL) {
		ev->status = GS_PENDING;
		ev->needed = missing(ru, cfg, r->requester, NULL, 0, shortby);
		buf_puts(&b, ", not merged yet");
		if (ev->needed > 0) {
			buf_puts(&b, ", ");
			describe_missing(&b, ru, shortby, ev->needed, 0);
		}
		goto out;
	}

	ev->approvers = xcalloc(a->napprovers + 1, sizeof(char *));
	for (i = 0; i < a->napprovers; i++) {
		if (!ru->self_approval && str_eq_ci(a->approvers[i],
		    r->requester)) {
			self = 1;
			continue;
		}
		ev->approvers[ev->napprovers++] = xstrdup(a->approvers[i]);
	}
	ev->needed = missing(ru, cfg, r->requester, ev->approvers,
	    ev->napprovers, shortby);
	if (ev->needed > 0) {
		ev->status = GS_PENDING;
		buf_puts(&b, ", ");
		describe_missing(&b, ru, shortby, ev->needed, ev->napprovers > 0);
		if (self)
			buf_puts(&b, " (the requester cannot approve)");
		goto out;
	}

	if (ev->napprovers > 0) {
		buf_puts(&b, ", approved by ");
		for (i = 0; i < ev->napprovers; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", ev->approvers[i]);
	} else
		buf_puts(&b, ", no approval needed");
	start = a->approved_at > r->starts ? a->approved_at : r->starts;
	ev->expires_at = expiry(ru, r, start);
	if (now < start) {
		ev->status = GS_NOT_STARTED;
		buf_printf(&b, ", starts %s", time_format(tbuf, sizeof(tbuf),
		    start));
	} else if (ev->expires_at != 0 && now >= ev->expires_at) {
		ev->status = GS_EXPIRED;
		buf_printf(&b, ", expired %s", time_format(tbuf, sizeof(tbuf),
		    ev->expires_at));
	} else {
		ev->status = GS_ACTIVE;
	}
	if (ev->status != GS_EXPIRED) {
		if (ev->expires_at)
			buf_printf(&b, ", expires %s", time_format(tbuf,
			    sizeof(tbuf), ev->expires_at));
		else
			buf_puts(&b, ", no expiry");
	}
out:
	set_why(ev, &b);
	buf_release(&b);
	free(shortby);
}

void
policy_eval(struct grant_eval *out, const struct policy_set *ps,
    const struct config *cfg, const struct request *r,
    const struct approval *a, int64_t now)
{
	size_t i;

	for (i = 0; i < r->ngrants; i++)
		eval_one(&out[i], ps, cfg, r, &r->grants[i], a, now);
}

void
policy_eval_release(struct grant_eval *ev, size_t n)
{
	size_t i;

	for (i = 0; ev && i < n; i++) {
		strv_free(ev[i].approvers, ev[i].napprovers);
		ev[i].approvers = NULL;
		ev[i].napprovers = 0;
	}
}
