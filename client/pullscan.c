/* pullscan.c - the pull reply read in place: the shape the broker writes
 * (broker/api/pull.c reply_messages), scanned without building a jansson
 * tree, each message in one allocation (its struct, attribute arrays,
 * strings and data; the ack id apart, as the subscriber hands it on).
 * Anything it does not expect - another key, a duplicate attribute, more
 * than MAX_ATTRS attributes - makes it give up, and the caller parses the
 * reply with jansson instead (message_parse_pull): same result, slower.
 * This was 40 % of a draining subscriber's CPU (docs/performance.md). */
#include "internal.h"

#include "base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTRS 100

/* A JSON string as found: its raw text between the quotes. */
struct span {
	const char *s;
	size_t n;
	int esc; /* has backslash escapes */
};

struct scan {
	const char *p, *end;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static int lit(struct scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 1;
	}
	return 0;
}

/* 1 when s[0..n) is well-formed UTF-8 (jansson refuses a reply that is not). */
static int utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		unsigned c = *p++;
		int more = c < 0x80             ? 0
			   : (c & 0xe0) == 0xc0 ? 1
			   : (c & 0xf0) == 0xe0 ? 2
			   : (c & 0xf8) == 0xf0 ? 3
						: -1;
		if (more < 0 || (c == 0xc0 || c == 0xc1 || c > 0xf4) || e - p < more)
			return 0;
		for (int i = 0; i < more; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		/* No overlong forms, no surrogates, nothing past U+10FFFF. */
		if ((c == 0xe0 && p[0] < 0xa0) || (c == 0xed && p[0] >= 0xa0) ||
		    (c == 0xf0 && p[0] < 0x90) || (c == 0xf4 && p[0] >= 0x90))
			return 0;
		p += more;
	}
	return 1;
}

/* A string token; its escapes are checked when it is decoded. */
static int str(struct scan *s, struct span *out)
{
	if (!lit(s, '"'))
		return -1;
	out->s = s->p;
	out->esc = 0;
	while (s->p < s->end && *s->p != '"') {
		if ((unsigned char)*s->p < 0x20)
			return -1;
		if (*s->p == '\\') {
			out->esc = 1;
			if (++s->p >= s->end)
				return -1;
		}
		s->p++;
	}
	if (s->p >= s->end)
		return -1;
	out->n = (size_t)(s->p - out->s);
	s->p++;
	return utf8_ok(out->s, out->n) ? 0 : -1;
}

static int is_key(const struct span *k, const char *name)
{
	size_t n = strlen(name);
	return !k->esc && k->n == n && memcmp(k->s, name, n) == 0;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16;
		if (d > 15)
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

/* Writes sp decoded (UTF-8) and NUL-terminated at out (room for sp->n +
 * 1: a decoded string is never longer); returns its length or -1. */
static long unescape(const struct span *sp, char *out)
{
	if (!sp->esc) {
		memcpy(out, sp->s, sp->n);
		out[sp->n] = '\0';
		return (long)sp->n;
	}
	const char *p = sp->s, *e = sp->s + sp->n;
	char *o = out;
	while (p < e) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		char c = *p++;
		switch (c) {
		case '"':
		case '\\':
		case '/': *o++ = c; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (e - p < 4 || hex4(p, &cp) != 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    hex4(p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			if (cp == 0)
				return -1; /* jansson refuses \u0000 in keys and values */
			/* \uXXXX is 6 bytes, 12 for a pair: UTF-8 is shorter. */
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | cp >> 6);
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*o++ = (char)(0xe0 | cp >> 12);
				*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xf0 | cp >> 18);
				*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
				*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default: return -1;
		}
	}
	*o = '\0';
	return (long)(o - out);
}

/* One ReceivedMessage's parts, as found. */
struct found {
	struct span ack, data, id, time, key;
	int has_data, has_id, has_time, has_key, has_attempt;
	long long attempt;
	struct span k[MAX_ATTRS], v[MAX_ATTRS];
	size_t nattrs;
};

static int number(struct scan *s, long long *v)
{
	ws(s);
	int neg = s->p < s->end && *s->p == '-';
	if (neg)
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return -1;
	long long x = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		if (x > (INT32_MAX - 9) / 10)
			return -1;
		x = x * 10 + (*s->p++ - '0');
	}
	*v = neg ? -x : x;
	return 0;
}

static int scan_attrs(struct scan *s, struct found *f)
{
	if (!lit(s, '{'))
		return -1;
	if (lit(s, '}'))
		return 0;
	do {
		if (f->nattrs == MAX_ATTRS || str(s, &f->k[f->nattrs]) != 0 || !lit(s, ':') ||
		    str(s, &f->v[f->nattrs]) != 0)
			return -1;
		f->nattrs++;
	} while (lit(s, ','));
	return lit(s, '}') ? 0 : -1;
}

static int scan_message(struct scan *s, struct found *f)
{
	if (!lit(s, '{'))
		return -1;
	if (lit(s, '}'))
		return 0;
	do {
		struct span k;
		if (str(s, &k) != 0 || !lit(s, ':'))
			return -1;
		if (is_key(&k, "data") && !f->has_data) {
			f->has_data = 1;
			if (str(s, &f->data) != 0 || f->data.esc)
				return -1;
		} else if (is_key(&k, "attributes") && f->nattrs == 0) {
			if (scan_attrs(s, f) != 0)
				return -1;
		} else if (is_key(&k, "messageId") && !f->has_id) {
			f->has_id = 1;
			if (str(s, &f->id) != 0)
				return -1;
		} else if (is_key(&k, "publishTime") && !f->has_time) {
			f->has_time = 1;
			if (str(s, &f->time) != 0)
				return -1;
		} else if (is_key(&k, "orderingKey") && !f->has_key) {
			f->has_key = 1;
			if (str(s, &f->key) != 0)
				return -1;
		} else {
			return -1;
		}
	} while (lit(s, ','));
	return lit(s, '}') ? 0 : -1;
}

