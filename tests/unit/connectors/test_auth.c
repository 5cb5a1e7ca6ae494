/*
 * Credential sources: a fixed bearer token; Snowflake key-pair JWTs
 * checked the way Snowflake checks them (claims decoded, the fingerprint
 * compared with what the openssl CLI computes, the RS256 signature
 * verified with OpenSSL) and keys refused when readable by others or not
 * RSA; OAuth client credentials against tests/emulators/faultserver.py
 * (the request's Basic header and form body, caching, renewal after
 * auth_invalidate, and error messages that never carry the secret).
 * Runs from the top of the tree.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth.h"
#include "buf.h"
#include "diag.h"
#include "http.h"
#include "util.h"
#include "../../lib/tap.h"

#define CLIENT_ID "my client"
#define CLIENT_SECRET "s3cr:t/+x"

static pid_t srv_pid;
static char srv_log[600];
static char base_url[64];

static const char script[] =
"{\"routes\": {\n"
" \"/oauth/token\": [\n"
"   {\"body\": {\"access_token\": \"tok-1\", \"token_type\": \"Bearer\","
"     \"expires_in\": 3600}},\n"
"   {\"body\": {\"access_token\": \"tok-2\", \"token_type\": \"bearer\","
"     \"expires_in\": \"3600\"}}],\n"
" \"/oauth/short\": [\n"
"   {\"body\": {\"access_token\": \"short-1\", \"expires_in\": 0}},\n"
"   {\"body\": {\"access_token\": \"short-2\", \"expires_in\": 0}}],\n"
" \"/oauth/bad\": {\"status\": 401, \"body\": {\"error\": \"invalid_client\"}},\n"
" \"/oauth/echo\": {\"status\": 400, \"body\": {\"error\": \"invalid_request\","
"   \"error_description\": \"secret " CLIENT_SECRET " is wrong\"}},\n"
" \"/oauth/mac\": {\"body\": {\"access_token\": \"m\", \"token_type\": \"mac\"}},\n"
" \"/oauth/none\": {\"body\": {\"token_type\": \"Bearer\"}}\n"
"}}\n";

static void
srv_stop(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
		srv_pid = 0;
	}
}

static int
srv_start(void)
{
	char sf[600], pf[600], line[32];
	FILE *f;
	int i, port = 0;

	snprintf(sf, sizeof(sf), "%s/script.json", tap_tmpdir());
	snprintf(pf, sizeof(pf), "%s/port", tap_tmpdir());
	snprintf(srv_log, sizeof(srv_log), "%s/requests.jsonl", tap_tmpdir());
	if ((f = fopen(sf, "w")) == NULL)
		return -1;
	fputs(script, f);
	fclose(f);
	fflush(NULL);
	if ((srv_pid = fork()) == -1)
		return -1;
	if (srv_pid == 0) {
		execl("/usr/bin/python3", "python3",
		    "tests/emulators/faultserver.py", "--port-file", pf,
		    "--log", srv_log, "--script", sf, (char *)NULL);
		_exit(127);
	}
	atexit(srv_stop);
	for (i = 0; i < 200 && port <= 0; i++) {
		if ((f = fopen(pf, "r")) != NULL) {
			if (fgets(line, sizeof(line), f) != NULL)
				port = (int)strtol(line, NULL, 10);
			fclose(f);
		}
		if (port <= 0)
			usleep(50000);
	}
	if (port <= 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
	return 0;
}

/* What the server logged for a path, in order. */
static json_t *
logged(const char *path)
{
	json_t *arr = json_array(), *e;
	FILE *f = fopen(srv_log, "r");
	char *line = NULL;
	size_t cap = 0;
	const char *p;

	if (f == NULL)
		return arr;
	while (getline(&line, &cap, f) > 0) {
		if ((e = json_loads(line, 0, NULL)) == NULL)
			continue;
		p = json_string_value(json_object_get(e, "path"));
		if (p && strcmp(p, path) == 0)
			json_array_append(arr, e);
		json_decref(e);
	}
	free(line);
	fclose(f);
	return arr;
}

