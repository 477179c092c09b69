/* duration.c - durations and RFC 3339 timestamps. */
#include "duration.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* 10,000 years, proto3's Duration limit. */
#define MAX_MS (315576000000LL * 1000)

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int duration_parse(const char *s, unsigned flags, int64_t *ms_out)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = { /* "ms" before "m" */
		      { "ms", 1 },
		      { "s", 1000 },
		      { "m", 60000 },
		      { "h", 3600000 },
		      { "d", 86400000 }
	};
	if (s == NULL || !is_digit(*s))
		return -1;
	int64_t total = 0;
	const char *p = s;
	int terms = 0;
	while (*p) {
		int64_t whole = 0, nanos = 0, scale = 100000000;
		if (!is_digit(*p))
			return -1;
		while (is_digit(*p)) {
			if (whole > MAX_MS / 10)
				return -1;
			whole = whole * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			int n = 0;
			p++;
			while (is_digit(*p)) {
				if (++n > 9)
					return -1;
				nanos += (*p++ - '0') * scale;
				scale /= 10;
			}
			if (n == 0)
				return -1;
		}
		int64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && unit == 0; i++) {
			size_t n = strlen(units[i].suffix);
			if (strncmp(p, units[i].suffix, n) == 0) {
				unit = units[i].ms;
				p += n;
			}
		}
		if (unit == 0 || ((flags & DURATION_PROTO3) && unit != 1000))
			return -1;
		if (whole > (MAX_MS - total) / unit)
			return -1;
		total += whole * unit + nanos / 1000 * unit / 1000000;
		if (total > MAX_MS)
			return -1;
		terms++;
	}
	if ((flags & DURATION_PROTO3) && terms != 1)
		return -1;
	*ms_out = total;
	return 0;
}

void duration_format(int64_t ms, char *buf, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(buf, n, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, n, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
}

/* At p: "." and 1-9 digits; sets *ms to their milliseconds (the rest
 * truncated) and moves p past them. 0 or -1. */
static int parse_fraction(const char **pp, int64_t *ms)
{
	const char *p = *pp + 1;
	int digits = 0;
	int64_t frac = 0;
	if (!is_digit(*p))
		return -1;
	while (is_digit(*p)) {
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

static int parse_digits(const char **pp, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*pp)[i]))
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

int timestamp_parse(const char *s, int64_t *ms_out)
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
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (M == 2 && D == 29 && !(Y % 4 == 0 && (Y % 100 != 0 || Y % 400 == 0)))
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

void timestamp_format(int64_t ms, char *buf, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
