/* push_config.h - the pushConfig of a push subscription: Pub/Sub's fields
 * (pushEndpoint, attributes, pubsubWrapper, noWrapper) plus regnotify's
 * extensions (cloudEvents, standardWebhooks, hubSignature, authorization,
 * caFile), validation, secret redaction, and the SSRF address check. */
#ifndef RN_PUSH_CONFIG_H
#define RN_PUSH_CONFIG_H

#include "errors.h"

#include <jansson.h>
#include <stddef.h>
#include <sys/socket.h>

/* Written in GET responses instead of a secret; sent back in an update it
 * means "keep the secret that is stored". */
#define PUSH_SECRET_REDACTED "REDACTED"

enum push_format { PUSH_WRAPPED = 0, PUSH_UNWRAPPED, PUSH_CLOUDEVENTS };

struct push_cfg {
	char endpoint[2048];
	enum push_format format;
	int write_metadata;       /* noWrapper.writeMetadata */
	char ce_type_prefix[128]; /* cloudEvents.typePrefix */
	char ce_source[512];      /* cloudEvents.source ("" = derived) */
	unsigned char whsec[64];  /* standardWebhooks key (decoded) */
	size_t whsec_len;         /* 0: not configured */
	char hub_secret[256];     /* hubSignature.secret ("" = off) */
	char authorization[1024]; /* static Authorization header ("" = off) */
	char ca_file[512];        /* extra CA bundle ("" = system CAs) */
	/* oidcToken: each request gets "Authorization: Bearer JWT" signed by
	 * the broker for this service account ("" = off), aud = oidc_audience
	 * or the endpoint. */
	char oidc_email[256];
	char oidc_audience[1024];
};

/* Validates a pushConfig object. An empty object (or one without
 * pushEndpoint) is a pull subscription: *is_push = 0. allow_link_local
 * permits endpoints on link-local/metadata IP literals. Returns ERR_OK, or
 * ERR_INVALID_ARGUMENT with a message in err (who may attach the
 * oidcToken's account - iam.serviceAccounts.actAs - is auth/'s check). Any thread. */
enum err push_config_validate(json_t *pc, int allow_link_local, int *is_push, char *err,
			      size_t errlen);

/* Fills out from a validated pushConfig (secrets included). 0 or -1. */
int push_config_parse(json_t *pc, struct push_cfg *out);

/* A copy of pc with every secret replaced by PUSH_SECRET_REDACTED.
 * Ownership: the caller decrefs it. */
json_t *push_config_redact(json_t *pc);

/* Replaces PUSH_SECRET_REDACTED secrets in pc with those of stored (the
 * current config, may be NULL); -1 when a redacted secret has no stored
 * value to keep. */
int push_config_keep_secrets(json_t *pc, json_t *stored, char *err, size_t errlen);

/* 1 when addr is link-local or a cloud metadata address (169.254.0.0/16,
 * fe80::/10, fd00:ec2::/32, IPv4-mapped forms of those). */
int push_config_forbidden_addr(const struct sockaddr *addr);

#endif
