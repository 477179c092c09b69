/* pbjson.c - protobuf-c messages to and from their proto3 JSON mapping
 * (https://protobuf.dev/programming-guides/proto3/#json), driven by the
 * generated descriptors, so that the gRPC endpoint hands the REST handlers
 * the JSON bodies they already take and turns their JSON answers into the
 * response messages. */
#include "pbjson.h"

#include "base64.h"
#include "mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMBER(type, m, off) (*(type *)((char *)(m) + (off)))

/* "ack_deadline_seconds" -> "ackDeadlineSeconds" (protoc's json_name). */
void pbjson_camel(const char *name, char *buf, size_t n)
{
	size_t o = 0;
	int up = 0;
	for (const char *p = name; *p && o + 1 < n; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		buf[o++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		up = 0;
	}
	buf[o] = '\0';
}

/* "ackDeadlineSeconds" -> "ack_deadline_seconds" (FieldMask paths). */
static void snake(const char *name, char *buf, size_t n)
{
	size_t o = 0;
	for (const char *p = name; *p && o + 2 < n; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			buf[o++] = '_';
			buf[o++] = (char)(*p - 'A' + 'a');
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
}

static int is(const ProtobufCMessageDescriptor *d, const char *name)
{
	return strcmp(d->name, name) == 0;
}

/* A map<K, V>'s entry message: generated as a nested "...Entry" with key
 * (1) and value (2). */
static int is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t l = strlen(d->short_name);
	return d->n_fields == 2 && l > 5 && strcmp(d->short_name + l - 5, "Entry") == 0 &&
	       strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

/* ---- message -> JSON ---------------------------------------------------- */

static json_t *from_message(const ProtobufCMessage *m);

static void format_seconds(int64_t s, int32_t nanos, char *buf, size_t n, int rfc3339)
{
	char frac[16] = "";
	if (nanos < 0)
		nanos = -nanos;
	if (nanos % 1000000 == 0 && nanos)
		snprintf(frac, sizeof(frac), ".%03d", nanos / 1000000);
	else if (nanos % 1000 == 0 && nanos)
		snprintf(frac, sizeof(frac), ".%06d", nanos / 1000);
	else if (nanos)
		snprintf(frac, sizeof(frac), ".%09d", nanos);
	if (!rfc3339) {
		snprintf(buf, n, "%" PRId64 "%ss", s, frac);
		return;
	}
	time_t t = (time_t)s;
	struct tm tm;
	gmtime_r(&t, &tm);
	char day[32];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s%sZ", day, frac);
}

/* A well-known type's JSON, or NULL when m is not one. */
static json_t *from_well_known(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char buf[64];
	if (is(d, "google.protobuf.Timestamp") || is(d, "google.protobuf.Duration")) {
		int64_t s = MEMBER(int64_t, m, d->fields[0].offset);
		int32_t ns = MEMBER(int32_t, m, d->fields[1].offset);
		if (is(d, "google.protobuf.Duration") && s == 0 && ns < 0) {
			char pos[48];
			format_seconds(0, ns, pos, sizeof(pos), 0);
			snprintf(buf, sizeof(buf), "-%s", pos);
		} else {
			format_seconds(s, ns, buf, sizeof(buf), is(d, "google.protobuf.Timestamp"));
		}
		return json_string(buf);
	}
	if (is(d, "google.protobuf.FieldMask")) {
		size_t n = MEMBER(size_t, m, d->fields[0].quantifier_offset);
		char **paths = MEMBER(char **, m, d->fields[0].offset);
		size_t cap = 1;
		for (size_t i = 0; i < n; i++)
			cap += strlen(paths[i]) + 1;
		char *out = mem_alloc(cap), *o = out;
		*o = '\0';
		for (size_t i = 0; i < n; i++) {
			char c[256];
			pbjson_camel(paths[i], c, sizeof(c));
			o += sprintf(o, "%s%s", i ? "," : "", c);
		}
		json_t *j = json_string(out);
		mem_free(out);
		return j;
	}
	if (is(d, "google.protobuf.Empty"))
		return json_object();
	return NULL;
}

static json_t *from_value(const ProtobufCFieldDescriptor *f, const void *p)
{
	char buf[32];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)p);
		return json_string(buf);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)p);
		return json_string(buf);
	case PROTOBUF_C_TYPE_FLOAT: return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE: return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		return v ? json_string(v->name) : json_integer(*(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return json_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		char *out = mem_alloc(base64_encoded_len(b->len) + 1);
		size_t n = base64_encode(b->data, b->len, out);
		json_t *j = json_stringn(out, n);
		mem_free(out);
		return j;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		return sub ? from_message(sub) : json_null();
	}
	}
	return json_null();
}

