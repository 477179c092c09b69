/* codec.h - the proto3-JSON encodings of the Pub/Sub surface that are not
 * plain JSON: message IDs (from the store's stream entry IDs) and int64
 * fields (a number or a decimal string). Durations, timestamps and base64
 * are client/common's (duration.h, base64.h). Pure: any thread. */
#ifndef RN_CODEC_H
#define RN_CODEC_H

#include <jansson.h>
#include <stddef.h>

/* Stream entry id "ms-seq" <-> the decimal messageId clients see
 * (ms * 10^6 + seq). Return 0 or -1. */
int codec_message_id(const char *entry_id, char *out, size_t n);
int codec_entry_id(const char *message_id, char *out, size_t n);

/* Reads a proto3-JSON integer (a number or a decimal string). Returns 0,
 * or -1 when v is another type or not a whole number. */
int codec_json_int(const json_t *v, long long *out);

#endif