static int scan_received(struct scan *s, struct found *f)
{
	memset(f, 0, offsetof(struct found, k));
	f->nattrs = 0;
	int has_ack = 0, has_msg = 0;
	if (!lit(s, '{'))
		return -1;
	do {
		struct span k;
		if (str(s, &k) != 0 || !lit(s, ':'))
			return -1;
		if (is_key(&k, "ackId") && !has_ack) {
			has_ack = 1;
			if (str(s, &f->ack) != 0)
				return -1;
		} else if (is_key(&k, "message") && !has_msg) {
			has_msg = 1;
			if (scan_message(s, f) != 0)
				return -1;
		} else if (is_key(&k, "deliveryAttempt") && !f->has_attempt) {
			f->has_attempt = 1;
			if (number(s, &f->attempt) != 0)
				return -1;
		} else {
			return -1;
		}
	} while (lit(s, ','));
	return lit(s, '}') && has_ack && has_msg ? 0 : -1;
}

/* Builds the message f describes in one block (the ack id apart). */
static int build(const struct found *f, struct rn_message **out)
{
	size_t need = sizeof(struct rn_message) + 2 * f->nattrs * sizeof(char *) +
		      BASE64_DECODED_MAX(f->has_data ? f->data.n : 0) + 1 +
		      (f->has_id ? f->id.n : 0) + 1 + (f->has_key ? f->key.n : 0) + 1;
	for (size_t i = 0; i < f->nattrs; i++)
		need += f->k[i].n + f->v[i].n + 2;
	struct rn_message *m = malloc(need);
	char *ack = malloc(f->ack.n + 1);
	if (!m || !ack) {
		free(m);
		free(ack);
		return RN_ENOMEM;
	}
	memset(m, 0, sizeof(*m));
	m->one_block = true;
	char *p = (char *)(m + 1);
	if (f->nattrs) {
		m->keys = (char **)p;
		m->values = m->keys + f->nattrs;
		p = (char *)(m->values + f->nattrs);
	}
	m->data = (unsigned char *)p;
	long dl = f->has_data ? base64_decode(f->data.s, f->data.n, m->data) : 0;
	if (dl < 0)
		goto bad;
	m->len = (size_t)dl;
	m->data[dl] = '\0';
	p += dl + 1;
	long n;
	m->id = p;
	if (f->has_id) {
		if ((n = unescape(&f->id, p)) < 0)
			goto bad;
	} else {
		n = 0;
		*p = '\0';
	}
	p += n + 1;
	m->ordering_key = p;
	if (f->has_key) {
		if ((n = unescape(&f->key, p)) < 0)
			goto bad;
	} else {
		n = 0;
		*p = '\0';
	}
	p += n + 1;
	for (size_t i = 0; i < f->nattrs; i++) {
		m->keys[i] = p;
		if ((n = unescape(&f->k[i], p)) < 0 || (size_t)n != strlen(p))
			goto bad;
		p += n + 1;
		m->values[i] = p;
		if ((n = unescape(&f->v[i], p)) < 0 || (size_t)n != strlen(p))
			goto bad;
		p += n + 1;
	}
	m->nattrs = f->nattrs;
	client_sort_attrs(m->keys, m->values, m->nattrs);
	for (size_t i = 1; i < m->nattrs; i++)
		if (strcmp(m->keys[i - 1], m->keys[i]) == 0)
			goto bad; /* jansson keeps the last: let it decide */
	if (unescape(&f->ack, ack) < 0)
		goto bad;
	m->ack_id = ack;
	if (!f->has_time || f->time.esc || f->time.n > 63) {
		m->publish_ms = 0;
	} else {
		char t[64];
		memcpy(t, f->time.s, f->time.n);
		t[f->time.n] = '\0';
		if (message_parse_time(t, &m->publish_ms) != 0)
			m->publish_ms = 0;
	}
	m->delivery_attempt = f->has_attempt ? (int)f->attempt : 0;
	*out = m;
	return 0;
bad:
	free(m);
	free(ack);
	return 1;
}

int message_scan_pull(const char *body, size_t len, struct rn_message ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct scan s = { body, body + len };
	if (!lit(&s, '{'))
		return 1;
	if (lit(&s, '}')) {
		ws(&s);
		return s.p == s.end ? 0 : 1;
	}
	struct span k;
	if (str(&s, &k) != 0 || !is_key(&k, "receivedMessages") || !lit(&s, ':') || !lit(&s, '['))
		return 1;
	struct found *f = malloc(sizeof(*f));
	size_t cap = 0, cnt = 0;
	struct rn_message **v = NULL;
	int rv = 1;
	if (!f)
		return RN_ENOMEM;
	if (lit(&s, ']'))
		goto done;
	do {
		if (scan_received(&s, f) != 0)
			goto fail;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct rn_message **nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				rv = RN_ENOMEM;
				goto fail;
			}
			v = nv;
			cap = nc;
		}
		int b = build(f, &v[cnt]);
		if (b != 0) {
			rv = b;
			goto fail;
		}
		cnt++;
	} while (lit(&s, ','));
	if (!lit(&s, ']'))
		goto fail;
done:
	if (!lit(&s, '}'))
		goto fail;
	ws(&s);
	if (s.p != s.end)
		goto fail;
	free(f);
	*out = v;
	*n = cnt;
	return 0;
fail:
	free(f);
	rn_messages_free(v, cnt);
	return rv;
}
