/*
 * Slack for notifications and approval by reaction (DESIGN §7, §12;
 * platform-apis.md §11): chat.postMessage with a bot token, or an
 * incoming webhook; reactions.get (full=true) and users.info to learn who
 * approved.  Web API answers are HTTP 200 with {"ok": false, "error":
 * "..."} on failure; 429 carries Retry-After and is retried only while the
 * total wait of this client stays under max_wait_ms.  One run shares a
 * single budget between the clients it opens one after another
 * (approval by reaction, then notify): each is opened with what the
 * earlier ones left (slack_wait_left) and adds what it waited
 * (slack_waited_ms) to the run's count.  The token never reaches a
 * message.  Lives on the connectors floor beside http.c.
 */
#ifndef ACCORD_SLACK_H
#define ACCORD_SLACK_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct slack;

struct slack_opts {
	const char *api_url;	/* NULL: "https://slack.com/api" */
	const char *token;	/* bot token (xoxb-...), NULL: none */
	const char *webhook_url;	/* incoming webhook, NULL: none */
	const char *ca_file;	/* NULL: system store */
	long timeout_ms;	/* per request; 0: 10 s */
	int64_t max_wait_ms;	/* total 429 waiting; 0: 10 s (§12);
				 * negative: none, no retry waits at all */
};

/* DESIGN §12: within one run, a 429 is retried only while the total wait
 * of all its Slack clients stays under this. */
#define SLACK_RUN_WAIT_MS 10000

/* The max_wait_ms for a client opened after the run's earlier Slack
 * clients waited run_waited_ms in all: what is left of
 * SLACK_RUN_WAIT_MS, or -1 (no waiting) when nothing is. */
int64_t slack_wait_left(int64_t run_waited_ms);

/* Copies what it needs from o.  Fails on a URL that is not https (plain
 * http to loopback only). */
int slack_open(struct slack **out, const struct slack_opts *o,
    struct diag *err);
void slack_free(struct slack *s);
/* How long s has waited before retries so far (Retry-After, backoff),
 * Web API calls and the webhook together; 0 for NULL.  A Web API call
 * that ends without any answer counts the whole time it took (its
 * waits are not reported apart then). */
int64_t slack_waited_ms(const struct slack *s);

/* chat.postMessage {"channel", "text", "unfurl_links": false}.  On 0,
 * *ts and *channel_id (the message's "ts" and "channel") are new
 * strings. */
int slack_post(struct slack *s, const char *channel, const char *text,
    char **ts, char **channel_id, struct diag *err);
/* POST {"text"} to the incoming webhook; success is HTTP 200 "ok". */
int slack_webhook(struct slack *s, const char *text, struct diag *err);
/* reactions.get?channel=C&timestamp=TS&full=true: the user ids that
 * reacted with `emoji` (name without colons), in the order given.
 * *users is a new array of new strings (strv_free), possibly empty. */
int slack_reactions(struct slack *s, const char *channel, const char *ts,
    const char *emoji, char ***users, size_t *n, struct diag *err);
/* users.info?user=U: user.profile.email as a new string, or *email =
 * NULL when the profile has none (a bot, or no users:read.email scope)
 * and for a deactivated ("deleted") account, which approves nothing. */
int slack_user_email(struct slack *s, const char *user, char **email,
    struct diag *err);

/* What users.info says of one person (helper T's addition, for the merge
 * commit's author name).  Answers are cached per struct slack, so asking
 * again costs no request. */
struct slack_user {
	char *id;
	char *email;		/* profile.email, NULL: none (see above) */
	char *real_name;	/* profile.real_name, else user.real_name;
				 * NULL when both are empty */
	int is_bot, deleted;
};
/* On 0, *u holds new strings; slack_user_release frees them. */
int slack_user_info(struct slack *s, const char *user, struct slack_user *u,
    struct diag *err);
void slack_user_release(struct slack_user *u);

#endif
