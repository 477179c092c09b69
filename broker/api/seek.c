/* seek.c - subscriptions.seek to a time, or to a snapshot (snapshots.c). */
#include "api.h"

#include "broker.h"
#include "duration.h"
#include "log.h"
#include "wake.h"

#include <string.h>

static void on_seeked(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r) == NULL)
		return;
	struct broker *b = c->b;
	log_info("subscription projects/%s/subscriptions/%s seeked", c->params[0], c->params[1]);
	call_reply_text(c, 200, "{}", 2);
	wake_topic(b, NULL);
}

void seek_subscription(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *t = c->body ? json_object_get(c->body, "time") : NULL;
	json_t *snap = c->body ? json_object_get(c->body, "snapshot") : NULL;
	if (snap && !(json_is_string(snap) && json_string_length(snap) == 0)) {
		if (!json_is_string(snap) || (t && !json_is_null(t)) ||
		    json_object_size(c->body) != (t ? 2u : 1u)) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "A seek needs either {\"time\": \"RFC 3339 timestamp\"} or "
				   "{\"snapshot\": \"projects/P/snapshots/S\"}");
			return;
		}
		api_seek_snapshot(c, json_string_value(snap));
		return;
	}
	int64_t ms;
	if (!json_is_string(t) || timestamp_parse(json_string_value(t), &ms) != 0 ||
	    json_object_size(c->body) != (snap ? 2u : 1u)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A seek needs {\"time\": \"RFC 3339 "
			   "timestamp\"}, e.g. \"2026-11-28T08:00:00Z\"");
		return;
	}
	char sub[NAMES_KEY_MAX];
	names_key(sub, c->params[0], c->params[1]);
	if (store_seek(c->b->link, sub, ms, broker_now_ms(), on_seeked, c) != 0)
		api_not_queued(c);
}
