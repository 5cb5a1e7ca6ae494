/*
 * accord.yaml (DESIGN §2.1, §10): version, branch, reviewer groups,
 * platforms with their connector settings, notifications and safety
 * bounds.  The loader knows connector types only through the table the
 * caller passes, so it can reject an unknown type, a key the type does
 * not take or a managed kind it does not serve, each at its mark, without
 * this floor ever linking a connector.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "util.h"

const char *const drift_mode_names[] = { "enforce", "report" };
const char *const account_match_names[] = { "email", "email-local", "map" };

static const char *const top_keys[] = {
	"version", "branch", "groups", "platforms", "notify", "safety", NULL
};
static const char *const common_keys[] = {
	"type", "managed", "protected_accounts", "drift", "accounts",
	"timeout", "concurrency", "ca_file", "url", "retry_budget", NULL
};
static const char *const account_keys[] = { "match", "map", NULL };
static const char *const notify_keys[] = {
	"slack", "email", "events", "pull_request_url", NULL
};
static const char *const safety_keys[] = { "max_revoke", NULL };
static const char *const slack_keys[] = {
	"token_env", "webhook_env", "channel", "api_url", "approve_emoji",
	"push_remote", "ca_file", NULL
};
static const char *const email_keys[] = {
	"smtp_url", "from", "username_env", "password_env", "ca_file", NULL
};
const char *const notify_event_names[] = {
	"pending", "granted", "expiring", "revoked", NULL
};

/* "scheme://user[:secret]@host...": a secret written into the config. */
static int
url_has_userinfo(const char *u)
{
	const char *auth = strstr(u, "://"), *end;

	if (auth == NULL)
		return 0;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	return memchr(auth, '@', (size_t)(end - auth)) != NULL;
}

/* The node naming item i of a string list that yml_strlist accepted:
 * a single string stands for a one-element list. */
