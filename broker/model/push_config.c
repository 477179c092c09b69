/* push_config.c - pushConfig validation, parsing and redaction. */
#include "push_config.h"

#include "base64.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int push_config_forbidden_addr(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr);
		return (a >> 16) == 0xA9FE; /* 169.254.0.0/16 */
	}
	if (addr->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
			return 1;
		if (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e &&
		    b[3] == 0xc2) /* fd00:ec2::/32 */
			return 1;
		static const unsigned char mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
		};
		if (memcmp(b, mapped, 12) == 0)
			return b[12] == 169 && b[13] == 254;
	}
	return 0;
}

/* Checks the endpoint URL: http(s), a host, and no forbidden IP literal. */
static int check_endpoint(const char *url, int allow_link_local, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;
	if (u == NULL)
		return -1;
	if (strlen(url) >= 2048 ||
	    curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "Invalid push endpoint: '%.200s' is not an absolute URL",
			 url);
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		snprintf(err, errlen, "Invalid push endpoint: the scheme must be http or https");
		goto out;
	}
	if (!allow_link_local) {
		char h[256];
		snprintf(h, sizeof(h), "%s", host[0] == '[' ? host + 1 : host);
		char *rb = strchr(h, ']');
		if (rb)
			*rb = '\0';
		struct sockaddr_in a4 = { .sin_family = AF_INET };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
		int forbidden = 0;
		if (inet_pton(AF_INET, h, &a4.sin_addr) == 1)
			forbidden = push_config_forbidden_addr((struct sockaddr *)&a4);
		else if (inet_pton(AF_INET6, h, &a6.sin6_addr) == 1)
			forbidden = push_config_forbidden_addr((struct sockaddr *)&a6);
		else if (strcasecmp(h, "metadata.google.internal") == 0 ||
			 strcasecmp(h, "metadata") == 0)
			forbidden = 1;
		if (forbidden) {
			snprintf(err, errlen,
				 "Invalid push endpoint: %s is a link-local or cloud "
				 "metadata address (set push_allow_link_local to allow it)",
				 h);
			goto out;
		}
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int secret_obj(json_t *v, const char *name, char *err, size_t errlen)
{
	const char *s = json_is_object(v) ? str(v, "secret") : NULL;
	if (s == NULL || s[0] == '\0' || json_object_size(v) != 1) {
		snprintf(err, errlen, "Invalid pushConfig.%s: expected {\"secret\": \"...\"}",
			 name);
		return -1;
	}
	if (strlen(s) > 250) {
		snprintf(err, errlen, "Invalid pushConfig.%s.secret: at most 250 characters", name);
		return -1;
	}
	if (strcmp(name, "standardWebhooks") == 0 && strcmp(s, PUSH_SECRET_REDACTED) != 0) {
		unsigned char key[256];
		long n = strncmp(s, "whsec_", 6) == 0 ? base64_decode(s + 6, strlen(s + 6), key)
						      : -1;
		if (n < 24 || n > 64) {
			snprintf(err, errlen,
				 "Invalid pushConfig.standardWebhooks.secret: expected "
				 "whsec_ followed by the base64 of 24 to 64 random bytes");
			return -1;
		}
	}
	return 0;
}

enum err push_config_validate(json_t *pc, int allow_link_local, int *is_push, char *err,
			      size_t errlen)
{
	*is_push = 0;
	if (pc == NULL || json_is_null(pc))
		return ERR_OK;
	if (!json_is_object(pc)) {
		snprintf(err, errlen, "Invalid value at 'pushConfig': expected an object");
		return ERR_INVALID_ARGUMENT;
	}
	int formats = 0;
	const char *k;
	json_t *v;
	json_object_foreach(pc, k, v)
	{
		if (strcmp(k, "pushEndpoint") == 0) {
			if (!json_is_string(v)) {
				snprintf(err, errlen,
					 "Invalid pushConfig.pushEndpoint: expected a URL");
				return ERR_INVALID_ARGUMENT;
			}
			if (json_string_length(v) == 0)
				continue;
			if (check_endpoint(json_string_value(v), allow_link_local, err, errlen))
				return ERR_INVALID_ARGUMENT;
			*is_push = 1;
		} else if (strcmp(k, "attributes") == 0) {
			const char *ak;
			json_t *av;
			if (!json_is_object(v)) {
				snprintf(err, errlen,
					 "Invalid pushConfig.attributes: expected an object");
				return ERR_INVALID_ARGUMENT;
			}
			json_object_foreach(v, ak, av)
			{
				const char *ver = json_string_value(av);
				if (strcmp(ak, "x-goog-version") != 0 || ver == NULL ||
				    (strcmp(ver, "v1") && strcmp(ver, "v1beta1") &&
				     strcmp(ver, "v1beta2"))) {
					snprintf(
						err, errlen,
						"Invalid pushConfig.attributes: only "
						"x-goog-version (v1, v1beta1, v1beta2) is supported");
					return ERR_INVALID_ARGUMENT;
				}
			}
		} else if (strcmp(k, "pubsubWrapper") == 0) {
			if (!json_is_object(v) || json_object_size(v)) {
				snprintf(err, errlen,
					 "Invalid pushConfig.pubsubWrapper: expected {}");
				return ERR_INVALID_ARGUMENT;
			}
			formats++;
		} else if (strcmp(k, "noWrapper") == 0) {
			json_t *wm = json_object_get(v, "writeMetadata");
			if (!json_is_object(v) || json_object_size(v) > (wm ? 1u : 0u) ||
			    (wm && !json_is_boolean(wm))) {
				snprintf(err, errlen,
					 "Invalid pushConfig.noWrapper: expected "
					 "{\"writeMetadata\": true|false}");
				return ERR_INVALID_ARGUMENT;
			}
			formats++;
		} else if (strcmp(k, "cloudEvents") == 0) {
			const char *ck;
			json_t *cv;
			if (!json_is_object(v)) {
				snprintf(err, errlen,
					 "Invalid pushConfig.cloudEvents: expected an object");
				return ERR_INVALID_ARGUMENT;
			}
			json_object_foreach(v, ck, cv)
			{
				if ((strcmp(ck, "typePrefix") && strcmp(ck, "source")) ||
				    !json_is_string(cv) || json_string_length(cv) > 120 ||
				    strpbrk(json_string_value(cv), "\r\n")) {
					snprintf(err, errlen,
						 "Invalid pushConfig.cloudEvents: fields are "
						 "typePrefix and source, strings of at most 120 "
						 "characters");
					return ERR_INVALID_ARGUMENT;
				}
			}
			formats++;
		} else if (strcmp(k, "standardWebhooks") == 0 || strcmp(k, "hubSignature") == 0) {
			if (secret_obj(v, k, err, errlen))
				return ERR_INVALID_ARGUMENT;
		} else if (strcmp(k, "authorization") == 0) {
			if (!json_is_string(v) || json_string_length(v) > 1000 ||
			    strpbrk(json_string_value(v), "\r\n")) {
				snprintf(err, errlen,
					 "Invalid pushConfig.authorization: a header value "
					 "of at most 1000 characters");
				return ERR_INVALID_ARGUMENT;
			}
		} else if (strcmp(k, "caFile") == 0) {
			if (!json_is_string(v) || json_string_length(v) >= 512) {
				snprintf(err, errlen, "Invalid pushConfig.caFile: a file path");
				return ERR_INVALID_ARGUMENT;
			}
		} else if (strcmp(k, "oidcToken") == 0) {
			if (json_is_object(v) && json_object_size(v) == 0)
				continue;
			const char *email = str(v, "serviceAccountEmail");
			json_t *aud = json_object_get(v, "audience");
			if (!json_is_object(v) || email == NULL || strlen(email) > 254 ||
			    strchr(email, '@') == NULL || strpbrk(email, "\r\n\"") ||
			    (aud && (!json_is_string(aud) || json_string_length(aud) > 1000)) ||
			    json_object_size(v) > (aud ? 2u : 1u)) {
				snprintf(err, errlen,
					 "Invalid pushConfig.oidcToken: expected "
					 "{\"serviceAccountEmail\": EMAIL, \"audience\": "
					 "optional string}");
				return ERR_INVALID_ARGUMENT;
			}
			if (json_object_get(pc, "authorization")) {
				snprintf(err, errlen,
					 "Invalid pushConfig: oidcToken and authorization both set "
					 "the Authorization header; choose one");
				return ERR_INVALID_ARGUMENT;
			}
		} else {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'subscription.pushConfig'",
				 k);
			return ERR_INVALID_ARGUMENT;
		}
	}
	if (formats > 1) {
		snprintf(err, errlen,
			 "Invalid pushConfig: at most one of pubsubWrapper, noWrapper "
			 "and cloudEvents");
		return ERR_INVALID_ARGUMENT;
	}
	return ERR_OK;
}