/* 1 when a singular proto3 field holds its default (so JSON leaves it out). */
static int is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return *(const uint32_t *)p == 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)p == 0;
	case PROTOBUF_C_TYPE_ENUM: return *(const int *)p == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
	}
	return 1;
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	default: return 4;
	}
}

static json_t *from_message(const ProtobufCMessage *m)
{
	json_t *wk = from_well_known(m);
	if (wk)
		return wk;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_t *o = json_object();
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char name[128];
		pbjson_camel(f->name, name, sizeof(name));
		const char *p = (const char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = MEMBER(size_t, m, f->quantifier_offset);
			if (n == 0)
				continue;
			const char *arr = *(const char *const *)p;
			size_t es = elem_size(f);
			if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor)) {
				json_t *map = json_object();
				for (size_t k = 0; k < n; k++) {
					const ProtobufCMessage *e =
						((ProtobufCMessage *const *)arr)[k];
					const ProtobufCMessageDescriptor *ed = e->descriptor;
					json_t *key =
						from_value(&ed->fields[0],
							   (const char *)e + ed->fields[0].offset);
					json_t *val =
						from_value(&ed->fields[1],
							   (const char *)e + ed->fields[1].offset);
					char kb[32];
					const char *ks = json_string_value(key);
					if (ks == NULL) {
						snprintf(kb, sizeof(kb), "%" JSON_INTEGER_FORMAT,
							 json_integer_value(key));
						ks = kb;
					}
					json_object_set_new(map, ks, val);
					json_decref(key);
				}
				json_object_set_new(o, name, map);
				continue;
			}
			json_t *a = json_array();
			for (size_t k = 0; k < n; k++)
				json_array_append_new(a, from_value(f, arr + k * es));
			json_object_set_new(o, name, a);
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (MEMBER(uint32_t, m, f->quantifier_offset) != f->id)
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
			   f->type != PROTOBUF_C_TYPE_MESSAGE &&
			   f->type != PROTOBUF_C_TYPE_STRING) {
			if (!MEMBER(protobuf_c_boolean, m, f->quantifier_offset))
				continue;
		} else if (is_default(f, p)) {
			continue;
		}
		json_object_set_new(o, name, from_value(f, p));
	}
	return o;
}

json_t *pbjson_from_message(const ProtobufCMessage *m)
{
	return m ? from_message(m) : json_object();
}

/* ---- JSON -> message ---------------------------------------------------- */

struct ctx {
	char *err;
	size_t errn;
	int depth;
};

