/* message.c - received messages (parsing, accessors) and the JSON of
 * messages to publish. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void message_free(struct rn_message *m)
{
	if (!m)
		return;
	if (m->one_block) { /* pullscan.c: all in m but its ack id */
		free(m->ack_id);
		free(m);
		return;
	}
	free(m->data);
	free(m->id);
	client_strv_free(m->keys, m->nattrs);
	client_strv_free(m->values, m->nattrs);
	free(m->ordering_key);
	free(m->ack_id);
	free(m);
}

/* Reads exactly n digits at *p into *v and advances *p. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return -1;
		x = x * 10 + (ch - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int expect(const char **p, char ch)
{
	if (**p != ch)
		return -1;
	(*p)++;
	return 0;
}

int message_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec;
	const char *p = s;
	if (!s || digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) || expect(&p, '-') ||
	    digits(&p, 2, &d) || expect(&p, 'T') || digits(&p, 2, &h) || expect(&p, ':') ||
	    digits(&p, 2, &mi) || expect(&p, ':') || digits(&p, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	int frac_ms = 0;
	if (*p == '.') {
		p++;
		int nd = 0;
		while (*p >= '0' && *p <= '9') {
			if (nd < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
			nd++;
			p++;
		}
		if (nd == 0)
			return -1;
		for (; nd < 3; nd++)
			frac_ms *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	struct tm tm = { .tm_year = y - 1900,
			 .tm_mon = mo - 1,
			 .tm_mday = d,
			 .tm_hour = h,
			 .tm_min = mi,
			 .tm_sec = sec };
	time_t t = timegm(&tm);
	*ms = (int64_t)t * 1000 + frac_ms;
	return 0;
}

int message_format_time(int64_t ms, char *buf, size_t cap)
{
	if (ms < 0)
		return -1;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -1;
	char date[24];
	if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	int n = snprintf(buf, cap, "%s.%03dZ", date, (int)(ms % 1000));
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static char *dup_json_string(const json_t *v)
{
	return strdup(json_is_string(v) ? json_string_value(v) : "");
}

/* Sorts keys/values together by key (insertion sort: at most 100). */
void client_sort_attrs(char **keys, char **values, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		char *k = keys[i], *v = values[i];
		size_t j = i;
		while (j > 0 && strcmp(keys[j - 1], k) > 0) {
			keys[j] = keys[j - 1];
			values[j] = values[j - 1];
			j--;
		}
		keys[j] = k;
		values[j] = v;
	}
}

int message_from_json(const json_t *rm, struct rn_message **out)
{
	const json_t *msg = json_object_get(rm, "message");
	const json_t *ack = json_object_get(rm, "ackId");
	if (!json_is_object(rm) || !json_is_object(msg) || !json_is_string(ack))
		return errors_set(RN_EPROTO, "Malformed receivedMessage in the pull reply");
	struct rn_message *m = calloc(1, sizeof(*m));
	if (!m)
		return errors_set(RN_ENOMEM, "Out of memory");
	int rv = RN_ENOMEM;
	const json_t *data = json_object_get(msg, "data");
	if (json_is_string(data)) {
		if (b64_decode(json_string_value(data), json_string_length(data), &m->data,
			       &m->len) != 0) {
			rv = errors_set(RN_EPROTO, "Invalid base64 data in a received message");
			goto fail;
		}
	} else if (!(m->data = calloc(1, 1))) {
		goto fail;
	}
	m->id = dup_json_string(json_object_get(msg, "messageId"));
	m->ack_id = strdup(json_string_value(ack));
	m->ordering_key = dup_json_string(json_object_get(msg, "orderingKey"));
	if (!m->id || !m->ack_id || !m->ordering_key)
		goto fail;
	const json_t *pt = json_object_get(msg, "publishTime");
	if (!json_is_string(pt) || message_parse_time(json_string_value(pt), &m->publish_ms) != 0)
		m->publish_ms = 0;
	const json_t *da = json_object_get(rm, "deliveryAttempt");
	/* The broker sends deliveryAttempt only with a deadLetterPolicy (as
	 * Pub/Sub); without it the attempt is unknown and reported as 0. */
	m->delivery_attempt = json_is_integer(da) ? (int)json_integer_value(da) : 0;
	const json_t *attrs = json_object_get(msg, "attributes");
	if (json_is_object(attrs) && json_object_size(attrs) > 0) {
		size_t n = json_object_size(attrs);
		m->keys = calloc(n, sizeof(char *));
		m->values = calloc(n, sizeof(char *));
		if (!m->keys || !m->values)
			goto fail;
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)attrs, k, v)
		{
			m->keys[m->nattrs] = strdup(k);
			m->values[m->nattrs] = dup_json_string(v);
			m->nattrs++;
			if (!m->keys[m->nattrs - 1] || !m->values[m->nattrs - 1])
				goto fail;
		}
		client_sort_attrs(m->keys, m->values, m->nattrs);
	}
	*out = m;
	return 0;
