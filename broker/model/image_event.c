/* image_event.c - registry event -> GCR message translation (DESIGN §5).
 *
 * | registry event             | message data                                      |
 * | manifest push by tag       | {"action":"INSERT","digest":"H/R@d","tag":"H/R:T"} |
 * | manifest push by digest    | {"action":"INSERT","digest":"H/R@d"}               |
 * | tag delete                 | {"action":"DELETE","tag":"H/R:T"}                  |
 * | manifest delete by digest  | {"action":"DELETE","digest":"H/R@d"} (known only)  |
 * | blob push/mount, pulls     | nothing on gcr (pulls update last-pulled)          |
 */
#include "image_event.h"

#include "mem.h"
#include "names.h"

#include <ctype.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOB_MEDIA_TYPE "application/octet-stream"

int image_event_valid_digest(const char *d)
{
	/* OCI: algorithm ":" encoded; we accept the registered algorithms. */
	size_t hex;
	if (strncmp(d, "sha256:", 7) == 0)
		hex = 64;
	else if (strncmp(d, "sha512:", 7) == 0)
		hex = 128;
	else
		return 0;
	const char *h = d + 7;
	if (strlen(h) != hex)
		return 0;
	for (size_t i = 0; i < hex; i++)
		if (!isdigit((unsigned char)h[i]) && !(h[i] >= 'a' && h[i] <= 'f'))
			return 0;
	return 1;
}

int image_event_valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n < 1 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("._-", t[i]))
			return 0;
	return 1;
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* (the
 * distribution reference grammar). */
static int valid_component(const char *c, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t run = 0;
		while (i < n && ((c[i] >= 'a' && c[i] <= 'z') || isdigit((unsigned char)c[i]))) {
			i++;
			run++;
		}
		if (run == 0)
			return 0;
		if (i == n)
			return 1;
		if (c[i] == '.') {
			i++;
		} else if (c[i] == '_') {
			i += (i + 1 < n && c[i + 1] == '_') ? 2 : 1;
		} else if (c[i] == '-') {
			while (i < n && c[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i == n)
			return 0;
	}
	return 0;
}

int image_event_valid_repository(const char *r)
{
	size_t n = strlen(r);
	if (n < 1 || n > 255)
		return 0;
	const char *p = r;
	while (1) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!valid_component(p, len))
			return 0;
		if (slash == NULL)
			return 1;
		p = slash + 1;
	}
}

