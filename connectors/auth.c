/*
 * Credentials for HTTP connectors, kept apart from the network code: a
 * fixed bearer token, OAuth 2.0 client credentials (RFC 6749 §4.4) with
 * the access token cached until a minute before it expires, and
 * Snowflake key-pair JWTs signed RS256 with OpenSSL from an owner-only
 * PEM key.  Expiry always follows the real clock (time_now()), never
 * --now: a token's life is a fact about the world, not about the desired
 * state.  Secrets are wiped before they are freed and never reach a
 * message; an OAuth server that echoes the client secret back in an error
 * has it replaced by "[redacted]".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth.h"
#include "buf.h"
#include "http.h"
#include "util.h"

#define KEY_FILE_MAX (64 * 1024)
#define JWT_LIFETIME_MAX 3600
#define JWT_LIFETIME_DEFAULT 3540
/* Sign anew when the token has less than this left. */
#define JWT_RENEW_BEFORE 300
/* Fetch anew this long before an OAuth token expires. */
#define OAUTH_MARGIN 60
/* expires_in absent (it is only RECOMMENDED): a 401 renews it anyway. */
#define OAUTH_DEFAULT_LIFE 3600
#define RSA_MIN_BITS 2048

enum auth_kind { AUTH_BEARER, AUTH_OAUTH, AUTH_JWT };

struct auth {
	enum auth_kind kind;
	char *header;		/* "Bearer ...", handed out by auth_header */
	int64_t renew_at;	/* real clock; the header is good before it */
	/* OAuth */
	struct http *h;
	char *token_url, *client_id, *client_secret, *scope;
	/* JWT */
	EVP_PKEY *key;
	char *account, *user;	/* upper-cased */
	char *fingerprint;	/* "SHA256:..." */
	int64_t lifetime;
};

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void
set_header(struct auth *a, const char *token)
{
	wipe_free(a->header);
	a->header = xasprintf("Bearer %s", token);
}

/* A token goes into a header line: printable ASCII without spaces. */
static int
token_ok(const char *t)
{
	if (t == NULL || *t == '\0')
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	return 1;
}

static struct auth *
auth_new(enum auth_kind kind)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->kind = kind;
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	wipe_free(a->header);
	free(a->token_url);
	free(a->client_id);
	wipe_free(a->client_secret);
	free(a->scope);
	EVP_PKEY_free(a->key);
	free(a->account);
	free(a->user);
	free(a->fingerprint);
	free(a);
}

int
auth_bearer(struct auth **out, const char *token, struct diag *err)
{
	struct auth *a;

	*out = NULL;
	if (token == NULL || *token == '\0')
		return diag_set(err, "the bearer token is empty");
	if (!token_ok(token))
		return diag_set(err, "the bearer token contains a space or a "
		    "control character");
	a = auth_new(AUTH_BEARER);
	set_header(a, token);
	*out = a;
	return 0;
}

/* --- base64 --------------------------------------------------------------- */

/* Standard alphabet with padding; newly allocated. */
static char *
b64(const unsigned char *p, size_t n)
{
	char *s = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/* base64url without padding (RFC 7515 §2); newly allocated. */
static char *
b64url(const void *p, size_t n)
{
	char *s = b64(p, n), *c;
	size_t len;

	for (c = s; *c; c++)
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	len = strlen(s);
	while (len > 0 && s[len - 1] == '=')
		s[--len] = '\0';
	return s;
}

/* --- OAuth 2.0 client credentials ------------------------------------------ */

/* application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks of the
 * client id and secret before they go into HTTP Basic. */
static void
form_encode(struct buf *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_')
			buf_putc(o, (char)c);
		else if (c == ' ')
			buf_putc(o, '+');
		else {
			buf_putc(o, '%');
			buf_putc(o, hex[c >> 4]);
			buf_putc(o, hex[c & 15]);
		}
	}
}

int
auth_oauth_client(struct auth **out, struct http *h, const char *token_url,
    const char *client_id, const char *client_secret, const char *scope,
    struct diag *err)
{
	struct auth *a;