static const char *
entry_header(json_t *arr, size_t i, const char *name)
{
	json_t *h = json_object_get(json_array_get(arr, i), "headers");
	const char *k;
	json_t *v;

	json_object_foreach(h, k, v)
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	return NULL;
}

/* Output of a shell command, trailing newline dropped. */
static char *
sh_out(const char *cmd)
{
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t n;
	FILE *p;

	buf_init(&b, 0);
	if ((p = popen(cmd, "r")) == NULL)
		return buf_detach(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(&b, chunk, n);
	pclose(p);
	while (b.len > 0 && b.ptr[b.len - 1] == '\n')
		b.ptr[--b.len] = '\0';
	return buf_detach(&b);
}

static int
sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

/* base64url without padding; *n gets the length. */
static unsigned char *
unb64url(const char *s, size_t len, size_t *n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	unsigned char *out = xmalloc(len * 3 / 4 + 3);
	unsigned v = 0;
	int bits = 0;
	const char *c;
	size_t i;

	*n = 0;
	for (i = 0; i < len; i++) {
		if ((c = strchr(al, s[i])) == NULL || s[i] == '\0') {
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*n)++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	out[*n] = '\0';
	return out;
}

static void
test_bearer(void)
{
	struct auth *a = NULL;
	struct diag err;

	ok(auth_bearer(&a, "abc.DEF-123", &err) == 0, "bearer token");
	is_str(auth_header(a, &err), "Bearer abc.DEF-123", "bearer header");
	auth_invalidate(a);
	is_str(auth_header(a, &err), "Bearer abc.DEF-123",
	    "a fixed token survives invalidate");
	is_str(auth_jwt_fingerprint(a), NULL, "no fingerprint for a bearer");
	auth_free(a);
	ok(auth_bearer(&a, "", &err) == -1 && a == NULL, "empty token refused");
	ok(auth_bearer(&a, "abc\r\nX-Evil: 1", &err) == -1 &&
	    strstr(err.msg, "X-Evil") == NULL && strstr(err.msg, "abc") == NULL,
	    "token with a line break refused, not quoted: %s", err.msg);
	auth_free(NULL);
}

/* Check one JWT completely; `life` is the expected exp - iat. */
static void
check_jwt(const char *header, const char *pubpem, const char *fp,
    int64_t before, int64_t life)
{
	const char *tok, *d1, *d2;
	unsigned char *hdr = NULL, *claims = NULL, *sig = NULL;
	size_t hn, cn, sn;
	json_t *h = NULL, *c = NULL;
	char iss[256];
	int64_t iat, exp;
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	FILE *f;
	char *tampered;

	ok(header != NULL && strncmp(header, "Bearer ", 7) == 0,
	    "JWT header starts with Bearer");
	if (header == NULL)
		return;
	tok = header + 7;
	d1 = strchr(tok, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	ok(d1 && d2 && strchr(d2 + 1, '.') == NULL, "three parts");
	if (!d1 || !d2)
		return;
	ok(strpbrk(tok, "+/=") == NULL, "base64url without padding");
	hdr = unb64url(tok, (size_t)(d1 - tok), &hn);
	claims = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &cn);
	sig = unb64url(d2 + 1, strlen(d2 + 1), &sn);
	h = hdr ? json_loadb((char *)hdr, hn, 0, NULL) : NULL;
	c = claims ? json_loadb((char *)claims, cn, 0, NULL) : NULL;
	is_str(json_string_value(json_object_get(h, "alg")), "RS256", "alg");
	is_str(json_string_value(json_object_get(h, "typ")), "JWT", "typ");
	snprintf(iss, sizeof(iss), "XY12345.ACCORD_SVC.%s", fp);
	is_str(json_string_value(json_object_get(c, "iss")), iss,
	    "iss = ACCOUNT.USER.SHA256:fp");
	is_str(json_string_value(json_object_get(c, "sub")),
	    "XY12345.ACCORD_SVC", "sub = ACCOUNT.USER (upper-cased)");
	iat = json_integer_value(json_object_get(c, "iat"));
	exp = json_integer_value(json_object_get(c, "exp"));
	ok(iat >= before && iat <= (int64_t)time(NULL),
	    "iat is the real clock now");
	is_int(exp - iat, life, "exp - iat");

	if ((f = fopen(pubpem, "r")) != NULL) {
		pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
	}
	ctx = EVP_MD_CTX_new();
	ok(pub != NULL && sig != NULL && sn == 256 &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, sn, (const unsigned char *)tok,
	    (size_t)(d2 - tok)) == 1, "RS256 signature verifies");
	/* The same check must reject a changed claim. */
	tampered = xstrndup(tok, (size_t)(d2 - tok));
	tampered[(d1 - tok) + 3] ^= 1;
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	ok(pub != NULL && sig != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, sn, (unsigned char *)tampered,
	    strlen(tampered)) != 1, "a tampered token does not verify");
	free(tampered);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	json_decref(h);
	json_decref(c);
	free(hdr);
	free(claims);
	free(sig);
}