int push_config_parse(json_t *pc, struct push_cfg *out)
{
	memset(out, 0, sizeof(*out));
	const char *ep = str(pc, "pushEndpoint");
	if (ep == NULL || ep[0] == '\0')
		return -1;
	snprintf(out->endpoint, sizeof(out->endpoint), "%s", ep);
	json_t *nw = json_object_get(pc, "noWrapper"), *ce = json_object_get(pc, "cloudEvents");
	if (nw) {
		out->format = PUSH_UNWRAPPED;
		out->write_metadata = json_is_true(json_object_get(nw, "writeMetadata"));
	} else if (ce) {
		out->format = PUSH_CLOUDEVENTS;
		const char *tp = str(ce, "typePrefix"), *src = str(ce, "source");
		snprintf(out->ce_type_prefix, sizeof(out->ce_type_prefix), "%s",
			 tp && tp[0] ? tp : "dev.regnotify");
		snprintf(out->ce_source, sizeof(out->ce_source), "%s", src ? src : "");
	}
	const char *s = str(json_object_get(pc, "standardWebhooks"), "secret");
	if (s && strncmp(s, "whsec_", 6) == 0) {
		unsigned char key[256];
		long n = base64_decode(s + 6, strlen(s + 6), key);
		if (n > 0 && (size_t)n <= sizeof(out->whsec)) {
			memcpy(out->whsec, key, (size_t)n);
			out->whsec_len = (size_t)n;
		}
	}
	s = str(json_object_get(pc, "hubSignature"), "secret");
	if (s)
		snprintf(out->hub_secret, sizeof(out->hub_secret), "%s", s);
	s = str(pc, "authorization");
	if (s)
		snprintf(out->authorization, sizeof(out->authorization), "%s", s);
	s = str(pc, "caFile");
	if (s)
		snprintf(out->ca_file, sizeof(out->ca_file), "%s", s);
	json_t *oidc = json_object_get(pc, "oidcToken");
	if ((s = str(oidc, "serviceAccountEmail")) != NULL)
		snprintf(out->oidc_email, sizeof(out->oidc_email), "%s", s);
	if ((s = str(oidc, "audience")) != NULL)
		snprintf(out->oidc_audience, sizeof(out->oidc_audience), "%s", s);
	return 0;
}