int image_event_valid_host(const char *h)
{
	size_t n = strlen(h);
	if (n < 1 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-:[]", h[i]))
			return 0;
	return 1;
}

static struct image_event *push_event(struct image_event_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->ev = mem_realloc(l->ev, l->cap * sizeof(*l->ev));
	}
	struct image_event *e = &l->ev[l->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

void image_event_list_cleanup(struct image_event_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->ev[i].data);
		free(l->ev[i].attrs);
	}
	l->n = 0;
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The project a repository's events go to. -1 when the namespace is not a
 * valid project ID. */
static int project_of(const char *repo, const struct ingest_settings *s, char *out, size_t outlen)
{
	const char *slash = strchr(repo, '/');
	if (s->mode == INGEST_FIXED || slash == NULL) {
		snprintf(out, outlen, "%s", s->project);
		return 0;
	}
	if ((size_t)(slash - repo) >= outlen)
		return -1;
	memcpy(out, repo, (size_t)(slash - repo));
	out[slash - repo] = '\0';
	return names_valid_project(out);
}

/* Turns e into an OP_REJECT carrying the raw event and the reason. */
static void reject(struct image_event *e, json_t *raw, const char *source,
		   const struct ingest_settings *s, const char *reason)
{
	e->op = OP_REJECT;
	if (e->project[0] == '\0' || names_valid_project(e->project) != 0)
		snprintf(e->project, sizeof(e->project), "%s", s->project);
	free(e->data);
	free(e->attrs);
	e->data = json_dumps(raw, JSON_COMPACT);
	json_t *a = json_object();
	json_object_set_new(a, "reason", json_string(reason));
	json_object_set_new(a, "source", json_string(source));
	if (e->id[0])
		json_object_set_new(a, "eventId", json_string(e->id));
	if (e->repository[0])
		json_object_set_new(a, "repository", json_string(e->repository));
	e->attrs = json_dumps(a, JSON_COMPACT);
	json_decref(a);
}

/* Fills data and attributes of an INSERT/DELETE message. Values are
 * validated to [A-Za-z0-9._:/@[]-], so they need no JSON escaping. */
static void make_message(struct image_event *e, const char *action, const char *host,
			 const char *digest, const char *tag)
{
	char dref[IMAGE_REF_MAX] = "", tref[IMAGE_REF_MAX] = "";
	if (digest)
		snprintf(dref, sizeof(dref), "%s/%s@%s", host, e->repository, digest);
	if (tag)
		snprintf(tref, sizeof(tref), "%s/%s:%s", host, e->repository, tag);
	json_t *d = json_object();
	json_object_set_new(d, "action", json_string(action));
	if (digest)
		json_object_set_new(d, "digest", json_string(dref));
	if (tag)
		json_object_set_new(d, "tag", json_string(tref));
	/* jansson keeps insertion order: action, digest, tag, as GCR sends. */
	e->data = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	json_t *a = json_object();
	json_object_set_new(a, "action", json_string(action));
	json_object_set_new(a, "repository", json_string(e->repository));
	json_object_set_new(a, "registry", json_string(host));
	if (digest)
		json_object_set_new(a, "digest", json_string(digest));
	if (tag)
		json_object_set_new(a, "tag", json_string(tag));
	e->attrs = json_dumps(a, JSON_COMPACT);
	json_decref(a);
}

static void set_id(struct image_event *e, json_t *ev)
{
	const char *id = str(ev, "id");
	size_t n = id ? strlen(id) : 0;
	if (n == 0)
		return;
	if (n <= 120) {
		snprintf(e->id, sizeof(e->id), "%s", id);
		return;
	}
	/* A long id still deduplicates, by its hash. */
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)id, n, md);
	int o = snprintf(e->id, sizeof(e->id), "sha256:");
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		o += snprintf(e->id + o, sizeof(e->id) - (size_t)o, "%02x", md[i]);
}

/* Shared checks: repository, project, host. Returns 0, or -1 after
 * turning e into a reject. */
static int common_or_reject(struct image_event *e, json_t *ev, const char *source,
			    const struct ingest_settings *s, const char *repo, const char *host)
{
	if (repo == NULL || repo[0] == '\0') {
		reject(e, ev, source, s, "missing repository");
		return -1;
	}
	if (!image_event_valid_repository(repo) || strlen(repo) >= sizeof(e->repository)) {
		reject(e, ev, source, s, "invalid repository name");
		return -1;
	}
	snprintf(e->repository, sizeof(e->repository), "%s", repo);
	if (project_of(repo, s, e->project, sizeof(e->project)) != 0) {
		e->project[0] = '\0';
		reject(e, ev, source, s, "repository namespace is not a valid project ID");
		return -1;
	}
	if (host == NULL || !image_event_valid_host(host)) {
		reject(e, ev, source, s,
		       host ? "invalid registry host"
			    : "no registry host: "
			      "configure registry_host or send request.host");
		return -1;
	}
	return 0;
}

/* Shared checks of digest, tag and action; keeps the digest. Returns 0,
 * or -1 after turning e into a reject. */
static int digest_tag_or_reject(struct image_event *e, json_t *ev, const char *src,
				const struct ingest_settings *s, const char *digest,
				const char *tag, const char *action)
{
	const char *why = digest && !image_event_valid_digest(digest) ? "invalid digest"
			  : tag && !image_event_valid_tag(tag)        ? "invalid tag"
			  : action == NULL                            ? "missing action"
								      : NULL;
	if (why) {
		reject(e, ev, src, s, why);
		return -1;
	}
	if (digest)
		snprintf(e->digest, sizeof(e->digest), "%s", digest);
	return 0;
}

