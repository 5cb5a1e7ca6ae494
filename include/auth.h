/*
 * Credentials for HTTP connectors, kept apart from the network code:
 * a bearer token from an environment variable or an owner-only file;
 * OAuth 2.0 client credentials with the token cached until shortly
 * before it expires; Snowflake key-pair JWTs (RS256 with OpenSSL).
 * Secrets live only in memory here and never reach a diagnostic.
 */
#ifndef ACCORD_AUTH_H
#define ACCORD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct http;
struct auth;

/* A fixed token.  `token_type` (may be NULL) is sent as
 * X-Snowflake-Authorization-Token-Type-like extra header by the caller. */
int auth_bearer(struct auth **out, const char *token, struct diag *err);

/* OAuth 2.0 client credentials (RFC 6749 §4.4): POST token_url with
 * grant_type=client_credentials (client id and secret in HTTP Basic),
 * optional scope; caches access_token until expires_in - 60 s. */
int auth_oauth_client(struct auth **out, struct http *h, const char *token_url,
    const char *client_id, const char *client_secret, const char *scope,
    struct diag *err);

/*
 * Snowflake key-pair JWT: iss = ACCOUNT.USER.SHA256:<base64 sha256 of the
 * DER public key>, sub = ACCOUNT.USER (both upper-cased), iat = now,
 * exp = now + lifetime (at most 3600 s; 0: 3540 s), header
 * {"alg":"RS256","typ":"JWT"}.  The key is a PEM file (PKCS#8 or PKCS#1,
 * unencrypted) that must be readable by its owner only.  A new token is
 * signed when the old one is within 5 minutes of expiring.
 */
int auth_snowflake_jwt(struct auth **out, const char *account,
    const char *user, const char *private_key_file, int64_t lifetime,
    struct diag *err);
/* The public key fingerprint "SHA256:..." (for tests and messages). */
const char *auth_jwt_fingerprint(const struct auth *a);

/* "Bearer <token>" for the Authorization header, fetching or refreshing
 * as needed.  Borrowed until the next call. */
const char *auth_header(struct auth *a, struct diag *err);
/* Forget a cached token (after a 401), so the next auth_header renews. */
void auth_invalidate(struct auth *a);
void auth_free(struct auth *a);

#endif