static const struct yml_node *
list_item(const struct yml_node *list, size_t i)
{
	return list->kind == YML_SEQ && i < list->n ? list->items[i] : list;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Names that appear in "group:NAME" and as request platforms must not
 * need quoting anywhere they are printed. */
static int
is_name(const char *s, const char *extra)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

static int
is_env_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int
kind_served(const struct type_info *ti, const char *kind, size_t kindlen)
{
	size_t i;

	for (i = 0; ti->target_kinds && ti->target_kinds[i]; i++)
		if (strlen(ti->target_kinds[i]) == kindlen &&
		    strncmp(ti->target_kinds[i], kind, kindlen) == 0)
			return 1;
	return 0;
}

static char *
kinds_list(const struct type_info *ti)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; ti->target_kinds && ti->target_kinds[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", ti->target_kinds[i]);
	return buf_detach(&b);
}

static const char *
found(const struct yml_node *n)
{
	if (yml_is_null(n))
		return "null";
	return n->kind == YML_MAP ? "a map" : n->kind == YML_SEQ ? "a list" :
	    "a string";
}

/* A non-null scalar value, for map values read by position. */
static int
scalar_value(const struct yml_doc *doc, const struct yml_node *n,
    const char *what, const char **out, struct diag *err)
{
	if (n->kind != YML_SCALAR || yml_is_null(n))
		return yml_error(doc, n, err, "%s must be a string, not %s",
		    what, found(n));
	*out = n->str;
	return 0;
}

static int
parse_groups(struct config *c, const struct yml_node *groups, struct diag *err)
{
	const struct yml_doc *doc = &c->doc;
	size_t i, j;

	if (groups == NULL || yml_is_null(groups))
		return 0;
	if (groups->kind != YML_MAP)
		return yml_error(doc, groups, err,
		    "'groups' must be a map of name: [emails], not %s",
		    found(groups));
	c->groups = xcalloc(groups->n ? groups->n : 1, sizeof(*c->groups));
	for (i = 0; i < groups->n; i++) {
		const struct yml_node *key = groups->keys[i];
		struct group *g = &c->groups[c->ngroups];

		if (!is_name(key->str, "_.-"))
			return yml_error(doc, key, err, "group name '%s' may use "
			    "only letters, digits, '_', '.' and '-'", key->str);
		if (yml_strlist(doc, groups, key->str, 1, &g->members, &g->n,
		    err) == -1)
			return -1;
		g->name = xstrdup(key->str);
		c->ngroups++;
		for (j = 0; j < g->n; j++) {
			const struct yml_node *it = list_item(groups->items[i], j);

			if (g->members[j][0] == '\0')
				return yml_error(doc, it, err,
				    "empty member in group '%s'", g->name);
			if (strncmp(g->members[j], "group:", 6) == 0)
				return yml_error(doc, it, err, "group '%s' names "
				    "'%s': groups cannot contain groups",
				    g->name, g->members[j]);
		}
	}
	return 0;
}

static int
parse_managed(const struct yml_doc *doc, const struct yml_node *pn,
    struct platform_cfg *p, struct diag *err)
{
	const struct yml_node *list = yml_get(pn, "managed");
	size_t i;

	if (yml_strlist(doc, pn, "managed", 0, &p->managed, &p->nmanaged,
	    err) == -1)
		return -1;
	for (i = 0; i < p->nmanaged; i++) {
		const char *m = p->managed[i], *colon = strchr(m, ':');
		const struct yml_node *it = list_item(list, i);
		char *kinds;

		if (colon == NULL || colon == m || colon[1] == '\0')
			return yml_error(doc, it, err, "managed target '%s' "
			    "must be kind:pattern, e.g. \"role:analyst_*\"", m);
		if (!kind_served(p->ti, m, (size_t)(colon - m))) {
			kinds = kinds_list(p->ti);
			yml_error(doc, it, err, "type %s has no target kind "
			    "'%.*s' (kinds: %s)", p->type, (int)(colon - m), m,
			    kinds);
			free(kinds);
			return -1;
		}
	}
	return 0;
}

static int
parse_accounts(const struct yml_doc *doc, const struct yml_node *pn,
    struct platform_cfg *p, struct diag *err)
{
	const struct yml_node *acc = yml_get(pn, "accounts"), *map, *mv;
	const char *match = NULL;
	size_t i, j;

	p->match = MATCH_EMAIL_LOCAL;
	if (acc == NULL || yml_is_null(acc))
		return 0;
	if (yml_check_keys(doc, acc, "accounts", account_keys, err) == -1 ||
	    yml_str(doc, acc, "match", 0, &match, err) == -1)
		return -1;
	if (match) {
		mv = yml_get(acc, "match");
		for (i = 0; i < 3; i++)
			if (strcmp(match, account_match_names[i]) == 0)
				break;
		if (i == 3)
			return yml_error(doc, mv, err, "accounts.match must be "
			    "email, email-local or map, not '%s'", match);
		p->match = (enum account_match)i;
	}
	map = yml_get(acc, "map");
	if (map != NULL && !yml_is_null(map)) {
		if (map->kind != YML_MAP)
			return yml_error(doc, map, err, "accounts.map must be a "
			    "map of email: account, not %s", found(map));
		p->map = xcalloc(map->n ? map->n : 1, sizeof(*p->map));
		for (i = 0; i < map->n; i++) {
			const char *person = map->keys[i]->str, *account = NULL;
			char *lower;

			if (strchr(person, '@') == NULL)
				return yml_error(doc, map->keys[i], err,
				    "accounts.map key '%s' is not an email",
				    person);
			if (scalar_value(doc, map->items[i], "an account",
			    &account, err) == -1)
				return -1;
			if (account[0] == '\0')
				return yml_error(doc, map->items[i], err,
				    "empty account for '%s'", person);
			lower = xstrdup(person);
			for (j = 0; lower[j]; j++)
				lower[j] = (char)tolower((unsigned char)lower[j]);
			for (j = 0; j < p->nmap; j++)
				if (strcmp(p->map[j].person, lower) == 0)
					break;
			if (j < p->nmap) {
				free(lower);
				return yml_error(doc, map->keys[i], err,
				    "'%s' is mapped twice in accounts.map",
				    person);
			}
			p->map[p->nmap].person = lower;
			p->map[p->nmap].account = xstrdup(account);
			p->nmap++;
		}
	}
	if (p->match == MATCH_MAP && p->nmap == 0)
		return yml_error(doc, acc, err, "accounts.match is map but "
		    "accounts.map names nobody");
	return 0;
}

/* http:// is for the loopback emulators only (§10). */
static int
url_ok(const char *u)
{
	static const char *const loop[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]", NULL
	};
	size_t i, n;

	if (strncmp(u, "https://", 8) == 0)
		return u[8] != '\0';
	for (i = 0; loop[i]; i++) {
		n = strlen(loop[i]);
		if (strncmp(u, loop[i], n) == 0 &&
		    (u[n] == '\0' || u[n] == ':' || u[n] == '/'))
			return 1;
	}
	return 0;
}

