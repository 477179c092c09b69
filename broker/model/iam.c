/* iam.c - roles, permissions and policy evaluation. */
#include "iam.h"

#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const iam_permissions[] = {
	"pubsub.topics.create",
	"pubsub.topics.get",
	"pubsub.topics.list",
	"pubsub.topics.update",
	"pubsub.topics.delete",
	"pubsub.topics.publish",
	"pubsub.topics.attachSubscription",
	"pubsub.topics.detachSubscription",
	"pubsub.topics.getIamPolicy",
	"pubsub.topics.setIamPolicy",
	"pubsub.subscriptions.create",
	"pubsub.subscriptions.get",
	"pubsub.subscriptions.list",
	"pubsub.subscriptions.update",
	"pubsub.subscriptions.delete",
	"pubsub.subscriptions.consume",
	"pubsub.subscriptions.getIamPolicy",
	"pubsub.subscriptions.setIamPolicy",
	"pubsub.snapshots.create",
	"pubsub.snapshots.get",
	"pubsub.snapshots.list",
	"pubsub.snapshots.update",
	"pubsub.snapshots.delete",
	"pubsub.snapshots.seek",
	"resourcemanager.projects.get",
	"resourcemanager.projects.getIamPolicy",
	"resourcemanager.projects.setIamPolicy",
	"iam.serviceAccounts.create",
	"iam.serviceAccounts.get",
	"iam.serviceAccounts.list",
	"iam.serviceAccounts.update",
	"iam.serviceAccounts.delete",
	"iam.serviceAccounts.disable",
	"iam.serviceAccounts.enable",
	"iam.serviceAccounts.actAs",
	"iam.serviceAccountKeys.create",
	"iam.serviceAccountKeys.get",
	"iam.serviceAccountKeys.list",
	"iam.serviceAccountKeys.delete",
	"regnotify.registry.notify",
	"regnotify.images.list",
	"regnotify.images.reanalyze",
	"regnotify.metrics.get",
	"regnotify.subscriptions.tail",
	"logging.logEntries.list",
	"logging.privateLogEntries.list",
	"logging.sinks.create",
	"logging.sinks.get",
	"logging.sinks.list",
	"logging.sinks.update",
	"logging.sinks.delete",
};
const size_t iam_npermissions = sizeof(iam_permissions) / sizeof(iam_permissions[0]);

/* A role: permission patterns ("*" once, anywhere: "pubsub.*", "*.get");
 * a pattern starting with '-' takes permissions away again. */
struct role {
	const char *name;
	const char *const *grants;
};

#define GETS_AND_LISTS "pubsub.*.get", "pubsub.*.list", "resourcemanager.projects.get"

static const char *const owner[] = { "*", NULL };
static const char *const editor[] = { "*", "-*IamPolicy", "-logging.privateLogEntries.list", NULL };
static const char *const viewer[] = { GETS_AND_LISTS,
				      "pubsub.subscriptions.consume",
				      "iam.serviceAccounts.get",
				      "iam.serviceAccounts.list",
				      "iam.serviceAccountKeys.get",
				      "iam.serviceAccountKeys.list",
				      "regnotify.images.list",
				      "regnotify.metrics.get",
				      "regnotify.subscriptions.tail",
				      "logging.logEntries.list",
				      "logging.sinks.get",
				      "logging.sinks.list",
				      NULL };
static const char *const ps_admin[] = { "pubsub.*", "resourcemanager.projects.get", NULL };
static const char *const ps_editor[] = { "pubsub.*", "-*IamPolicy", "resourcemanager.projects.get",
					 NULL };
static const char *const ps_publisher[] = { "pubsub.topics.publish", NULL };
static const char *const ps_subscriber[] = { "pubsub.subscriptions.consume",
					     "pubsub.snapshots.seek",
					     "pubsub.topics.attachSubscription", NULL };
static const char *const ps_viewer[] = { GETS_AND_LISTS, NULL };
static const char *const sa_admin[] = { "iam.serviceAccounts.*", "-iam.serviceAccounts.actAs",
					NULL };
static const char *const sa_key_admin[] = { "iam.serviceAccountKeys.*", NULL };
static const char *const sa_user[] = { "iam.serviceAccounts.actAs", "iam.serviceAccounts.get",
				       "iam.serviceAccounts.list", NULL };
static const char *const notifier[] = { "regnotify.registry.notify", NULL };
static const char *const log_viewer[] = { "logging.logEntries.list", "logging.sinks.get",
					  "logging.sinks.list", NULL };
