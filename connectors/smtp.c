/*
 * Email through SMTP with libcurl (include/smtp.h).  One message per
 * call: the headers are built here (Date from the run's clock, a
 * Message-ID with 128 random bits, a Subject encoded per RFC 2047 when it
 * is not plain ASCII), the body is sent as UTF-8 8bit with CRLF line ends
 * (base64 when a line would pass RFC 5322's 998 octets), and libcurl
 * does the dot-stuffing.  smtp:// tries STARTTLS and insists on it when
 * credentials would go to a host that is not loopback; smtps:// is TLS
 * from the first byte; certificates are always verified.  Header values
 * holding CR, LF or another control character are refused, so nothing a
 * request says can add a header or a recipient.  Messages name the host
 * and the server's last reply, never the password.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "smtp.h"
#include "util.h"

#define SMTP_TIMEOUT_MS 30000L
#define LINE_MAX_OCTETS 998
#define ADDR_MAX 254
#define SUBJECT_MAX 4096
#define WORD_RAW_MAX 39		/* bytes per encoded-word: 52 base64 chars */
#define REPLY_MAX 200
#define REDACTED "[redacted]"

struct reader {
	const char *p;
	size_t len, off;
};

struct sess {
	char reply[REPLY_MAX];	/* the server's last reply line */
	char fail[REPLY_MAX];	/* its last 4xx/5xx reply, which says why */
};

/* --- checks ---------------------------------------------------------------- */

/* Valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t c;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, c &= 0x07;
		else
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* 0 when s may be a header value: no CR, LF or other C0 control but
 * TAB, no DEL. */
static int
header_value_ok(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return -1;
	return 0;
}

/* A bare addr-spec: printable ASCII, one '@' with text on both sides,
 * none of the characters that would change an SMTP command or a header. */
static int
addr_ok(const char *a)
{
	const char *at, *p;
	size_t n = strlen(a);

	if (n == 0 || n > ADDR_MAX)
		return 0;
	for (p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	at = strchr(a, '@');
	return at != NULL && at != a && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL;
}

static int
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int
host_is_loopback(const char *host)
{
	int dots = 0;
	const char *p;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (p = host; *p; p++) {
		if (*p == '.')
			dots++;
		else if (!isdigit((unsigned char)*p))
			return 0;
	}
	return dots == 3;
}

/* --- building the message ------------------------------------------------ */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_add(struct buf *o, const unsigned char *p, size_t n)
{
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_putc(o, b64chars[v >> 18 & 63]);
		buf_putc(o, b64chars[v >> 12 & 63]);
		buf_putc(o, b64chars[v >> 6 & 63]);
		buf_putc(o, b64chars[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_putc(o, b64chars[v >> 18 & 63]);
		buf_putc(o, b64chars[v >> 12 & 63]);
		buf_puts(o, "==");
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_putc(o, b64chars[v >> 18 & 63]);
		buf_putc(o, b64chars[v >> 12 & 63]);
		buf_putc(o, b64chars[v >> 6 & 63]);
		buf_putc(o, '=');
	}
}

/*
 * "Subject: ..." with CRLF.  Plain ASCII that fits a line goes as it is;
 * anything else as RFC 2047 B encoded-words of whole UTF-8 characters,
 * one per folded line.
 */
static void
add_subject(struct buf *o, const char *subj)
{
	const unsigned char *p = (const unsigned char *)subj;
	size_t n = strlen(subj), i = 0, k;

	buf_puts(o, "Subject: ");
	if (is_ascii(subj) && n <= 900 && strstr(subj, "=?") == NULL) {
		buf_puts(o, subj);
		buf_puts(o, "\r\n");
		return;
	}
	while (i < n) {
		k = n - i < WORD_RAW_MAX ? n - i : WORD_RAW_MAX;
		/* Never cut a character: back up to a lead byte. */
		while (i + k < n && k > 0 && (p[i + k] & 0xc0) == 0x80)
			k--;
		if (i > 0)
			buf_puts(o, "\r\n ");
		buf_puts(o, "=?UTF-8?B?");
		b64_add(o, p + i, k);
		buf_puts(o, "?=");
		i += k;
	}
	buf_puts(o, "\r\n");
}

static void
add_date(struct buf *o, int64_t now)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	time_t t = (time_t)now;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	buf_printf(o, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
random_bytes(unsigned char *p, size_t n)
{
	ssize_t r;
	size_t got = 0;
	int fd;

	while (got < n) {
		r = getrandom(p + got, n - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		break;
	}
	if (got == n)
		return;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		while (got < n && (r = read(fd, p + got, n - got)) > 0)
			got += (size_t)r;
		close(fd);
	}
	if (got < n) {
		/* No kernel randomness: uniqueness from the clock and pid. */
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 48) ^ 0x9e3779b97f4a7c15ULL;
		for (; got < n; got++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[got] = (unsigned char)x;
		}
	}
}

static void
add_message_id(struct buf *o, const char *from, int64_t now)
{
	unsigned char rnd[16];
	const char *dom = strrchr(from, '@');
	size_t i;

	random_bytes(rnd, sizeof(rnd));
	buf_puts(o, "Message-ID: <");
	for (i = 0; i < sizeof(rnd); i++)
		buf_printf(o, "%02x", rnd[i]);
	buf_printf(o, ".%lld.accord@%s>\r\n", (long long)now,
	    dom != NULL && dom[1] ? dom + 1 : "localhost");
}

/* The body with CRLF line ends; 0 when some line passes 998 octets. */
static int
body_crlf(struct buf *o, const char *body)
{
	size_t col = 0;
	int fits = 1;
	const char *p;

	for (p = body; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n' || *p == '\r') {
			buf_puts(o, "\r\n");
			col = 0;
			continue;
		}
		buf_putc(o, *p);
		if (++col > LINE_MAX_OCTETS)
			fits = 0;
	}
	if (o->len < 2 || strcmp(o->ptr + o->len - 2, "\r\n") != 0)
		buf_puts(o, "\r\n");
	return fits;
}

/* --- libcurl ---------------------------------------------------------------- */

static size_t
on_read(char *out, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t k = size * n;

	if (k > r->len - r->off)
		k = r->len - r->off;
	memcpy(out, r->p + r->off, k);
	r->off += k;
	return k;
}

/* Keep the server's last reply line for the message; client lines (AUTH
 * carries the credentials) are never looked at. */
static int
on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	struct sess *ss = arg;
	size_t i, k = 0;

	(void)e;
	if (type != CURLINFO_HEADER_IN || size < 3)
		return 0;
	/* A 334 challenge is not worth quoting. */
	if (strncmp(data, "334", 3) == 0)
		return 0;
	for (i = 0; i < size && k + 1 < sizeof(ss->reply); i++) {
		if (data[i] == '\r' || data[i] == '\n')
			break;
		ss->reply[k++] = (unsigned char)data[i] >= 0x20 &&
		    (unsigned char)data[i] < 0x7f ? data[i] : '?';
	}
	ss->reply[k] = '\0';
	if (ss->reply[0] == '4' || ss->reply[0] == '5')
		memcpy(ss->fail, ss->reply, sizeof(ss->fail));
	return 0;
}