/* Settings the loader can check without knowing the connector. */
static int
parse_settings(const struct yml_doc *doc, const struct yml_node *pn,
    struct diag *err)
{
	static const char *const durations[] = { "timeout", "retry_budget", NULL };
	const char *s;
	long conc;
	int64_t secs;
	size_t i;

	for (i = 0; durations[i]; i++) {
		s = NULL;
		if (yml_str(doc, pn, durations[i], 0, &s, err) == -1)
			return -1;
		if (s && duration_parse(&secs, s) == -1)
			return yml_error(doc, yml_get(pn, durations[i]), err,
			    "bad %s '%s' (use 30s, 5m, 1h)", durations[i], s);
	}
	if (yml_int(doc, pn, "concurrency", 0, 1, 1000, &conc, err) == -1)
		return -1;
	s = NULL;
	if (yml_str(doc, pn, "url", 0, &s, err) == -1)
		return -1;
	if (s && !url_ok(s))
		return yml_error(doc, yml_get(pn, "url"), err, "url must "
		    "start with https:// (http:// only for 127.0.0.1)");
	/* Secrets are named, never written (§10). */
	for (i = 0; i < pn->n; i++) {
		const char *key = pn->keys[i]->str;
		int env = has_suffix(key, "_env");

		if (!env && !has_suffix(key, "_file"))
			continue;
		if (scalar_value(doc, pn->items[i], key, &s, err) == -1)
			return -1;
		/* The value may be the very secret that belongs elsewhere:
		 * never echo it. */
		if (env && !is_env_name(s))
			return yml_error(doc, pn->items[i], err, "%s must name "
			    "an environment variable (letters, digits, '_'); "
			    "secrets are never written here", key);
		if (!env && s[0] == '\0')
			return yml_error(doc, pn->items[i], err,
			    "%s must name a file", key);
	}
	return 0;
}

/* An optional string setting of a notify: map, copied.  Empty is an
 * error: every one of these names something. */
static int
notify_str(const struct yml_doc *doc, const struct yml_node *map,
    const char *what, const char *key, int required, char **out,
    struct diag *err)
{
	const char *v = NULL;

	if (yml_str(doc, map, key, required, &v, err) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (v[0] == '\0')
		return yml_error(doc, yml_get(map, key), err,
		    "%s.%s must not be empty", what, key);
	*out = xstrdup(v);
	return 0;
}

/* notify.*.*_env: the name of a variable, never the secret itself, which
 * is therefore never echoed. */
static int
notify_env(const struct yml_doc *doc, const struct yml_node *map,
    const char *what, const char *key, char **out, struct diag *err)
{
	if (notify_str(doc, map, what, key, 0, out, err) == -1)
		return -1;
	if (*out && !is_env_name(*out))
		return yml_error(doc, yml_get(map, key), err, "%s.%s must name "
		    "an environment variable (letters, digits, '_'); secrets "
		    "are never written here", what, key);
	return 0;
}

static int
has_ctl_or_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 1;
	return 0;
}

static int
parse_notify_slack(const struct yml_doc *doc, const struct yml_node *n,
    struct notify_slack *sl, struct diag *err)
{
	const char *w = "notify.slack";
	const char *p;