static const char *const log_config_writer[] = { "logging.sinks.*", NULL };
static const char *const log_admin[] = { "logging.*", NULL };
static const char *const private_log_viewer[] = { "logging.logEntries.list",
						  "logging.privateLogEntries.list", NULL };

static const struct role roles[] = {
	{ "roles/owner", owner },
	{ "roles/editor", editor },
	{ "roles/viewer", viewer },
	{ "roles/pubsub.admin", ps_admin },
	{ "roles/pubsub.editor", ps_editor },
	{ "roles/pubsub.publisher", ps_publisher },
	{ "roles/pubsub.subscriber", ps_subscriber },
	{ "roles/pubsub.viewer", ps_viewer },
	{ "roles/iam.serviceAccountAdmin", sa_admin },
	{ "roles/iam.serviceAccountKeyAdmin", sa_key_admin },
	{ "roles/iam.serviceAccountUser", sa_user },
	{ "roles/regnotify.registryNotifier", notifier },
	{ "roles/logging.viewer", log_viewer },
	{ "roles/logging.privateLogViewer", private_log_viewer },
	{ "roles/logging.configWriter", log_config_writer },
	{ "roles/logging.admin", log_admin },
};
#define NROLES (sizeof(roles) / sizeof(roles[0]))

static int glob(const char *pat, const char *s)
{
	const char *star = strchr(pat, '*');
	if (star == NULL)
		return strcmp(pat, s) == 0;
	size_t pre = (size_t)(star - pat), post = strlen(star + 1), n = strlen(s);
	return n >= pre + post && strncmp(s, pat, pre) == 0 && strcmp(s + n - post, star + 1) == 0;
}

static const struct role *find_role(const char *name)
{
	for (size_t i = 0; i < NROLES; i++)
		if (strcmp(roles[i].name, name) == 0)
			return &roles[i];
	return NULL;
}

int iam_role_known(const char *role)
{
	return find_role(role) != NULL;
}

int iam_permission_known(const char *perm)
{
	for (size_t i = 0; i < iam_npermissions; i++)
		if (strcmp(iam_permissions[i], perm) == 0)
			return 1;
	return 0;
}

int iam_role_grants(const char *role, const char *perm)
{
	const struct role *r = find_role(role);
	if (r == NULL || !iam_permission_known(perm))
		return 0;
	int granted = 0;
	for (const char *const *g = r->grants; *g; g++) {
		if (**g == '-') {
			if (glob(*g + 1, perm))
				granted = 0;
		} else if (glob(*g, perm)) {
			granted = 1;
		}
	}
	return granted;
}