fail:
	if (rv == RN_ENOMEM)
		errors_set(rv, "Out of memory");
	message_free(m);
	return rv;
}

int message_parse_pull(const json_t *reply, struct rn_message ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	const json_t *arr = json_object_get(reply, "receivedMessages");
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return errors_set(RN_EPROTO, "receivedMessages is not an array");
	size_t cnt = json_array_size(arr);
	if (cnt == 0)
		return 0;
	struct rn_message **v = calloc(cnt, sizeof(*v));
	if (!v)
		return errors_set(RN_ENOMEM, "Out of memory");
	for (size_t i = 0; i < cnt; i++) {
		int rv = message_from_json(json_array_get(arr, i), &v[i]);
		if (rv) {
			rn_messages_free(v, i);
			return rv;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

int message_pub_json(const struct rn_pubmsg *m, json_t **out, size_t *bytes)
{
	*out = NULL;
	if (!m || (m->len > 0 && !m->data) || (m->nattrs > 0 && !m->attrs))
		return errors_set(RN_EINVAL, "Invalid message");
	if (m->len == 0 && m->nattrs == 0)
		return errors_set(RN_EINVAL, "A message needs data or at least one attribute");
	size_t total = m->len;
	int rv = 0;
	json_t *o = json_object();
	if (!o)
		return errors_set(RN_ENOMEM, "Out of memory");
	if (m->len > 0) {
		char *b = b64_encode(m->data, m->len);
		if (!b || json_object_set_new(o, "data", json_string(b)) != 0)
			rv = errors_set(RN_ENOMEM, "Out of memory");
		free(b);
	}
	json_t *a = m->nattrs > 0 && !rv ? json_object() : NULL;
	if (a && json_object_set_new(o, "attributes", a) != 0)
		rv = errors_set(RN_ENOMEM, "Out of memory");
	for (size_t i = 0; a && i < m->nattrs && !rv; i++) {
		const struct rn_attr *at = &m->attrs[i];
		json_t *sv = at->key && *at->key && at->value ? json_string(at->value) : NULL;
		if (!sv)
			rv = errors_set(RN_EINVAL, "Attribute %zu: no key, no value or not UTF-8",
					i);
		else if (json_object_set_new(a, at->key, sv) != 0)
			rv = errors_set(RN_EINVAL, "Attribute key %zu is not valid UTF-8", i);
		else
			total += strlen(at->key) + strlen(at->value);
	}
	if (!rv && m->ordering_key && *m->ordering_key) {
		json_t *k = json_string(m->ordering_key);
		if (!k)
			rv = errors_set(RN_EINVAL, "orderingKey is not valid UTF-8");
		else
			json_object_set_new(o, "orderingKey", k);
	}
	if (rv) {
		json_decref(o);
		return rv;
	}
	if (bytes)
		*bytes = total;
	*out = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public accessors */

const void *rn_message_data(const struct rn_message *m, size_t *len)
{
	if (len)
		*len = m ? m->len : 0;
	return m ? m->data : NULL;
}

const char *rn_message_id(const struct rn_message *m)
{
	return m ? m->id : NULL;
}

int64_t rn_message_publish_time_ms(const struct rn_message *m)
{
	return m ? m->publish_ms : 0;
}

const char *rn_message_attr(const struct rn_message *m, const char *key)
{
	if (!m || !key)
		return NULL;
	for (size_t i = 0; i < m->nattrs; i++)
		if (strcmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}

size_t rn_message_attr_count(const struct rn_message *m)
{
	return m ? m->nattrs : 0;
}

int rn_message_attr_at(const struct rn_message *m, size_t i, const char **key, const char **value)
{
	if (!m || i >= m->nattrs)
		return errors_set(RN_EINVAL, "Attribute index out of range");
	if (key)
		*key = m->keys[i];
	if (value)
		*value = m->values[i];
	return 0;
}

const char *rn_message_ordering_key(const struct rn_message *m)
{
	return m ? m->ordering_key : NULL;
}

const char *rn_message_ack_id(const struct rn_message *m)
{
	return m ? m->ack_id : NULL;
}

int rn_message_delivery_attempt(const struct rn_message *m)
{
	return m ? m->delivery_attempt : 0;
}

void rn_messages_free(struct rn_message **msgs, size_t n)
{
	if (!msgs)
		return;
	for (size_t i = 0; i < n; i++)
		message_free(msgs[i]);
	free(msgs);
}

void rn_message_ack(struct rn_message *m)
{
	/* Messages of rn_pull have no core: they are acked with rn_ack and
	 * freed with rn_messages_free, so there is nothing to do here. */
	if (m && m->core)
		subscriber_settle(m, false);
}

void rn_message_nack(struct rn_message *m)
{
	if (m && m->core)
		subscriber_settle(m, true);
}
