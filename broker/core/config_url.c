/* config_url.c - the address forms of the options: HOST:PORT listen
 * addresses and redis:// / unix:// URLs (with the password masked for
 * messages). */
#include "config.h"
#include "config_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

void config_mask_url(const char *url, char *out, size_t n)
{
	const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
	const char *pw = strstr(url, "password=");
	if (at && scheme && at > scheme) {
		snprintf(out, n, "%.*s***%s", (int)(scheme + 3 - url), url, at);
	} else if (pw) {
		const char *amp = strchr(pw, '&');
		snprintf(out, n, "%.*spassword=***%s", (int)(pw - url), url, amp ? amp : "");
	} else {
		snprintf(out, n, "%s", url);
	}
}

int config_parse_redis_url(struct config *cfg, const char *url_in, char *err, size_t errlen)
{
	char url[1100];
	config_mask_url(url_in, url, sizeof(url));
	const char *raw = url_in;
	char *end;
	cfg->redis_db = 0;
	cfg->redis_password[0] = '\0';
	if (strncmp(raw, "unix://", 7) == 0) {
		const char *path = raw + 7;
		const char *q = strchr(path, '?');
		size_t pl = q ? (size_t)(q - path) : strlen(path);
		if (pl == 0 || path[0] != '/' || pl >= sizeof(cfg->redis_path)) {
			snprintf(err, errlen,
				 "invalid redis URL '%s': expected unix:///absolute/path", url);
			return -1;
		}
		memcpy(cfg->redis_path, path, pl);
		cfg->redis_path[pl] = '\0';
		/* Query: db=N and/or password=P, separated by '&'. */
		const char *p = q ? q + 1 : NULL;
		while (p && *p) {
			const char *amp = strchr(p, '&');
			size_t l = amp ? (size_t)(amp - p) : strlen(p);
			if (strncmp(p, "db=", 3) == 0) {
				errno = 0;
				long db = strtol(p + 3, &end, 10);
				if (errno || l == 3 || end != p + l || db < 0 || db > 15)
					goto bad_db;
				cfg->redis_db = (int)db;
			} else if (strncmp(p, "password=", 9) == 0 &&
				   l - 9 < sizeof(cfg->redis_password)) {
				memcpy(cfg->redis_password, p + 9, l - 9);
				cfg->redis_password[l - 9] = '\0';
			} else {
				snprintf(err, errlen,
					 "invalid redis URL '%s': unix:// takes "
					 "?db=N&password=P",
					 url);
				return -1;
			}
			p = amp ? amp + 1 : NULL;
		}
		cfg->redis_unix = 1;
		return 0;
	}
	if (strncmp(raw, "redis://", 8) != 0) {
		snprintf(err, errlen,
			 "invalid redis URL '%s': use redis://HOST:PORT/DB or "
			 "unix:///PATH",
			 url);
		return -1;
	}
	const char *p = raw + 8;
	const char *at = strchr(p, '@');
	if (at) {
		const char *pw = memchr(p, ':', (size_t)(at - p));
		pw = pw ? pw + 1 : p;
		size_t l = (size_t)(at - pw);
		if (l >= sizeof(cfg->redis_password))
			goto bad;
		memcpy(cfg->redis_password, pw, l);
		cfg->redis_password[l] = '\0';
		p = at + 1;
	}
	const char *slash = strchr(p, '/');
	char hostport[256];
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(hostport))
		goto bad;
	memcpy(hostport, p, hl);
	hostport[hl] = '\0';
	if (strchr(hostport, ':') && hostport[0] != '[') {
		if (config_parse_listen(hostport, cfg->redis_host, sizeof(cfg->redis_host),
					&cfg->redis_port) ||
		    cfg->redis_port == 0)
			goto bad;
	} else if (hostport[0] == '[') {
		if (config_parse_listen(hostport, cfg->redis_host, sizeof(cfg->redis_host),
					&cfg->redis_port))
			goto bad;
	} else {
		snprintf(cfg->redis_host, sizeof(cfg->redis_host), "%s", hostport);
		cfg->redis_port = 6379;
	}
	if (slash && slash[1]) {
		errno = 0;
		long db = strtol(slash + 1, &end, 10);
		if (errno || *end || db < 0 || db > 15)
			goto bad_db;
		cfg->redis_db = (int)db;
	}
	cfg->redis_unix = 0;
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid redis URL '%s': expected redis://[:PASSWORD@]HOST[:PORT][/DB]", url);
	return -1;
bad_db:
	snprintf(err, errlen, "invalid redis URL '%s': the database must be a number 0-15", url);
	return -1;
}

int config_is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

void config_public_url(const struct config *cfg, char *buf, size_t n)
{
	if (cfg->public_url[0]) {
		size_t l = strlen(cfg->public_url);
		while (l > 0 && cfg->public_url[l - 1] == '/')
			l--;
		snprintf(buf, n, "%.*s", (int)l, cfg->public_url);
		return;
	}
	int v6 = strchr(cfg->listen_host, ':') != NULL;
	snprintf(buf, n, "http://%s%s%s:%d", v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "",
		 cfg->listen_port);
}
