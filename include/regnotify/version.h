/* regnotify/version.h - the library's version. */
#ifndef REGNOTIFY_VERSION_H
#define REGNOTIFY_VERSION_H

#include <regnotify/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RN_VERSION_MAJOR 0
#define RN_VERSION_MINOR 1
#define RN_VERSION_PATCH 0
#define RN_VERSION_STRING "0.1.0"

/* The nng wire protocol version this library speaks (docs/protocol.md). */
#define RN_PROTOCOL_VERSION 1

/* The version of the library loaded at run time ("0.1.0"). Thread-safe;
 * the string is static. */
RN_API const char *rn_version(void);

#ifdef __cplusplus
}
#endif

#endif
