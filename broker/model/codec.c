/* codec.c - message IDs and proto3-JSON integers. */
#include "codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int codec_message_id(const char *entry_id, char *out, size_t n)
{
	char *dash;
	errno = 0;
	unsigned long long ms = strtoull(entry_id, &dash, 10);
	if (errno || *dash != '-')
		return -1;
	unsigned long long seq = strtoull(dash + 1, NULL, 10);
	if (seq >= 1000000ULL || ms > UINT64_MAX / 1000000ULL - 1)
		return -1;
	snprintf(out, n, "%llu", ms * 1000000ULL + seq);
	return 0;
}

int codec_entry_id(const char *message_id, char *out, size_t n)
{
	char *end;
	if (*message_id < '0' || *message_id > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(message_id, &end, 10);
	if (errno || *end)
		return -1;
	snprintf(out, n, "%llu-%llu", v / 1000000ULL, v % 1000000ULL);
	return 0;
}

int codec_json_int(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	const char *s = json_string_value(v);
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '-')) /* no spaces, no '+' */
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (errno || *end != '\0') ? -1 : 0;
}