static void
scrub(struct diag *err, const char *secret)
{
	struct buf o = BUF_INIT;
	const char *p, *q;
	size_t n;

	if (secret == NULL || (n = strlen(secret)) == 0 ||
	    strstr(err->msg, secret) == NULL)
		return;
	buf_init(&o, 0);
	for (p = err->msg; (q = strstr(p, secret)) != NULL; p = q + n) {
		buf_add(&o, p, (size_t)(q - p));
		buf_puts(&o, REDACTED);
	}
	buf_puts(&o, p);
	snprintf(err->msg, sizeof(err->msg), "%s", buf_cstr(&o));
	buf_release(&o);
}

/* Parse the URL: scheme smtp or smtps, a host, no credentials in it.
 * *where is "host:port" for messages. */
static int
url_parse(const char *url, int *tls, int *loopback, char **where,
    struct diag *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int rc = -1;

	*where = NULL;
	if (url == NULL || *url == '\0')
		return diag_set(err, "smtp: no smtp_url");
	if ((u = curl_url()) == NULL)
		return diag_set(err, "smtp: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		diag_set(err, "smtp: smtp_url is not a valid URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		diag_set(err, "smtp: smtp_url must not hold credentials (use "
		    "username_env and password_env)");
		goto out;
	}
	if (strcasecmp(scheme, "smtps") == 0)
		*tls = 1;
	else if (strcasecmp(scheme, "smtp") == 0)
		*tls = 0;
	else {
		diag_set(err, "smtp: smtp_url must start with smtp:// or "
		    "smtps://");
		goto out;
	}
	*loopback = host_is_loopback(host);
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		port = NULL;
	*where = xasprintf("%s://%s%s%s", *tls ? "smtps" : "smtp", host,
	    port ? ":" : "", port ? port : "");
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

int
smtp_send(const struct smtp_opts *o, const struct smtp_mail *m,
    int64_t now, struct diag *err)
{
	struct buf msg = BUF_INIT, body = BUF_INIT, tmp = BUF_INIT;
	struct curl_slist *rcpt = NULL;
	struct reader rd;
	struct sess ss;
	char errbuf[CURL_ERROR_SIZE], *where = NULL, *from = NULL;
	const char *subject = m->subject ? m->subject : "", *last;
	CURL *e = NULL;
	CURLcode cc;
	int tls = 0, loopback = 0, rc = -1, fits;
	size_t i, linelen;

	buf_init(&msg, 0);
	buf_init(&body, 0);
	buf_init(&tmp, 0);
	if (url_parse(o->url, &tls, &loopback, &where, err) == -1)
		goto out;
	if (o->from == NULL || !addr_ok(o->from)) {
		diag_set(err, "smtp: from: not a plain address: '%.80s'",
		    o->from ? o->from : "");
		goto out;
	}
	if (m->nto == 0) {
		diag_set(err, "smtp: no recipient");
		goto out;
	}
	for (i = 0; i < m->nto; i++)
		if (m->to[i] == NULL || !addr_ok(m->to[i])) {
			/* Not quoted: it may hold CR/LF. */
			diag_set(err, "smtp: recipient %zu is not a plain "
			    "address (no spaces, CR, LF, '<', '>', ',' ...)",
			    i + 1);
			goto out;
		}
	if (header_value_ok(subject) == -1) {
		diag_set(err, "smtp: the subject holds CR, LF or another "
		    "control character (refused: header injection)");
		goto out;
	}
	if (strlen(subject) > SUBJECT_MAX ||
	    !utf8_valid((const unsigned char *)subject, strlen(subject))) {
		diag_set(err, "smtp: the subject is not valid UTF-8 of at most "
		    "%d bytes", SUBJECT_MAX);
		goto out;
	}
	if (m->body == NULL || !utf8_valid((const unsigned char *)m->body,
	    strlen(m->body))) {
		diag_set(err, "smtp: the body is missing or not valid UTF-8");
		goto out;
	}
	if (o->username != NULL && (header_value_ok(o->username) == -1 ||
	    (o->password != NULL && strpbrk(o->password, "\r\n") != NULL))) {
		diag_set(err, "smtp: the username or password holds CR or LF");
		goto out;
	}

	/* Headers. */
	add_date(&msg, now);
	buf_printf(&msg, "From: %s\r\n", o->from);
	buf_puts(&msg, "To: ");
	linelen = 4;
	for (i = 0; i < m->nto; i++) {
		if (i > 0) {
			if (linelen + strlen(m->to[i]) + 2 > 76) {
				buf_puts(&msg, ",\r\n ");
				linelen = 1;
			} else {
				buf_puts(&msg, ", ");
				linelen += 2;
			}
		}
		buf_puts(&msg, m->to[i]);
		linelen += strlen(m->to[i]);
	}
	buf_puts(&msg, "\r\n");
	add_subject(&msg, subject);
	add_message_id(&msg, o->from, now);
	buf_puts(&msg, "MIME-Version: 1.0\r\n");
	buf_puts(&msg, "Content-Type: text/plain; charset=utf-8\r\n");
	fits = body_crlf(&body, m->body);
	if (fits) {
		buf_puts(&msg, "Content-Transfer-Encoding: 8bit\r\n");
		/* RFC 3834: no vacation replies to a machine. */
		buf_puts(&msg, "Auto-Submitted: auto-generated\r\n\r\n");
		buf_add(&msg, body.ptr, body.len);
	} else {
		buf_puts(&msg, "Content-Transfer-Encoding: base64\r\n");
		buf_puts(&msg, "Auto-Submitted: auto-generated\r\n\r\n");
		b64_add(&tmp, (const unsigned char *)body.ptr, body.len);
		for (i = 0; i < tmp.len; i += 76) {
			buf_add(&msg, tmp.ptr + i, tmp.len - i < 76 ?
			    tmp.len - i : 76);
			buf_puts(&msg, "\r\n");
		}
	}

	if ((e = curl_easy_init()) == NULL) {
		diag_set(err, "smtp: cannot create a curl handle");
		goto out;
	}
	from = xasprintf("<%s>", o->from);
	for (i = 0; i < m->nto; i++) {
		char *r = xasprintf("<%s>", m->to[i]);
		struct curl_slist *nl = curl_slist_append(rcpt, r);

		free(r);
		if (nl == NULL) {
			diag_set(err, "smtp: out of memory");
			goto out;
		}
		rcpt = nl;
	}
	memset(&ss, 0, sizeof(ss));
	rd.p = msg.ptr;
	rd.len = msg.len;
	rd.off = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, &rd);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
	/* STARTTLS when offered; required before credentials leave the
	 * machine.  smtps:// is TLS from the start whatever this says. */
	curl_easy_setopt(e, CURLOPT_USE_SSL, tls || (o->username != NULL &&
	    !loopback) ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
	if (o->username != NULL) {
		curl_easy_setopt(e, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, o->password ?
		    o->password : "");
	}
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms > 0 ?
	    o->timeout_ms : SMTP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ?
	    o->timeout_ms : SMTP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, &ss);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	cc = curl_easy_perform(e);
	if (cc == CURLE_OK) {
		log_debug("smtp: %s: sent to %zu recipient%s (%zu bytes)",
		    where, m->nto, m->nto == 1 ? "" : "s", msg.len);
		rc = 0;
		goto out;
	}
	last = ss.fail[0] ? ss.fail : ss.reply;
	diag_set(err, "smtp: %s: %s%s%s%s", where, errbuf[0] ? errbuf :
	    curl_easy_strerror(cc), last[0] ? " (server: \"" : "", last,
	    last[0] ? "\")" : "");
	scrub(err, o->password);
out:
	if (e != NULL)
		curl_easy_cleanup(e);
	curl_slist_free_all(rcpt);
	free(from);
	free(where);
	buf_release(&msg);
	buf_release(&body);
	buf_release(&tmp);
	return rc;
}
