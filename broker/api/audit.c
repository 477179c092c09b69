/* audit.c - the Admin Activity entry of an API call (model/audit.c's
 * shape, from the route's method_name and permission and the call's
 * principal, peer and User-Agent), handed to the store so that the audited
 * script writes it in the same step as the change (store_audit_next). */
#include "api.h"

#include "audit.h"
#include "broker.h"
#include "mem.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *service_of(const char *route)
{
	if (strncmp(route, "serviceAccounts.", 16) == 0)
		return "iam.googleapis.com";
	if (strncmp(route, "projects.", 9) == 0)
		return "cloudresourcemanager.googleapis.com";
	return "pubsub.googleapis.com";
}

void api_audit_admin(struct call *c, const char *project, const char *resource_name,
		     const char *response_text)
{
	if (c->route == NULL || c->route->audit != AUDIT_ADMIN_WRITE)
		return;
	char peer[128], id[33];
	unsigned char rnd[16];
	call_peer(c, peer, sizeof(peer));
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char *req = c->body ? json_dumps(c->body, JSON_COMPACT) : NULL;
	struct audit_call a = { .log = AUDIT_LOG_ACTIVITY,
				.write = 1,
				.service = service_of(c->route->name),
				.method_name = c->route->method_name,
				.project = project,
				.resource_name = resource_name,
				.principal = c->principal,
				.permission = c->route->permission,
				.granted = 1,
				.caller_ip = peer,
				.user_agent = call_header(c, "User-Agent"),
				.time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
				.insert_id = id };
	char *text = audit_entry_text(&a, req ? req : "{}", response_text ? response_text : "{}");
	store_audit_next(c->b->link, project, "activity", text);
	mem_free(text);
	mem_free(req);
}