	if (n->kind != YML_MAP)
		return yml_error(doc, n, err, "'notify.slack' must be a map, "
		    "not %s", found(n));
	if (yml_check_keys(doc, n, w, slack_keys, err) == -1 ||
	    notify_env(doc, n, w, "token_env", &sl->token_env, err) == -1 ||
	    notify_env(doc, n, w, "webhook_env", &sl->webhook_env, err) == -1 ||
	    notify_str(doc, n, w, "channel", 0, &sl->channel, err) == -1 ||
	    notify_str(doc, n, w, "api_url", 0, &sl->api_url, err) == -1 ||
	    notify_str(doc, n, w, "approve_emoji", 0, &sl->approve_emoji,
	    err) == -1 ||
	    notify_str(doc, n, w, "push_remote", 0, &sl->push_remote,
	    err) == -1 ||
	    notify_str(doc, n, w, "ca_file", 0, &sl->ca_file, err) == -1)
		return -1;
	if (sl->token_env == NULL && sl->webhook_env == NULL)
		return yml_error(doc, n, err, "notify.slack needs token_env "
		    "(chat.postMessage) or webhook_env (an incoming webhook)");
	if (sl->token_env && sl->webhook_env)
		return yml_error(doc, yml_get(n, "webhook_env"), err,
		    "notify.slack takes token_env or webhook_env, not both");
	if (sl->token_env && sl->channel == NULL)
		return yml_error(doc, n, err, "notify.slack.channel is "
		    "required with token_env (the channel id to post in)");
	if (sl->channel && has_ctl_or_space(sl->channel))
		return yml_error(doc, yml_get(n, "channel"), err,
		    "notify.slack.channel must be a channel id such as "
		    "C0123456789");
	if (sl->api_url && !url_ok(sl->api_url))
		return yml_error(doc, yml_get(n, "api_url"), err,
		    "notify.slack.api_url must start with https:// (http:// "
		    "only for 127.0.0.1)");
	if (sl->approve_emoji) {
		for (p = sl->approve_emoji; *p; p++)
			if (!islower((unsigned char)*p) &&
			    !isdigit((unsigned char)*p) && !strchr("_+-'", *p))
				return yml_error(doc, yml_get(n,
				    "approve_emoji"), err, "notify.slack."
				    "approve_emoji must be an emoji name such "
				    "as white_check_mark (lower case, no "
				    "colons)");
	} else
		sl->approve_emoji = xstrdup("white_check_mark");
	if (sl->push_remote && has_ctl_or_space(sl->push_remote))
		return yml_error(doc, yml_get(n, "push_remote"), err,
		    "notify.slack.push_remote must be a remote name or URL");
	if (sl->push_remote && url_has_userinfo(sl->push_remote))
		return yml_error(doc, yml_get(n, "push_remote"), err,
		    "notify.slack.push_remote must not carry credentials "
		    "(user:secret@): name a configured remote instead");
	if (sl->push_remote == NULL)
		sl->push_remote = xstrdup("origin");
	return 0;
}

/* A bare address: something@something, nothing a header could split on. */
static int
is_address(const char *s)
{
	const char *at = strchr(s, '@');

	return at && at != s && at[1] && strchr(at + 1, '@') == NULL &&
	    !has_ctl_or_space(s) && strpbrk(s, "<>,;\"()") == NULL;
}

static int
parse_notify_email(const struct yml_doc *doc, const struct yml_node *n,
    struct notify_email *em, struct diag *err)
{
	const char *w = "notify.email", *u, *host;

	if (n->kind != YML_MAP)
		return yml_error(doc, n, err, "'notify.email' must be a map, "
		    "not %s", found(n));
	if (yml_check_keys(doc, n, w, email_keys, err) == -1 ||
	    notify_str(doc, n, w, "smtp_url", 1, &em->smtp_url, err) == -1 ||
	    notify_str(doc, n, w, "from", 1, &em->from, err) == -1 ||
	    notify_env(doc, n, w, "username_env", &em->username_env,
	    err) == -1 ||
	    notify_env(doc, n, w, "password_env", &em->password_env,
	    err) == -1 ||
	    notify_str(doc, n, w, "ca_file", 0, &em->ca_file, err) == -1)
		return -1;
	u = em->smtp_url;
	host = strncmp(u, "smtp://", 7) == 0 ? u + 7 :
	    strncmp(u, "smtps://", 8) == 0 ? u + 8 : NULL;
	if (host == NULL || *host == '\0' || *host == '/' || *host == ':' ||
	    has_ctl_or_space(u))
		return yml_error(doc, yml_get(n, "smtp_url"), err,
		    "notify.email.smtp_url must be smtp://HOST[:PORT] or "
		    "smtps://HOST[:PORT]");
	/* Credentials in the URL would be a secret written down. */
	if (strchr(host, '@'))
		return yml_error(doc, yml_get(n, "smtp_url"), err,
		    "notify.email.smtp_url must not hold credentials; use "
		    "username_env and password_env");
	if (!is_address(em->from))
		return yml_error(doc, yml_get(n, "from"), err,
		    "notify.email.from must be a bare address such as "
		    "accord@example.com");
	if (em->username_env && em->password_env == NULL)
		return yml_error(doc, yml_get(n, "username_env"), err,
		    "notify.email.username_env needs password_env too");
	return 0;
}