static void
test_jwt(void)
{
	const char *dir = tap_tmpdir();
	char *key, *key1, *pub, *open_key, *ec, *small, *junk, *cmd, *b64;
	char fp[128];
	struct auth *a = NULL, *b = NULL;
	struct diag err;
	const char *hdr;
	char *first;
	int64_t before;
	int gen;

	key = xasprintf("%s/rsa_key.p8", dir);
	key1 = xasprintf("%s/rsa_key_pkcs1.pem", dir);
	pub = xasprintf("%s/rsa_key.pub", dir);
	open_key = xasprintf("%s/open_key.p8", dir);
	ec = xasprintf("%s/ec_key.p8", dir);
	small = xasprintf("%s/small_key.p8", dir);
	junk = xasprintf("%s/junk.p8", dir);
	cmd = xasprintf("cd '%s' && umask 077 && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
	    "-out rsa_key.p8 2>/dev/null && chmod 600 rsa_key.p8 && "
	    "openssl pkey -in rsa_key.p8 -pubout -out rsa_key.pub && "
	    "openssl rsa -in rsa_key.p8 -traditional -out rsa_key_pkcs1.pem "
	    "2>/dev/null && cp rsa_key.p8 open_key.p8 && chmod 644 open_key.p8 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	    "-out ec_key.p8 2>/dev/null && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
	    "-out small_key.p8 2>/dev/null && echo 'not a key' > junk.p8", dir);
	gen = sh(cmd);
	free(cmd);
	if (gen == -1) {
		ok(0, "generate keys with the openssl CLI");
		goto out;
	}
	cmd = xasprintf("openssl pkey -in '%s' -pubout -outform DER | "
	    "openssl dgst -sha256 -binary | base64", key);
	b64 = sh_out(cmd);
	free(cmd);
	snprintf(fp, sizeof(fp), "SHA256:%s", b64);
	free(b64);

	before = (int64_t)time(NULL);
	ok(auth_snowflake_jwt(&a, "xy12345", "accord_svc", key, 0, &err) == 0,
	    "key-pair auth from a 0600 PKCS#8 key");
	is_str(auth_jwt_fingerprint(a), fp, "fingerprint matches the openssl "
	    "CLI");
	hdr = auth_header(a, &err);
	check_jwt(hdr, pub, fp, before, 3540);
	first = xstrdup(hdr);
	is_str(auth_header(a, &err), first, "token reused while fresh");
	auth_invalidate(a);
	hdr = auth_header(a, &err);
	ok(hdr != NULL && strncmp(hdr, "Bearer ey", 9) == 0,
	    "signed anew after invalidate");
	free(first);
	auth_free(a);

	ok(auth_snowflake_jwt(&b, "XY12345", "Accord_Svc", key1, 7200, &err) ==
	    0, "PKCS#1 key accepted");
	is_str(auth_jwt_fingerprint(b), fp, "same fingerprint from PKCS#1");
	check_jwt(auth_header(b, &err), pub, fp, before, 3600);
	auth_free(b);
	b = NULL;

	ok(auth_snowflake_jwt(&b, "XY12345", "ACCORD_SVC", key, 600, &err) == 0,
	    "short lifetime");
	check_jwt(auth_header(b, &err), pub, fp, before, 600);
	auth_free(b);
	b = NULL;

	ok(auth_snowflake_jwt(&b, "X", "U", open_key, 0, &err) == -1 &&
	    b == NULL, "0644 key refused");
	ok(strstr(err.msg, "readable by group or others") != NULL &&
	    strstr(err.msg, open_key) != NULL, "says so: %s", err.msg);
	chmod(ec, 0600);
	ok(auth_snowflake_jwt(&b, "X", "U", ec, 0, &err) == -1 &&
	    strstr(err.msg, "not an RSA key") != NULL, "EC key refused: %s",
	    err.msg);
	chmod(small, 0600);
	ok(auth_snowflake_jwt(&b, "X", "U", small, 0, &err) == -1 &&
	    strstr(err.msg, "1024 bits") != NULL, "1024-bit key refused: %s",
	    err.msg);
	chmod(junk, 0600);
	ok(auth_snowflake_jwt(&b, "X", "U", junk, 0, &err) == -1 &&
	    strstr(err.msg, "cannot read a private key") != NULL,
	    "not a key: %s", err.msg);
	ok(auth_snowflake_jwt(&b, "X", "U", "/nonexistent/k.p8", 0, &err) ==
	    -1 && strstr(err.msg, "cannot open") != NULL, "missing file: %s",
	    err.msg);
	ok(auth_snowflake_jwt(&b, "X", "U", key, -1, &err) == -1,
	    "negative lifetime refused");
	ok(auth_snowflake_jwt(&b, "", "U", key, 0, &err) == -1,
	    "empty account refused");
out:
	free(key);
	free(key1);
	free(pub);
	free(open_key);
	free(ec);
	free(small);
	free(junk);
}