	*out = NULL;
	if (h == NULL || token_url == NULL || *token_url == '\0')
		return diag_set(err, "OAuth: no token URL");
	if (client_id == NULL || *client_id == '\0')
		return diag_set(err, "OAuth: the client id is empty");
	if (client_secret == NULL || *client_secret == '\0')
		return diag_set(err, "OAuth: the client secret is empty");
	a = auth_new(AUTH_OAUTH);
	a->h = h;
	a->token_url = xstrdup(token_url);
	a->client_id = xstrdup(client_id);
	a->client_secret = xstrdup(client_secret);
	a->scope = scope && *scope ? xstrdup(scope) : NULL;
	*out = a;
	return 0;
}

/* Replace every copy of `secret` in the message. */
static void
scrub(struct diag *err, const char *secret)
{
	struct buf o = BUF_INIT;
	size_t n = strlen(secret);
	const char *p = err->msg, *q;

	if (n < 3 || strstr(p, secret) == NULL)
		return;
	buf_init(&o, 0);
	while ((q = strstr(p, secret)) != NULL) {
		buf_add(&o, p, (size_t)(q - p));
		buf_puts(&o, "[redacted]");
		p = q + n;
	}
	buf_puts(&o, p);
	snprintf(err->msg, sizeof(err->msg), "%s", buf_cstr(&o));
	buf_release(&o);
}

static void
scrub_secret(struct diag *err, const char *secret)
{
	struct buf enc = BUF_INIT;

	scrub(err, secret);
	buf_init(&enc, 0);
	form_encode(&enc, secret);
	scrub(err, buf_cstr(&enc));
	explicit_bzero(enc.ptr, enc.len);
	buf_release(&enc);
}

/* An answer other than 200: quote the OAuth error fields (RFC 6749
 * §5.2) when there are some, else the body as http_fail does. */
static int
oauth_refused(struct auth *a, const struct http_req *rq,
    const struct http_resp *rs, struct diag *err)
{
	struct http_resp view = *rs;
	json_t *j = json_loadb(rs->body.ptr, rs->body.len, 0, NULL);
	const char *code = NULL, *desc = NULL;

	if (json_is_object(j)) {
		code = json_string_value(json_object_get(j, "error"));
		desc = json_string_value(json_object_get(j, "error_description"));
	}
	if (code != NULL) {
		buf_init(&view.body, 0);
		buf_printf(&view.body, "OAuth error %s%s%s", code,
		    desc ? ": " : "", desc ? desc : "");
	}
	http_fail(err, a->h, rq, &view);
	if (code != NULL)
		buf_release(&view.body);
	json_decref(j);
	return -1;
}

static int oauth_bad(struct auth *, const struct http_req *,
    const struct http_resp *, struct diag *, const char *, ...)
	__attribute__((format(printf, 5, 6)));

/* A 200 that is not a usable token answer, in http_fail's words so that
 * it names the platform, method and path like every other failure. */
static int
oauth_bad(struct auth *a, const struct http_req *rq,
    const struct http_resp *rs, struct diag *err, const char *fmt, ...)
{
	struct http_resp view = *rs;
	va_list ap;

	buf_init(&view.body, 0);
	va_start(ap, fmt);
	buf_vprintf(&view.body, fmt, ap);
	va_end(ap);
	http_fail(err, a->h, rq, &view);
	buf_release(&view.body);
	return -1;
}