static int
parse_notify_url(const struct yml_doc *doc, const struct yml_node *n,
    struct notify_cfg *nc, struct diag *err)
{
	static const char *const vars[] = {
		"{number}", "{branch}", "{path}", NULL
	};
	const char *p, *u;
	size_t i;

	if (notify_str(doc, n, "notify", "pull_request_url", 0,
	    &nc->pull_request_url, err) == -1)
		return -1;
	if (nc->pull_request_url == NULL)
		return 0;
	u = nc->pull_request_url;
	if ((strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) ||
	    has_ctl_or_space(u))
		return yml_error(doc, yml_get(n, "pull_request_url"), err,
		    "notify.pull_request_url must be an http(s) URL such as "
		    "https://github.com/acme/access/pull/{number}");
	for (p = strchr(u, '{'); p; p = strchr(p + 1, '{')) {
		for (i = 0; vars[i]; i++)
			if (strncmp(p, vars[i], strlen(vars[i])) == 0)
				break;
		if (vars[i] == NULL)
			return yml_error(doc, yml_get(n, "pull_request_url"),
			    err, "notify.pull_request_url: unknown "
			    "placeholder at '%.20s' (known: {number}, "
			    "{branch}, {path})", p);
	}
	return 0;
}

static int
route_bit(const struct yml_doc *doc, const struct yml_node *v,
    const struct notify_cfg *nc, const char *event, int alone,
    unsigned *bits, struct diag *err)
{
	if (v->kind != YML_SCALAR || yml_is_null(v))
		return yml_error(doc, v, err, "notify.events.%s must be slack, "
		    "email, [slack, email] or none, not %s", event, found(v));
	if (strcmp(v->str, "slack") == 0) {
		if (!nc->have_slack)
			return yml_error(doc, v, err, "notify.events.%s goes to "
			    "slack, but notify.slack is not configured", event);
		*bits |= NOTIFY_SLACK;
	} else if (strcmp(v->str, "email") == 0) {
		if (!nc->have_email)
			return yml_error(doc, v, err, "notify.events.%s goes to "
			    "email, but notify.email is not configured", event);
		*bits |= NOTIFY_EMAIL;
	} else if (strcmp(v->str, "none") == 0 && alone) {
		*bits = 0;
	} else
		return yml_error(doc, v, err, "notify.events.%s: unknown "
		    "destination '%s' (slack, email%s)", event, v->str,
		    alone ? " or none" : "");
	return 0;
}

static int
parse_notify_events(const struct yml_doc *doc, const struct yml_node *ev,
    struct notify_cfg *nc, struct diag *err)
{
	const struct yml_node *v;
	size_t i, j;

	if (ev == NULL || yml_is_null(ev))
		return 0;
	if (ev->kind != YML_MAP)
		return yml_error(doc, ev, err, "'notify.events' must be a map "
		    "of event: destination, not %s", found(ev));
	if (yml_check_keys(doc, ev, "notify.events", notify_event_names,
	    err) == -1)
		return -1;
	for (i = 0; i < NEV_COUNT; i++) {
		v = yml_get(ev, notify_event_names[i]);
		if (v == NULL)
			continue;
		nc->events[i] = 0;
		if (v->kind != YML_SEQ) {
			if (route_bit(doc, v, nc, notify_event_names[i], 1,
			    &nc->events[i], err) == -1)
				return -1;
			continue;
		}
		for (j = 0; j < v->n; j++)
			if (route_bit(doc, v->items[j], nc,
			    notify_event_names[i], 0, &nc->events[i],
			    err) == -1)
				return -1;
	}
	return 0;
}

/*
 * Defaults (§12): pending to Slack, the others by email; an event whose
 * default destination is not configured goes to the other one.
 */
static int
parse_notify(const struct yml_doc *doc, const struct yml_node *n,
    struct notify_cfg *nc, struct diag *err)
{
	const struct yml_node *sl = yml_get(n, "slack"), *em = yml_get(n,
	    "email");
	unsigned other;
	size_t i;

