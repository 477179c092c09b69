/* occurrence.h - the messages of the container-analysis-occurrences-v1
 * topic (DESIGN §5, docs/registry.md "Continuous analysis"): a scanner
 * publishes Container Analysis notifications, and the broker derives the
 * attributes a subscription filter can use from them. Pure: any thread. */
#ifndef RN_OCCURRENCE_H
#define RN_OCCURRENCE_H

#include <jansson.h>
#include <stddef.h>

/* The analysis topics (created with the ingest topic). */
#define OCCURRENCE_TOPIC "container-analysis-occurrences-v1"
#define REANALYZE_TOPIC "container-analysis-reanalyze"

/* Validates data (len bytes) as a Container Analysis notification -
 * {"name": "projects/P/occurrences/ID", "kind": "VULNERABILITY", ...,
 *  "notificationTime": RFC 3339, "vulnerability": {"severity",
 *  "effectiveSeverity", "cvssScore"}} - and sets in attrs (an object) the
 * attributes it derives: kind, and for a vulnerability effectiveSeverity,
 * severity and cvssScore (those present), replacing attributes of those
 * names. Returns 0, or -1 with a message in err. */
int occurrence_attributes(const unsigned char *data, size_t len, json_t *attrs, char *err,
			  size_t errlen);

#endif
