/* credentials.c - what a client sends as its token: a fixed access token,
 * or tokens it signs itself with a service account's key file, as Google's
 * libraries do (RS256, iss = sub = the account, aud = Pub/Sub's URL), each
 * replaced before it expires. */
#include "internal.h"

#include "keyfile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIENCE "https://pubsub.googleapis.com/"

int creds_init(struct rn_client *c, const struct rn_client_opts *o)
{
	pthread_mutex_init(&c->tok_mu, NULL);
	c->token_lifetime_s = o->token_lifetime_s ? o->token_lifetime_s : 3600;
	if (o->access_token && *o->access_token) {
		c->token = strdup(o->access_token);
		return c->token ? 0 : errors_set(RN_ENOMEM, "Out of memory");
	}
	if (o->key_file && *o->key_file) {
		char err[512];
		c->kf = calloc(1, sizeof(*c->kf));
		if (c->kf == NULL)
			return errors_set(RN_ENOMEM, "Out of memory");
		if (keyfile_load(o->key_file, c->kf, err, sizeof(err)) != 0) {
			free(c->kf);
			c->kf = NULL;
			return errors_set(RN_EINVAL, "%s", err);
		}
	}
	return 0;
}

void creds_free(struct rn_client *c)
{
	free(c->token);
	c->token = NULL;
	if (c->kf) {
		keyfile_free(c->kf);
		free(c->kf);
		c->kf = NULL;
	}
	pthread_mutex_destroy(&c->tok_mu);
}

int creds_token(struct rn_client *c, char *buf, size_t n)
{
	buf[0] = '\0';
	pthread_mutex_lock(&c->tok_mu);
	int rv = 0;
	if (c->kf) {
		int64_t now = (int64_t)time(NULL);
		int64_t margin = c->token_lifetime_s / 10;
		if (margin > 300)
			margin = 300;
		if (c->token == NULL || now >= c->token_exp_s - margin) {
			char *t =
				keyfile_self_signed_jwt(c->kf, AUDIENCE, now, c->token_lifetime_s);
			if (t) {
				free(c->token);
				c->token = t;
				c->token_exp_s = now + c->token_lifetime_s;
			} else if (c->token == NULL) {
				rv = errors_set(RN_EINTERNAL,
						"Cannot sign a token with the key file");
			}
		}
	}
	if (rv == 0 && c->token) {
		if (strlen(c->token) >= n)
			rv = errors_set(RN_EINVAL, "Access token longer than %zu bytes", n - 1);
		else
			memcpy(buf, c->token, strlen(c->token) + 1);
	}
	pthread_mutex_unlock(&c->tok_mu);
	return rv;
}