	if (n->kind != YML_MAP)
		return yml_error(doc, n, err, "'notify' must be a map, not %s",
		    found(n));
	if (yml_check_keys(doc, n, "notify", notify_keys, err) == -1)
		return -1;
	if (sl && !yml_is_null(sl)) {
		if (parse_notify_slack(doc, sl, &nc->slack, err) == -1)
			return -1;
		nc->have_slack = 1;
	}
	if (em && !yml_is_null(em)) {
		if (parse_notify_email(doc, em, &nc->email, err) == -1)
			return -1;
		nc->have_email = 1;
	}
	nc->enabled = nc->have_slack || nc->have_email;
	for (i = 0; i < NEV_COUNT; i++) {
		nc->events[i] = i == NEV_PENDING ? NOTIFY_SLACK : NOTIFY_EMAIL;
		other = nc->events[i] == NOTIFY_SLACK ? NOTIFY_EMAIL :
		    NOTIFY_SLACK;
		if ((nc->events[i] == NOTIFY_SLACK && !nc->have_slack) ||
		    (nc->events[i] == NOTIFY_EMAIL && !nc->have_email))
			nc->events[i] = ((other == NOTIFY_SLACK &&
			    nc->have_slack) || (other == NOTIFY_EMAIL &&
			    nc->have_email)) ? other : 0;
	}
	if (parse_notify_url(doc, n, nc, err) == -1 ||
	    parse_notify_events(doc, yml_get(n, "events"), nc, err) == -1)
		return -1;
	return 0;
}

static void
notify_cfg_release(struct notify_cfg *nc)
{
	free(nc->slack.token_env);
	free(nc->slack.webhook_env);
	free(nc->slack.channel);
	free(nc->slack.api_url);
	free(nc->slack.approve_emoji);
	free(nc->slack.push_remote);
	free(nc->slack.ca_file);
	free(nc->email.smtp_url);
	free(nc->email.from);
	free(nc->email.username_env);
	free(nc->email.password_env);
	free(nc->email.ca_file);
	free(nc->pull_request_url);
	memset(nc, 0, sizeof(*nc));
}

static int
parse_platform(struct config *c, const struct yml_node *key,
    const struct yml_node *pn, const struct type_info *types, size_t ntypes,
    struct diag *err)
{
	const struct yml_doc *doc = &c->doc;
	struct platform_cfg *p = &c->platforms[c->nplatforms];
	const char **allowed = NULL;
	const char *type, *drift = NULL;
	char *what = NULL;
	size_t i, n;
	int rc = -1;

	if (!is_name(key->str, "_-"))
		return yml_error(doc, key, err, "platform name '%s' may use "
		    "only letters, digits, '_' and '-'", key->str);
	if (pn->kind != YML_MAP)
		return yml_error(doc, pn, err, "platform '%s' must be a map, "
		    "not %s", key->str, found(pn));
	p->name = xstrdup(key->str);
	p->node = pn;
	p->line = key->line;
	p->column = key->column;
	c->nplatforms++;
	if (yml_str(doc, pn, "type", 1, &type, err) == -1)
		return diag_prefix(err, "platform '%s'", p->name);
	for (i = 0; i < ntypes; i++)
		if (strcmp(types[i].type, type) == 0)
			break;
	if (i == ntypes) {
		struct buf b;

		buf_init(&b, 0);
		for (i = 0; i < ntypes; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", types[i].type);
		yml_error(doc, yml_get(pn, "type"), err, "unknown platform "
		    "type '%s' (known: %s)", type, ntypes ? b.ptr : "none");
		buf_release(&b);
		return -1;
	}
	p->ti = &types[i];
	p->type = xstrdup(type);

	n = sizeof(common_keys) / sizeof(common_keys[0]);
	for (i = 0; p->ti->own_keys && p->ti->own_keys[i]; i++)
		n++;
	allowed = xcalloc(n, sizeof(*allowed));
	n = 0;
	for (i = 0; common_keys[i]; i++)
		allowed[n++] = common_keys[i];
	for (i = 0; p->ti->own_keys && p->ti->own_keys[i]; i++)
		allowed[n++] = p->ti->own_keys[i];
	allowed[n] = NULL;
	what = xasprintf("platform '%s'", p->name);
	if (yml_check_keys(doc, pn, what, allowed, err) == -1)
		goto out;

	if (parse_managed(doc, pn, p, err) == -1 ||
	    yml_strlist(doc, pn, "protected_accounts", 0,
	    &p->protected_accounts, &p->nprotected, err) == -1 ||
	    yml_str(doc, pn, "drift", 0, &drift, err) == -1)
		goto out;
	p->drift = DRIFT_ENFORCE;
	if (drift && strcmp(drift, "report") == 0)
		p->drift = DRIFT_REPORT;
	else if (drift && strcmp(drift, "enforce") != 0) {
		yml_error(doc, yml_get(pn, "drift"), err,
		    "drift must be enforce or report, not '%s'", drift);
		goto out;
	}
	if (parse_accounts(doc, pn, p, err) == -1 ||
	    parse_settings(doc, pn, err) == -1)
		goto out;
	rc = 0;
out:
	free(what);
	free(allowed);
	return rc;
}

static int
parse_root(struct config *c, const struct type_info *types, size_t ntypes,
    struct diag *err)
{
	const struct yml_doc *doc = &c->doc;
	const struct yml_node *root = doc->root, *plats, *n;
	const char *branch = "main";
	long version;
	size_t i;