static int fail(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *x, const char *fmt, ...)
{
	if (x->err && x->errn && x->err[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(x->err, x->errn, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static ProtobufCMessage *to_message(const ProtobufCMessageDescriptor *d, json_t *v, struct ctx *x);

static char *dup_str(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p == NULL)
		abort();
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* An optional ".digits" (1 to 9) at *p as nanoseconds; *p moves past it. */
static int parse_fraction(const char **p, int32_t *ns)
{
	const char *s = *p;
	int digits = 0;
	*ns = 0;
	if (*s != '.')
		return 0;
	for (s++; *s >= '0' && *s <= '9'; s++, digits++)
		if (digits < 9)
			*ns = *ns * 10 + (*s - '0');
	if (digits == 0 || digits > 9)
		return -1;
	for (; digits < 9; digits++)
		*ns *= 10;
	*p = s;
	return 0;
}

/* Parses an RFC 3339 time ("2026-12-03T10:00:00.5Z", "+01:00" offsets). */
static int parse_rfc3339(const char *s, int64_t *secs, int32_t *nanos)
{
	struct tm tm = { 0 };
	int used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 ||
	    used != 19)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	const char *p = s + 19;
	int32_t ns;
	if (parse_fraction(&p, &ns) != 0)
		return -1;
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
			return -1;
		off = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*secs = (int64_t)timegm(&tm) - off;
	*nanos = ns;
	return 0;
}

/* Parses a proto3 JSON duration ("3.5s", "-1s"). */
static int parse_duration(const char *s, int64_t *secs, int32_t *nanos)
{
	int neg = *s == '-';
	const char *p = s + neg;
	char *end;
	errno = 0;
	long long whole = strtoll(p, &end, 10);
	if (end == p || errno)
		return -1;
	int32_t ns;
	const char *q = end;
	if (parse_fraction(&q, &ns) != 0)
		return -1;
	end = (char *)q;
	if (strcmp(end, "s") != 0)
		return -1;
	*secs = neg ? -whole : whole;
	*nanos = neg ? -ns : ns;
	return 0;
}

static int well_known(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, json_t *v,
		      struct ctx *x, int *handled)
{
	*handled = 1;
	if (is(d, "google.protobuf.Timestamp") || is(d, "google.protobuf.Duration")) {
		int64_t s;
		int32_t ns;
		const char *t = json_string_value(v);
		int ts = is(d, "google.protobuf.Timestamp");
		if (t == NULL || (ts ? parse_rfc3339(t, &s, &ns) : parse_duration(t, &s, &ns)) != 0)
			return fail(x, "Invalid %s value: expected %s.",
				    ts ? "timestamp" : "duration",
				    ts ? "an RFC 3339 time such as \"2026-12-03T10:00:00Z\""
				       : "seconds such as \"3.5s\"");
		MEMBER(int64_t, m, d->fields[0].offset) = s;
		MEMBER(int32_t, m, d->fields[1].offset) = ns;
		return 0;
	}
	if (is(d, "google.protobuf.FieldMask")) {
		const char *t = json_string_value(v);
		if (t == NULL)
			return fail(x, "Invalid field mask: expected a string such as \"a,b.c\".");
		size_t n = 0, cap = 0;
		char **paths = NULL;
		while (*t) {
			size_t len = strcspn(t, ",");
			if (len) {
				char part[256], sn[512];
				snprintf(part, sizeof(part), "%.*s", (int)len, t);
				snake(part, sn, sizeof(sn));
				if (n == cap) {
					cap = cap ? cap * 2 : 4;
					paths = realloc(paths, cap * sizeof(*paths));
					if (paths == NULL)
						abort();
				}
				paths[n++] = dup_str(sn, strlen(sn));
			}
			t += len + (t[len] == ',');
		}
		MEMBER(size_t, m, d->fields[0].quantifier_offset) = n;
		MEMBER(char **, m, d->fields[0].offset) = paths;
		return 0;
	}
	if (is(d, "google.protobuf.Empty"))
		return 0;
	*handled = 0;
	return 0;
}

static int to_value(const ProtobufCFieldDescriptor *f, json_t *v, void *p, struct ctx *x)
{
	char name[128];
	pbjson_camel(f->name, name, sizeof(name));
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		long long iv;
		if (json_is_integer(v)) {
			iv = json_integer_value(v);
		} else if (json_is_string(v)) {
			char *end;
			errno = 0;
			iv = strtoll(json_string_value(v), &end, 10);
			if (errno || end == json_string_value(v) || *end)
				return fail(x, "Invalid value at '%s': not an integer.", name);
		} else if (json_is_real(v) &&
			   json_real_value(v) == (double)(long long)json_real_value(v)) {
			iv = (long long)json_real_value(v);
		} else {
			return fail(x, "Invalid value at '%s': not an integer.", name);
		}
		if (elem_size(f) == 8)
			*(int64_t *)p = iv;
		else if (f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_FIXED32) {
			if (iv < 0 || iv > UINT32_MAX)
				return fail(x, "Invalid value at '%s': out of range.", name);
			*(uint32_t *)p = (uint32_t)iv;
		} else {
			if (iv < INT32_MIN || iv > INT32_MAX)
				return fail(x, "Invalid value at '%s': out of range.", name);
			*(int32_t *)p = (int32_t)iv;
		}
		return 0;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!json_is_number(v))
			return fail(x, "Invalid value at '%s': not a number.", name);
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)p = (float)json_number_value(v);
		else
			*(double *)p = json_number_value(v);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail(x, "Invalid value at '%s': not a boolean.", name);
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = NULL;
		if (json_is_string(v))
			ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor,
									  json_string_value(v));
		else if (json_is_integer(v))
			ev = protobuf_c_enum_descriptor_get_value(f->descriptor,
								  (int)json_integer_value(v));
		if (ev == NULL)
			return fail(x, "Invalid value at '%s': not one of its enum values.", name);
		*(int *)p = ev->value;
		return 0;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_is_string(v))
			return fail(x, "Invalid value at '%s': not a string.", name);
		char **sp = p;
		if (*sp && *sp != (char *)protobuf_c_empty_string && *sp != f->default_value)
			free(*sp);
		*sp = dup_str(json_string_value(v), json_string_length(v));
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		if (!json_is_string(v))
			return fail(x, "Invalid value at '%s': not base64.", name);
		size_t n = json_string_length(v);
		unsigned char *out = malloc(n / 4 * 3 + 4);
		if (out == NULL)
			abort();
		long len = base64_decode(json_string_value(v), n, out);
		if (len < 0) {
			free(out);
			return fail(x, "Invalid value at '%s': not base64.", name);
		}
		ProtobufCBinaryData *b = p;
		b->data = out;
		b->len = (size_t)len;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = to_message(f->descriptor, v, x);
		if (sub == NULL)
			return -1;
		*(ProtobufCMessage **)p = sub;
		return 0;
	}
	}
	return fail(x, "Invalid value at '%s'.", name);
}

