/* pbjson.h - protobuf-c messages to and from their proto3 JSON mapping:
 * lowerCamelCase names, int64 as strings, bytes as base64, enums by name,
 * maps as objects, Timestamp/Duration/FieldMask/Empty in their JSON forms,
 * defaults left out. What the gRPC endpoint hands the REST handlers, and
 * how it reads their answers (docs/grpc.md). Pure: any thread. */
#ifndef RN_PBJSON_H
#define RN_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The JSON of m (new reference; {} for NULL). */
json_t *pbjson_from_message(const ProtobufCMessage *m);

/* A new message of d from JSON v, or NULL with a message in err ("Invalid
 * value at 'ackDeadlineSeconds': not an integer.") when a value has the
 * wrong type. Unknown keys are ignored, as by Google's parsers; keys may be
 * JSON or proto names. Free with protobuf_c_message_free_unpacked(m, NULL). */
ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *v, char *err,
				    size_t errn);

/* A field name's JSON name ("ack_deadline_seconds" -> "ackDeadlineSeconds"). */
void pbjson_camel(const char *name, char *buf, size_t n);

#endif
