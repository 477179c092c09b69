/* iam.h - the IAM model: roles and their permissions (Pub/Sub's, the
 * basic roles, the IAM roles for service accounts, regnotify's own), and
 * policies {"version","etag","bindings":[{"role","members"}]}: validation
 * and evaluation. Pure: any thread.
 *
 * A member is "serviceAccount:EMAIL", "allAuthenticatedUsers" or
 * "allUsers" ("user:" and "group:" are refused: regnotify has only
 * service accounts). A resource's effective policy is the union of its
 * own bindings and its project's (iam_allows takes both). */
#ifndef RN_MODEL_IAM_H
#define RN_MODEL_IAM_H

#include <jansson.h>
#include <stddef.h>

/* Service accounts are ID@PROJECT.iam.regnotify (the bootstrap
 * administrator: admin@regnotify.iam, of project "regnotify"). */
#define IAM_EMAIL_DOMAIN ".iam.regnotify"

/* The project of an account's email into out; -1 for another email. */
int iam_account_project(const char *email, char *out, size_t n);

/* Every permission a route can ask for, for listings and the tests. */
extern const char *const iam_permissions[];
extern const size_t iam_npermissions;

/* 1 when role (e.g. "roles/pubsub.publisher") grants perm. */
int iam_role_grants(const char *role, const char *perm);

/* 1 when role is one regnotify knows. */
int iam_role_known(const char *role);

/* 1 when perm is one of iam_permissions. */
int iam_permission_known(const char *perm);

/* Checks a policy object as setIamPolicy receives it: bindings of known
 * roles with at least one valid member each, at most 1500 members in all,
 * version 1 or 3 (conditions are refused). Returns 0, or -1 with the
 * message of an INVALID_ARGUMENT in err. */
int iam_policy_check(json_t *policy, char *err, size_t errlen);

/* Checks the auditConfigs of a policy (NULL: none): an array of
 * {"service": "allServices" or "NAME.googleapis.com", "auditLogConfigs":
 * [{"logType": "ADMIN_READ" | "DATA_READ" | "DATA_WRITE",
 * "exemptedMembers": [members]}]}. 0, or -1 with the INVALID_ARGUMENT
 * message in err. */
int iam_audit_configs_check(json_t *configs, char *err, size_t errlen);

/* 1 when auditConfigs (a checked array, or NULL) turn on the Data Access
 * log_type ("DATA_READ"...) for service and principal is exempted in none
 * of the matching configs (the service's own and allServices, as IAM
 * merges them). */
int iam_audit_enabled(json_t *configs, const char *service, const char *log_type,
		      const char *principal);

/* The canonical stored form of a checked policy: version 1, bindings
 * sorted by role with sorted, de-duplicated members, empty bindings
 * dropped, plus etag. New reference. */
json_t *iam_policy_canonical(json_t *policy, const char *etag);

/* 1 when any binding of the policies (each may be NULL) grants perm to
 * principal ("serviceAccount:EMAIL", or NULL: anonymous, which only
 * "allUsers" bindings reach). */
int iam_allows(json_t *const *policies, size_t n, const char *principal, const char *perm);

/* 1 when a subscriptions.create body is what `regnotify tail` makes: label
 * regnotify-ephemeral "true", an expirationPolicy ttl of at most a day, no
 * push endpoint, no dead-letter topic. Such a subscription may be created
 * with regnotify.subscriptions.tail (roles/viewer) instead of
 * pubsub.subscriptions.create. */
int iam_ephemeral_subscription(json_t *body);

#endif
