/* http.h - the HTTP/1.1 transport (evhttp): each request becomes a struct
 * call for the gate; answers go back through its call_ops. */
#ifndef RN_HTTP_H
#define RN_HTTP_H

struct broker;

/* Listens on b->cfg.listen_host:listen_port and registers the module
 * (quiesce: stop accepting; stop: free). Returns 0 or -1 (logged). Loop
 * thread, before the loop runs. */
int http_start(struct broker *b);

#endif