	if (root == NULL)
		return diag_setat(err, doc->path, 1, 1, "empty file, expected "
		    "at least 'version: 1'");
	if (yml_check_keys(doc, root, "accord.yaml", top_keys, err) == -1 ||
	    yml_int(doc, root, "version", 1, LONG_MIN, LONG_MAX, &version,
	    err) == -1)
		return -1;
	if (version != 1)
		return yml_error(doc, yml_get(root, "version"), err,
		    "unsupported version %ld (this accord reads version 1)",
		    version);
	c->version = 1;
	if (yml_str(doc, root, "branch", 0, &branch, err) == -1)
		return -1;
	if (branch[0] == '\0')
		return yml_error(doc, yml_get(root, "branch"), err,
		    "'branch' must not be empty");
	c->branch = xstrdup(branch);
	if (parse_groups(c, yml_get(root, "groups"), err) == -1)
		return -1;

	plats = yml_get(root, "platforms");
	if (plats != NULL && !yml_is_null(plats)) {
		if (plats->kind != YML_MAP)
			return yml_error(doc, plats, err, "'platforms' must be "
			    "a map of name: settings, not %s", found(plats));
		c->platforms = xcalloc(plats->n ? plats->n : 1,
		    sizeof(*c->platforms));
		for (i = 0; i < plats->n; i++)
			if (parse_platform(c, plats->keys[i], plats->items[i],
			    types, ntypes, err) == -1)
				return -1;
	}

	n = yml_get(root, "notify");
	if (n != NULL && !yml_is_null(n)) {
		if (parse_notify(doc, n, &c->notify_cfg, err) == -1)
			return -1;
		c->notify = n;
	}
	c->max_revoke = 50;
	n = yml_get(root, "safety");
	if (n != NULL && !yml_is_null(n) &&
	    (yml_check_keys(doc, n, "safety", safety_keys, err) == -1 ||
	    yml_int(doc, n, "max_revoke", 0, LONG_MIN, LONG_MAX,
	    &c->max_revoke, err) == -1))
		return -1;
	if (c->max_revoke < 0)
		return yml_error(doc, yml_get(n, "max_revoke"), err,
		    "'max_revoke' must be 0 or more");
	return 0;
}

int
config_parse(struct config *cfg, const char *path, const char *data,
    size_t len, const struct type_info *types, size_t ntypes,
    struct diag *err)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	memset(cfg, 0, sizeof(*cfg));
	if (yml_parse(&c.doc, path, data, len, err) == -1)
		return -1;
	if (parse_root(&c, types, ntypes, err) == -1) {
		config_release(&c);
		return -1;
	}
	*cfg = c;
	return 0;
}

void
config_release(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].name);
		strv_free(cfg->groups[i].members, cfg->groups[i].n);
	}
	free(cfg->groups);
	for (i = 0; i < cfg->nplatforms; i++) {
		struct platform_cfg *p = &cfg->platforms[i];

		free(p->name);
		free(p->type);
		strv_free(p->managed, p->nmanaged);
		strv_free(p->protected_accounts, p->nprotected);
		for (j = 0; j < p->nmap; j++) {
			free(p->map[j].person);
			free(p->map[j].account);
		}
		free(p->map);
	}
	free(cfg->platforms);
	free(cfg->branch);
	notify_cfg_release(&cfg->notify_cfg);
	yml_doc_release(&cfg->doc);
	memset(cfg, 0, sizeof(*cfg));
}

const struct platform_cfg *
config_platform(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && name && i < cfg->nplatforms; i++)
		if (strcmp(cfg->platforms[i].name, name) == 0)
			return &cfg->platforms[i];
	return NULL;
}

const struct group *
config_group(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && name && i < cfg->ngroups; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}