static const char *const secret_fields[] = { "standardWebhooks", "hubSignature", NULL };

json_t *push_config_redact(json_t *pc)
{
	json_t *o = json_deep_copy(pc);
	for (int i = 0; secret_fields[i]; i++) {
		json_t *s = json_object_get(o, secret_fields[i]);
		if (json_is_object(s))
			json_object_set_new(s, "secret", json_string(PUSH_SECRET_REDACTED));
	}
	if (json_is_string(json_object_get(o, "authorization")))
		json_object_set_new(o, "authorization", json_string(PUSH_SECRET_REDACTED));
	return o;
}

int push_config_keep_secrets(json_t *pc, json_t *stored, char *err, size_t errlen)
{
	for (int i = 0; secret_fields[i]; i++) {
		json_t *s = json_object_get(pc, secret_fields[i]);
		if (!json_is_object(s) ||
		    strcmp(str(s, "secret") ? str(s, "secret") : "", PUSH_SECRET_REDACTED) != 0)
			continue;
		const char *old = str(json_object_get(stored, secret_fields[i]), "secret");
		if (old == NULL) {
			snprintf(err, errlen, "pushConfig.%s.secret is %s but no secret is stored",
				 secret_fields[i], PUSH_SECRET_REDACTED);
			return -1;
		}
		json_object_set_new(s, "secret", json_string(old));
	}
	const char *a = str(pc, "authorization");
	if (a && strcmp(a, PUSH_SECRET_REDACTED) == 0) {
		const char *old = str(stored, "authorization");
		if (old == NULL) {
			snprintf(err, errlen, "pushConfig.authorization is %s but none is stored",
				 PUSH_SECRET_REDACTED);
			return -1;
		}
		json_object_set_new(pc, "authorization", json_string(old));
	}
	return 0;
}
