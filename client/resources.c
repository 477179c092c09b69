/* resources.c - the synchronous calls: topics, subscriptions, publish,
 * pull, acknowledge, modifyAckDeadline, seek. Each is one or more
 * client_call()s of the REST path of docs/api.md. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 512
#define PATH_MAX_LEN (NAME_MAX_LEN + 64)
#define LIST_PAGE_SIZE 1000
/* A list stops after this many pages (1 M resources): a broker that keeps
 * sending page tokens must not make the client loop forever. */
#define LIST_MAX_PAGES 1000

static int check_client(const struct rn_client *c)
{
	return c ? 0 : errors_set(RN_EINVAL, "client is NULL");
}

/* "/v1/" + full name + suffix into buf. */
static int make_path(char *buf, size_t cap, const char *full, const char *suffix)
{
	int n = snprintf(buf, cap, "/v1/%s%s", full, suffix ? suffix : "");
	if (n < 0 || (size_t)n >= cap)
		return errors_set(RN_EINVAL, "Name too long");
	return 0;
}

/* Resolves name of kind and builds its path with suffix. */
static int resolve_path(struct rn_client *c, const char *kind, const char *name, const char *suffix,
			char *full, char *path)
{
	int rv = check_client(c);
	if (!rv)
		rv = client_resolve(c->project, kind, name, full, NAME_MAX_LEN);
	if (!rv)
		rv = make_path(path, PATH_MAX_LEN, full, suffix);
	return rv;
}

/* Hands the reply's JSON text to *json_out (when wanted). */
static int give_json(const json_t *js, char **json_out)
{
	if (!json_out)
		return 0;
	*json_out = json_dumps(js, JSON_COMPACT);
	return *json_out ? 0 : errors_set(RN_ENOMEM, "Out of memory");
}

/* One call with a JSON body, the reply's JSON text into *json_out. */
static int simple_call(struct rn_client *c, enum wire_method m, const char *path,
		       const json_t *body, char **json_out)
{
	struct client_reply rep;
	int rv = client_call_json(c, NULL, m, path, body, 0, &rep);
	if (!rv)
		rv = give_json(rep.json, json_out);
	client_reply_cleanup(&rep);
	return rv;
}

/* Parses text as a JSON object into *out (NULL text: *out NULL). */
static int parse_object(const char *text, const char *what, json_t **out)
{
	*out = NULL;
	if (!text)
		return 0;
	json_error_t e;
	json_t *js = json_loads(text, 0, &e);
	if (!json_is_object(js)) {
		json_decref(js);
		return errors_set(RN_EINVAL, "%s is not a JSON object: %s", what,
				  js ? "another JSON type" : e.text);
	}
	*out = js;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Topics and subscriptions */

/* A call without a body on the resource name of kind: GET, DELETE. */
static int name_call(struct rn_client *c, enum wire_method m, const char *kind, const char *name,
		     char **json_out)
{
	char full[NAME_MAX_LEN], path[PATH_MAX_LEN];
	int rv = resolve_path(c, kind, name, NULL, full, path);
	return rv ? rv : simple_call(c, m, path, NULL, json_out);
}

int rn_topic_create(struct rn_client *c, const char *topic, const char *config_json,
		    char **json_out)
{
	char full[NAME_MAX_LEN], path[PATH_MAX_LEN];
	json_t *body = NULL;
	int rv = resolve_path(c, "topics", topic, NULL, full, path);
	if (!rv)
		rv = parse_object(config_json, "config_json", &body);
	if (!rv)
		rv = simple_call(c, WIRE_PUT, path, body, json_out);
	json_decref(body);
	return rv;
}

int rn_topic_get(struct rn_client *c, const char *topic, char **json_out)
{
	return name_call(c, WIRE_GET, "topics", topic, json_out);
}

int rn_topic_delete(struct rn_client *c, const char *topic)
{
	return name_call(c, WIRE_DELETE, "topics", topic, NULL);
}

/* Percent-encodes s for a query string into buf. */
static int query_escape(const char *s, char *buf, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || strchr("-_.~", ch);
		if (o + 4 > cap)
			return errors_set(RN_EPROTO, "Page token too long");
		if (plain) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}

/* GET every page of /v1/projects/P/<kind> and collects the <kind> arrays
 * into one JSON array text. */
static int list_all(struct rn_client *c, const char *project, const char *kind, char **json_out)
{
	int rv = check_client(c);
	if (rv)
		return rv;
	if (!json_out)
		return errors_set(RN_EINVAL, "json_out is NULL");
	if (!project)
		project = c->project;
	if (!client_project_ok(project))
		return errors_set(RN_EINVAL, "Invalid project '%s'", project);
	json_t *all = json_array();
	char *token = NULL;
	if (!all)
		return errors_set(RN_ENOMEM, "Out of memory");
	for (int page = 0; !rv; page++) {
		if (page >= LIST_MAX_PAGES) {
			rv = errors_set(RN_EPROTO, "More than %d pages", LIST_MAX_PAGES);
			break;
		}
		char path[PATH_MAX_LEN + WIRE_PATH_MAX], tok[WIRE_PATH_MAX] = "";
		if (token && (rv = query_escape(token, tok, sizeof(tok))) != 0)
			break;
		int n = snprintf(path, sizeof(path), "/v1/projects/%s/%s?pageSize=%d%s%s", project,
				 kind, LIST_PAGE_SIZE, token ? "&pageToken=" : "", tok);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			rv = errors_set(RN_EPROTO, "Page token too long");
			break;
		}
		struct client_reply rep;
		if ((rv = client_call(c, NULL, WIRE_GET, path, NULL, 0, 0, &rep)) != 0)
			break;
		json_t *items = json_object_get(rep.json, kind);
		if (items && !json_is_array(items))
			rv = errors_set(RN_EPROTO, "'%s' is not an array", kind);
		else if (items && json_array_extend(all, items) != 0)
			rv = errors_set(RN_ENOMEM, "Out of memory");
		const json_t *next = json_object_get(rep.json, "nextPageToken");
		char *nt = NULL;
		if (!rv && json_is_string(next) && json_string_length(next) > 0) {
			if (token && strcmp(token, json_string_value(next)) == 0)
				rv = errors_set(RN_EPROTO, "The broker repeated a page token");
			else if (!(nt = strdup(json_string_value(next))))
				rv = errors_set(RN_ENOMEM, "Out of memory");
		}
		client_reply_cleanup(&rep);
		free(token);
		token = nt;
		if (!token)
			break;
	}
	free(token);
	if (!rv)
		rv = give_json(all, json_out);
	json_decref(all);
	return rv;
}

