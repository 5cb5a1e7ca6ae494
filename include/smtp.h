/*
 * Email through SMTP with libcurl (DESIGN §7, §12).  smtp:// upgrades with
 * STARTTLS when the server offers it, and requires it whenever credentials
 * are sent to a host that is not loopback; smtps:// is TLS from the first
 * byte.  Certificates are always verified (ca_file for a private CA).
 * Credentials never reach a message.  Lives on the connectors floor.
 */
#ifndef ACCORD_SMTP_H
#define ACCORD_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct smtp_opts {
	const char *url;	/* "smtp://host:port" or "smtps://host:port" */
	const char *from;	/* envelope and From: address */
	const char *username;	/* NULL: no AUTH */
	const char *password;
	const char *ca_file;	/* NULL: system store */
	long timeout_ms;	/* 0: 30 s */
};

struct smtp_mail {
	char *const *to;	/* addresses */
	size_t nto;
	const char *subject;	/* UTF-8; encoded (RFC 2047) when not ASCII */
	const char *body;	/* UTF-8 plain text; lines end in \n */
};

/*
 * Send one message: headers From, To, Subject, Date (from `now`, RFC 5322),
 * Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
 * Content-Transfer-Encoding 8bit; body lines CRLF, a leading '.' doubled
 * by libcurl.  Header values with CR or LF are refused (no injection).
 */
int smtp_send(const struct smtp_opts *o, const struct smtp_mail *m,
    int64_t now, struct diag *err);

#endif