/* A service-account email: local@domain with the characters Google allows. */
static int valid_email(const char *e)
{
	const char *at = strchr(e, '@');
	size_t n = strlen(e);
	if (at == NULL || at == e || at[1] == '\0' || strchr(at + 1, '@') || n > 254)
		return 0;
	return strspn(e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@") == n;
}

static int valid_member(const char *m)
{
	if (strcmp(m, "allUsers") == 0 || strcmp(m, "allAuthenticatedUsers") == 0)
		return 1;
	/* A deleted account's member, as getIamPolicy shows it (a
	 * read-modify-write sends it back); it grants nothing. */
	if (strncmp(m, "deleted:serviceAccount:", 23) == 0) {
		const char *q = strstr(m, "?uid=");
		char email[256];
		if (q == NULL || (size_t)(q - m - 23) >= sizeof(email) || q[5] == '\0' ||
		    strspn(q + 5, "0123456789") != strlen(q + 5))
			return 0;
		snprintf(email, sizeof(email), "%.*s", (int)(q - m - 23), m + 23);
		return valid_email(email);
	}
	return strncmp(m, "serviceAccount:", 15) == 0 && valid_email(m + 15);
}

int iam_policy_check(json_t *policy, char *err, size_t errlen)
{
	if (!json_is_object(policy)) {
		snprintf(err, errlen, "Invalid policy: expected a JSON object.");
		return -1;
	}
	json_t *ver = json_object_get(policy, "version");
	if (ver && !(json_is_integer(ver) &&
		     (json_integer_value(ver) == 0 || json_integer_value(ver) == 1 ||
		      json_integer_value(ver) == 3))) {
		snprintf(err, errlen, "Invalid policy version: expected 1 or 3.");
		return -1;
	}
	json_t *b = json_object_get(policy, "bindings");
	if (b && !json_is_array(b)) {
		snprintf(err, errlen, "Invalid policy: bindings must be an array.");
		return -1;
	}
	size_t i, total = 0;
	json_t *bind;
	json_array_foreach(b, i, bind)
	{
		const char *role = json_string_value(json_object_get(bind, "role"));
		json_t *members = json_object_get(bind, "members");
		if (json_object_get(bind, "condition")) {
			snprintf(err, errlen, "Conditional role bindings are not supported.");
			return -1;
		}
		if (role == NULL || !iam_role_known(role)) {
			snprintf(err, errlen, "Role %.100s is not supported for this resource.",
				 role ? role : "(none)");
			return -1;
		}
		if (!json_is_array(members) || json_array_size(members) == 0) {
			snprintf(err, errlen, "Binding for role %s has no members.", role);
			return -1;
		}
		size_t j;
		json_t *m;
		json_array_foreach(members, j, m)
		{
			const char *ms = json_string_value(m);
			if (ms == NULL || !valid_member(ms)) {
				snprintf(err, errlen,
					 "Invalid member %.200s: expected serviceAccount:EMAIL, "
					 "allAuthenticatedUsers or allUsers.",
					 ms ? ms : "(not a string)");
				return -1;
			}
			if (++total > 1500) {
				snprintf(err, errlen,
					 "The number of members in the policy exceeds 1500.");
				return -1;
			}
		}
	}
	return 0;
}

int iam_audit_configs_check(json_t *configs, char *err, size_t errlen)
{
	if (configs == NULL || json_is_null(configs))
		return 0;
	if (!json_is_array(configs) || json_array_size(configs) > 100) {
		snprintf(err, errlen,
			 "Invalid policy: auditConfigs must be an array of at most 100.");
		return -1;
	}
	size_t i, members = 0;
	json_t *cfg;
	json_array_foreach(configs, i, cfg)
	{
		const char *svc = json_string_value(json_object_get(cfg, "service"));
		size_t n = svc ? strlen(svc) : 0;
		if (svc == NULL || n > 100 ||
		    (strcmp(svc, "allServices") != 0 &&
		     (n <= 15 || strcmp(svc + n - 15, ".googleapis.com") != 0 ||
		      strspn(svc, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n))) {
			snprintf(err, errlen,
				 "Invalid auditConfigs: service must be \"allServices\" or a "
				 "service name such as \"pubsub.googleapis.com\".");
			return -1;
		}
		json_t *logs = json_object_get(cfg, "auditLogConfigs");
		if (logs && !json_is_array(logs)) {
			snprintf(err, errlen,
				 "Invalid auditConfigs: auditLogConfigs must be an array.");
			return -1;
		}
		size_t j;
		json_t *lc;
		json_array_foreach(logs, j, lc)
		{
			const char *t = json_string_value(json_object_get(lc, "logType"));
			if (t == NULL ||
			    (strcmp(t, "ADMIN_READ") != 0 && strcmp(t, "DATA_READ") != 0 &&
			     strcmp(t, "DATA_WRITE") != 0)) {
				snprintf(
					err, errlen,
					"Invalid auditConfigs: logType must be ADMIN_READ, DATA_READ "
					"or DATA_WRITE.");
				return -1;
			}
			json_t *ex = json_object_get(lc, "exemptedMembers");
			if (ex && !json_is_array(ex)) {
				snprintf(err, errlen,
					 "Invalid auditConfigs: exemptedMembers must be an array.");
				return -1;
			}
			size_t k;
			json_t *m;
			json_array_foreach(ex, k, m)
			{
				const char *ms = json_string_value(m);
				if (ms == NULL || !valid_member(ms) || ++members > 1500) {
					snprintf(
						err, errlen,
						"Invalid auditConfigs: exempted member %.200s is not "
						"valid (or more than 1500 in all).",
						ms ? ms : "(not a string)");
					return -1;
				}
			}
		}
	}
	return 0;
}

int iam_audit_enabled(json_t *configs, const char *service, const char *log_type,
		      const char *principal)
{
	int on = 0;
	size_t i;
	json_t *cfg;
	json_array_foreach(configs, i, cfg)
	{
		const char *svc = json_string_value(json_object_get(cfg, "service"));
		if (svc == NULL || (strcmp(svc, "allServices") != 0 && strcmp(svc, service) != 0))
			continue;
		size_t j;
		json_t *lc;
		json_array_foreach(json_object_get(cfg, "auditLogConfigs"), j, lc)
		{
			const char *t = json_string_value(json_object_get(lc, "logType"));
			if (t == NULL || strcmp(t, log_type) != 0)
				continue;
			on = 1;
			size_t k;
			json_t *m;
			json_array_foreach(json_object_get(lc, "exemptedMembers"), k, m)
			{
				const char *ms = json_string_value(m);
				if (ms && principal && principal[0] && strcmp(ms, principal) == 0)
					return 0;
			}
		}
	}
	return on;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *iam_policy_canonical(json_t *policy, const char *etag)
{
	json_t *out = json_object(), *bindings = json_array();
	json_t *in = json_object_get(policy, "bindings");
	/* Roles in order, each once, with the union of their members. */
	const char *names[NROLES];
	size_t nr = 0;
	for (size_t r = 0; r < NROLES; r++)
		names[nr++] = roles[r].name;
	qsort(names, nr, sizeof(names[0]), cmp_str);
	for (size_t r = 0; r < nr; r++) {
		size_t total = 0, i;
		json_t *bind;
		json_array_foreach(in, i, bind)
		{
			if (strcmp(json_string_value(json_object_get(bind, "role")), names[r]) == 0)
				total += json_array_size(json_object_get(bind, "members"));
		}
		if (total == 0)
			continue;
		const char **ms = mem_alloc(total * sizeof(*ms));
		size_t n = 0;
		json_array_foreach(in, i, bind)
		{
			if (strcmp(json_string_value(json_object_get(bind, "role")), names[r]) != 0)
				continue;
			size_t j;
			json_t *m;
			json_array_foreach(json_object_get(bind, "members"), j, m) ms[n++] =
				json_string_value(m);
		}
		qsort(ms, n, sizeof(*ms), cmp_str);
		json_t *members = json_array();
		for (size_t k = 0; k < n; k++)
			if (k == 0 || strcmp(ms[k], ms[k - 1]) != 0)
				json_array_append_new(members, json_string(ms[k]));
		mem_free(ms);
		json_array_append_new(bindings,
				      json_pack("{s:s,s:o}", "role", names[r], "members", members));
	}
	json_object_set_new(out, "version", json_integer(1));
	json_object_set_new(out, "etag", json_string(etag));
	if (json_array_size(bindings))
		json_object_set_new(out, "bindings", bindings);
	else
		json_decref(bindings);
	return out;
}

static int member_matches(const char *member, const char *principal)
{
	if (strcmp(member, "allUsers") == 0)
		return 1;
	if (principal == NULL)
		return 0;
	return strcmp(member, "allAuthenticatedUsers") == 0 || strcmp(member, principal) == 0;
}

int iam_allows(json_t *const *policies, size_t n, const char *principal, const char *perm)
{
	for (size_t p = 0; p < n; p++) {
		size_t i;
		json_t *bind;
		json_array_foreach(json_object_get(policies[p], "bindings"), i, bind)
		{
			const char *role = json_string_value(json_object_get(bind, "role"));
			if (role == NULL || !iam_role_grants(role, perm))
				continue;
			size_t j;
			json_t *m;
			json_array_foreach(json_object_get(bind, "members"), j, m)
			{
				const char *ms = json_string_value(m);
				if (ms && member_matches(ms, principal))
					return 1;
			}
		}
	}
	return 0;
}

int iam_account_project(const char *email, char *out, size_t n)
{
	const char *at = strchr(email, '@');
	if (at == NULL || at == email)
		return -1;
	if (strcmp(at, "@regnotify.iam") == 0) {
		snprintf(out, n, "regnotify");
		return 0;
	}
	size_t dl = strlen(IAM_EMAIL_DOMAIN), tail = strlen(at + 1);
	if (tail <= dl || strcmp(at + 1 + tail - dl, IAM_EMAIL_DOMAIN) != 0 || tail - dl >= n)
		return -1;
	snprintf(out, n, "%.*s", (int)(tail - dl), at + 1);
	return 0;
}

int iam_ephemeral_subscription(json_t *body)
{
	json_t *labels = json_object_get(body, "labels");
	const char *eph = json_string_value(json_object_get(labels, "regnotify-ephemeral"));
	const char *ttl = json_string_value(
		json_object_get(json_object_get(body, "expirationPolicy"), "ttl"));
	json_t *push = json_object_get(body, "pushConfig");
	if (eph == NULL || strcmp(eph, "true") != 0 || ttl == NULL ||
	    json_object_get(body, "deadLetterPolicy") || (push && json_object_size(push) > 0))
		return 0;
	/* "300s" .. "86400s": whole seconds, at most a day. */
	char *end;
	long s = strtol(ttl, &end, 10);
	return end != ttl && strcmp(end, "s") == 0 && s > 0 && s <= 86400;
}
