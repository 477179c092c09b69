/* audit.h - Cloud Audit Logs entries (LogEntry with an AuditLog
 * protoPayload, reference section 9): which log a method writes to, the
 * entry of one call, and the redaction of secrets from what it records.
 * Pure: any thread. The entries are written by the store in the same step
 * as the change they record (the audit-log issue); this is their shape. */
#ifndef RN_MODEL_AUDIT_H
#define RN_MODEL_AUDIT_H

#include <jansson.h>
#include <stdint.h>

enum audit_log_name {
	AUDIT_LOG_ACTIVITY = 0, /* cloudaudit.googleapis.com%2Factivity: always on */
	AUDIT_LOG_DATA_ACCESS,  /* cloudaudit.googleapis.com%2Fdata_access: opt-in */
	AUDIT_LOG_SYSTEM_EVENT, /* cloudaudit.googleapis.com%2Fsystem_event: the broker's own */
	AUDIT_LOG_POLICY,       /* cloudaudit.googleapis.com%2Fpolicy: refused calls */
};

/* What one entry records. Strings may be NULL ("" is written as absent). */
struct audit_call {
	enum audit_log_name log;
	int write;               /* 1: an admin write (severity NOTICE), 0: a read (INFO) */
	const char *service;     /* "pubsub.googleapis.com", "iam.googleapis.com" */
	const char *method_name; /* "google.pubsub.v1.Publisher.CreateTopic" */
	const char *project;     /* the project whose log it is */
	const char *resource_name;
	const char *principal; /* "serviceAccount:E", "ingestToken:static" or NULL */
	const char *permission;
	const char *auth_resource; /* authorizationInfo.resource; NULL: resource_name */
	int granted;
	const char *caller_ip; /* "127.0.0.1" (a port is dropped) */
	const char *user_agent;
	int64_t time_us; /* when the broker received the call */
	const char *insert_id;
	json_t *request, *response;               /* borrowed; recorded redacted */
	const char *request_type, *response_type; /* "google.pubsub.v1.Topic" */
	int status_code;                          /* google.rpc.Code; 0: success */
	const char *status_message;
};

/* The LogEntry JSON of a call (new reference): logName, insertId,
 * timestamp and receiveTimestamp (microseconds), severity (NOTICE for a
 * write, INFO for a read, ERROR for a failure), resource {type, labels}
 * from the resource name, protoPayload {@type AuditLog, serviceName,
 * methodName, resourceName, authenticationInfo.principalEmail,
 * authorizationInfo[], requestMetadata {callerIp, callerSuppliedUserAgent,
 * requestAttributes.time}, request, response, status}. */
json_t *audit_entry(const struct audit_call *a);

/* The same entry as compact JSON text (mem_alloc'd), built directly: the
 * request and response are the given JSON object texts (NULL: absent),
 * copied as they are unless they hold a key audit_redact replaces (then
 * redacted through the tree); a->request / a->response are ignored. The
 * broker's path: audit_entry builds its tree from this text. */
char *audit_entry_text(const struct audit_call *a, const char *request_text,
		       const char *response_text);

/* The entry as it is stored in its log's stream (mem_alloc'd text): the
 * same without what audit_entry_expand derives again from the log, the
 * project and the entry itself - logName, receiveTimestamp, resource,
 * protoPayload.@type, serviceName when it is pubsub.googleapis.com,
 * authorizationInfo[].resource when it is the resourceName,
 * requestAttributes.time - so each admin write puts about half the bytes
 * into Redis (docs/audit.md, "How entries are stored"). */
char *audit_entry_stored(const struct audit_call *a, const char *request_text,
			 const char *response_text);

/* The LogEntry of a stored entry of project's log (new reference; NULL
 * when stored is not an object), with its fields in audit_entry_text's
 * order: what audit_entry_stored left out is put back, what the stored
 * entry has (an entry stored whole, as before this form) is kept. */
json_t *audit_entry_expand(json_t *stored, const char *project, enum audit_log_name log);

/* The log of a stream's id ("activity", "data_access", "system_event",
 * "policy"), or -1. */
int audit_log_by_id(const char *id);

/* A deep copy of v with every secret replaced by "REDACTED": values of
 * keys named secret, authorization, password, privateKeyData,
 * private_key, token and access_token, at any depth. New reference. */
json_t *audit_redact(json_t *v);

/* "2026-12-03T10:00:00.123456Z" of Unix microseconds into buf (>= 32). */
void audit_time(int64_t us, char *buf, size_t n);

#endif