int rn_topic_list(struct rn_client *c, const char *project, char **json_out)
{
	return list_all(c, project, "topics", json_out);
}

int rn_subscription_list(struct rn_client *c, const char *project, char **json_out)
{
	return list_all(c, project, "subscriptions", json_out);
}

static char *seconds_text(int64_t s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%llds", (long long)s);
	return buf;
}

/* The body of subscriptions.create from o (may be NULL). */
static int sub_body(const char *topic_full, const struct rn_subscription_opts *o, json_t **out)
{
	json_t *b = json_pack("{s:s}", "topic", topic_full);
	char buf[32];
	if (!b)
		return errors_set(RN_ENOMEM, "Out of memory");
	if (o) {
		if (o->ack_deadline_s < 0 || o->retention_s < 0 || o->expiration_ttl_s < -1) {
			json_decref(b);
			return errors_set(RN_EINVAL, "Negative subscription option");
		}
		if (o->ack_deadline_s)
			json_object_set_new(b, "ackDeadlineSeconds",
					    json_integer(o->ack_deadline_s));
		if (o->retention_s)
			json_object_set_new(
				b, "messageRetentionDuration",
				json_string(seconds_text(o->retention_s, buf, sizeof(buf))));
		if (o->retain_acked)
			json_object_set_new(b, "retainAckedMessages", json_true());
		if (o->expiration_ttl_s == -1)
			json_object_set_new(b, "expirationPolicy", json_object());
		else if (o->expiration_ttl_s > 0)
			json_object_set_new(
				b, "expirationPolicy",
				json_pack("{s:s}", "ttl",
					  seconds_text(o->expiration_ttl_s, buf, sizeof(buf))));
		if (o->filter && *o->filter) {
			json_t *f = json_string(o->filter);
			if (!f) {
				json_decref(b);
				return errors_set(RN_EINVAL, "filter is not valid UTF-8");
			}
			json_object_set_new(b, "filter", f);
		}
		json_t *extra = NULL;
		int rv = parse_object(o->extra_json, "extra_json", &extra);
		if (rv) {
			json_decref(b);
			return rv;
		}
		if (extra) {
			json_object_update(b, extra);
			json_decref(extra);
		}
	}
	*out = b;
	return 0;
}

int rn_subscription_create(struct rn_client *c, const char *sub, const char *topic,
			   const struct rn_subscription_opts *o, char **json_out)
{
	char full[NAME_MAX_LEN], path[PATH_MAX_LEN], tfull[NAME_MAX_LEN];
	json_t *body = NULL;
	int rv = resolve_path(c, "subscriptions", sub, NULL, full, path);
	if (!rv)
		rv = client_resolve(c->project, "topics", topic, tfull, sizeof(tfull));
	if (!rv)
		rv = sub_body(tfull, o, &body);
	if (!rv)
		rv = simple_call(c, WIRE_PUT, path, body, json_out);
	json_decref(body);
	return rv;
}

