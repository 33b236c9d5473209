
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Prometheus metrics: counters in a shared memory zone (cwmp_metrics_zone),
 * counted by every worker with atomic adds, served by a cwmp_metrics
 * location in the text format.  No device ID in any label: the label sets
 * are fixed enumerations, the policies' names from the configuration.
 * Without a zone every count is one test of a NULL pointer.
 */


#ifndef _NGX_HTTP_CWMP_METRICS_H_INCLUDED_
#define _NGX_HTTP_CWMP_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the plain counters */

typedef enum {
    NGX_HTTP_CWMP_M_SESSIONS_OPENED = 0,
    NGX_HTTP_CWMP_M_SESSION_COMPLETED,      /* the ACS turn ended: 204 */
    NGX_HTTP_CWMP_M_SESSION_CLOSED,         /* the connection closed with
                                               the session open */
    NGX_HTTP_CWMP_M_SESSION_REPLACED,       /* a new Inform on it */
    NGX_HTTP_CWMP_M_SESSION_REFUSED,        /* an Inform refused: 4xx */
    NGX_HTTP_CWMP_M_SHED,                   /* 503: cwmp_shed_pending */
    NGX_HTTP_CWMP_M_UNAVAILABLE,            /* 503: Redis */
    NGX_HTTP_CWMP_M_BUSY,                   /* 503: another session */
    NGX_HTTP_CWMP_M_TASK_DONE,
    NGX_HTTP_CWMP_M_TASK_FAULT,
    NGX_HTTP_CWMP_M_TASK_EXPIRED,
    NGX_HTTP_CWMP_M_AUTH_CHALLENGE,         /* 401 to no credentials */
    NGX_HTTP_CWMP_M_AUTH_CREDENTIALS,       /* 401 to wrong ones */
    NGX_HTTP_CWMP_M_AUTH_MALFORMED,         /* 400 */
    NGX_HTTP_CWMP_M_AUTH_FORBIDDEN,         /* 403: identity, certificate */
    NGX_HTTP_CWMP_M_AUTH_LIMITED,           /* 429 / 403 over the limits */
    NGX_HTTP_CWMP_M_REDIS_ERRORS,
    NGX_HTTP_CWMP_M_REDIS_RECONNECTS,
    NGX_HTTP_CWMP_M_UPLOADS_STORED,
    NGX_HTTP_CWMP_M_UPLOADS_REFUSED,
    NGX_HTTP_CWMP_M_FILES_FETCHED,
    NGX_HTTP_CWMP_M_INFORMS_AGAIN,          /* a steady Inform sent whole */
    NGX_HTTP_CWMP_M_N
} ngx_http_cwmp_metric_e;


/* the zone's counters, NULL when there is no zone */
extern ngx_atomic_t  *ngx_http_cwmp_metrics;


#define ngx_http_cwmp_metric(m)                                              \
    if (ngx_http_cwmp_metrics) {                                             \
        (void) ngx_atomic_fetch_add(&ngx_http_cwmp_metrics[m], 1);           \
    }


/* the labelled ones */
void ngx_http_cwmp_metric_event(ngx_str_t *code);
void ngx_http_cwmp_metric_rpc(ngx_str_t *method);
void ngx_http_cwmp_metric_fault(ngx_int_t code);
void ngx_http_cwmp_metric_connreq(char *status, char *transport);
void ngx_http_cwmp_metric_redis_latency(ngx_msec_t ms);
void ngx_http_cwmp_metric_policy_tasks(ngx_uint_t policy, ngx_uint_t n);

/* the zone (cwmp_metrics_zone size), for npolicies policies */
char *ngx_http_cwmp_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_cwmp_metrics_init_conf(ngx_conf_t *cf,
    ngx_shm_zone_t *zone, ngx_uint_t npolicies);

/* cwmp_metrics: the location that serves them */
char *ngx_http_cwmp_metrics_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CWMP_METRICS_H_INCLUDED_ */
