/* image_event.h - registry events (CNCF Distribution and the native format)
 * translated into what the broker stores: GCR-style messages on the `gcr`
 * topic, pull records, rejects. Pure functions: no I/O, any thread. */
#ifndef RN_IMAGE_EVENT_H
#define RN_IMAGE_EVENT_H

#include <jansson.h>
#include <stddef.h>

enum ingest_mode { INGEST_NAMESPACE = 0, INGEST_FIXED };

struct ingest_settings {
	enum ingest_mode mode;
	const char *project;       /* fixed mode; namespace mode: repos without '/' */
	const char *registry_host; /* public host; "" = the event's request.host */
};

/* What the store does with one translated event (ingest.lua). */
enum ingest_op {
	OP_IGNORE,        /* blob push/pull, mount, repository delete: dedup only */
	OP_INSERT,        /* publish INSERT, remember the digest as a manifest */
	OP_PUBLISH,       /* publish as is (tag delete, native delete) */
	OP_DELETE_DIGEST, /* publish only if the digest is a known manifest */
	OP_PULL,          /* record last-pulled time of the image */
	OP_REJECT,        /* publish the raw event with its reason to registry-rejects */
};

#define IMAGE_REF_MAX 768

struct image_event {
	enum ingest_op op;
	char id[129]; /* dedup key: the event id, or "sha256:<hex>" of an id
		       * longer than 120 bytes; "" when absent (no dedup) */
	char project[101];
	char repository[256];
	char digest[140];        /* "sha256:..." or "" */
	char ref[IMAGE_REF_MAX]; /* HOST/REPO@DIGEST for pulls */
	char *data;              /* message data (JSON text), owned */
	char *attrs;             /* attributes (JSON object text), owned, or NULL */
};

struct image_event_list {
	struct image_event *ev;
	size_t n, cap;
};

/* Translates one Distribution event (an element of "events") and appends
 * the result (one entry, possibly OP_REJECT/OP_IGNORE) to out. */
void image_event_from_distribution(json_t *ev, const struct ingest_settings *s,
				   struct image_event_list *out);

/* Translates one native event {"action":"push"|"tag"|"delete","repository",
 * "digest","tag","registry","id"}; a delete with digest and tag gives two
 * entries. */
void image_event_from_native(json_t *ev, const struct ingest_settings *s,
			     struct image_event_list *out);

/* Frees the entries' memory; the list can be reused. */
void image_event_list_cleanup(struct image_event_list *l);

/* Validators (exposed for tests): 1 when valid. */
int image_event_valid_digest(const char *d);
int image_event_valid_tag(const char *t);
int image_event_valid_repository(const char *r);
int image_event_valid_host(const char *h);

#endif