int rn_subscription_get(struct rn_client *c, const char *sub, char **json_out)
{
	return name_call(c, WIRE_GET, "subscriptions", sub, json_out);
}

int rn_subscription_delete(struct rn_client *c, const char *sub)
{
	return name_call(c, WIRE_DELETE, "subscriptions", sub, NULL);
}

int rn_subscription_seek(struct rn_client *c, const char *sub, int64_t time_ms)
{
	char full[NAME_MAX_LEN], path[PATH_MAX_LEN], ts[40];
	int rv = resolve_path(c, "subscriptions", sub, ":seek", full, path);
	if (rv)
		return rv;
	if (message_format_time(time_ms, ts, sizeof(ts)) != 0)
		return errors_set(RN_EINVAL, "Invalid time %lld", (long long)time_ms);
	json_t *body = json_pack("{s:s}", "time", ts);
	rv = body ? simple_call(c, WIRE_POST, path, body, NULL) : errors_set(RN_ENOMEM, "OOM");
	json_decref(body);
	return rv;
}

int resources_sub_deadline(struct rn_client *c, const char *sub, int *seconds)
{
	char path[PATH_MAX_LEN];
	int rv = make_path(path, sizeof(path), sub, NULL);
	struct client_reply rep;
	if (!rv && (rv = client_call(c, NULL, WIRE_GET, path, NULL, 0, 0, &rep)) == 0) {
		json_t *d = json_object_get(rep.json, "ackDeadlineSeconds");
		*seconds = json_is_integer(d) ? (int)json_integer_value(d) : 10;
		client_reply_cleanup(&rep);
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* Publish */

int resources_publish(struct rn_client *c, const char *topic, const json_t *msgs, char **ids)
{
	char path[PATH_MAX_LEN];
	int rv = make_path(path, sizeof(path), topic, ":publish");
	if (rv)
		return rv;
	json_t *body = json_pack("{s:O}", "messages", (json_t *)msgs);
	if (!body)
		return errors_set(RN_ENOMEM, "Out of memory");
	struct client_reply rep;
	rv = client_call_json(c, NULL, WIRE_POST, path, body, 0, &rep);
	json_decref(body);
	if (rv)
		return rv;
	const json_t *got = json_object_get(rep.json, "messageIds");
	size_t n = json_array_size(msgs);
	if (!json_is_array(got) || json_array_size(got) != n) {
		rv = errors_set(RN_EPROTO, "The publish reply has no messageIds for every message");
	} else if (ids) {
		for (size_t i = 0; i < n && !rv; i++) {
			const json_t *id = json_array_get(got, i);
			ids[i] = strdup(json_is_string(id) ? json_string_value(id) : "");
			if (!ids[i]) {
				client_strv_free(ids, i);
				rv = errors_set(RN_ENOMEM, "Out of memory");
			}
		}
	}
	client_reply_cleanup(&rep);
	return rv;
}

int rn_publish(struct rn_client *c, const char *topic, const struct rn_pubmsg *msgs, size_t n,
	       char **ids_out)
{
	char full[NAME_MAX_LEN];
	int rv = check_client(c);
	if (rv)
		return rv;
	if (!msgs || n == 0 || n > CLIENT_MAX_BATCH)
		return errors_set(RN_EINVAL, "Publish needs 1..%d messages", CLIENT_MAX_BATCH);
	if ((rv = client_resolve(c->project, "topics", topic, full, sizeof(full))) != 0)
		return rv;
	json_t *arr = json_array();
	if (!arr)
		return errors_set(RN_ENOMEM, "Out of memory");
	for (size_t i = 0; i < n && !rv; i++) {
		json_t *m = NULL;
		if ((rv = message_pub_json(&msgs[i], &m, NULL)) == 0)
			json_array_append_new(arr, m);
	}
	if (!rv) {
		/* resources_publish frees the strings it made on failure only;
		 * ids_out stays untouched then. */
		char **tmp = ids_out ? calloc(n, sizeof(char *)) : NULL;
		if (ids_out && !tmp) {
			rv = errors_set(RN_ENOMEM, "Out of memory");
		} else {
			rv = resources_publish(c, full, arr, tmp);
			if (!rv && ids_out)
				memcpy(ids_out, tmp, n * sizeof(char *));
			free(tmp);
		}
	}
	json_decref(arr);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Pull and acknowledgement */

int rn_pull(struct rn_client *c, const char *sub, int max, int wait, struct rn_message ***msgs_out,
	    size_t *n_out)
{
	char full[NAME_MAX_LEN], path[PATH_MAX_LEN];
	if (msgs_out)
		*msgs_out = NULL;
	if (n_out)
		*n_out = 0;
	int rv = resolve_path(c, "subscriptions", sub, ":pull", full, path);
	if (rv)
		return rv;
	if (!msgs_out || !n_out || max < 1 || max > CLIENT_MAX_BATCH)
		return errors_set(RN_EINVAL, "max must be 1..%d and the outputs not NULL",
				  CLIENT_MAX_BATCH);
	return client_pull(c, NULL, path, max, wait, wait ? client_longpoll_timeout(c) : 0,
			   msgs_out, n_out);
}

int resources_ack_ids(struct rn_client *c, const char *sub, const char *const *ids, size_t n,
		      int seconds, int timeout_ms)
{
	char path[PATH_MAX_LEN];
	int rv = make_path(path, sizeof(path), sub,
			   seconds < 0 ? ":acknowledge" : ":modifyAckDeadline");
	for (size_t off = 0; off < n && !rv; off += CLIENT_MAX_BATCH) {
		size_t k = n - off < CLIENT_MAX_BATCH ? n - off : CLIENT_MAX_BATCH;
		json_t *arr = json_array(), *body = NULL;
		for (size_t i = 0; arr && i < k; i++) {
			json_t *s = ids[off + i] ? json_string(ids[off + i]) : NULL;
			if (!s) {
				json_decref(arr);
				return errors_set(RN_EINVAL, "Invalid ack id");
			}
			json_array_append_new(arr, s);
		}
		if (arr)
			body = seconds < 0 ? json_pack("{s:o}", "ackIds", arr)
					   : json_pack("{s:o,s:i}", "ackIds", arr,
						       "ackDeadlineSeconds", seconds);
		if (!body)
			return errors_set(RN_ENOMEM, "Out of memory");
		struct client_reply rep;
		rv = client_call_json(c, NULL, WIRE_POST, path, body, timeout_ms, &rep);
		json_decref(body);
		if (!rv)
			client_reply_cleanup(&rep);
	}
	return rv;
}

/* Resolves sub and checks the ack id list. */
static int ack_call(struct rn_client *c, const char *sub, const char *const *ids, size_t n,
		    int seconds)
{
	char full[NAME_MAX_LEN];
	int rv = check_client(c);
	if (rv)
		return rv;
	if ((rv = client_resolve(c->project, "subscriptions", sub, full, sizeof(full))) != 0)
		return rv;
	if (!ids || n == 0)
		return errors_set(RN_EINVAL, "No ack ids");
	return resources_ack_ids(c, full, ids, n, seconds, 0);
}

int rn_ack(struct rn_client *c, const char *sub, const char *const *ack_ids, size_t n)
{
	return ack_call(c, sub, ack_ids, n, -1);
}

int rn_nack(struct rn_client *c, const char *sub, const char *const *ack_ids, size_t n)
{
	return ack_call(c, sub, ack_ids, n, 0);
}

int rn_modify_ack_deadline(struct rn_client *c, const char *sub, const char *const *ack_ids,
			   size_t n, int seconds)
{
	if (seconds < 0 || seconds > 600)
		return errors_set(RN_EINVAL, "The ack deadline must be 0..600 seconds");
	return ack_call(c, sub, ack_ids, n, seconds);
}

int rn_request(struct rn_client *c, const char *method, const char *path, const char *body,
	       char **reply)
{
	static const struct {
		const char *name;
		enum wire_method m;
	} methods[] = { { "GET", WIRE_GET },
			{ "PUT", WIRE_PUT },
			{ "POST", WIRE_POST },
			{ "PATCH", WIRE_PATCH },
			{ "DELETE", WIRE_DELETE } };
	if (!c || !method || !path || !reply)
		return errors_set(RN_EINVAL, "c, method, path and reply are required");
	*reply = NULL;
	enum wire_method m = 0;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, method) == 0)
			m = methods[i].m;
	if (m == 0)
		return errors_set(RN_EINVAL, "Unknown method '%s'", method);
	if (path[0] != '/')
		return errors_set(RN_EINVAL, "The path must start with '/'");
	struct client_reply rep;
	int rv = client_call(c, NULL, m, path, body, body ? strlen(body) : 0, 0, &rep);
	if (!rv) {
		*reply = strdup(rep.body ? rep.body : "");
		if (!*reply)
			rv = errors_set(RN_ENOMEM, "Out of memory");
	}
	client_reply_cleanup(&rep);
	return rv;
}
