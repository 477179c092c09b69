/* grpc_rpc.c - the gRPC method table and its REST transcoding. */
#include "grpc_rpc.h"

#include "router.h"

#include "google/iam/v1/iam_policy.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/pubsub/v1/pubsub.pb-c.h"

#include <stdio.h>
#include <string.h>

#define PS(x) &google__pubsub__v1__##x##__descriptor
#define EMPTY &google__protobuf__empty__descriptor
#define PUB "/google.pubsub.v1.Publisher/"
#define SUB "/google.pubsub.v1.Subscriber/"
#define IAM "/google.iam.v1.IAMPolicy/"
/* iam_policy.proto's bindings for Pub/Sub's resources (schemas: none here). */
#define RES "/v1/{resource=projects/*/topics/*|projects/*/subscriptions/*|projects/*/snapshots/*}"

/* From the google.api.http options of pubsub.proto and iam_policy.proto. */
static const struct grpc_rpc rpcs[] = {
	{ PUB "CreateTopic", M_PUT, "/v1/{name=projects/*/topics/*}", 1, PS(topic), PS(topic), 0 },
	{ PUB "UpdateTopic", M_PATCH, "/v1/{topic.name=projects/*/topics/*}", 1,
	  PS(update_topic_request), PS(topic), 0 },
	{ PUB "Publish", M_POST, "/v1/{topic=projects/*/topics/*}:publish", 1, PS(publish_request),
	  PS(publish_response), 0 },
	{ PUB "GetTopic", M_GET, "/v1/{topic=projects/*/topics/*}", 0, PS(get_topic_request),
	  PS(topic), 0 },
	{ PUB "ListTopics", M_GET, "/v1/{project=projects/*}/topics", 0, PS(list_topics_request),
	  PS(list_topics_response), 0 },
	{ PUB "ListTopicSubscriptions", M_GET, "/v1/{topic=projects/*/topics/*}/subscriptions", 0,
	  PS(list_topic_subscriptions_request), PS(list_topic_subscriptions_response), 0 },
	{ PUB "ListTopicSnapshots", M_GET, "/v1/{topic=projects/*/topics/*}/snapshots", 0,
	  PS(list_topic_snapshots_request), PS(list_topic_snapshots_response), 0 },
	{ PUB "DeleteTopic", M_DELETE, "/v1/{topic=projects/*/topics/*}", 0,
	  PS(delete_topic_request), EMPTY, 0 },
	{ PUB "DetachSubscription", M_POST, "/v1/{subscription=projects/*/subscriptions/*}:detach",
	  1, PS(detach_subscription_request), PS(detach_subscription_response), 0 },
	{ SUB "CreateSubscription", M_PUT, "/v1/{name=projects/*/subscriptions/*}", 1,
	  PS(subscription), PS(subscription), 0 },
	{ SUB "GetSubscription", M_GET, "/v1/{subscription=projects/*/subscriptions/*}", 0,
	  PS(get_subscription_request), PS(subscription), 0 },
	{ SUB "UpdateSubscription", M_PATCH, "/v1/{subscription.name=projects/*/subscriptions/*}",
	  1, PS(update_subscription_request), PS(subscription), 0 },
	{ SUB "ListSubscriptions", M_GET, "/v1/{project=projects/*}/subscriptions", 0,
	  PS(list_subscriptions_request), PS(list_subscriptions_response), 0 },
	{ SUB "DeleteSubscription", M_DELETE, "/v1/{subscription=projects/*/subscriptions/*}", 0,
	  PS(delete_subscription_request), EMPTY, 0 },
	{ SUB "ModifyAckDeadline", M_POST,
	  "/v1/{subscription=projects/*/subscriptions/*}:modifyAckDeadline", 1,
	  PS(modify_ack_deadline_request), EMPTY, 0 },
	{ SUB "Acknowledge", M_POST, "/v1/{subscription=projects/*/subscriptions/*}:acknowledge", 1,
	  PS(acknowledge_request), EMPTY, 0 },
	{ SUB "Pull", M_POST, "/v1/{subscription=projects/*/subscriptions/*}:pull", 1,
	  PS(pull_request), PS(pull_response), 0 },
	{ SUB "StreamingPull", M_POST, NULL, 0, PS(streaming_pull_request),
	  PS(streaming_pull_response), 1 },
	{ SUB "ModifyPushConfig", M_POST,
	  "/v1/{subscription=projects/*/subscriptions/*}:modifyPushConfig", 1,
	  PS(modify_push_config_request), EMPTY, 0 },
	{ SUB "GetSnapshot", M_GET, "/v1/{snapshot=projects/*/snapshots/*}", 0,
	  PS(get_snapshot_request), PS(snapshot), 0 },
	{ SUB "ListSnapshots", M_GET, "/v1/{project=projects/*}/snapshots", 0,
	  PS(list_snapshots_request), PS(list_snapshots_response), 0 },
	{ SUB "CreateSnapshot", M_PUT, "/v1/{name=projects/*/snapshots/*}", 1,
	  PS(create_snapshot_request), PS(snapshot), 0 },
	{ SUB "UpdateSnapshot", M_PATCH, "/v1/{snapshot.name=projects/*/snapshots/*}", 1,
	  PS(update_snapshot_request), PS(snapshot), 0 },
	{ SUB "DeleteSnapshot", M_DELETE, "/v1/{snapshot=projects/*/snapshots/*}", 0,
	  PS(delete_snapshot_request), EMPTY, 0 },
	{ SUB "Seek", M_POST, "/v1/{subscription=projects/*/subscriptions/*}:seek", 1,
	  PS(seek_request), PS(seek_response), 0 },
	{ IAM "SetIamPolicy", M_POST, RES ":setIamPolicy", 1,
	  &google__iam__v1__set_iam_policy_request__descriptor,
	  &google__iam__v1__policy__descriptor, 0 },
	{ IAM "GetIamPolicy", M_POST, RES ":getIamPolicy", 1,
	  &google__iam__v1__get_iam_policy_request__descriptor,
	  &google__iam__v1__policy__descriptor, 0 },
	{ IAM "TestIamPermissions", M_POST, RES ":testIamPermissions", 1,
	  &google__iam__v1__test_iam_permissions_request__descriptor,
	  &google__iam__v1__test_iam_permissions_response__descriptor, 0 },
};

