/* regnotify/errors.h - the error codes of libregnotify.
 *
 * Every function that can fail returns int: 0 on success, else one positive
 * value of enum rn_err. rn_strerror() turns it into a sentence. */
#ifndef REGNOTIFY_ERRORS_H
#define REGNOTIFY_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RN_BUILDING_LIBRARY)
#define RN_API __attribute__((visibility("default")))
#else
#define RN_API
#endif

enum rn_err {
	RN_OK = 0,
	RN_EINVAL = 1,       /* an argument is invalid (checked locally or by the broker: 400) */
	RN_ENOMEM = 2,       /* out of memory */
	RN_ENOTFOUND = 3,    /* the topic or subscription does not exist (404) */
	RN_EEXISTS = 4,      /* the topic or subscription already exists (409 ALREADY_EXISTS) */
	RN_EUNAVAIL = 5,     /* the broker or its Redis is unavailable (503); retry with backoff */
	RN_ETIMEDOUT = 6,    /* no reply within the request timeout */
	RN_ECONNREFUSED = 7, /* the broker could not be reached at the URL */
	RN_EPROTO = 8,       /* a malformed reply or an unsupported protocol version */
	RN_EUNAUTH = 9,      /* the access token was missing or refused (401) */
	RN_EPERM = 10,       /* the token may not do this (403) */
	RN_ETOOBIG = 11,     /* a message or request is larger than the broker accepts (413) */
	RN_ENOTSUP = 12,     /* the broker does not implement this (501) */
	RN_EABORTED = 13,    /* a concurrent change won; retry (409 ABORTED) */
	RN_EINTERNAL = 14,   /* the broker failed (500) */
	RN_ECLOSED = 15,     /* the client, publisher or subscriber is closed or stopping */
	RN_EADDRINVAL = 16, /* the broker URL is not a valid nng URL (tcp://, ipc://, tls+tcp://) */
	RN_ETLS = 17,       /* TLS setup failed (CA file, server name) */
};

/* A static English sentence for err (any int, also unknown values).
 * Thread-safe. Ownership: the string is static; never free it. */
RN_API const char *rn_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
