/* errors.c - error texts, the thread-local last error message, rn_free and
 * rn_version. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define ERRMSG_MAX 1024

/* One buffer per thread: rn_last_error_message() is valid until the next
 * call on the same thread, and no lock is needed. */
static _Thread_local char last_error[ERRMSG_MAX];

int errors_set(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *rn_last_error_message(void)
{
	return last_error;
}

const char *rn_strerror(int err)
{
	switch (err) {
	case RN_OK: return "Success";
	case RN_EINVAL: return "Invalid argument";
	case RN_ENOMEM: return "Out of memory";
	case RN_ENOTFOUND: return "Topic or subscription not found";
	case RN_EEXISTS: return "Topic or subscription already exists";
	case RN_EUNAVAIL: return "Broker or its Redis unavailable; retry with backoff";
	case RN_ETIMEDOUT: return "No reply within the request timeout";
	case RN_ECONNREFUSED: return "Broker could not be reached";
	case RN_EPROTO: return "Malformed reply or unsupported protocol version";
	case RN_EUNAUTH: return "Access token missing or refused";
	case RN_EPERM: return "Permission denied";
	case RN_ETOOBIG: return "Message or request too large";
	case RN_ENOTSUP: return "Not supported by the broker";
	case RN_EABORTED: return "Aborted by a concurrent change; retry";
	case RN_EINTERNAL: return "Broker internal error";
	case RN_ECLOSED: return "Closed or stopping";
	case RN_EADDRINVAL: return "Invalid broker URL";
	case RN_ETLS: return "TLS setup failed";
	}
	return "Unknown error";
}

const char *rn_version(void)
{
	return RN_VERSION_STRING;
}

void rn_free(void *p)
{
	free(p);
}