const struct grpc_rpc *grpc_rpc_table(size_t *n)
{
	*n = sizeof(rpcs) / sizeof(rpcs[0]);
	return rpcs;
}

const struct grpc_rpc *grpc_rpc_find(const char *path)
{
	for (size_t i = 0; i < sizeof(rpcs) / sizeof(rpcs[0]); i++)
		if (strcmp(rpcs[i].path, path) == 0)
			return &rpcs[i];
	return NULL;
}

/* The value at a dotted JSON path ("topic.name"). */
static json_t *at(json_t *o, const char *dotted)
{
	char part[64];
	while (o && *dotted) {
		size_t len = strcspn(dotted, ".");
		if (len >= sizeof(part))
			return NULL;
		memcpy(part, dotted, len);
		part[len] = '\0';
		o = json_object_get(o, part);
		dotted += len + (dotted[len] == '.');
	}
	return o;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept, and '/' when
 * slash) at *o; -1 when it does not fit. */
static int put_enc(char *buf, size_t n, size_t *o, const char *s, size_t len, int slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
			   ch == '~' || (slash && ch == '/');
		if (*o + (keep ? 1 : 3) >= n)
			return -1;
		if (keep) {
			buf[(*o)++] = (char)ch;
		} else {
			buf[(*o)++] = '%';
			buf[(*o)++] = hex[ch >> 4];
			buf[(*o)++] = hex[ch & 15];
		}
	}
	buf[*o] = '\0';
	return 0;
}

/* The template field at t ("{topic=PATTERN}"): its name into field, its
 * pattern (alternatives split by '|'), and the '}'. */
static const char *tmpl_field(const char *t, char *field, size_t fn, const char **pat,
			      size_t *patlen)
{
	const char *end = strchr(t, '}');
	const char *eq = memchr(t, '=', (size_t)(end - t));
	const char *name_end = eq ? eq : end;
	snprintf(field, fn, "%.*s", (int)(name_end - t - 1), t + 1);
	*pat = eq ? eq + 1 : NULL;
	*patlen = eq ? (size_t)(end - eq - 1) : 0;
	return end;
}

int grpc_rpc_probe_path(const struct grpc_rpc *r, char *buf, size_t n)
{
	size_t o = 0;
	if (r->tmpl == NULL)
		return -1;
	for (const char *t = r->tmpl; *t;) {
		const char *pat = NULL;
		size_t patlen = 0;
		if (*t == '{') {
			char field[64];
			const char *end = tmpl_field(t, field, sizeof(field), &pat, &patlen);
			const char *bar = pat ? memchr(pat, '|', patlen) : NULL;
			if (bar)
				patlen = (size_t)(bar - pat);
			for (size_t i = 0; pat && i < patlen; i++) {
				if (o + 2 >= n)
					return -1;
				buf[o++] = pat[i] == '*' ? 'x' : pat[i];
			}
			t = end + 1;
			continue;
		}
		if (o + 2 >= n)
			return -1;
		buf[o++] = *t++;
	}
	buf[o] = '\0';
	return 0;
}

