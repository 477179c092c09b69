/* gate.c - route, authenticate, limit and parse, then the handler. */
#include "gate.h"

#include "broker.h"
#include "call.h"
#include "log.h"

#include <openssl/crypto.h>
#include <string.h>

int gate_ingest_token_matches(const struct call *c)
{
	const struct config_tokens *t = &c->b->cfg.ingest_tokens;
	int match = 0;
	if (c->credential)
		for (int i = 0; i < t->n; i++)
			if (strlen(t->v[i]) == c->credential_len &&
			    CRYPTO_memcmp(t->v[i], c->credential, c->credential_len) == 0)
				match = 1;
	return match;
}

void gate_refuse_ingest(struct call *c)
{
	call_set_header(c, "WWW-Authenticate", "Bearer realm=\"regnotify registry ingest\"");
	char peer[128];
	call_peer(c, peer, sizeof(peer));
	log_warn("registry ingest: %s bearer token from %s", c->credential ? "wrong" : "missing",
		 peer);
	call_error(c, ERR_UNAUTHENTICATED,
		   "Request is missing or has an invalid bearer token for registry ingest.");
}

/* AUTHN_INGEST_TOKEN without the access-control steps: the call's bearer
 * token must be one of ingest_tokens (always passes when none are
 * configured: config refuses that off loopback). Replies 401 and returns
 * -1. */
static int ingest_token_or_reply(struct call *c)
{
	if (c->b->cfg.ingest_tokens.n == 0 || gate_ingest_token_matches(c))
		return 0;
	gate_refuse_ingest(c);
	return -1;
}

void gate_set_auth(struct broker *b, const struct gate_auth *auth)
{
	b->gate_auth = auth;
}

enum gate_step { STEP_AUTHN = 0, STEP_LIMITS, STEP_AUTHZ, STEP_HANDLER };

void gate_resume(struct call *c)
{
	const struct route *r = c->route;
	const struct gate_auth *auth = c->b->gate_auth;
	switch (c->gate_step) {
	case STEP_AUTHN:
		c->gate_step = STEP_LIMITS;
		if (auth) {
			auth->authenticate(c);
			return;
		}
		if (r->authn == AUTHN_INGEST_TOKEN && ingest_token_or_reply(c) != 0)
			return;
		/* fall through */
	case STEP_LIMITS:
		c->gate_step = STEP_AUTHZ;
		if (r->body_limit && c->gate_len > 0) {
			if (c->gate_len > r->body_limit) {
				call_error(c, ERR_PAYLOAD_TOO_LARGE,
					   "Request payload size exceeds the limit: "
					   "%zu bytes.",
					   r->body_limit);
				return;
			}
			c->raw = c->gate_body;
			c->raw_len = c->gate_len;
			if (!r->raw_body && call_parse_body_or_reply(c) != 0)
				return;
		}
		/* fall through */
	case STEP_AUTHZ:
		c->gate_step = STEP_HANDLER;
		if (auth) {
			auth->authorize(c);
			return;
		}
		/* fall through */
	default: c->authorized = 1; r->handler(c);
	}
}

void gate_dispatch(struct call *c, int method, const char *path, const char *body, size_t len)
{
	struct broker *b = c->b;
	if (b->shutting_down) {
		call_error(c, ERR_UNAVAILABLE,
			   "The broker is shutting down; retry on another instance");
		return;
	}
	const struct route *r = NULL;
	enum route_result rr = router_match(b->routes, b->nroutes, method, path, &r, c->params);
	/* A route the transport does not serve does not exist on it. */
	if (rr == ROUTE_OK && !((r->via ? r->via : VIA_ALL) & c->ops->transport))
		rr = ROUTE_NOT_FOUND;
	if (rr == ROUTE_NOT_FOUND) {
		call_error(c, ERR_NOT_FOUND,
			   "The requested URL %.200s was not found on this server.", path);
		return;
	}
	if (rr == ROUTE_BAD_METHOD || method == 0) {
		call_error(c, ERR_METHOD_NOT_ALLOWED, "Method not allowed for %.200s", path);
		return;
	}
	c->route = r;
	c->gate_body = body;
	c->gate_len = len;
	c->gate_step = STEP_AUTHN;
	gate_resume(c);
}
