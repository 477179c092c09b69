/* codec.c - Duration, Timestamp and base64 codecs (proto3 JSON mapping). */
#include "codec.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* At p: "." and 1-9 digits; adds their milliseconds (the rest truncated)
 * to *ms and moves p past them. 0 or -1. */
static int parse_fraction(const char **pp, int64_t *ms)
{
	const char *p = *pp + 1;
	int digits = 0;
	int64_t frac = 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (digits >= 9)
			return -1;
		if (digits < 3)
			frac = frac * 10 + (*p - '0');
		digits++;
		p++;
	}
	for (int i = digits; i < 3; i++)
		frac *= 10;
	*ms = frac;
	*pp = p;
	return 0;
}

int codec_duration_parse(const char *s, int64_t *ms_out)
{
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	int64_t sec = 0;
	const char *p = s;
	while (isdigit((unsigned char)*p)) {
		if (sec > (INT64_MAX / 1000 - 9) / 10)
			return -1;
		sec = sec * 10 + (*p - '0');
		p++;
	}
	int64_t frac_ms = 0;
	if (*p == '.' && parse_fraction(&p, &frac_ms) != 0)
		return -1;
	if (p[0] != 's' || p[1] != '\0')
		return -1;
	*ms_out = sec * 1000 + frac_ms;
	return 0;
}

void codec_duration_format(int64_t ms, char *buf, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(buf, n, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, n, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
}

static int parse_digits(const char **pp, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*pp)[i]))
			return -1;
		v = v * 10 + ((*pp)[i] - '0');
	}
	*pp += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so parsing needs neither timegm nor the TZ setting. */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int codec_timestamp_parse(const char *s, int64_t *ms_out)
{
	int Y, M, D, h, mi, sec;
	const char *p = s;
	if (s == NULL || parse_digits(&p, 4, &Y) || *p++ != '-' || parse_digits(&p, 2, &M) ||
	    *p++ != '-' || parse_digits(&p, 2, &D) || (*p != 'T' && *p != 't'))
		return -1;
	p++;
	if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi) || *p++ != ':' ||
	    parse_digits(&p, 2, &sec))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	int64_t frac_ms = 0;
	if (*p == '.' && parse_fraction(&p, &frac_ms) != 0)
		return -1;
	int64_t offset_s = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		offset_s = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	int64_t t = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
	*ms_out = t * 1000 + frac_ms;
	return 0;
}

void codec_timestamp_format(int64_t ms, char *buf, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t codec_base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t codec_base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long codec_base64_decode(const char *in, size_t len, unsigned char *out)
{
	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	return (long)o;
}