void grpc_rpc_strip_path_fields(const struct grpc_rpc *r, json_t *req)
{
	for (const char *t = r->tmpl ? strchr(r->tmpl, '{') : NULL; t; t = strchr(t + 1, '{')) {
		char field[64];
		const char *pat;
		size_t patlen;
		tmpl_field(t, field, sizeof(field), &pat, &patlen);
		char *dot = strrchr(field, '.');
		json_t *parent = req;
		if (dot) {
			*dot = '\0';
			parent = at(req, field);
		}
		if (json_is_object(parent))
			json_object_del(parent, dot ? dot + 1 : field);
	}
}

/* 1 when v matches one of the '|'-separated patterns (literal segments, a
 * star for one non-empty segment without a slash), as google.api.http
 * does. */
static int matches(const char *v, const char *pat, size_t patlen)
{
	const char *alt = pat, *pend = pat + patlen;
	while (alt < pend) {
		const char *bar = memchr(alt, '|', (size_t)(pend - alt));
		const char *aend = bar ? bar : pend;
		const char *p = alt, *x = v;
		int ok = 1;
		while (ok && p < aend) {
			const char *slash = memchr(p, '/', (size_t)(aend - p));
			size_t plen = (size_t)((slash ? slash : aend) - p);
			size_t xlen = strcspn(x, "/");
			if (plen == 1 && *p == '*')
				ok = xlen > 0;
			else
				ok = xlen == plen && memcmp(p, x, plen) == 0;
			p += plen;
			x += xlen;
			if (p < aend) { /* a '/' in both */
				ok = ok && *x == '/';
				p++;
				x++;
			}
		}
		if (ok && *x == '\0')
			return 1;
		alt = aend + 1;
	}
	return 0;
}

int grpc_rpc_rest_path(const struct grpc_rpc *r, json_t *req, char *buf, size_t n, char *err,
		       size_t errn)
{
	size_t o = 0;
	const char *t = r->tmpl;
	char used[4][64];
	int nused = 0;
	if (t == NULL || n == 0) {
		snprintf(err, errn, "%s is not a unary method.", r->path);
		return -1;
	}
	while (*t) {
		if (*t != '{') {
			if (o + 1 >= n)
				goto too_long;
			buf[o++] = *t++;
			buf[o] = '\0';
			continue;
		}
		char field[64];
		const char *pat;
		size_t patlen;
		const char *end = tmpl_field(t, field, sizeof(field), &pat, &patlen);
		const char *v = json_string_value(at(req, field));
		if (v == NULL || v[0] == '\0') {
			snprintf(
				err, errn,
				"Invalid resource name given (%s=). Refer to "
				"https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names "
				"for more information.",
				field);
			return -1;
		}
		if (pat && !matches(v, pat, patlen)) {
			snprintf(
				err, errn,
				"Invalid resource name given (%s=%.300s). Refer to "
				"https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names "
				"for more information.",
				field, v);
			return -1;
		}
		if (put_enc(buf, n, &o, v, strlen(v), 1) != 0)
			goto too_long;
		if (nused < 4)
			snprintf(used[nused++], sizeof(used[0]), "%s", field);
		t = end + 1;
	}
	if (r->body)
		return 0;
	/* GET and DELETE: the other scalar fields are the query. */
	const char *k;
	json_t *v;
	char sep = '?';
	json_object_foreach(req, k, v)
	{
		int skip = 0;
		for (int i = 0; i < nused; i++)
			skip |= strcmp(used[i], k) == 0;
		if (skip)
			continue;
		char num[32];
		const char *s;
		if (json_is_string(v)) {
			s = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			s = num;
		} else if (json_is_boolean(v)) {
			s = json_is_true(v) ? "true" : "false";
		} else {
			continue;
		}
		if (o + 2 >= n)
			goto too_long;
		buf[o++] = sep;
		sep = '&';
		if (put_enc(buf, n, &o, k, strlen(k), 0) != 0 || o + 2 >= n)
			goto too_long;
		buf[o++] = '=';
		if (put_enc(buf, n, &o, s, strlen(s), 0) != 0)
			goto too_long;
	}
	buf[o] = '\0';
	return 0;
too_long:
	snprintf(err, errn, "The request's resource name or parameters are too long.");
	return -1;
}