static int
oauth_fetch(struct auth *a, struct diag *err)
{
	struct buf basic = BUF_INIT, body = BUF_INIT;
	struct http_req rq;
	struct http_resp rs;
	const char *headers[3], *tok, *type;
	char *b, *auth_line = NULL;
	json_t *j = NULL, *exp;
	json_int_t life = OAUTH_DEFAULT_LIFE;
	int rc = -1;

	memset(&rs, 0, sizeof(rs));
	buf_init(&basic, 0);
	form_encode(&basic, a->client_id);
	buf_putc(&basic, ':');
	form_encode(&basic, a->client_secret);
	b = b64((const unsigned char *)basic.ptr, basic.len);
	auth_line = xasprintf("Authorization: Basic %s", b);
	wipe_free(b);
	headers[0] = auth_line;
	headers[1] = "Accept: application/json";
	headers[2] = NULL;
	buf_init(&body, 0);
	buf_puts(&body, "grant_type=client_credentials");
	if (a->scope != NULL) {
		buf_puts(&body, "&scope=");
		form_encode(&body, a->scope);
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = a->token_url;
	rq.headers = headers;
	rq.body = body.ptr;
	rq.body_len = body.len;
	rq.content_type = "application/x-www-form-urlencoded";
	/* Asking for a token twice does no harm. */
	rq.retry_unsafe = 1;
	if (http_do(a->h, &rq, &rs, err) == -1)
		goto out;
	if (rs.status != 200) {
		oauth_refused(a, &rq, &rs, err);
		goto out;
	}
	if ((j = http_json(&rs, "OAuth token response", err)) == NULL) {
		char msg[DIAG_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		oauth_bad(a, &rq, &rs, err, "%s", msg);
		goto out;
	}
	tok = json_string_value(json_object_get(j, "access_token"));
	type = json_string_value(json_object_get(j, "token_type"));
	exp = json_object_get(j, "expires_in");
	if (!token_ok(tok)) {
		oauth_bad(a, &rq, &rs, err, "OAuth token response: access_token "
		    "is missing, empty or not a plain token");
		goto out;
	}
	if (type != NULL && strcasecmp(type, "bearer") != 0) {
		oauth_bad(a, &rq, &rs, err, "OAuth token response: token_type "
		    "'%.40s' is not Bearer", type);
		goto out;
	}
	if (json_is_integer(exp))
		life = json_integer_value(exp);
	else if (json_is_string(exp)) {
		const char *s = json_string_value(exp);

		for (life = 0; *s >= '0' && *s <= '9' && life < 1000000000; s++)
			life = life * 10 + (*s - '0');
		if (*s != '\0')
			life = -1;
	} else if (exp != NULL)
		life = -1;
	if (life < 0) {
		oauth_bad(a, &rq, &rs, err, "OAuth token response: expires_in "
		    "is not a number of seconds");
		goto out;
	}
	set_header(a, tok);
	/* A short-lived token is kept for half its life rather than never. */
	a->renew_at = time_now() + (life > 2 * OAUTH_MARGIN ?
	    life - OAUTH_MARGIN : life / 2);
	log_debug("OAuth: new access token from %s, valid %llds",
	    a->token_url, (long long)life);
	rc = 0;
out:
	if (rc == -1)
		scrub_secret(err, a->client_secret);
	json_decref(j);
	http_resp_release(&rs);
	explicit_bzero(basic.ptr, basic.len);
	buf_release(&basic);
	buf_release(&body);
	wipe_free(auth_line);
	return rc;
}

/* --- Snowflake key-pair JWT ------------------------------------------------ */

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static char *
upper(const char *s)
{
	char *u = xstrdup(s), *p;

	for (p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* The whole key file, refused when group or others may read it. */
static int
read_key_file(const char *path, struct buf *b, struct diag *err)
{
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return diag_set(err, "cannot open private key file %s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		diag_set(err, "cannot stat private key file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_set(err, "private key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		diag_set(err, "private key file %s is readable by group or "
		    "others; chmod 600", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_set(err, "cannot read private key file %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(b, chunk, (size_t)n) == -1) {
			diag_set(err, "private key file %s is larger than %d "
			    "bytes", path, KEY_FILE_MAX);
			goto out;
		}
	}
	rc = 0;
out:
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

/* "SHA256:" + base64(sha256(DER SubjectPublicKeyInfo)). */
static char *
key_fingerprint(EVP_PKEY *key)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *b, *fp;
	int n;

	if ((n = i2d_PUBKEY(key, &der)) <= 0)
		return NULL;
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return NULL;
	}
	OPENSSL_free(der);
	b = b64(md, mdlen);
	fp = xasprintf("SHA256:%s", b);
	free(b);
	return fp;
}

int
auth_snowflake_jwt(struct auth **out, const char *account,
    const char *user, const char *private_key_file, int64_t lifetime,
    struct diag *err)
{
	struct buf pem = BUF_INIT;
	struct auth *a = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	int rc = -1, bits;

	*out = NULL;
	if (account == NULL || *account == '\0')
		return diag_set(err, "key-pair auth needs an account");
	if (user == NULL || *user == '\0')
		return diag_set(err, "key-pair auth needs a user");
	if (private_key_file == NULL || *private_key_file == '\0')
		return diag_set(err, "key-pair auth needs private_key_file");
	if (lifetime < 0)
		return diag_set(err, "JWT lifetime must not be negative");
	buf_init(&pem, KEY_FILE_MAX);
	if (read_key_file(private_key_file, &pem, err) == -1)
		goto out;
	if ((bio = BIO_new_mem_buf(pem.ptr, (int)pem.len)) == NULL) {
		diag_set(err, "out of memory reading %s", private_key_file);
		goto out;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (key == NULL) {
		diag_set(err, "cannot read a private key from %s (%s)",
		    private_key_file, strstr(pem.ptr, "ENCRYPTED") ?
		    "it is encrypted; give an unencrypted PEM key" :
		    "want an unencrypted PEM key, PKCS#8 or PKCS#1");
		goto out;
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		diag_set(err, "private key in %s is not an RSA key (Snowflake "
		    "key-pair authentication signs RS256)", private_key_file);
		goto out;
	}
	if ((bits = EVP_PKEY_get_bits(key)) < RSA_MIN_BITS) {
		diag_set(err, "private key in %s has %d bits; at least %d are "
		    "needed", private_key_file, bits, RSA_MIN_BITS);
		goto out;
	}
	a = auth_new(AUTH_JWT);
	if ((a->fingerprint = key_fingerprint(key)) == NULL) {
		diag_set(err, "cannot derive the public key of %s",
		    private_key_file);
		goto out;
	}
	a->key = key;
	key = NULL;
	a->account = upper(account);
	a->user = upper(user);
	a->lifetime = lifetime == 0 ? JWT_LIFETIME_DEFAULT :
	    lifetime > JWT_LIFETIME_MAX ? JWT_LIFETIME_MAX : lifetime;
	*out = a;
	a = NULL;
	rc = 0;
out:
	if (rc == -1)
		ERR_clear_error();
	auth_free(a);
	EVP_PKEY_free(key);
	BIO_free(bio);
	explicit_bzero(pem.ptr, pem.len);
	buf_release(&pem);
	return rc;
}

const char *
auth_jwt_fingerprint(const struct auth *a)
{
	return a != NULL && a->kind == AUTH_JWT ? a->fingerprint : NULL;
}

static int
jwt_sign(struct auth *a, struct diag *err)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	struct buf in = BUF_INIT;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	char *hb = NULL, *cb = NULL, *sb = NULL, *claims = NULL, *iss, *sub;
	int64_t now = time_now();
	size_t siglen = 0;
	json_t *j;
	int rc = -1;

	sub = xasprintf("%s.%s", a->account, a->user);
	iss = xasprintf("%s.%s", sub, a->fingerprint);
	j = json_pack("{s:s, s:s, s:I, s:I}", "iss", iss, "sub", sub,
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + a->lifetime));
	if (j == NULL || (claims = json_dumps(j, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		diag_set(err, "cannot build the JWT claims");
		goto out;
	}
	hb = b64url(header, strlen(header));
	cb = b64url(claims, strlen(claims));
	buf_init(&in, 0);
	buf_printf(&in, "%s.%s", hb, cb);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, a->key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)in.ptr,
	    in.len) != 1) {
		diag_set(err, "cannot sign the JWT with the private key");
		goto out;
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)in.ptr,
	    in.len) != 1) {
		diag_set(err, "cannot sign the JWT with the private key");
		goto out;
	}
	sb = b64url(sig, siglen);
	buf_printf(&in, ".%s", sb);
	set_header(a, buf_cstr(&in));
	a->renew_at = now + a->lifetime - JWT_RENEW_BEFORE;
	rc = 0;
out:
	if (rc == -1)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	json_decref(j);
	free(claims);
	free(sig);
	free(hb);
	free(cb);
	free(sb);
	free(iss);
	free(sub);
	explicit_bzero(in.ptr, in.len);
	buf_release(&in);
	return rc;
}

/* --- common --------------------------------------------------------------- */

const char *
auth_header(struct auth *a, struct diag *err)
{
	if (a == NULL) {
		diag_set(err, "no credentials");
		return NULL;
	}
	if (a->kind == AUTH_BEARER ||
	    (a->header != NULL && time_now() < a->renew_at))
		return a->header;
	if (a->kind == AUTH_OAUTH && oauth_fetch(a, err) == -1)
		return NULL;
	if (a->kind == AUTH_JWT && jwt_sign(a, err) == -1)
		return NULL;
	return a->header;
}

void
auth_invalidate(struct auth *a)
{
	if (a == NULL || a->kind == AUTH_BEARER)
		return;
	wipe_free(a->header);
	a->header = NULL;
	a->renew_at = 0;
}