/* The field of d whose JSON name (or proto name) is key. */
static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d,
						const char *key)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		char name[128];
		pbjson_camel(d->fields[i].name, name, sizeof(name));
		if (strcmp(name, key) == 0 || strcmp(d->fields[i].name, key) == 0)
			return &d->fields[i];
	}
	return NULL;
}

static int set_map(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m, json_t *v, struct ctx *x)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	size_t n = json_object_size(v), i = 0;
	ProtobufCMessage **arr = calloc(n ? n : 1, sizeof(*arr));
	if (arr == NULL)
		abort();
	MEMBER(ProtobufCMessage **, m, f->offset) = arr;
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val)
	{
		ProtobufCMessage *e = calloc(1, ed->sizeof_message);
		if (e == NULL)
			abort();
		protobuf_c_message_init(ed, e);
		arr[i++] = e;
		MEMBER(size_t, m, f->quantifier_offset) = i;
		json_t *key = ed->fields[0].type == PROTOBUF_C_TYPE_STRING ? json_string(k)
									   : json_integer(atoll(k));
		int r = to_value(&ed->fields[0], key, (char *)e + ed->fields[0].offset, x);
		json_decref(key);
		if (r != 0 ||
		    to_value(&ed->fields[1], val, (char *)e + ed->fields[1].offset, x) != 0)
			return -1;
	}
	return 0;
}

static int set_repeated(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m, json_t *v,
			struct ctx *x)
{
	size_t n = json_array_size(v), es = elem_size(f);
	char *arr = calloc(n ? n : 1, es);
	if (arr == NULL)
		abort();
	MEMBER(char *, m, f->offset) = arr;
	/* Zeroed elements free as nothing when a later one fails. */
	MEMBER(size_t, m, f->quantifier_offset) = n;
	for (size_t i = 0; i < n; i++)
		if (to_value(f, json_array_get(v, i), arr + i * es, x) != 0)
			return -1;
	return 0;
}

static ProtobufCMessage *to_message(const ProtobufCMessageDescriptor *d, json_t *v, struct ctx *x)
{
	if (++x->depth > 32) {
		x->depth--;
		fail(x, "Invalid request: nested too deep.");
		return NULL;
	}
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	if (m == NULL)
		abort();
	protobuf_c_message_init(d, m);
	int handled = 0, r = well_known(d, m, v, x, &handled);
	if (!handled) {
		if (!json_is_object(v)) {
			r = fail(x, "Invalid value: expected an object for %s.", d->name);
		} else {
			const char *k;
			json_t *val;
			json_object_foreach(v, k, val)
			{
				const ProtobufCFieldDescriptor *f = field_of(d, k);
				if (f == NULL || json_is_null(val))
					continue; /* unknown fields are ignored, as by Google's
						     parsers */
				char *p = (char *)m + f->offset;
				if (f->label == PROTOBUF_C_LABEL_REPEATED) {
					if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
					    is_map_entry(f->descriptor))
						r = json_is_object(val)
							    ? set_map(f, m, val, x)
							    : fail(x,
								   "Invalid value at '%s': not a map.",
								   k);
					else
						r = json_is_array(val)
							    ? set_repeated(f, m, val, x)
							    : fail(x,
								   "Invalid value at '%s': not a list.",
								   k);
				} else {
					r = to_value(f, val, p, x);
					if (r == 0 && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
						MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
					else if (r == 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL &&
						 f->type != PROTOBUF_C_TYPE_MESSAGE &&
						 f->type != PROTOBUF_C_TYPE_STRING)
						MEMBER(protobuf_c_boolean, m,
						       f->quantifier_offset) = 1;
				}
				if (r != 0)
					break;
			}
		}
	}
	x->depth--;
	if (r != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *v, char *err,
				    size_t errn)
{
	struct ctx x = { err, errn, 0 };
	if (err && errn)
		err[0] = '\0';
	return to_message(d, v, &x);
}