void image_event_from_distribution(json_t *ev, const struct ingest_settings *s,
				   struct image_event_list *out)
{
	static const char src[] = "distribution";
	struct image_event *e = push_event(out);
	if (!json_is_object(ev)) {
		reject(e, ev, src, s, "event is not a JSON object");
		return;
	}
	set_id(e, ev);
	json_t *target = json_object_get(ev, "target");
	const char *action = str(ev, "action");
	if (!json_is_object(target)) {
		reject(e, ev, src, s, "missing target");
		return;
	}
	const char *host = s->registry_host[0] ? s->registry_host
					       : str(json_object_get(ev, "request"), "host");
	if (common_or_reject(e, ev, src, s, str(target, "repository"), host))
		return;
	const char *mt = str(target, "mediaType");
	const char *digest = str(target, "digest");
	const char *tag = str(target, "tag");
	if (digest_tag_or_reject(e, ev, src, s, digest, tag, action))
		return;
	if (strcmp(action, "push") == 0 || strcmp(action, "pull") == 0) {
		int blob = mt == NULL || strcmp(mt, BLOB_MEDIA_TYPE) == 0;
		if (digest == NULL) {
			reject(e, ev, src, s, "missing digest");
		} else if (blob) {
			e->op = OP_IGNORE; /* layer noise */
		} else if (action[1] == 'u' && action[2] == 's') {
			e->op = OP_INSERT;
			make_message(e, "INSERT", host, digest, tag);
		} else {
			e->op = OP_PULL;
			snprintf(e->ref, sizeof(e->ref), "%s/%s@%s", host, e->repository, digest);
		}
	} else if (strcmp(action, "mount") == 0) {
		e->op = OP_IGNORE;
	} else if (strcmp(action, "delete") == 0) {
		if (digest) {
			/* A blob delete has the same shape: only digests known
			 * to be manifests are published (ingest.lua). */
			e->op = OP_DELETE_DIGEST;
			make_message(e, "DELETE", host, digest, NULL);
		} else if (tag) {
			e->op = OP_PUBLISH;
			make_message(e, "DELETE", host, NULL, tag);
		} else {
			e->op = OP_IGNORE; /* repository delete: no GCR equivalent */
		}
	} else {
		reject(e, ev, src, s, "unknown action");
	}
}

void image_event_from_native(json_t *ev, const struct ingest_settings *s,
			     struct image_event_list *out)
{
	static const char src[] = "native";
	struct image_event *e = push_event(out);
	if (!json_is_object(ev)) {
		reject(e, ev, src, s, "event is not a JSON object");
		return;
	}
	set_id(e, ev);
	const char *action = str(ev, "action");
	const char *host = str(ev, "registry");
	if (host == NULL || host[0] == '\0')
		host = s->registry_host[0] ? s->registry_host : NULL;
	if (common_or_reject(e, ev, src, s, str(ev, "repository"), host))
		return;
	const char *digest = str(ev, "digest");
	const char *tag = str(ev, "tag");
	if (digest && digest[0] == '\0')
		digest = NULL;
	if (tag && tag[0] == '\0')
		tag = NULL;
	if (digest_tag_or_reject(e, ev, src, s, digest, tag, action))
		return;
	if (strcmp(action, "push") == 0 || strcmp(action, "tag") == 0) {
		if (digest == NULL)
			reject(e, ev, src, s, "missing digest");
		else if (action[0] == 't' && tag == NULL)
			reject(e, ev, src, s, "missing tag");
		else {
			e->op = OP_INSERT;
			make_message(e, "INSERT", host, digest, tag);
		}
	} else if (strcmp(action, "delete") == 0) {
		if (digest == NULL && tag == NULL) {
			reject(e, ev, src, s, "delete needs a digest or a tag");
			return;
		}
		e->op = OP_PUBLISH;
		make_message(e, "DELETE", host, digest, NULL);
		if (digest == NULL) {
			free(e->data);
			free(e->attrs);
			make_message(e, "DELETE", host, NULL, tag);
		} else if (tag) {
			/* Digest and tag: two messages. The second one's dedup
			 * id is the event id + "#tag", so a re-sent event is
			 * still dropped whole. */
			struct image_event copy = *e; /* push_event may move e */
			struct image_event *t = push_event(out);
			*t = copy;
			t->data = NULL;
			t->attrs = NULL;
			if (copy.id[0])
				snprintf(t->id, sizeof(t->id), "%.120s#tag", copy.id);
			make_message(t, "DELETE", host, NULL, tag);
		}
	} else {
		reject(e, ev, src, s, "unknown action");
	}
}
