/* pubscan.c - in-place scanner for publish bodies (see pubscan.h). */
#include "pubscan.h"

#include "mem.h"

#include <string.h>

struct scan {
	const char *p, *end;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static int eat(struct scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 1;
	}
	return 0;
}

/* A string of printable ASCII without escapes: its contents. */
static int string(struct scan *s, const char **v, size_t *n)
{
	if (!eat(s, '"'))
		return -1;
	const char *start = s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c == '\\' || c < 0x20 || c > 0x7e)
			return -1;
		s->p++;
	}
	if (s->p == s->end)
		return -1;
	*v = start;
	*n = (size_t)(s->p - start);
	s->p++;
	return 0;
}

static int key_is(const char *k, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(k, lit, n) == 0;
}

/* {"k":"v",...}: validated; the object's text span in *span. */
static int attributes(struct scan *s, struct pubscan_msg *m)
{
	ws(s);
	const char *start = s->p;
	const char *keys[PUBSCAN_MAX_ATTRS];
	size_t klen[PUBSCAN_MAX_ATTRS];
	int n = 0;
	if (!eat(s, '{'))
		return -1;
	if (!eat(s, '}')) {
		do {
			const char *k, *v;
			size_t kl, vl;
			if (n == PUBSCAN_MAX_ATTRS || string(s, &k, &kl) || !eat(s, ':') ||
			    string(s, &v, &vl) || kl == 0 || kl > PUBSCAN_MAX_ATTR_KEY ||
			    vl > PUBSCAN_MAX_ATTR_VALUE)
				return -1;
			for (int i = 0; i < n; i++)
				if (klen[i] == kl && memcmp(keys[i], k, kl) == 0)
					return -1; /* duplicate: let jansson decide */
			keys[n] = k;
			klen[n++] = kl;
		} while (eat(s, ','));
		if (!eat(s, '}'))
			return -1;
	}
	if (n > 0) {
		m->attrs = start;
		m->attrs_len = (size_t)(s->p - start);
	}
	return 0;
}

static int message(struct scan *s, struct pubscan_msg *m)
{
	int seen_data = 0, seen_attrs = 0, seen_key = 0, seen_id = 0, seen_time = 0;
	memset(m, 0, sizeof(*m));
	if (!eat(s, '{'))
		return -1;
	if (eat(s, '}'))
		return -1; /* empty message: jansson words the error */
	do {
		const char *k, *v;
		size_t kl, vl;
		if (string(s, &k, &kl) || !eat(s, ':'))
			return -1;
		if (key_is(k, kl, "data") && !seen_data++) {
			if (string(s, &m->data, &m->data_len))
				return -1;
		} else if (key_is(k, kl, "attributes") && !seen_attrs++) {
			if (attributes(s, m))
				return -1;
		} else if (key_is(k, kl, "orderingKey") && !seen_key++) {
			if (string(s, &m->key, &m->key_len) || m->key_len > PUBSCAN_MAX_KEY)
				return -1;
		} else if ((key_is(k, kl, "messageId") && !seen_id++) ||
			   (key_is(k, kl, "publishTime") && !seen_time++)) {
			if (string(s, &v, &vl)) /* server-set fields: ignored */
				return -1;
		} else {
			return -1;
		}
	} while (eat(s, ','));
	if (!eat(s, '}'))
		return -1;
	if (m->data_len == 0 && m->attrs == NULL)
		return -1;
	return 0;
}

int pubscan_parse(const char *body, size_t len, struct pubscan_msg **out)
{
	struct scan s = { body, body + len };
	const char *k;
	size_t kl;
	if (!eat(&s, '{') || string(&s, &k, &kl) || !key_is(k, kl, "messages") || !eat(&s, ':') ||
	    !eat(&s, '['))
		return -1;
	size_t cap = 16, n = 0;
	struct pubscan_msg *m = mem_alloc(cap * sizeof(*m));
	do {
		if (n == PUBSCAN_MAX_MESSAGES)
			goto decline;
		if (n == cap) {
			cap *= 2;
			m = mem_realloc(m, cap * sizeof(*m));
		}
		if (message(&s, &m[n]))
			goto decline;
		n++;
	} while (eat(&s, ','));
	if (!eat(&s, ']') || !eat(&s, '}'))
		goto decline;
	ws(&s);
	if (s.p != s.end)
		goto decline;
	*out = m;
	return (int)n;
decline:
	mem_free(m);
	return -1;
}