static struct http *
open_h(void)
{
	struct http_opts o;
	struct http *h = NULL;
	struct diag err;

	memset(&o, 0, sizeof(o));
	o.platform = "idp";
	o.base_url = base_url;
	o.retry_budget_ms = 500;
	if (http_open(&h, &o, &err) == -1)
		fprintf(stderr, "# http_open: %s\n", err.msg);
	return h;
}

static void
test_oauth(void)
{
	struct http *h = open_h();
	struct auth *a = NULL;
	struct diag err;
	const char *hdr;
	char *want_basic, trace[600], *text;
	unsigned char b64[128];
	json_t *log;
	int saved, fd;
	FILE *f;
	long len;

	ok(auth_oauth_client(&a, h, "/oauth/token", CLIENT_ID, CLIENT_SECRET,
	    "read write", &err) == 0, "OAuth client credentials");
	hdr = auth_header(a, &err);
	is_str(hdr, "Bearer tok-1", "token fetched");
	hdr = auth_header(a, &err);
	is_str(hdr, "Bearer tok-1", "token cached");
	log = logged("/oauth/token");
	is_int(json_array_size(log), 1, "one token request for two headers");
	is_str(json_string_value(json_object_get(json_array_get(log, 0),
	    "method")), "POST", "token request is a POST");
	is_str(json_string_value(json_object_get(json_array_get(log, 0),
	    "body")), "grant_type=client_credentials&scope=read+write",
	    "form body");
	is_str(entry_header(log, 0, "Content-Type"),
	    "application/x-www-form-urlencoded", "form content type");
	/* RFC 6749 §2.3.1: form-encode each part, then Basic. */
	EVP_EncodeBlock(b64, (const unsigned char *)"my+client:s3cr%3At%2F%2Bx",
	    25);
	want_basic = xasprintf("Basic %s", (char *)b64);
	is_str(entry_header(log, 0, "Authorization"), want_basic,
	    "HTTP Basic with form-encoded id and secret");
	free(want_basic);
	json_decref(log);

	auth_invalidate(a);
	is_str(auth_header(a, &err), "Bearer tok-2", "renewed after invalidate");
	log = logged("/oauth/token");
	is_int(json_array_size(log), 2, "second token request");
	json_decref(log);
	auth_free(a);

	/* expires_in 0: never served from the cache. */
	auth_oauth_client(&a, h, "/oauth/short", CLIENT_ID, CLIENT_SECRET,
	    NULL, &err);
	is_str(auth_header(a, &err), "Bearer short-1", "short-lived token");
	is_str(auth_header(a, &err), "Bearer short-2", "fetched again");
	log = logged("/oauth/short");
	is_str(json_string_value(json_object_get(json_array_get(log, 0),
	    "body")), "grant_type=client_credentials", "no scope: none sent");
	json_decref(log);
	auth_free(a);

	/* Failures: quoted OAuth error, never the secret, even at -vv. */
	auth_oauth_client(&a, h, "/oauth/bad", CLIENT_ID, CLIENT_SECRET, NULL,
	    &err);
	snprintf(trace, sizeof(trace), "%s/trace.txt", tap_tmpdir());
	fflush(stderr);
	saved = dup(2);
	fd = open(trace, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	log_verbosity = 2;
	hdr = auth_header(a, &err);
	log_verbosity = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ok(hdr == NULL, "401 from the token endpoint: no header");
	is_str(err.msg, "platform idp: POST /oauth/bad: HTTP 401: OAuth error "
	    "invalid_client", "message quotes the OAuth error");
	f = fopen(trace, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = xcalloc(1, (size_t)len + 1);
	if (fread(text, 1, (size_t)len, f) != (size_t)len)
		text[0] = '\0';
	fclose(f);
	ok(strstr(text, "> Authorization: [redacted]") != NULL &&
	    strstr(text, "s3cr") == NULL && strstr(text, "Basic ") == NULL,
	    "trace hides the Basic credentials");
	free(text);
	auth_free(a);

	auth_oauth_client(&a, h, "/oauth/echo", CLIENT_ID, CLIENT_SECRET, NULL,
	    &err);
	ok(auth_header(a, &err) == NULL && strstr(err.msg, "invalid_request") &&
	    strstr(err.msg, "secret [redacted] is wrong") != NULL &&
	    strstr(err.msg, "s3cr") == NULL,
	    "a secret echoed by the server is scrubbed: %s", err.msg);
	auth_free(a);

	auth_oauth_client(&a, h, "/oauth/mac", CLIENT_ID, CLIENT_SECRET, NULL,
	    &err);
	ok(auth_header(a, &err) == NULL && strcmp(err.msg, "platform idp: "
	    "POST /oauth/mac: HTTP 200: OAuth token response: token_type 'mac' "
	    "is not Bearer") == 0,
	    "token_type mac refused: %s", err.msg);
	auth_free(a);

	auth_oauth_client(&a, h, "/oauth/none", CLIENT_ID, CLIENT_SECRET, NULL,
	    &err);
	ok(auth_header(a, &err) == NULL &&
	    strstr(err.msg, "access_token is missing") != NULL,
	    "no access_token: %s", err.msg);
	auth_free(a);

	ok(auth_oauth_client(&a, h, "/oauth/token", CLIENT_ID, "", NULL,
	    &err) == -1 && a == NULL, "empty secret refused");
	http_free(h);
}

int
main(void)
{
	test_bearer();
	test_jwt();
	if (srv_start() == -1) {
		ok(0, "fault server started");
		return tap_done();
	}
	test_oauth();
	return tap_done();
}
