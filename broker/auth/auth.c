/* auth.c - the access-control module: its state, the gate steps, the IAM
 * change notices and the timer that keeps the signing keys current. */
#include "auth.h"
#include "auth_internal.h"
#include "cache.h"

#include "broker.h"
#include "gate.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <event2/event.h>
#include <string.h>

static const struct gate_auth gate_steps = {
	.authenticate = auth_authenticate,
	.authorize = auth_authorize,
};

/* Every IAM change of any broker, through the store. */
static void on_iam(void *arg, const char *what)
{
	struct auth *a = arg;
	if (what && strcmp(what, "signing") == 0) {
		signing_refresh(a);
		return;
	}
	cache_invalidate(a, what);
}

/* Each second until the signing keys are loaded, then every 5 minutes. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth *a = arg;
	signing_refresh(a);
	struct timeval tv = { a->nsigning ? 300 : 1, 0 };
	event_add(a->timer, &tv);
}

static void auth_stop(void *state)
{
	struct auth *a = state;
	cache_clear(a);
	for (int i = 0; i < a->nsigning; i++)
		EVP_PKEY_free(a->signing[i].key);
	if (a->timer)
		event_free(a->timer);
	mem_free(a->memo);
	a->b->auth = NULL;
	a->b->gate_auth = NULL;
	mem_free(a);
}

static const struct module_ops auth_module = { .name = "auth", .stop = auth_stop };

void auth_start(struct broker *b)
{
	struct auth *a = mem_calloc(1, sizeof(*a));
	a->b = b;
	char url[512];
	config_public_url(&b->cfg, url, sizeof(url));
	snprintf(a->issuer, sizeof(a->issuer), "%s%s", url, AUTH_ISSUER_SUFFIX);
	a->memo = mem_calloc(MEMO_SLOTS, sizeof(*a->memo));
	b->auth = a;
	gate_set_auth(b, &gate_steps);
	store_watch_iam(b->link, on_iam, a);
	a->timer = evtimer_new(b->base, on_timer, a);
	struct timeval tv = { 0, 100000 };
	event_add(a->timer, &tv);
	broker_add_module(b, &auth_module, a);
	log_info("auth: access control %s", b->cfg.auth_required
						    ? "required (every call needs a credential "
						      "and a permission)"
						    : "off (loopback only; credentials that are "
						      "sent are still checked)");
}

void auth_changed(struct broker *b, const char *what)
{
	if (b->auth)
		cache_invalidate(b->auth, what);
}
