/* audit_config.c - whether a project's Data Access logs are on: the
 * auditConfigs of its IAM policy (iam-auth reference section 3), read
 * through the policy cache authz fills. */
#include "auth.h"
#include "auth_internal.h"

#include "broker.h"
#include "cache.h"
#include "call.h"
#include "iam.h"
#include "mem.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

json_t *auth_policy_of_reply(const redisReply *r)
{
	json_t *p = NULL;
	if (r->element[0]->type == REDIS_REPLY_STRING)
		p = json_loadb(r->element[0]->str, r->element[0]->len, 0, NULL);
	if (r->elements > 2 && r->element[2]->type == REDIS_REPLY_STRING) {
		json_t *ac = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
		if (p == NULL)
			p = json_object();
		if (ac)
			json_object_set_new(p, "auditConfigs", ac);
	}
	return p;
}

struct audit_query {
	struct broker *b;
	char resource[128], service[64], type[16], principal[CALL_PRINCIPAL_MAX];
	auth_audit_cb done;
	void *arg;
};

static void answer(struct audit_query *q, json_t *policy)
{
	int on = iam_audit_enabled(json_object_get(policy, "auditConfigs"), q->service, q->type,
				   q->principal);
	q->done(q->arg, on);
	mem_free(q);
}

static void on_policy(redisReply *r, void *arg)
{
	struct audit_query *q = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		/* Redis is away: nothing can be written either. */
		q->done(q->arg, 0);
		mem_free(q);
		return;
	}
	json_t *p = auth_policy_of_reply(r);
	if (q->b->auth)
		cache_policy_put(q->b->auth, q->resource, json_incref(p));
	answer(q, p);
	json_decref(p);
}

int auth_audit_off(struct broker *b, const char *project)
{
	char res[128];
	snprintf(res, sizeof(res), "projects/%.100s", project);
	struct policy_entry *e = b->auth ? cache_policy_get(b->auth, res) : NULL;
	return e && json_object_get(e->policy, "auditConfigs") == NULL;
}

void auth_audit_enabled(struct broker *b, const char *project, const char *service,
			const char *log_type, const char *principal, auth_audit_cb done, void *arg)
{
	struct audit_query *q = mem_calloc(1, sizeof(*q));
	q->b = b;
	snprintf(q->resource, sizeof(q->resource), "projects/%.100s", project);
	snprintf(q->service, sizeof(q->service), "%s", service);
	snprintf(q->type, sizeof(q->type), "%s", log_type);
	snprintf(q->principal, sizeof(q->principal), "%s", principal ? principal : "");
	q->done = done;
	q->arg = arg;
	struct policy_entry *e = b->auth ? cache_policy_get(b->auth, q->resource) : NULL;
	if (e) {
		answer(q, e->policy);
		return;
	}
	struct store_resource res = { .kind = STORE_RES_PROJECT, .project = project };
	if (store_policy_get(b->link, &res, on_policy, q) != 0) {
		done(arg, 0);
		mem_free(q);
	}
}
